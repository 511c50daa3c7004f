"""The search page: signed in only, filters in the URL, results linking to the message,
escaped snippets, paging, explanations, labelled fields that fit a phone, its cost."""

import re
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from django.db import connection
from django.test import Client
from pytest_django import DjangoAssertNumQueries

import messagecenter.search
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message
from tests.databases import PLANNER_SETTINGS, PLANNER_SETTINGS_ON_POSTGRESQL
from tests.search.conftest import ORDER_NUMBER, Mailbox
from tests.web.helpers import sign_in_url

SEARCH = "/message-center/search/"
STYLESHEET = Path(messagecenter.search.__file__).parent / "static" / "search" / "search.css"


@pytest.fixture
def mailbox(mailbox_built_once: Mailbox) -> Mailbox:
    """Built once for this module (tests/search/conftest.py): what a test writes goes with
    its savepoint. It asks for the database: no module-wide django_db mark, which would
    open it for the stylesheet's check too, beside data that check did not ask for."""
    return mailbox_built_once


def page(client: Client, mailbox: Mailbox, query: str = "", status: int = 200) -> str:
    client.force_login(mailbox.buyer)
    response = client.get(f"{SEARCH}?{query}" if query else SEARCH)
    assert response.status_code == status
    return str(response.content.decode())


def result_links(html: str) -> list[str]:
    return re.findall(r'class="search-result__link" href="([^"]+)"', html)


def link_to(mailbox: Mailbox, name: str) -> str:
    message = Message.objects.get(pk=mailbox.ids[name])
    # The page that shows the message, whichever page of the conversation it is on.
    return (
        f"/message-center/conversations/{message.conversation_id}/"
        f"?message={message.pk}#message-{message.pk}"
    )


def test_a_signed_out_visitor_is_sent_to_sign_in(client: Client, mailbox: Mailbox) -> None:
    response = client.get(f"{SEARCH}?q=kettle")

    assert response.status_code == 302
    assert response["Location"] == sign_in_url(f"{SEARCH}?q=kettle")


def test_results_link_to_each_message_in_its_conversation(client: Client, mailbox: Mailbox) -> None:
    html = page(client, mailbox, "q=kettle")

    assert result_links(html) == [link_to(mailbox, name) for name in ("a3", "e1", "a2", "a1")]
    assert "Question about Electric <mark>kettle</mark>" in html
    assert "Save 20% on <mark>kettles</mark> and toasters this week." in html
    assert "for “kettle”" in html


def test_the_conversation_page_has_the_anchor_a_result_links_to(
    client: Client, mailbox: Mailbox
) -> None:
    client.force_login(mailbox.buyer)
    url, anchor = link_to(mailbox, "a2").split("#")

    assert f'id="{anchor}"' in client.get(url).content.decode()


def test_the_filters_come_from_the_url_and_are_shown_in_the_form(
    client: Client, mailbox: Mailbox
) -> None:
    html = page(
        client,
        mailbox,
        "q=label&sender=acme&date_from=2026-03-09&date_to=2026-03-09&folder=buyer_seller"
        "&box=inbox&unread_only=1&has_attachment=1",
    )

    assert result_links(html) == [link_to(mailbox, "a3")]
    assert 'name="q" id="search-q" value="label"' in html
    assert 'name="sender" id="search-sender" value="acme"' in html
    assert 'name="date_from" id="search-from" value="2026-03-09"' in html
    assert 'name="date_to" id="search-to" value="2026-03-09"' in html
    assert '<option value="buyer_seller" selected>' in html
    assert '<option value="inbox" selected>' in html
    assert 'id="search-unread" checked' in html
    assert 'id="search-attachment" checked' in html
    assert '<details class="search-form__filters" open>' in html


def test_an_order_number_finds_its_messages(client: Client, mailbox: Mailbox) -> None:
    by_words = page(client, mailbox, f"q={ORDER_NUMBER}")
    by_filter = page(client, mailbox, f"order_number={ORDER_NUMBER}")

    expected = [link_to(mailbox, name) for name in ("c1", "b2", "b1")]
    assert (result_links(by_words), result_links(by_filter)) == (expected, expected)
    assert f"<mark>{ORDER_NUMBER}</mark>" in by_words


def test_snippets_are_escaped_with_only_mark_tags(client: Client, mailbox: Mailbox) -> None:
    html = page(client, mailbox, "q=script")

    assert "<script>alert" not in html
    assert (
        "&lt;<mark>script</mark>&gt;alert(&#x27;x&#x27;)&lt;/<mark>script</mark>&gt; "
        "We&#x27;ll refund you &amp; apologise." in html
    )


def test_older_results_continue_with_the_same_filters(client: Client, mailbox: Mailbox) -> None:
    kettle_conversation = Message.objects.get(pk=mailbox.ids["a1"]).conversation_id
    for number in range(24):
        actions.send_message(mailbox.seller, kettle_conversation, f"Kettle tip {number}.")
    client.force_login(mailbox.buyer)

    first = client.get(SEARCH, {"q": "kettle", "sender": "acme"}).content.decode()
    older = re.search(r'href="([^"]+)" rel="next">Older results', first)
    assert older is not None
    older_url = older.group(1).replace("&amp;", "&")
    second = client.get(older_url).content.decode()

    query = parse_qs(urlsplit(older_url).query)
    assert (query["q"], query["sender"], len(query["cursor"])) == (["kettle"], ["acme"], 1)
    assert len(result_links(first)) == 25
    assert result_links(second) == [link_to(mailbox, "a2")]
    assert "← Newest results" in second
    assert 'rel="next"' not in second


def test_a_misspelt_word_shows_what_was_searched_for_instead(
    client: Client, mailbox: Mailbox
) -> None:
    kettle_conversation = Message.objects.get(pk=mailbox.ids["a1"]).conversation_id
    for number in range(24):
        actions.send_message(mailbox.seller, kettle_conversation, f"Kettle tip {number}.")
    client.force_login(mailbox.buyer)

    first = client.get(SEARCH, {"q": "ketle"}).content.decode()

    assert "No messages have “ketle”. Showing results for <strong>“kettle”</strong>." in first
    assert len(result_links(first)) == 25
    older = re.search(r'href="([^"]+)" rel="next">Older results', first)
    assert older is not None
    query = parse_qs(urlsplit(older.group(1).replace("&amp;", "&")).query)
    assert query["q"] == ["kettle"]


def test_results_in_trash_or_archive_say_so(client: Client, mailbox: Mailbox) -> None:
    html = page(client, mailbox, "q=order")
    trash = page(client, mailbox, "q=toasters")

    assert html.count('<span class="tag">In Archive</span>') == 1
    assert '<span class="tag">In Trash</span>' not in html
    assert trash.count('<span class="tag">In Trash</span>') == 1


def test_nothing_found_is_explained(client: Client, mailbox: Mailbox) -> None:
    html = page(client, mailbox, "q=kettle&sender=nobody")

    assert result_links(html) == []
    assert "No messages found" in html
    assert "Nothing in your Inbox, Archive or Trash matches this search." in html
    assert 'href="/message-center/search/?q=kettle">without filters</a>' in html


@pytest.mark.parametrize("query", ["", "q=%23%23%23", "q=%F0%9F%99%82", "q=%00", "q=%22"])
def test_a_search_with_nothing_to_search_for_asks_for_a_word(
    client: Client, mailbox: Mailbox, query: str
) -> None:
    html = page(client, mailbox, query)

    assert "Type a word to search for, or choose a filter." in html
    assert result_links(html) == []


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ("q=kettle&date_from=2026-13-01", "From: enter a date as YYYY-MM-DD"),
        ("q=kettle&date_to=tomorrow", "To: enter a date as YYYY-MM-DD"),
        ("q=kettle&date_from=0001-01-01", "From must be between 1970-01-01 and 2200-01-01"),
        ("q=kettle&date_to=9999-12-31", "To must be between 1970-01-01 and 2200-01-01"),
        ("q=kettle&date_from=2026-03-05&date_to=2026-03-01", "The start date is after the end"),
        ("q=kettle&folder=junk", "Unknown folder"),
        ("q=kettle&box=deleted", "Unknown box"),
        ("q=kettle&cursor=junk", "The page cursor is not valid."),
        # The API's values only (true, false, 1, 0): "banana" read as false, "yes" as true.
        ("q=kettle&unread_only=banana", "Unread only: give 1 or 0 (or true or false)."),
        ("q=kettle&has_attachment=yes", "Has attachment: give 1 or 0 (or true or false)."),
    ],
)
def test_bad_filters_get_a_clear_error_and_keep_the_form(
    client: Client, mailbox: Mailbox, query: str, message: str
) -> None:
    html = page(client, mailbox, query, status=400)

    assert '<p class="alert alert--error" role="alert">' in html
    assert message in html
    assert 'name="q" id="search-q" value="kettle"' in html


@pytest.mark.parametrize(
    ("value", "checked"), [("1", True), ("true", True), ("0", False), ("false", False)]
)
def test_the_yes_or_no_filters_read_what_the_api_reads(
    client: Client, mailbox: Mailbox, value: str, checked: bool
) -> None:
    """A search's address works on the page and in the API alike (docs/search.md); the
    box is ticked only when the filter applies — "0" ticked it."""
    html = page(client, mailbox, f"q=label&unread_only={value}&has_attachment={value}")
    api = client.get(
        "/api/v1/search", {"q": "label", "unread_only": value, "has_attachment": value}
    )

    assert len(result_links(html)) == len(api.json()["results"])
    assert ('id="search-unread" checked' in html) is checked
    assert ('id="search-attachment" checked' in html) is checked


def test_every_field_has_a_label(client: Client, mailbox: Mailbox) -> None:
    html = page(client, mailbox, "q=kettle")
    start = html.index('<form class="search-form')
    form = html[start : html.index("</form>", start)]

    fields = re.findall(r'<(?:input|select)[^>]* id="([^"]+)"', form)
    labelled = set(re.findall(r'<label[^>]* for="([^"]+)"', form))
    wrapped = set(re.findall(r'<label class="check"><input [^>]*id="([^"]+)"', form))
    assert fields == [
        "search-q",
        "search-sender",
        "search-order",
        "search-from",
        "search-to",
        "search-folder",
        "search-in",
        "search-unread",
        "search-attachment",
    ]
    assert set(fields) == labelled | wrapped
    assert 'role="search"' in form


def test_the_page_fits_a_phone() -> None:
    """375 px: the layout is fluid; nothing is given a width wider than a phone."""
    css = STYLESHEET.read_text()
    fixed_widths = re.findall(
        r"^\s*(?:min-)?width:\s*(\d+(?:\.\d+)?)(px|rem|em)", css, re.MULTILINE
    )
    too_wide = [
        (value, unit)
        for value, unit in fixed_widths
        if float(value) * (1 if unit == "px" else 16) > 375
    ]

    assert too_wide == []
    assert "@media (min-width: 40rem)" in css
    assert "grid-template-columns: minmax(0, 1fr);" in css


def test_the_message_center_has_a_search_box(client: Client, mailbox: Mailbox) -> None:
    client.force_login(mailbox.buyer)

    html = client.get("/message-center/").content.decode()

    assert '<form class="search-box" method="get" action="/message-center/search/"' in html
    assert '<label for="search-box-q" class="visually-hidden">Search messages</label>' in html
    assert 'name="q" id="search-box-q"' in html


# Finding nothing also asks the text index about the spelling of the words (spelling.py):
# whether any message has a word beginning with each, then whether any has a word one edit
# away. A search that finds something never does.
# On PostgreSQL the search and the spelling's look-ups, each with its planner setting.
SEARCH_FINDING_NOTHING_QUERIES = {"sqlite": 8, "postgresql": 7 + 2 * PLANNER_SETTINGS_ON_POSTGRESQL}


def test_a_search_page_costs_five_queries_whatever_the_results(
    client: Client, mailbox: Mailbox, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    client.force_login(mailbox.buyer)

    # session, user, the search (documents, messages, conversations and senders together),
    # the broadcasts that apply to the person and match, the unread counters for the
    # header. Finding nothing, SQLite also asks where its walk of the mailbox ended
    # (search/queries.py), to know that nothing is all there is. A filter no broadcast
    # can pass (has an attachment) spares the broadcasts' query. On PostgreSQL each
    # statement that searches the documents comes with its planner setting before it and
    # taken back after it (db/plans.py).
    with django_assert_num_queries(5 + PLANNER_SETTINGS):
        many = client.get(SEARCH, {"q": "question"})
    with django_assert_num_queries(4 + PLANNER_SETTINGS):
        one = client.get(SEARCH, {"q": "label", "unread_only": "1", "has_attachment": "1"})
    with django_assert_num_queries(SEARCH_FINDING_NOTHING_QUERIES[connection.vendor]):
        none = client.get(SEARCH, {"q": "nothing"})

    assert [len(result_links(response.content.decode())) for response in (many, one, none)] == [
        6,
        1,
        0,
    ]
