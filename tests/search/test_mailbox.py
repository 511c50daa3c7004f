"""Each person's search mailbox follows their conversations, and every way search_messages
finds a page (walking the mailbox, the text index first, the whole mailbox) gives exactly
what one plain query over the person's Participant rows gives."""

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime

import pytest
from django.db import connection
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message, Participant, ParticipantRole
from messagecenter.hub.boxes import Box, Folder
from messagecenter.hub.cursors import cursor_time
from messagecenter.search import queries
from messagecenter.search.actions import add_to_mailboxes
from messagecenter.search.backends import containing, matching
from messagecenter.search.models import MailboxMessage, SearchDocument
from messagecenter.search.queries import SearchFilters, search_messages
from messagecenter.search.terms import parse_terms
from tests import factories
from tests.databases import on_postgresql
from tests.search.conftest import Mailbox, move_in_time

pytestmark = pytest.mark.django_db


def in_mailboxes(message: Message) -> set[int]:
    return set(MailboxMessage.objects.filter(message=message).values_list("user_id", flat=True))


def found(user: User, text: str, box: str | None = None) -> list[int]:
    page = search_messages(user, SearchFilters(text=text, box=box), limit=100)
    return [result.message_id for result in page.results]


# --- the mailbox follows the conversations -------------------------------------------------


def test_a_message_goes_in_the_mailbox_of_everyone_in_its_conversation(
    buyer: User, seller: User
) -> None:
    product = factories.ProductFactory(storefront=seller.storefront)
    question = actions.ask_seller_about_product(buyer, product.pk, "Is the lid metal?")
    answer = actions.send_message(seller, question.conversation_id, "Yes, brushed steel.")

    assert in_mailboxes(question) == in_mailboxes(answer) == {buyer.pk, seller.pk}
    assert set(MailboxMessage.objects.values_list("created_at", flat=True)) == {
        question.created_at,
        answer.created_at,
    }


def test_someone_deleting_a_conversation_stays_in_its_mailbox_but_finds_only_what_came_after(
    mailbox: Mailbox,
) -> None:
    # Alice deleted the grinder conversation for ever (f1), the seller's f2 brought it back.
    f1 = Message.objects.get(pk=mailbox.ids["f1"])

    assert mailbox.buyer.pk in in_mailboxes(f1)
    assert found(mailbox.buyer, "warranty") == [mailbox.ids["f2"]]
    assert found(mailbox.seller, "warranty") == [mailbox.ids["f2"], mailbox.ids["f1"]]


def test_archived_and_trashed_conversations_are_found_in_their_box(mailbox: Mailbox) -> None:
    assert found(mailbox.buyer, "shipped", box=Box.ARCHIVE) == [mailbox.ids["c1"]]
    assert found(mailbox.buyer, "toasters", box=Box.TRASH) == [mailbox.ids["e1"]]
    assert found(mailbox.buyer, "toasters", box=Box.INBOX) == []


def test_someone_added_to_a_conversation_finds_its_earlier_messages_and_the_next_ones(
    mailbox: Mailbox,
) -> None:
    newcomer = factories.AgentFactory()
    kettle = Message.objects.get(pk=mailbox.ids["a1"]).conversation
    assert found(newcomer, "kettle") == []

    Participant.objects.create(
        conversation=kettle,
        user=newcomer,
        role=ParticipantRole.AGENT,
        folder=Folder.BUYER_SELLER,
        last_activity_at=timezone.now(),
    )
    add_to_mailboxes(kettle.pk, [newcomer.pk])
    later = actions.send_message(mailbox.seller, kettle.pk, "The kettle ships tomorrow.")

    assert found(newcomer, "kettle") == [later.pk, *(mailbox.ids[n] for n in ("a3", "a2", "a1"))]


def test_nobody_else_finds_a_message_through_their_mailbox(mailbox: Mailbox) -> None:
    # Bob's question is in Bob's and the seller's mailboxes only.
    assert in_mailboxes(Message.objects.get(pk=mailbox.ids["g1"])) == {
        mailbox.other_buyer.pk,
        mailbox.seller.pk,
    }
    assert found(mailbox.buyer, "red") == []


# --- every way to a page gives the same page -------------------------------------------------

VOCABULARY = ["delivery", "deliver", "kettle", "late", "refund", "label", "red", "box"]
SEARCHES = ["delivery", "deliv", "kettle", '"late delivery"', "refund label", "red", "zzz"]
TIMES = [datetime(2026, 5, day, 12, tzinfo=UTC) for day in range(1, 6)]


@dataclass(frozen=True)
class Marketplace:
    people: list[User]


@pytest.fixture
def marketplace() -> Marketplace:
    """Sellers, buyers and an agent with conversations in every box, some deleted and back,
    one joined late, many messages sent at the same moments (ties in the order)."""
    draw = random.Random(6)
    sellers = [factories.SellerFactory() for _ in range(2)]
    buyers = [factories.BuyerFactory() for _ in range(3)]
    agent = factories.AgentFactory()
    sent: list[Message] = []
    for number in range(12):
        seller = sellers[number % 2]
        buyer = buyers[number % 3]
        product = factories.ProductFactory(storefront=seller.storefront)
        sent.append(actions.ask_seller_about_product(buyer, product.pk, phrase(draw)))
        conversation_id = sent[-1].conversation_id
        for _ in range(draw.randrange(1, 6)):
            sender = draw.choice([buyer, seller])
            sent.append(actions.send_message(sender, conversation_id, phrase(draw)))
        fate = number % 6
        if fate == 1:
            actions.archive_conversations(buyer, [conversation_id])
        elif fate == 2:
            actions.trash_conversations(seller, [conversation_id])
        elif fate == 3:
            # Deleted for ever by the buyer, then back with the seller's next message.
            actions.trash_conversations(buyer, [conversation_id])
            actions.delete_conversations(buyer, [conversation_id])
            sent.append(actions.send_message(seller, conversation_id, phrase(draw)))
        elif fate == 4:
            actions.mark_read(buyer, [conversation_id])
        elif fate == 5:
            Participant.objects.create(
                conversation_id=conversation_id,
                user=agent,
                role=ParticipantRole.AGENT,
                folder=Folder.BUYER_SELLER,
                last_activity_at=timezone.now(),
            )
            add_to_mailboxes(conversation_id, [agent.pk])
            sent.append(actions.send_message(seller, conversation_id, phrase(draw)))
    for message in sent:
        move_in_time([message.pk], draw.choice(TIMES))
    return Marketplace(people=[*sellers, *buyers, agent])


def phrase(draw: random.Random) -> str:
    return " ".join(draw.choice(VOCABULARY) for _ in range(draw.randrange(1, 6)))


def filter_sets(text: str) -> list[SearchFilters]:
    return [
        SearchFilters(text=text),
        SearchFilters(text=text, box=Box.INBOX),
        SearchFilters(text=text, box=Box.ARCHIVE),
        SearchFilters(text=text, box=Box.TRASH),
        SearchFilters(text=text, folder=Folder.BUYER_SELLER),
        SearchFilters(text=text, unread_only=True),
        SearchFilters(text=text, sender="shop"),
        SearchFilters(text=text, date_from=date(2026, 5, 2), date_to=date(2026, 5, 4)),
    ]


def plain_pages(user: User, filters: SearchFilters, limit: int) -> list[tuple[list[int], str]]:
    """The pages of the one plain query search used to be: the person's Participant rows,
    their conversations' messages, each checked against the text index."""
    pages: list[tuple[list[int], str]] = []
    cursor = None
    terms = parse_terms(filters.text)
    while True:
        position = queries._message_position(queries._decode_cursor(cursor) if cursor else None)
        # From the Participant rows, matched by the text index: the defaults.
        rows = queries._messages(user, filters, terms, position, limit)
        cursor = None
        if len(rows) > limit:
            rows = rows[:limit]
            last = rows[-1]
            cursor = f"{cursor_time(last.created_at)}~{last.relevance}~{last.message_id}"
        pages.append(([row.message_id for row in rows], cursor or ""))
        if cursor is None:
            return pages


def searched_pages(user: User, filters: SearchFilters, limit: int) -> list[tuple[list[int], str]]:
    pages: list[tuple[list[int], str]] = []
    cursor = None
    while True:
        page = search_messages(user, filters, cursor=cursor, limit=limit)
        pages.append(([result.message_id for result in page.results], page.next_cursor or ""))
        cursor = page.next_cursor
        if cursor is None:
            return pages


@pytest.mark.parametrize(
    ("walk_length", "matches_limit"),
    [
        # The whole mailbox fits in one walk.
        (1000, 20_000),
        # These two only steer SQLite's roads (PostgreSQL plans its one query itself, so
        # there they would run the same test again).
        *(
            []
            if on_postgresql()
            else [
                # Short walks: a page found in them, or the text index after them.
                (4, 20_000),
                # Short walks, then (as for a word with too many matches) the Participant
                # rows of a folder or box, or the whole mailbox.
                (4, 0),
            ]
        ),
    ],
)
def test_every_way_to_a_page_gives_the_plain_querys_pages(
    marketplace: Marketplace,
    monkeypatch: pytest.MonkeyPatch,
    walk_length: int,
    matches_limit: int,
) -> None:
    # (PostgreSQL plans its one query itself; these numbers steer SQLite.)
    monkeypatch.setattr(queries, "WALK_LENGTH", walk_length)
    monkeypatch.setattr(queries, "MATCHES_LIMIT", matches_limit)
    compared = 0
    for user in marketplace.people:
        for text in SEARCHES:
            for filters in filter_sets(text):
                for limit in (2, 5):
                    expected = plain_pages(user, filters, limit)
                    assert searched_pages(user, filters, limit) == expected, (user, filters)
                    compared += sum(len(ids) for ids, _ in expected)

    # Not a comparison of empty pages.
    assert compared > 500


def test_reading_the_tokens_matches_exactly_what_the_text_index_matches(
    marketplace: Marketplace,
) -> None:
    for text in [*SEARCHES, *VOCABULARY, "de", '"kettle late"', "kettle lat", '"box"']:
        terms = parse_terms(text)
        by_index = SearchDocument.objects.filter(matching(terms)).order_by("message_id")
        by_tokens = SearchDocument.objects.filter(containing(terms)).order_by("message_id")

        assert list(by_tokens.values_list("message_id", flat=True)) == list(
            by_index.values_list("message_id", flat=True)
        ), text


def test_a_search_walks_from_the_cursor_not_from_the_newest(
    marketplace: Marketplace, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A walk shorter than the pages before the cursor still finds the next page there.
    monkeypatch.setattr(queries, "WALK_LENGTH", 3)
    seller = marketplace.people[0]
    everything = searched_pages(seller, SearchFilters(text="delivery"), limit=100)[0][0]
    pages = searched_pages(seller, SearchFilters(text="delivery"), limit=2)

    assert [message_id for ids, _ in pages for message_id in ids] == everything
    assert len(everything) > 6


def test_the_plans_walk_the_mailbox_index_or_start_from_the_text_index(
    marketplace: Marketplace,
) -> None:
    seller = marketplace.people[0]
    terms = parse_terms("delivery")

    def plan(start: queries.Start, match: queries.Match) -> str:
        values, shape = queries._statement_for(
            seller,
            SearchFilters(text="delivery"),
            terms,
            None,
            25,
            start=start,
            match=match,
            walk=False,
        )
        sql, params = queries._search_statement(*values, shape=shape).query.sql_with_params()
        with connection.cursor() as cursor:
            explain = "EXPLAIN QUERY PLAN" if connection.vendor == "sqlite" else "EXPLAIN"
            cursor.execute(f"{explain} {sql}", params)
            return " / ".join(str(row[-1]) for row in cursor.fetchall())

    if connection.vendor != "sqlite":
        # PostgreSQL chooses between the walk and the text index from its statistics (a
        # handful of rows here): the query it is given goes through the mailbox.
        chosen = plan(queries.Start.ANY, queries.Match.INDEX)
        assert "search_mailboxmessage" in chosen
        return
    walk = plan(queries.Start.MAILBOX, queries.Match.TOKENS)
    from_matches = plan(queries.Start.MATCHES, queries.Match.INDEX)

    assert walk.startswith("SEARCH search_mailboxmessage USING COVERING INDEX mailbox_newest_first")
    assert "USE TEMP B-TREE FOR RIGHT PART OF ORDER BY" in walk
    assert from_matches.startswith("SEARCH conversations_message USING INTEGER PRIMARY KEY")
    assert "SCAN search_index VIRTUAL TABLE" in from_matches
    assert "mailbox_newest_first" not in from_matches
