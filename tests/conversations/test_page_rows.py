"""conversations/page_rows.py and the report-form tag give what the template filters and
the include they replace gave (they exist for speed: docs/benchmarks.md, "Pages beside
their API calls")."""

import pytest
from django.template import Context, Template
from django.template.defaultfilters import linebreaksbr, truncatechars
from django.test import RequestFactory

from messagecenter.conversations.page_rows import truncated, with_line_breaks

TEXTS = [
    "",
    "plain",
    "two\nlines\r\nand\rmore",
    "<b>bold</b> & 'quotes' \"too\"",
    "e\u0301" * 150,  # combining accents: not counted as characters
    "x" * 139,
    "x" * 140,
    "x" * 141,
    "word " * 60,
]


@pytest.mark.parametrize("text", TEXTS)
def test_line_breaks_and_truncation_read_as_the_filters(text: str) -> None:
    assert with_line_breaks(text) == linebreaksbr(text, autoescape=True)
    assert truncated(text, 140) == truncatechars(text, 140)


def test_a_report_form_reads_as_the_include_for_each_message() -> None:
    request = RequestFactory().get("/")
    context = {"urls": ["/message-center/messages/7/report/", '/a"b/'], "request": request}
    included = Template(
        '{% for url in urls %}{% include "support/_report_form.html" with action_url=url '
        "prefix=forloop.counter %}{% endfor %}"
    ).render(Context(context))
    tagged = Template(
        "{% load message_center %}{% for url in urls %}"
        "{% report_form url forloop.counter %}{% endfor %}"
    ).render(Context(context))

    assert tagged == included
    assert 'id="report-2-scam"' in tagged
    assert 'action="/a&quot;b/"' in tagged
