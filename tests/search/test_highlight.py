"""Snippets: the matches in <mark>, everything else escaped, around the first match."""

import pytest

from messagecenter.search.highlight import SNIPPET_CHARS, highlighted, snippet
from messagecenter.search.queries import SearchFilters, search_messages
from messagecenter.search.terms import parse_terms
from tests.search.conftest import ORDER_NUMBER, Mailbox

MARKED: dict[tuple[str, str], str] = {
    ("Café owners love it.", "cafe"): "<mark>Café</mark> owners love it.",
    ("cafe\u0301 au lait", "CAFÉ"): "<mark>cafe\u0301</mark> au lait",
    ("Electric kettles", "kett"): "Electric <mark>kettles</mark>",
    ("Electric kettles", '"kettle"'): "Electric kettles",
    ("late, late delivery", '"late delivery"'): "late, <mark>late delivery</mark>",
    (f"Order {ORDER_NUMBER}.", ORDER_NUMBER): f"Order <mark>{ORDER_NUMBER}</mark>.",
    (f"Order {ORDER_NUMBER}.", "5521937"): "Order 112-4839201-<mark>5521937</mark>.",
    ("a <b>bold</b> & 'fine' kettle", "kettle"): (
        "a &lt;b&gt;bold&lt;/b&gt; &amp; &#x27;fine&#x27; <mark>kettle</mark>"
    ),
    ("<mark>kettle</mark>", "mark"): ("&lt;<mark>mark</mark>&gt;kettle&lt;/<mark>mark</mark>&gt;"),
    ("Line one\n\nkettle   two", "two"): "Line one kettle <mark>two</mark>",
    ("nothing here", "kettle"): "nothing here",
}


@pytest.mark.parametrize(("text", "search"), MARKED.keys(), ids=repr)
def test_matches_are_marked_and_the_rest_escaped(text: str, search: str) -> None:
    assert highlighted(text, parse_terms(search)) == MARKED[(text, search)]


def test_a_snippet_is_a_window_around_the_first_match() -> None:
    body = "Lorem ipsum dolor sit amet. " * 20 + "The kettle <b>boils</b>. " + "More text. " * 30

    shown = snippet(body, parse_terms("kettle"))

    assert shown.startswith("…")
    assert shown.endswith("…")
    assert "<mark>kettle</mark> &lt;b&gt;boils&lt;/b&gt;." in shown
    assert "Lorem ipsum dolor sit amet. The <mark>" in shown
    assert len(shown) < SNIPPET_CHARS + 80


def test_a_snippet_without_a_match_in_the_body_is_its_beginning() -> None:
    body = "Hello! " + "x" * 500

    assert snippet(body, parse_terms("kettle")) == "Hello!…"
    assert snippet("Short & sweet", ()) == "Short &amp; sweet"


@pytest.mark.django_db
def test_search_results_come_escaped_with_only_mark_tags(mailbox: Mailbox) -> None:
    page = search_messages(mailbox.buyer, SearchFilters(text="refund script"))

    [result] = page.results
    assert result.snippet == (
        "Sorry about the delay! &lt;<mark>script</mark>&gt;alert(&#x27;x&#x27;)&lt;/"
        "<mark>script</mark>&gt; We&#x27;ll <mark>refund</mark> you &amp; apologise."
    )
    assert result.subject_html == f"Order {ORDER_NUMBER}"
    assert (result.sender_name, result.is_official, result.is_from_you) == (
        "Acme Kitchen",
        False,
        False,
    )


@pytest.mark.django_db
def test_results_say_who_sent_them(mailbox: Mailbox) -> None:
    page = search_messages(mailbox.buyer, SearchFilters(text="refund"))

    assert [
        (result.sender_name, result.is_official, result.is_from_you, str(result.subject_html))
        for result in page.results
    ] == [
        ("Customer Service", True, False, "<mark>Refund</mark> question"),
        ("Alice Buyer", False, True, "<mark>Refund</mark> question"),
        ("Acme Kitchen", False, False, f"Order {ORDER_NUMBER}"),
    ]
    assert [result.snippet for result in page.results] == [
        "Your <mark>refund</mark> was issued today.",
        "When will my <mark>refund</mark> for the blender arrive?",
        "Sorry about the delay! &lt;script&gt;alert(&#x27;x&#x27;)&lt;/script&gt; "
        "We&#x27;ll <mark>refund</mark> you &amp; apologise.",
    ]
