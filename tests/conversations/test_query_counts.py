"""Exact query counts for the hot paths, and the same count whatever the person's size.

Inside a test every action's transaction is a savepoint, so each count includes the
SAVEPOINT and RELEASE statements (2); in production those are BEGIN and COMMIT.
"""

from collections.abc import Callable
from typing import Any
from unittest import mock

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.db.models import Q
from django.db.models.sql.compiler import SQLCompiler
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import User
from messagecenter.conversations import actions, queries
from messagecenter.conversations.models import Participant
from messagecenter.hub import queries as hub_queries
from messagecenter.hub.boxes import Box, Folder
from messagecenter.hub.feeds import Position
from messagecenter.marketplace.models import Product
from tests import factories
from tests.databases import PLANNER_SETTINGS, on_postgresql
from tests.web.helpers import PNG_BYTES

pytestmark = pytest.mark.django_db


def busy_seller(seller: User, conversations: int) -> None:
    for _ in range(conversations):
        product = factories.ProductFactory(storefront=seller.storefront)
        actions.ask_seller_about_product(factories.BuyerFactory(), product.pk, "In stock?")


# docs/architecture.md gives these figures; tests/test_docs.py checks them against these.
REPLY_STATEMENTS = 16
FOLLOW_UP_REPLY_STATEMENTS = 14
# A page of conversations, with the planner's settings around it on PostgreSQL (db/plans.py).
LIST_STATEMENTS = 1 + PLANNER_SETTINGS


@pytest.mark.parametrize("other_conversations", [0, 60])
def test_a_reply_costs_sixteen_queries_whatever_the_inbox_size(
    buyer: User,
    seller: User,
    product: Product,
    other_conversations: int,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    busy_seller(seller, other_conversations)
    question = actions.ask_seller_about_product(buyer, product.pk, "Does it fit a 30 cm shelf?")
    actions.mark_read(buyer, [question.conversation_id])

    # savepoint, lock participants (with the conversation), whether a recipient blocked the
    # sender (docs/safety.md#blocking), count the send against the seller's sending limits
    # (one upsert, docs/safety.md#sending-limits), insert message, record the seller's
    # response time (the buyer was waiting), update conversation, update participants
    # (recipient and sender in one statement), insert its search document, put it in the
    # participants' mailboxes (search), move the recipient's unread and unseen counters,
    # allocate event numbers, insert events, start or push the buyer's e-mail digest
    # (insert if none is waiting, then move its due time), release.
    with django_assert_num_queries(REPLY_STATEMENTS):
        actions.send_message(seller, question.conversation_id, "Yes: it is 28 cm wide.")

    # The next reply finds the buyer already unread and unseen, and no wait to record.
    with django_assert_num_queries(FOLLOW_UP_REPLY_STATEMENTS):
        actions.send_message(seller, question.conversation_id, "And 35 cm deep.")


def test_a_retry_with_a_known_key_costs_one_query_and_changes_nothing(
    buyer: User,
    seller: User,
    product: Product,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    actions.send_message(seller, question.conversation_id, "Hi!", idempotency_key="tap-1")
    with django_assert_num_queries(3):
        actions.send_message(seller, question.conversation_id, "Hi!", idempotency_key="tap-1")


@pytest.mark.parametrize("conversations", [3, 60])
def test_inbox_page_and_badges_cost_the_same_whatever_the_size(
    seller: User, conversations: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    busy_seller(seller, conversations)

    with django_assert_num_queries(LIST_STATEMENTS):
        page = queries.inbox_page(seller, limit=25)
        [(p.conversation.buyer, p.conversation.last_message.sender_name) for p in page.participants]  # type: ignore[union-attr]
    with django_assert_num_queries(1):
        counts = hub_queries.unread_counts(seller)

    assert len(page.participants) == min(conversations, 25)
    assert counts["buyer_seller"] == conversations


def the_list_as_a_queryset(
    user: User, box: str, folder: str | None, after: Position | None, limit: int
) -> list[int]:
    """The inbox list as conversation_rows wrote it before it was compiled once per shape:
    what the compiled statement must give."""
    rows = Participant.objects.filter(user=user, box=box)
    if folder is not None:
        rows = rows.filter(folder=folder)
    if not user.shows_promotions:
        rows = rows.exclude(folder=Folder.PROMOTIONS)
    if after is not None:
        at, rank, last_id = after
        same_time = Q(last_activity_at=at, id__lt=last_id) if rank == 1 else Q(pk__in=[])
        rows = rows.filter(Q(last_activity_at__lt=at) | same_time)
    return list(rows.order_by("-last_activity_at", "-id").values_list("pk", flat=True)[:limit])


def test_the_list_is_compiled_once_per_shape_and_gives_what_its_queryset_gives(
    seller: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    busy_seller(seller, 9)
    mine = list(Participant.objects.filter(user=seller).order_by("id"))
    # Some in other folders, some archived, and three at one moment (the cursor's id decides).
    tie = mine[0].last_activity_at
    folders = [Folder.ORDERS, Folder.PROMOTIONS, Folder.PROMOTIONS, Folder.ORDERS]
    for row, folder in zip(mine[:4], folders, strict=True):
        Participant.objects.filter(pk=row.pk).update(folder=folder)
    Participant.objects.filter(pk__in=[row.pk for row in mine[4:7]]).update(last_activity_at=tie)
    Participant.objects.filter(pk=mine[8].pk).update(box=Box.ARCHIVE)
    middle = mine[5]
    cursors: list[Position | None] = [None, (tie, 1, middle.pk), (tie, 2, middle.pk)]

    for shows_promotions in (True, False):
        seller.shows_promotions = shows_promotions
        for box, folder in [(Box.INBOX, None), (Box.INBOX, Folder.PROMOTIONS), (Box.ARCHIVE, None)]:
            for after in cursors:
                for limit in (2, 26):
                    found = queries.conversation_rows(seller, box, folder, after, limit)
                    expected = the_list_as_a_queryset(seller, box, folder, after, limit)
                    assert [row.pk for row in found] == expected, (box, folder, after, limit)
                    # Compiled by the first call of each shape, never again.
                    with (
                        mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError),
                        django_assert_num_queries(LIST_STATEMENTS),
                    ):
                        again = queries.conversation_rows(seller, box, folder, after, limit)
                    assert [row.pk for row in again] == expected
    # The related rows, as select_related gives them.
    [first] = queries.conversation_rows(seller, Box.INBOX, None, None, 1)
    expected_first = Participant.objects.select_related(*queries.LIST_ROW_RELATIONS).get(
        pk=first.pk
    )
    assert first.conversation.last_message == expected_first.conversation.last_message
    assert first.conversation.buyer.public_name == expected_first.conversation.buyer.public_name
    assert first.last_message_hidden is False


def test_mark_read_costs_seven_queries(
    buyer: User,
    seller: User,
    product: Product,
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    with django_assert_num_queries(7):
        actions.mark_read(seller, [question.conversation_id])


def test_the_inbox_query_walks_the_box_index_in_order(seller: User) -> None:
    busy_seller(seller, 3)
    page = Participant.objects.filter(user=seller, box=Box.INBOX).order_by(
        "-last_activity_at", "-id"
    )[:25]
    sql, params = page.query.sql_with_params()
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert "USING INDEX participant_box_recent" in plan
            assert "TEMP B-TREE" not in plan
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}", params)
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert "participant_box_recent" in plan
            assert "Sort" not in plan


READ_PLANNER_SETTINGS = (
    "SELECT current_setting('join_collapse_limit'), current_setting('plan_cache_mode')"
)


def settings_seen_by_the_list(user: User) -> tuple[str, str]:
    """The planner's settings in force where the inbox list's statement runs: read by a
    statement sent just before it on the same connection (in the same pipeline on
    PostgreSQL)."""
    seen = []

    def read_them_first(
        execute: Callable[..., Any], sql: str, params: Any, many: bool, context: dict[str, Any]
    ) -> Any:
        if 'FROM "conversations_participant"' in sql and "ORDER BY" in sql:
            probe = context["connection"].cursor()
            probe.execute(READ_PLANNER_SETTINGS)
            seen.append(probe)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(read_them_first):
        queries.inbox_page(user)
    [probe] = seen
    return tuple(probe.fetchone())


def settings_now() -> tuple[str, str]:
    with connection.cursor() as cursor:
        cursor.execute(READ_PLANNER_SETTINGS)
        return tuple(cursor.fetchone())


def the_list_keeps_its_order_and_plans_for_each_call(seller: User, buyer: User) -> None:
    """Its joins in the order written (the person's rows, then nine look-ups by primary
    key), planned for each call's values: searching for an order of ten tables took 30
    times as long as the run at 10M messages, and the plan for an average person (a
    generic plan) sorts all of the biggest seller's rows (docs/benchmarks.md). Then the
    settings are what they were: searches need the planner's choices (docs/search.md)."""
    busy_seller(seller, 3)
    for person in (seller, buyer):
        assert settings_seen_by_the_list(person) == ("1", "force_custom_plan")
        assert settings_now() == ("8", "auto")


@pytest.mark.skipif(not on_postgresql(), reason="PostgreSQL's planner")
def test_the_inbox_list_is_joined_as_written(seller: User, buyer: User) -> None:
    the_list_keeps_its_order_and_plans_for_each_call(seller, buyer)


@pytest.mark.skipif(not on_postgresql(), reason="PostgreSQL's planner")
@pytest.mark.django_db(transaction=True)
def test_the_inbox_list_outside_a_transaction_leaves_the_connection_as_it_was(
    seller: User, buyer: User
) -> None:
    """As a request runs it, in autocommit: the settings live in the pipeline's implicit
    transaction, and the pooled connection goes back to the next request unchanged."""
    the_list_keeps_its_order_and_plans_for_each_call(seller, buyer)


def test_a_history_page_reads_its_attachments_compiled_once_as_the_prefetch_lists_them(
    buyer: User, seller: User, product: Product, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """message_page's attachments: each message's own, in the order they were added, as
    conversation_messages' prefetch lists them; one statement, compiled by the first page
    of each size, never again."""
    question = actions.ask_seller_about_product(buyer, product.pk, "Which one?")
    conversation_id = question.conversation_id
    files = [SimpleUploadedFile(f"photo-{n}.png", PNG_BYTES) for n in range(3)]
    actions.send_message(seller, conversation_id, "These two", attachments=files[:2])
    actions.send_message(seller, conversation_id, "No photo")
    actions.send_message(buyer, conversation_id, "And mine", attachments=files[2:])
    participant = Participant.objects.get(user=buyer, conversation_id=conversation_id)
    expected = {
        message.pk: [attachment.pk for attachment in message.listed_attachments]
        for message in queries.conversation_messages(participant)
    }
    assert sorted(len(listed) for listed in expected.values()) == [0, 0, 1, 2]

    for limit in (2, 4):
        queries.message_page(participant, limit=limit)
        with (
            mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError("compiled")),
            django_assert_num_queries(2),
        ):
            page = queries.message_page(participant, limit=limit)
        assert {
            message.pk: [attachment.pk for attachment in message.listed_attachments]
            for message in page.messages
        } == {pk: expected[pk] for pk in sorted(expected)[-limit:]}


def test_a_history_page_without_attachments_reads_none(
    buyer: User, seller: User, product: Product, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """The page's statement says which of its messages have attachments: a page where none
    has any reads no attachments (one round trip less), a page where one has reads that
    message's alone."""
    question = actions.ask_seller_about_product(buyer, product.pk, "Which one?")
    conversation_id = question.conversation_id
    actions.send_message(
        seller, conversation_id, "Here", attachments=[SimpleUploadedFile("photo.png", PNG_BYTES)]
    )
    for number in range(3):
        actions.send_message(seller, conversation_id, f"And {number}")
    participant = Participant.objects.get(user=buyer, conversation_id=conversation_id)
    queries.message_page(participant, limit=3)

    with django_assert_num_queries(1):
        newest = queries.message_page(participant, limit=3)
    with django_assert_num_queries(2):
        with_photo = queries.message_page(participant, limit=4)

    with django_assert_num_queries(0):
        assert [message.listed_attachments for message in newest.messages] == [[], [], []]
        listed = [len(message.listed_attachments) for message in with_photo.messages]
    assert listed == [1, 0, 0, 0]
