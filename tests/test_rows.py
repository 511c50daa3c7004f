"""rows: ids as a person gives them (parse_id), and the hot statements compiled once give
what their queryset gives (CompiledQuery, CompiledRows, CompiledUpdate) and store what
their fields store (insert_objects)."""

import asyncio
from datetime import UTC, datetime, timedelta, timezone
from typing import Any
from unittest import mock

import pytest
from django.core.exceptions import SynchronousOnlyOperation
from django.db import IntegrityError, connection, connections, transaction
from django.db.models import F, Model, Q, QuerySet
from django.db.models.signals import post_init
from django.db.models.sql.compiler import SQLCompiler
from django.test.utils import CaptureQueriesContext
from psycopg import _queries as psycopg_queries
from psycopg import pq
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Attachment, Conversation, Message, Participant
from messagecenter.conversations.queries import LIST_ROW_RELATIONS
from messagecenter.delivery.models import Category, Email, EmailKind
from messagecenter.errors import NotFound
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import EventKind, UserEvent
from messagecenter.rows import (
    _KEPT,
    INSERT_MAX_ROWS,
    CompiledQuery,
    CompiledRows,
    CompiledUpdate,
    _Plan,
    insert_objects,
    insert_rows,
    parse_id,
    pipelined,
    reserved_ids,
    statement_cursor,
    update_rows,
)
from messagecenter.search.models import MailboxMessage
from tests import factories
from tests.databases import on_postgresql

pytestmark = pytest.mark.django_db


def _participants_of(user_id: int, conversation_id: int) -> QuerySet[Participant]:
    return Participant.objects.select_related("conversation", "conversation__buyer").filter(
        user_id=user_id, conversation_id=conversation_id
    )[:1]


def test_a_compiled_query_gives_the_rows_and_related_rows_its_queryset_gives(
    buyer: User, product: Product
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    compiled = CompiledQuery(_participants_of)

    [found] = compiled(buyer.pk, first.conversation_id)

    [expected] = list(_participants_of(buyer.pk, first.conversation_id))
    assert (found.pk, found.user_id, found.box, found.last_activity_at) == (
        expected.pk,
        expected.user_id,
        expected.box,
        expected.last_activity_at,
    )
    assert found.conversation.subject == expected.conversation.subject
    assert found.conversation.buyer == buyer
    assert compiled(buyer.pk, first.conversation_id + 1000) == []


def test_a_compiled_query_is_compiled_once_and_runs_one_statement_per_call(
    buyer: User, product: Product, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    second = actions.send_message(buyer, first.conversation_id, "Still there?")
    compiled = CompiledQuery(
        lambda conversation_id, after, *, shape: Message.objects.filter(
            conversation_id=conversation_id, id__gt=after
        ).order_by(shape)[:5]
    )
    compiled(first.conversation_id, 0, shape="id")

    with (
        mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError("compiled")),
        django_assert_num_queries(2),
    ):
        oldest_first = compiled(first.conversation_id, 0, shape="id")
        after_first = compiled(first.conversation_id, first.pk, shape="id")

    assert [message.pk for message in oldest_first] == [first.pk, second.pk]
    assert [message.body for message in after_first] == ["Still there?"]
    assert [message.pk for message in compiled(first.conversation_id, 0, shape="-id")] == [
        second.pk,
        first.pk,
    ]


def _message_values(conversation_id: int, after: datetime, *, shape: int) -> QuerySet[Any]:
    return (
        Message.objects.filter(conversation_id=conversation_id, created_at__gte=after)
        .annotate(subject=F("conversation__subject"))
        .order_by("-id")
        .values_list("id", "subject", "created_at", "sender__username")[:shape]
    )


def test_compiled_rows_give_the_tuples_their_values_list_gives_compiled_once_per_shape(
    buyer: User, product: Product, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    actions.send_message(buyer, first.conversation_id, "Still there?")
    compiled = CompiledRows(_message_values, shapes=2)
    after = first.created_at - timedelta(seconds=1)
    for limit in (1, 5):
        # Annotations and related columns in the order asked for, converted as Django
        # converts them (a moment: an aware datetime on SQLite too).
        assert compiled(first.conversation_id, after, shape=limit) == list(
            _message_values(first.conversation_id, after, shape=limit)
        )
    with (
        mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError("compiled")),
        django_assert_num_queries(1),
    ):
        assert len(compiled(first.conversation_id, after, shape=5)) == 2
    # Past `shapes` the oldest compiled is dropped, and compiled again when asked for.
    compiled(first.conversation_id, after, shape=3)
    assert [key[1] for key in compiled._plans] == [5, 3]
    assert len(compiled(first.conversation_id, after, shape=1)) == 1
    assert [key[1] for key in compiled._plans] == [3, 1]


def _ids_and_moments(conversation_id: int, after: datetime, *, shape: int) -> QuerySet[Any]:
    return (
        Message.objects.filter(conversation_id=conversation_id, created_at__gte=after)
        .order_by("-id")
        .values_list("id", "created_at")[:shape]
    )


def _with_bodies(page: str) -> tuple[str, int]:
    return (
        f'SELECT page."id", page."created_at", m."body", m."sender_id" FROM ({page}) page'
        ' INNER JOIN "conversations_message" m ON m."id" = page."id" ORDER BY page."id" DESC',
        2,
    )


def test_compiled_rows_around_a_page_give_its_converted_columns_then_the_added_ones(
    buyer: User, product: Product, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    second = actions.send_message(buyer, first.conversation_id, "Still there?")
    compiled = CompiledRows(_ids_and_moments, around=_with_bodies)
    after = first.created_at - timedelta(seconds=1)
    with django_assert_num_queries(1):
        rows = compiled(first.conversation_id, after, shape=1)
    # The page's moment converted as Django converts it (aware on SQLite too); the added
    # columns as the database gives them; the page's LIMIT inside, not around the join.
    assert rows == [(second.pk, second.created_at, "Still there?", buyer.pk)]
    assert [row[0] for row in compiled(first.conversation_id, after, shape=5)] == [
        second.pk,
        first.pk,
    ]


def _messages_between(conversation_id: int, after: datetime, until: datetime) -> QuerySet[Message]:
    return Message.objects.filter(
        Q(created_at__gt=after) | Q(created_at=after, id__gt=0),
        conversation_id=conversation_id,
        created_at__lte=until,
    ).order_by("created_at", "id")


def test_a_compiled_query_takes_moments_as_its_queryset_does(buyer: User, product: Product) -> None:
    # A moment is adapted for the database on each call (SQLite: text in UTC), also one
    # given in another time zone and one that appears twice in the statement.
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    second = actions.send_message(buyer, first.conversation_id, "Still there?")
    Message.objects.filter(pk=second.pk).update(created_at=first.created_at + timedelta(hours=2))
    compiled = CompiledQuery(_messages_between)
    zone = timezone(timedelta(hours=-5))
    for after, until in [
        (first.created_at - timedelta(seconds=1), first.created_at + timedelta(days=1)),
        (first.created_at - timedelta(seconds=1), first.created_at + timedelta(hours=1)),
        (first.created_at, (first.created_at + timedelta(hours=3)).astimezone(zone)),
        (first.created_at.astimezone(zone), first.created_at + timedelta(hours=2)),
        (first.created_at + timedelta(hours=2), first.created_at + timedelta(days=1)),
    ]:
        expected = [
            message.pk for message in _messages_between(first.conversation_id, after, until)
        ]
        found = [message.pk for message in compiled(first.conversation_id, after, until)]
        assert found == expected, (after, until)
    assert [
        len(compiled(first.conversation_id, first.created_at - timedelta(seconds=1), until))
        for until in [first.created_at + timedelta(days=1), first.created_at + timedelta(hours=1)]
    ] == [2, 1]


def test_a_compiled_query_keeps_the_percent_signs_of_its_statement_and_values(
    buyer: User, product: Product
) -> None:
    # On SQLite the statement is run with named parameters: `%%` (the modulo operator)
    # must stay one `%` in the SQL, and a `%` inside a value must stay in the value.
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it 100% cotton?")
    actions.send_message(buyer, first.conversation_id, "Or 100 cotton?")
    compiled = CompiledQuery(
        lambda conversation_id: (
            Message.objects.annotate(parity=F("id") % 2)
            .filter(conversation_id=conversation_id, body__contains="100%")
            .order_by("id")
        )
    )

    [found] = compiled(first.conversation_id)

    assert (found.body, getattr(found, "parity")) == ("Is it 100% cotton?", first.pk % 2)  # noqa: B009


def test_a_remembered_row_gives_copies_and_a_changed_row_is_built_again(
    buyer: User, product: Product
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    compiled = CompiledQuery(_participants_of, remember=2)
    [built] = compiled(buyer.pk, first.conversation_id)
    built.box = "changed in memory"
    built.conversation.subject = "changed in memory"

    with mock.patch.object(_Plan, "_build", side_effect=AssertionError("built again")):
        [remembered] = compiled(buyer.pk, first.conversation_id)
    Participant.objects.filter(pk=built.pk).update(unread_count=7)
    [changed] = compiled(buyer.pk, first.conversation_id)

    assert remembered is not built
    assert remembered.conversation is not built.conversation
    assert (remembered.box, remembered.conversation.subject) == (
        Participant.objects.get(pk=built.pk).box,
        first.conversation.subject,
    )
    assert changed.unread_count == 7


def _state_and_fields(instance: Model, seen: set[int]) -> Any:
    """A model's fields, state and select_related rows, as comparable values."""
    if id(instance) in seen:
        return "seen"
    seen.add(id(instance))
    state = instance._state
    return (
        type(instance),
        [(name, value) for name, value in instance.__dict__.items() if name != "_state"],
        (state.db, state.adding, state.fetch_mode),
        sorted(
            (name, None if related is None else _state_and_fields(related, seen))
            for name, related in state.fields_cache.items()
        ),
    )


def test_a_compiled_query_builds_the_same_models_as_its_queryset(
    buyer: User, product: Product
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    actions.send_message(product.storefront.seller, first.conversation_id, "It is.")

    def rows(user_id: int) -> QuerySet[Participant]:
        return Participant.objects.select_related(*LIST_ROW_RELATIONS).filter(user_id=user_id)

    compiled = CompiledQuery(rows)
    compiled(buyer.pk)
    # Not through Model.__init__ (its loop and signals), neither the row nor its related rows.
    with mock.patch.object(Model, "__init__", side_effect=AssertionError("__init__")):
        [built] = compiled(buyer.pk)
    [expected] = rows(buyer.pk)

    assert built.conversation.last_message.sender.storefront is not None
    assert _state_and_fields(built, set()) == _state_and_fields(expected, set())
    built.conversation_id = first.conversation_id + 1
    assert not Participant.conversation.is_cached(built)


def test_a_model_with_a_receiver_of_its_signals_is_built_by_from_db(buyer: User) -> None:
    seen = []

    def receiver(instance: Model, **kwargs: Any) -> None:
        seen.append(instance)

    post_init.connect(receiver, sender=User)
    try:
        [built] = CompiledQuery(lambda user_id: User.objects.filter(pk=user_id))(buyer.pk)
    finally:
        post_init.disconnect(receiver, sender=User)

    assert seen == [built]


def test_a_query_that_prefetches_cannot_remember(buyer: User) -> None:
    compiled = CompiledQuery(
        lambda user_id: User.objects.prefetch_related("groups").filter(pk=user_id), remember=2
    )

    with pytest.raises(ValueError, match="cannot remember"):
        compiled(buyer.pk)


def test_a_value_that_does_not_reach_the_parameters_is_refused(buyer: User) -> None:
    compiled = CompiledQuery(lambda user_id, ignored: User.objects.filter(pk=user_id))

    with pytest.raises(ValueError, match="Every value must be among the parameters"):
        compiled(buyer.pk, 7)


@pytest.mark.parametrize("value", ["12", 12, " 12 ", 2**63 - 1])
def test_parse_id_takes_a_positive_64_bit_integer_as_a_person_gives_it(value: object) -> None:
    assert parse_id(value) == int(str(value))


@pytest.mark.parametrize(
    "value",
    [None, "", "abc", "1.5", 0, -1, "-3", 2**63, str(2**70), "１２", "1_2", "+12", 1.9, 12.0, True],
)
def test_parse_id_refuses_anything_else_with_the_callers_not_found(value: object) -> None:
    with pytest.raises(NotFound) as refused:
        parse_id(value, code="thing_not_found", message="No such thing.")
    assert (refused.value.code, refused.value.message) == ("thing_not_found", "No such thing.")


def _count_up(conversation_id: int, now: datetime) -> tuple[QuerySet[Participant], dict]:
    return (
        Participant.objects.filter(conversation_id=conversation_id),
        {"unread_count": F("unread_count") + 2, "last_activity_at": now, "is_seen": False},
    )


def test_a_compiled_update_changes_what_its_queryset_update_changes_compiled_once(
    buyer: User, product: Product, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    compiled = CompiledUpdate(_count_up)
    moment = first.created_at + timedelta(minutes=5)
    assert compiled(first.conversation_id, moment) == 2

    with (
        mock.patch.object(SQLCompiler, "as_sql", side_effect=AssertionError("compiled")),
        django_assert_num_queries(2),
    ):
        # A moment in another zone is adapted on each call, as the queryset adapts it.
        later = (moment + timedelta(minutes=1)).astimezone(timezone(timedelta(hours=3)))
        assert compiled(first.conversation_id, later) == 2
        assert compiled(first.conversation_id + 1000, later) == 0

    rows = Participant.objects.filter(conversation_id=first.conversation_id).order_by("role")
    assert [(p.unread_count, p.last_activity_at, p.is_seen) for p in rows] == [
        # The buyer had read their own question; the seller had one unread.
        (4, later, False),
        (5, later, False),
    ]
    with pytest.raises(ValueError, match="Every value must be among the parameters"):
        CompiledUpdate(lambda ignored: (Participant.objects.all(), {"unread_count": 0}))(7)


def test_rows_updated_together_hold_what_their_own_updates_would_have_set(
    buyer: User, seller: User, product: Product, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    second = actions.ask_seller_about_product(
        factories.BuyerFactory(), factories.ProductFactory(storefront=product.storefront).pk, "?"
    )
    rows = list(
        Participant.objects.filter(
            conversation_id__in=[first.conversation_id, second.conversation_id]
        ).order_by("pk")
    )
    moment = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=-4)))
    columns = ("box", "last_activity_at", "unread_count", "is_seen", "last_read_message_id")
    wanted = [
        # Moments in other zones, a NULL where a moment or an id was, text, counts, flags.
        (rows[0].pk, "archive", moment, 7, False, first.pk, None),
        (rows[1].pk, "trash", moment.astimezone(UTC), 0, True, None, moment),
        (rows[2].pk, "inbox", moment + timedelta(days=1), 3, True, second.pk, moment),
    ]

    with django_assert_num_queries(1):
        changed = update_rows(Participant, (*columns, "trashed_at"), wanted)

    assert changed == 3
    stored = Participant.objects.filter(pk__in=[w[0] for w in wanted]).order_by("pk")
    shown = ("pk", *columns, "trashed_at")
    assert [tuple(getattr(p, name) for name in shown) for p in stored] == wanted
    # Rows not given are left as they were.
    assert Participant.objects.get(pk=rows[3].pk).box == rows[3].box

    # `added`: the value is added to what the row holds, each row its own.
    conversations = sorted([first.conversation_id, second.conversation_id])
    before = dict(Conversation.objects.values_list("pk", "message_count"))
    update_rows(
        Conversation,
        ("last_message_at", "message_count"),
        [(conversations[0], moment, 2), (conversations[1], moment, 5)],
        added=("message_count",),
    )
    assert dict(Conversation.objects.values_list("pk", "message_count")) == {
        conversations[0]: before[conversations[0]] + 2,
        conversations[1]: before[conversations[1]] + 5,
    }
    with pytest.raises(ValueError, match="Not the model's columns"):
        update_rows(Conversation, ("subject",), [(conversations[0], "x")], added=("message_count",))


def test_inserted_objects_are_stored_as_their_fields_store_them_and_get_their_ids(
    buyer: User, product: Product, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    moment = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=-4)))
    reasons = [{"category": "link", "code": "x", "text": "Ünïcode ‘quoted’"}]
    made = [
        Message(
            conversation_id=first.conversation_id,
            sender=buyer,
            body=f"Number {number}",
            created_at=moment,
            safety_verdict="warn",
            safety_reasons=reasons,
            is_masked=bool(number),
        )
        for number in range(3)
    ]
    with django_assert_num_queries(1):
        insert_objects(made)

    assert all(message.pk and not message._state.adding for message in made)
    stored = {
        message.pk: message for message in Message.objects.filter(pk__in=[m.pk for m in made])
    }
    for message in made:
        again = stored[message.pk]
        assert (again.body, again.created_at, again.safety_reasons, again.is_masked) == (
            message.body,
            moment,
            reasons,
            message.is_masked,
        )
        assert (again.idempotency_key, again.removed_at, again.sent_by_email) == (None, None, False)


def test_inserting_with_conflicts_ignored_leaves_out_the_rows_a_unique_key_refuses(
    buyer: User, product: Product
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    again = MailboxMessage(message_id=first.pk, user_id=buyer.pk, created_at=first.created_at)
    other = MailboxMessage(
        message_id=first.pk, user_id=product.storefront.seller_id, created_at=first.created_at
    )
    MailboxMessage.objects.filter(message_id=first.pk, user_id=other.user_id).delete()

    insert_objects([again, other], ignore_conflicts=True)

    assert MailboxMessage.objects.filter(message_id=first.pk).count() == 2
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_objects([again])


def test_many_objects_are_inserted_by_bulk_create_in_batches(buyer: User, product: Product) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    made = [
        Message(
            conversation_id=first.conversation_id,
            sender=buyer,
            body=f"{n}",
            created_at=first.created_at,
        )
        for n in range(INSERT_MAX_ROWS + 1)
    ]
    with mock.patch.object(
        Message._default_manager, "bulk_create", wraps=Message._default_manager.bulk_create
    ) as bulk:
        insert_objects(made)

    bulk.assert_called_once()
    assert (
        Message.objects.filter(conversation_id=first.conversation_id).count() == INSERT_MAX_ROWS + 2
    )
    assert all(message.pk for message in made)


# --- rows as tuples ------------------------------------------------------------------------

# Not UTC, with microseconds: each database stores it its own way (SQLite: text in UTC).
_MOMENT = datetime(2026, 5, 6, 7, 8, 9, 123456, tzinfo=timezone(timedelta(hours=-4)))


def _stored[M](model: type[M], ids: list[int], *, leave_out: tuple[str, ...]) -> list[dict]:
    """Every column of the rows as read back, in id order, but those left out."""
    names = [f.attname for f in model._meta.concrete_fields if f.attname not in leave_out]  # type: ignore[attr-defined]
    return list(model.objects.filter(pk__in=ids).order_by("pk").values(*names))  # type: ignore[attr-defined]


def test_rows_given_as_tuples_are_stored_as_the_models_would_store_them(
    buyer: User, seller: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    payload = {"conversation_id": 7, "preview": "Ünïcode ‘quoted’ 100%", "list": [1, None]}
    by_models = [
        UserEvent(
            user=buyer, sequence=n, kind="message_created", payload=payload, created_at=_MOMENT
        )
        for n in (1, 2)
    ]
    insert_objects(by_models)
    with django_assert_num_queries(1):
        ids = insert_rows(
            UserEvent,
            ("user_id", "sequence", "kind", "payload", "created_at"),
            [(seller.pk, n, "message_created", payload, _MOMENT) for n in (1, 2)],
            ids=True,
        )

    assert ids is not None
    assert len(ids) == 2
    assert ids == sorted(ids)
    model_rows = _stored(UserEvent, [e.pk for e in by_models], leave_out=("id", "user_id"))
    assert _stored(UserEvent, ids, leave_out=("id", "user_id")) == model_rows
    assert [row["created_at"] for row in model_rows] == [_MOMENT, _MOMENT]
    assert (
        list(UserEvent.objects.filter(pk__in=ids).values_list("user_id", flat=True))
        == [seller.pk] * 2
    )


def test_columns_left_out_of_the_tuples_take_what_the_model_would_give_them(
    buyer: User, seller: User, product: Product
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    Email.objects.filter(message_id=first.pk).delete()
    by_model = Email(
        user=buyer,
        kind=EmailKind.MESSAGE,
        category=Category.BUYER_SELLER,
        message_id=first.pk,
        subject="Is it new?",
        next_attempt_at=_MOMENT,
        created_at=_MOMENT,
    )
    insert_objects([by_model])
    ids = insert_rows(
        Email,
        ("user_id", "kind", "category", "message_id", "subject", "next_attempt_at", "created_at"),
        [
            (
                seller.pk,
                EmailKind.MESSAGE,
                Category.BUYER_SELLER,
                first.pk,
                "Is it new?",
                _MOMENT,
                _MOMENT,
            )
        ],
        ids=True,
    )

    assert ids is not None
    stored = _stored(Email, ids, leave_out=("id", "user_id"))
    assert stored == _stored(Email, [by_model.pk], leave_out=("id", "user_id"))
    # The defaults: queued, no attempt, no address, no error, nothing sent.
    assert (stored[0]["status"], stored[0]["attempts"], stored[0]["to_address"]) == (
        "queued",
        0,
        "",
    )
    assert (stored[0]["covers_from"], stored[0]["sent_at"], stored[0]["last_error"]) == (
        None,
        None,
        "",
    )


def test_tuples_with_conflicts_ignored_leave_out_what_a_unique_key_refuses(
    buyer: User, product: Product
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    seller_id = product.storefront.seller_id
    MailboxMessage.objects.filter(message_id=first.pk, user_id=seller_id).delete()
    columns = ("message_id", "user_id", "created_at")

    assert (
        insert_rows(
            MailboxMessage,
            columns,
            [(first.pk, buyer.pk, _MOMENT), (first.pk, seller_id, _MOMENT)],
            ignore_conflicts=True,
        )
        is None
    )

    stored = dict(
        MailboxMessage.objects.filter(message_id=first.pk).values_list("user_id", "created_at")
    )
    assert stored == {buyer.pk: first.created_at, seller_id: _MOMENT}
    with pytest.raises(IntegrityError), transaction.atomic():
        insert_rows(MailboxMessage, columns, [(first.pk, buyer.pk, _MOMENT)])


def test_many_tuples_are_inserted_by_bulk_create_and_give_their_ids(buyer: User) -> None:
    with mock.patch.object(
        UserEvent._default_manager, "bulk_create", wraps=UserEvent._default_manager.bulk_create
    ) as bulk:
        ids = insert_rows(
            UserEvent,
            ("user_id", "sequence", "kind", "payload", "created_at"),
            [(buyer.pk, n, "message_created", {}, _MOMENT) for n in range(INSERT_MAX_ROWS + 1)],
            ids=True,
        )

    bulk.assert_called_once()
    assert ids is not None
    assert len(ids) == INSERT_MAX_ROWS + 1
    assert list(
        UserEvent.objects.filter(pk__in=ids).order_by("pk").values_list("sequence", flat=True)
    ) == list(range(INSERT_MAX_ROWS + 1))


def test_tuples_are_refused_where_a_field_would_need_its_own_preparation(buyer: User) -> None:
    # Not a column of the model; a column twice.
    with pytest.raises(ValueError, match="columns"):
        insert_rows(
            UserEvent,
            ("user", "sequence", "kind", "payload", "created_at"),
            [(1, 1, "", {}, _MOMENT)],
        )
    with pytest.raises(ValueError, match="columns"):
        insert_rows(UserEvent, ("user_id", "user_id"), [(1, 1)])
    # A field with no default left out; a default made for each row left out.
    with pytest.raises(ValueError, match="default"):
        insert_rows(Message, ("conversation_id", "body", "created_at"), [(1, "Hi", _MOMENT)])
    # A file field: its storage names it, which tuples skip.
    with pytest.raises(ValueError, match="FileField"):
        insert_rows(
            Attachment, ("message_id", "file", "filename", "content_type"), [(1, "a", "a", "a")]
        )
    assert not UserEvent.objects.exists()


# --- one cursor for the statements ----------------------------------------------------------


def test_statements_run_through_one_kept_cursor_and_are_still_logged_when_queries_are(
    buyer: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    first = statement_cursor()
    assert statement_cursor() is first
    with django_assert_num_queries(2) as captured:
        # Logged: a debug wrapper around the same driver cursor.
        logged = statement_cursor()
        assert logged is not first
        assert logged.cursor is first.cursor
        assert CompiledQuery(lambda user_id: User.objects.filter(pk=user_id))(buyer.pk) == [buyer]
        insert_rows(
            UserEvent,
            ("user_id", "sequence", "kind", "payload", "created_at"),
            [(buyer.pk, 1, "message_created", {}, _MOMENT)],
        )
    assert "INSERT" in captured.captured_queries[1]["sql"]
    assert statement_cursor() is first


@pytest.mark.skipif(not on_postgresql(), reason="psycopg's parsing of statements")
def test_postgresql_runs_the_statements_numbered_unparsed_and_as_when_they_are_logged(
    buyer: User, product: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    """psycopg parses a `%s` statement again on every call once it has over 50 parameters
    (a batch's INSERT or UPDATE of many rows): the compiled statements reach it numbered
    ($1…) through a cursor of raw queries, which it does not parse. Unlogged and logged
    (as Django compiled them, with `%s`) they store and give the same."""
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it 100% cotton?")
    parsed: list[bytes] = []
    for name in ("_query2pg", "_query2pg_nocache"):
        real = getattr(psycopg_queries, name)

        def counted(query: bytes, encoding: str, real: Any = real) -> Any:
            parsed.append(query)
            return real(query, encoding)

        monkeypatch.setattr(psycopg_queries, name, counted)
    columns = ("user_id", "sequence", "kind", "payload", "created_at")
    by_body = CompiledQuery(
        lambda conversation_id: Message.objects.annotate(parity=F("id") % 2).filter(
            conversation_id=conversation_id, body__contains="100%"
        )
    )

    def run(start: int) -> tuple[Any, ...]:
        # 12 rows of 5 columns: 60 parameters.
        rows = [
            (buyer.pk, start + n, EventKind.MESSAGE_CREATED, {"n": f"{n}%"}, _MOMENT)
            for n in range(12)
        ]
        insert_rows(UserEvent, columns, rows)
        ids = list(
            UserEvent.objects.filter(user=buyer, sequence__gte=start).values_list("pk", flat=True)
        )
        changed = update_rows(
            UserEvent, ("kind",), [(pk, EventKind.CONVERSATION_READ) for pk in ids]
        )
        [found] = by_body(first.conversation_id)
        stored = list(
            UserEvent.objects.filter(pk__in=ids)
            .order_by("sequence")
            .values_list("sequence", "kind", "payload", "created_at")
        )
        return (
            changed,
            found.body,
            found.created_at,
            getattr(found, "parity"),  # noqa: B009
            [(sequence - start, *rest) for sequence, *rest in stored],
        )

    unlogged = run(1000)
    assert not [
        query for query in parsed if query.startswith((b"INSERT", b"UPDATE")) or b"parity" in query
    ]
    with CaptureQueriesContext(connection) as logged_queries:
        logged = run(2000)

    assert unlogged == logged
    assert unlogged[:4] == (12, "Is it 100% cotton?", first.created_at, first.pk % 2)
    assert unlogged[4][3] == (3, EventKind.CONVERSATION_READ, {"n": "3%"}, _MOMENT)
    shown = " ".join(query["sql"] for query in logged_queries)
    assert 'INSERT INTO "realtime_userevent"' in shown
    assert "$1" not in shown


def test_the_kept_cursor_is_kept_on_this_threads_connection_not_on_the_shared_proxy() -> None:
    statement_cursor()
    assert _KEPT in connections["default"].__dict__
    assert _KEPT not in connection.__dict__
    with pytest.raises(TypeError):
        statement_cursor(connection)


def test_the_kept_cursor_is_refused_to_the_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    async def from_the_loop() -> None:
        statement_cursor()

    # The browser tests' conftest allows it for the whole process they are collected in.
    monkeypatch.delenv("DJANGO_ALLOW_ASYNC_UNSAFE", raising=False)
    with pytest.raises(SynchronousOnlyOperation):
        asyncio.run(from_the_loop())


@pytest.mark.django_db(transaction=True)
def test_the_kept_cursor_never_outlives_its_connection(buyer: User) -> None:
    by_id = CompiledQuery(lambda user_id: User.objects.filter(pk=user_id))
    assert by_id(buyer.pk) == [buyer]
    kept = statement_cursor()

    # Closed between requests: the next statement opens a connection and a cursor of it.
    connection.close()
    assert by_id(buyer.pk) == [buyer]
    again = statement_cursor()
    assert again is not kept
    assert again.cursor is not kept.cursor

    # Opened again by anyone (a pool may hand back the same driver connection): forgotten.
    connection.close()
    connection.ensure_connection()
    assert _KEPT not in connections["default"].__dict__
    assert statement_cursor().cursor is not again.cursor
    assert by_id(buyer.pk) == [buyer]


def test_reserved_ids_are_no_other_inserts_and_are_written_as_given(
    buyer: User, product: Product
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    with transaction.atomic():
        ids = reserved_ids(Message, 3)
        assert ids is not None
        # An INSERT after the ids were handed out numbers its row after them.
        later = actions.send_message(buyer, first.conversation_id, "Later")
        messages = [
            Message(
                pk=pk,
                conversation_id=first.conversation_id,
                sender=buyer,
                body=f"Reserved {number}",
                created_at=first.created_at,
            )
            for number, pk in enumerate(ids)
        ]
        insert_objects(messages, with_ids=True)
    assert ids == list(range(first.pk + 1, first.pk + 4))
    assert later.pk > ids[-1]
    assert list(
        Message.objects.filter(pk__in=ids).order_by("pk").values_list("body", flat=True)
    ) == [
        "Reserved 0",
        "Reserved 1",
        "Reserved 2",
    ]
    assert [message._state.adding for message in messages] == [False] * 3


_EVENT_COLUMNS = ("user_id", "sequence", "kind", "payload", "created_at")


def test_rows_inserted_without_ids_return_none_and_ids_only_where_the_database_numbers_them(
    buyer: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    with django_assert_num_queries(1) as captured:
        assert (
            insert_rows(UserEvent, _EVENT_COLUMNS, [(buyer.pk, 1, "message_created", {}, _MOMENT)])
            is None
        )
    assert "RETURNING" not in captured.captured_queries[0]["sql"]
    assert UserEvent.objects.filter(user=buyer, sequence=1).exists()
    with pytest.raises(ValueError, match="No ids to return"):
        insert_rows(
            UserEvent,
            _EVENT_COLUMNS,
            [(buyer.pk, 2, "message_created", {}, _MOMENT)],
            ignore_conflicts=True,
            ids=True,
        )


def test_writes_in_a_pipeline_all_land_by_its_end_and_a_read_there_sees_those_before_it(
    buyer: User, seller: User
) -> None:
    stream_of = CompiledRows(
        lambda user_id, shape: UserEvent.objects.filter(user_id=user_id).values_list("sequence")
    )
    statuses = []
    with transaction.atomic(), pipelined():
        if on_postgresql():
            statuses.append(connection.connection.pgconn.pipeline_status)
        insert_rows(UserEvent, _EVENT_COLUMNS, [(buyer.pk, 1, "message_created", {}, _MOMENT)])
        changed = update_rows(UserEvent, ("sequence",), [(_only_event_of(buyer), 5)])
        insert_rows(UserEvent, _EVENT_COLUMNS, [(seller.pk, 1, "message_created", {}, _MOMENT)])
        seen = stream_of(buyer.pk, shape=None)
        stream_of.lock(seller.pk, shape=None)
    if on_postgresql():
        statuses.append(connection.connection.pgconn.pipeline_status)

    assert seen == [(5,)]
    assert list(UserEvent.objects.filter(user=seller).values_list("sequence", flat=True)) == [1]
    # SQLite runs each statement as it comes, and gives its count; on PostgreSQL the count
    # is known only if the answer happened to come before the call returned.
    assert changed in ((-1, 1) if on_postgresql() else (1,))
    assert statuses == ([pq.PipelineStatus.ON, pq.PipelineStatus.OFF] if on_postgresql() else [])


def _only_event_of(user: User) -> int:
    return UserEvent.objects.get(user=user).pk


@pytest.mark.django_db(transaction=True)
def test_a_pipeline_that_commits_ends_its_transaction_with_its_writes(buyer: User) -> None:
    ended_at_its_end = []
    with transaction.atomic():
        with pipelined(commit=True):
            insert_rows(UserEvent, _EVENT_COLUMNS, [(buyer.pk, 1, "message_created", {}, _MOMENT)])
        if on_postgresql():
            # Over once the block has waited: the atomic's own commit has nothing to send.
            ended_at_its_end.append(connection.connection.info.transaction_status)
        transaction.on_commit(lambda: ended_at_its_end.append("on commit"))

    stored = list(UserEvent.objects.filter(user=buyer).values_list("sequence", flat=True))
    assert stored == [1]
    assert ended_at_its_end == (
        [pq.TransactionStatus.IDLE, "on commit"] if on_postgresql() else ["on commit"]
    )


@pytest.mark.django_db(transaction=True)
def test_a_pipeline_that_commits_and_fails_stores_nothing(buyer: User) -> None:
    insert_rows(UserEvent, _EVENT_COLUMNS, [(buyer.pk, 1, "message_created", {}, _MOMENT)])
    committed = []

    def write() -> None:
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(True))
            with pipelined(commit=True):
                for sequence in (2, 1, 3):  # 1 again: refused, and the COMMIT sent after it
                    insert_rows(
                        UserEvent,
                        _EVENT_COLUMNS,
                        [(buyer.pk, sequence, "message_created", {}, _MOMENT)],
                    )

    with pytest.raises(IntegrityError):
        write()

    assert list(UserEvent.objects.filter(user=buyer).values_list("sequence", flat=True)) == [1]
    assert committed == []
    # The connection goes on.
    insert_rows(UserEvent, _EVENT_COLUMNS, [(buyer.pk, 2, "message_created", {}, _MOMENT)])


@pytest.mark.django_db(transaction=True)
def test_a_pipeline_commits_only_a_transaction_its_caller_owns(buyer: User) -> None:
    def in_a_savepoint() -> None:
        with transaction.atomic(), transaction.atomic(), pipelined(commit=True):
            insert_rows(UserEvent, _EVENT_COLUMNS, [(buyer.pk, 1, "message_created", {}, _MOMENT)])

    def outside_a_transaction() -> None:
        with pipelined(commit=True):
            insert_rows(UserEvent, _EVENT_COLUMNS, [(buyer.pk, 1, "message_created", {}, _MOMENT)])

    for refused in (in_a_savepoint, outside_a_transaction):
        with pytest.raises(transaction.TransactionManagementError):
            refused()

    assert not UserEvent.objects.filter(user=buyer).exists()


def test_a_statement_that_fails_in_a_pipeline_fails_the_block_with_djangos_error(
    buyer: User,
) -> None:
    insert_rows(UserEvent, _EVENT_COLUMNS, [(buyer.pk, 1, "message_created", {}, _MOMENT)])

    def write() -> None:
        with transaction.atomic(), pipelined():
            for sequence in (2, 1, 3):  # 1 again: the unique (user, sequence) refuses it
                insert_rows(
                    UserEvent,
                    _EVENT_COLUMNS,
                    [(buyer.pk, sequence, "message_created", {}, _MOMENT)],
                )

    # On PostgreSQL the refusal is known where the block next waits (its end at the
    # latest), there as Django's error.
    with pytest.raises(IntegrityError):
        write()

    # The block's transaction rolled back as a whole; the connection goes on.
    assert list(UserEvent.objects.filter(user=buyer).values_list("sequence", flat=True)) == [1]
