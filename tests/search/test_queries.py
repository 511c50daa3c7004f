"""search_messages: one table of searches with their exact results, the same on SQLite
and PostgreSQL (the suite runs on both), hostile input, access, order and pages."""

from datetime import date

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django.fixtures import Settings

from messagecenter.conversations import actions
from messagecenter.conversations.models import Kind, Message
from messagecenter.errors import InvalidInput
from messagecenter.hub.boxes import Box, Folder
from messagecenter.search.queries import SearchFilters, SearchPage, search_messages
from tests.databases import on_postgresql
from tests.search.conftest import ORDER_NUMBER, Mailbox, move_in_time

pytestmark = pytest.mark.django_db

EVERY_KETTLE = ["a3", "e1", "a2", "a1"]
ORDER = ["c1", "b2", "b1"]

WORDS: dict[str, list[str]] = {
    # words anywhere in the subject or the body
    "kettle": EVERY_KETTLE,
    "refund": ["d2", "d1", "b2"],
    "question": ["f2", "a3", "d2", "d1", "a2", "a1"],
    "warranty": ["f2"],
    "script": ["b2"],
    # case and diacritics
    "KETTLE": EVERY_KETTLE,
    "Kettle": EVERY_KETTLE,
    "cafe": ["a2"],
    "CAFÉ": ["a2"],
    "café": ["a2"],
    "label": ["a3"],
    # every word must match (AND), in any order
    "late delivery": ["b1"],
    "delivery late": ["b1"],
    "refund blender": ["d1"],
    "espresso grinder": ["f2"],
    "kettle cafe": ["a2"],
    "kettle blender": [],
    # words match the beginning of words
    "kett": EVERY_KETTLE,
    "toast": ["e1"],
    "ship": ["c1"],
    # a word one edit from a word of the person's messages (spelling.py)
    "ettle": EVERY_KETTLE,
    # phrases match whole words, in order
    '"kettle"': ["a3", "a2", "a1"],
    '"late delivery"': ["b1"],
    '"delivery late"': [],
    '"two years"': ["f2"],
    '"two year"': [],
    '"kettle" "cafe"': ["a2"],
    # order numbers, whole, in part, as a phrase
    ORDER_NUMBER: ORDER,
    "5521937": ORDER,
    "112-4839201-55": ORDER,
    '"4839201 5521937"': ORDER,
    f'"{ORDER_NUMBER}"': ORDER,
    '"5521937 4839201"': [],
    "112-4839201-5521938": [],
    # punctuation inside a word keeps its pieces together
    "we'll": ["b2"],
    "20%": ["e1"],
    # the sender's name is part of each message
    "acme": ["f2", "a3", "b2", "a2"],
    "alice": ["d1", "b1", "a1"],
    # not Alice's: Bob's question, and what she deleted before the grinder came back
    "red": [],
    "kettle warranty": [],
}


@pytest.fixture
def mailbox(mailbox_built_once: Mailbox) -> Mailbox:
    """Built once for this module's hundreds of searches (tests/search/conftest.py)."""
    return mailbox_built_once


@pytest.mark.parametrize("text", WORDS.keys())
def test_words(mailbox: Mailbox, text: str) -> None:
    assert found(mailbox, SearchFilters(text=text)) == WORDS[text]


# --- misspelt words -----------------------------------------------------------------------

MISSPELT: dict[str, tuple[str, list[str]]] = {
    # typed: (searched for instead, found)
    "ketle": ("kettle", EVERY_KETTLE),
    "kettel": ("kettle", EVERY_KETTLE),
    "kkettle": ("kettle", EVERY_KETTLE),
    "refnud": ("refund", ["d2", "d1", "b2"]),
    "warrenty": ("warranty", ["f2"]),
    "ketle blender": ("kettle blender", []),
    "ketle cafe": ("kettle cafe", ["a2"]),
    "toastres": ("toasters", ["e1"]),
}


@pytest.mark.parametrize("text", MISSPELT.keys())
def test_a_misspelt_word_finds_the_word_one_edit_away(mailbox: Mailbox, text: str) -> None:
    searched_for, expected = MISSPELT[text]

    page = search_messages(mailbox.buyer, SearchFilters(text=text))

    assert names(mailbox, page) == expected
    if expected:
        assert " ".join(str(term) for term in page.terms) == searched_for
        assert " ".join(str(term) for term in page.corrected_from or ()) == text
    else:
        assert page.corrected_from is None


def test_a_word_only_in_someone_elses_messages_is_never_suggested(mailbox: Mailbox) -> None:
    """ "available" is in Bob's question alone: Alice's misspelling of it finds nothing and
    is not corrected, so nothing of Bob's message shows through."""
    page = search_messages(mailbox.buyer, SearchFilters(text="availble"))

    assert (names(mailbox, page), page.corrected_from) == ([], None)
    assert [str(term) for term in page.terms] == ["availble"]


def test_a_word_that_begins_a_word_of_the_index_is_not_corrected(mailbox: Mailbox) -> None:
    """Still typing ("toas") is not a misspelling; nor is a word only others have."""
    page = search_messages(mailbox.buyer, SearchFilters(text="avai"))

    assert (names(mailbox, page), page.corrected_from) == ([], None)


NEEDS_INPUT = [
    '"',
    '""',
    "'",
    "#",
    "*",
    "(",
    ")))",
    "-",
    "^",
    ":",
    "🙂🔥",
    "\x00",
    "   ",
    "🙂" * 5_000,
]

HOSTILE: dict[str, list[str]] = {
    "NEAR": [],
    "NEAR(a b)": [],
    "kettle NEAR/2 cafe": [],
    # Operators are words: "or" begins "order", "and" is in the promotion.
    "a OR b": ["b1"],
    "kettle AND": ["e1"],
    "NOT kettle": [],
    "kettle -cafe": ["a2"],
    "#kettle": EVERY_KETTLE,
    "kettle*": EVERY_KETTLE,
    "(kettle)": EVERY_KETTLE,
    "^kettle": EVERY_KETTLE,
    "kettle:": EVERY_KETTLE,
    '"kettle': EVERY_KETTLE,
    'kettle"': EVERY_KETTLE,
    "kettle🙂": EVERY_KETTLE,
    "kettle\x00": EVERY_KETTLE,
    "{subject}: kettle": [],
    "subject:kettle": [],
    "'; DROP TABLE search_index; --": [],
    "kettle " * 715: EVERY_KETTLE,
    "x" * 5_000: [],
}


@pytest.mark.parametrize("text", NEEDS_INPUT, ids=repr)
def test_input_without_letters_or_digits_asks_for_something_to_search_for(
    mailbox: Mailbox, text: str
) -> None:
    page = search_messages(mailbox.buyer, SearchFilters(text=text))

    assert (page.results, page.next_cursor, page.terms, page.needs_input) == ([], None, (), True)


@pytest.mark.parametrize("text", HOSTILE.keys(), ids=lambda text: repr(text[:40]))
def test_hostile_input_is_read_as_plain_words(mailbox: Mailbox, text: str) -> None:
    assert found(mailbox, SearchFilters(text=text)) == HOSTILE[text]


@pytest.mark.parametrize(
    "filters",
    [
        SearchFilters(sender="a " * 30_000),
        SearchFilters(sender="%_\\" * 1_000),
        SearchFilters(order_number="1" * 5_000),
        SearchFilters(order_number="\x00"),
        SearchFilters(text="kettle", order_number=f"{ORDER_NUMBER}\x00"),
        SearchFilters(text="'" * 5_000, sender='"' * 5_000),
    ],
    ids=["long sender", "LIKE wildcards", "long order number", "NUL", "NUL inside", "quotes"],
)
def test_hostile_filters_find_nothing_and_never_fail(
    mailbox: Mailbox, filters: SearchFilters
) -> None:
    page = search_messages(mailbox.buyer, filters)

    assert page.results == []


FILTERS: dict[str, tuple[SearchFilters, list[str]]] = {
    "sender shop": (SearchFilters(sender="acme"), ["f2", "a3", "b2", "a2"]),
    "sender shop, in part and capitals": (
        SearchFilters(sender="ACME KIT"),
        ["f2", "a3", "b2", "a2"],
    ),
    # Usernames and a seller's personal name are never searchable: only what pages show.
    "sender username": (SearchFilters(sender="seller"), []),
    # Customers know agents as the team (settings.SUPPORT_AGENT_PUBLIC_NAME), never by
    # their own names: those find nothing.
    "sender agent": (SearchFilters(sender="customer service"), ["d2"]),
    "sender agent's own name": (SearchFilters(sender="Sam"), []),
    "sender buyer": (SearchFilters(sender="alice"), ["d1", "b1", "a1"]),
    "sender marketplace": (SearchFilters(sender="marketplace"), ["e1", "c1"]),
    "sender part of marketplace": (SearchFilters(sender="Market"), ["e1", "c1"]),
    "sender nobody": (SearchFilters(sender="nobody"), []),
    "dates": (SearchFilters(date_from=date(2026, 3, 3), date_to=date(2026, 3, 5)), ORDER),
    "from a date": (SearchFilters(date_from=date(2026, 3, 9)), ["f2", "a3"]),
    "to a date": (SearchFilters(date_to=date(2026, 3, 2)), ["a2", "a1"]),
    "one day": (SearchFilters(date_from=date(2026, 3, 4), date_to=date(2026, 3, 4)), ["b2"]),
    "to the last day there is": (
        SearchFilters(date_from=date(2026, 3, 9), date_to=date.max),
        ["f2", "a3"],
    ),
    "folder orders": (SearchFilters(folder=Folder.ORDERS), ["c1"]),
    "folder buyer/seller": (
        SearchFilters(folder=Folder.BUYER_SELLER),
        ["f2", "a3", "b2", "b1", "a2", "a1"],
    ),
    "folder customer service": (SearchFilters(folder=Folder.CUSTOMER_SERVICE), ["d2", "d1"]),
    "folder promotions (in Trash)": (SearchFilters(folder=Folder.PROMOTIONS), ["e1"]),
    "folder claims": (SearchFilters(folder=Folder.CLAIMS), []),
    "inbox": (SearchFilters(box=Box.INBOX), ["f2", "a3", "d2", "d1", "b2", "b1", "a2", "a1"]),
    "archive": (SearchFilters(box=Box.ARCHIVE), ["c1"]),
    "trash": (SearchFilters(box=Box.TRASH), ["e1"]),
    "unread only": (SearchFilters(unread_only=True), ["f2", "a3", "e1"]),
    "has attachment": (SearchFilters(has_attachment=True), ["a3"]),
    "order number": (SearchFilters(order_number=ORDER_NUMBER), ORDER),
    "order number, spaces around": (SearchFilters(order_number=f" {ORDER_NUMBER} "), ORDER),
    "another order number": (SearchFilters(order_number="112-0000000-0000000"), []),
    "words and unread": (SearchFilters(text="kettle", unread_only=True), ["a3", "e1"]),
    "words in the inbox": (SearchFilters(text="kettle", box=Box.INBOX), ["a3", "a2", "a1"]),
    "words in Trash": (SearchFilters(text="kettle", box=Box.TRASH), ["e1"]),
    "words and sender": (SearchFilters(text="refund", sender="service"), ["d2"]),
    "words and folder": (SearchFilters(text="order", folder=Folder.ORDERS), ["c1"]),
    "words and date": (SearchFilters(text="delivery", date_from=date(2026, 3, 4)), ["c1"]),
    "words and attachment": (SearchFilters(text="kettle", has_attachment=True), ["a3"]),
    "words, folder and date": (
        SearchFilters(text="question", folder=Folder.CUSTOMER_SERVICE, date_to=date(2026, 3, 6)),
        ["d1"],
    ),
    "order number and box": (SearchFilters(text=ORDER_NUMBER, box=Box.ARCHIVE), ["c1"]),
    "sender and unread": (SearchFilters(sender="acme", unread_only=True), ["f2", "a3"]),
    "everything at once": (
        SearchFilters(
            text="label",
            sender="acme",
            date_from=date(2026, 3, 9),
            date_to=date(2026, 3, 9),
            folder=Folder.BUYER_SELLER,
            box=Box.INBOX,
            unread_only=True,
            has_attachment=True,
        ),
        ["a3"],
    ),
}


@pytest.mark.parametrize("name", FILTERS.keys())
def test_filters(mailbox: Mailbox, name: str) -> None:
    filters, expected = FILTERS[name]

    assert found(mailbox, filters) == expected


def test_dates_are_days_in_the_site_time_zone(mailbox: Mailbox, settings: Settings) -> None:
    march_5 = SearchFilters(date_from=date(2026, 3, 5), date_to=date(2026, 3, 5))
    assert found(mailbox, march_5) == ["c1"]

    # UTC+14: b2 (March 4, 12:00 UTC) was sent at 2 a.m. on March 5, c1 on March 6.
    settings.TIME_ZONE = "Pacific/Kiritimati"

    assert found(mailbox, march_5) == ["b2"]


@pytest.mark.parametrize("time_zone", ["UTC", "Pacific/Kiritimati", "Pacific/Pago_Pago"])
def test_the_first_and_last_days_there_are_bound_nothing(
    mailbox: Mailbox, settings: Settings, time_zone: str
) -> None:
    settings.TIME_ZONE = time_zone
    every_day = SearchFilters(date_from=date.min, date_to=date.max)

    assert found(mailbox, every_day) == ["f2", "a3", "e1", "d2", "d1", "c1", "b2", "b1", "a2", "a1"]
    assert found(mailbox, SearchFilters(date_to=date.min)) == []
    assert found(mailbox, SearchFilters(date_from=date.max)) == []


def test_a_conversation_marked_unread_counts_its_last_message_as_unread(
    mailbox: Mailbox,
) -> None:
    actions.mark_unread(mailbox.buyer, [conversation_of(mailbox, "d1")])

    assert found(mailbox, SearchFilters(unread_only=True)) == ["f2", "a3", "e1", "d2"]


# --- who finds what -------------------------------------------------------------------------


def test_others_find_only_their_own_conversations(mailbox: Mailbox) -> None:
    kettle = SearchFilters(text="kettle")

    assert names(mailbox, search_messages(mailbox.other_buyer, kettle)) == ["g1"]
    # The seller still has the grinder conversation, and f1 in it.
    assert names(mailbox, search_messages(mailbox.seller, kettle)) == [
        "g1",
        "a3",
        "a2",
        "a1",
        "f1",
    ]
    assert names(mailbox, search_messages(mailbox.agent, kettle)) == []
    assert names(mailbox, search_messages(mailbox.agent, SearchFilters(text="refund"))) == [
        "d2",
        "d1",
    ]


def test_what_a_person_deleted_stays_deleted(mailbox: Mailbox) -> None:
    assert found(mailbox, SearchFilters(text="warranty")) == ["f2"]
    assert names(mailbox, search_messages(mailbox.seller, SearchFilters(text="warranty"))) == [
        "f2",
        "f1",
    ]


def test_a_conversation_deleted_for_ever_is_not_found(mailbox: Mailbox) -> None:
    refund = conversation_of(mailbox, "d1")
    actions.trash_conversations(mailbox.buyer, [refund])

    assert found(mailbox, SearchFilters(text="refund")) == ["d2", "d1", "b2"]
    assert found(mailbox, SearchFilters(text="refund", box=Box.INBOX)) == ["b2"]
    assert found(mailbox, SearchFilters(text="refund", box=Box.TRASH)) == ["d2", "d1"]

    actions.delete_conversations(mailbox.buyer, [refund])

    assert found(mailbox, SearchFilters(text="refund")) == ["b2"]
    # The agent keeps the conversation.
    assert names(mailbox, search_messages(mailbox.agent, SearchFilters(text="refund"))) == [
        "d2",
        "d1",
    ]


# --- order and pages ---------------------------------------------------------------------------


def test_among_messages_sent_at_the_same_moment_a_match_in_the_subject_comes_first(
    mailbox: Mailbox,
) -> None:
    # d1 ("Refund question") is older than b2 ("…We'll refund you…"); at the same moment
    # the subject match ranks first, although b2's id is lower and d2's higher.
    same_moment = Message.objects.get(pk=mailbox.ids["d1"]).created_at
    move_in_time([mailbox.ids["b2"], mailbox.ids["d2"]], same_moment)
    late = actions.send_message(mailbox.seller, conversation_of(mailbox, "b1"), "Refund sent.")
    move_in_time([late.pk], same_moment)

    page = search_messages(mailbox.buyer, SearchFilters(text="refund"))

    assert [result.message_id for result in page.results] == [
        mailbox.ids["d2"],
        mailbox.ids["d1"],
        late.pk,
        mailbox.ids["b2"],
    ]


@pytest.mark.parametrize("limit", [1, 2, 3, 4, 25])
def test_pages_continue_where_the_last_one_ended(mailbox: Mailbox, limit: int) -> None:
    # Five messages at one moment (newest id first among them), and others around them.
    same_moment = Message.objects.get(pk=mailbox.ids["d1"]).created_at
    move_in_time([mailbox.ids[name] for name in ("b1", "b2", "d2", "a3")], same_moment)
    filters = SearchFilters(box=Box.INBOX)
    everything = names(mailbox, search_messages(mailbox.buyer, filters, limit=25))

    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = search_messages(mailbox.buyer, filters, cursor=cursor, limit=limit)
        seen += names(mailbox, page)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert everything == ["f2", "a3", "d2", "d1", "b2", "b1", "a2", "a1"]
    assert seen == everything


def test_the_last_page_has_no_cursor(mailbox: Mailbox) -> None:
    first = search_messages(mailbox.buyer, SearchFilters(text="kettle"), limit=2)
    second = search_messages(
        mailbox.buyer, SearchFilters(text="kettle"), cursor=first.next_cursor, limit=2
    )

    assert (names(mailbox, first), names(mailbox, second)) == (["a3", "e1"], ["a2", "a1"])
    assert second.next_cursor is None


# --- what is refused ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "cursor", "limit", "code"),
    [
        (SearchFilters(text="kettle", folder="junk"), None, 25, "invalid_folder"),
        (SearchFilters(text="kettle", box=Box.DELETED), None, 25, "invalid_box"),
        (
            SearchFilters(date_from=date(2026, 3, 5), date_to=date(2026, 3, 4)),
            None,
            25,
            "invalid_date_range",
        ),
        (SearchFilters(text="kettle"), "yesterday", 25, "invalid_cursor"),
        (SearchFilters(text="kettle"), "2026-03-01T00:00:00~0~x", 25, "invalid_cursor"),
        (SearchFilters(text="kettle"), "2026-03-01T00:00:00~0~1", 25, "invalid_cursor"),
        (SearchFilters(text="kettle"), "\x00", 25, "invalid_cursor"),
        (
            SearchFilters(text="kettle"),
            f"2026-03-01T00:00:00+00:00~0~{2**63}",
            25,
            "invalid_cursor",
        ),
        (
            SearchFilters(text="kettle"),
            f"2026-03-01T00:00:00+00:00~{10**30}~1",
            25,
            "invalid_cursor",
        ),
        (SearchFilters(text="kettle"), "2026-03-01T00:00:00+00:00~-1~1", 25, "invalid_cursor"),
        (SearchFilters(text="kettle"), None, 0, "invalid_limit"),
        (SearchFilters(text="kettle"), None, 101, "invalid_limit"),
    ],
)
def test_bad_filters_are_refused_with_a_code(
    mailbox: Mailbox, filters: SearchFilters, cursor: str | None, limit: int, code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        search_messages(mailbox.buyer, filters, cursor=cursor, limit=limit)

    assert refused.value.code == code


# --- helpers -------------------------------------------------------------------------------


def found(mailbox: Mailbox, filters: SearchFilters) -> list[str]:
    """Everything Alice finds, newest first, in pages of 25."""
    return names(mailbox, search_messages(mailbox.buyer, filters))


def names(mailbox: Mailbox, page: SearchPage) -> list[str]:
    assert not page.needs_input
    return mailbox.names([result.message_id for result in page.results])


def conversation_of(mailbox: Mailbox, name: str) -> int:
    return Message.objects.get(pk=mailbox.ids[name]).conversation_id


# --- letters from everywhere ---------------------------------------------------------------

SCRIPTS: dict[str, bool] = {
    "Łódź": True,
    "łodz": True,
    "lodz": False,  # Ł is a letter of its own, not an L with a mark
    "strasse": True,
    "STRAẞE": True,
    "οδος": True,
    "ΟΔΟΣ": True,
    "日本語のテキスト": True,
    "日本": True,
    "テキスト": False,  # no spaces in Japanese: the run is one token
    "naive": True,
    "x2": True,
    "file": True,
}


@pytest.mark.parametrize("text", SCRIPTS.keys())
def test_letters_from_every_script_are_found_the_same_way(mailbox: Mailbox, text: str) -> None:
    notice = actions.send_marketplace_message(
        mailbox.buyer,
        kind=Kind.NOTICE,
        subject="Addresses",
        body="Łódź, Straße, ΟΔΟΣ, 日本語のテキスト, naïve x², ﬁle",
    )

    found_ids = [
        result.message_id
        for result in search_messages(mailbox.buyer, SearchFilters(text=text)).results
    ]

    assert found_ids == ([notice.pk] if SCRIPTS[text] else [])


def test_each_result_says_where_it_is(mailbox: Mailbox) -> None:
    """c1 is archived, e1 in Trash, the rest in the inbox."""
    orders = search_messages(mailbox.buyer, SearchFilters(text="order"))
    trash = search_messages(mailbox.buyer, SearchFilters(text="toasters"))

    assert [
        (name, result.box)
        for name, result in zip(names(mailbox, orders), orders.results, strict=True)
    ] == [
        ("c1", Box.ARCHIVE),
        ("b2", Box.INBOX),
        ("b1", Box.INBOX),
    ]
    assert [result.box for result in trash.results] == [Box.TRASH]


@pytest.mark.skipif(not on_postgresql(), reason="PostgreSQL's prepared statements")
def test_the_message_statement_is_planned_for_its_words_and_the_broadcasts_one_is_prepared(
    mailbox: Mailbox,
) -> None:
    """The words decide the messages' plan (the text index for a rare word, the mailbox
    for a common one), so it is never prepared; the broadcasts' statement, over a table of
    one row per broadcast, is, once it has run as often as psycopg's threshold asks."""
    threshold = connection.connection.prepare_threshold
    for text in ["kettle", "refund", "toaster", "delivery", "grinder", "acme"][: threshold + 1]:
        search_messages(mailbox.buyer, SearchFilters(text=text))
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    searches = [sql for sql in prepared if sql.startswith("SELECT")]
    assert [sql for sql in searches if "search_broadcastdocument" in sql]
    assert not [sql for sql in searches if "search_searchdocument" in sql]


def test_the_page_is_chosen_without_the_conversation_and_what_it_shows_joined_around_it(
    mailbox: Mailbox,
) -> None:
    """What PostgreSQL plans on every call (the statement runs unprepared): the tables
    that choose the page — the document, the message, the person's Participant row
    straight from the message (Message.conversation_participants), the mailbox — and,
    apart, around the page's rows, the conversation's subject and the sender's names."""
    with CaptureQueriesContext(connection) as captured:
        page = search_messages(mailbox.buyer, SearchFilters(text="kettle"))
    assert mailbox.names([result.message_id for result in page.results]) == WORDS["kettle"]
    [statement] = [
        q["sql"] for q in captured.captured_queries if "search_searchdocument" in q["sql"]
    ]
    chosen, around = statement.split(") found ")
    assert '"conversations_conversation"' not in chosen
    assert '"conversations_participant"' in chosen
    assert '"conversations_conversation"' in around
    assert '"accounts_user"' in around
