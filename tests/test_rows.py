"""rows.CompiledQuery: the hot statements compiled once give what their queryset gives."""

from unittest import mock

import pytest
from django.db.models import QuerySet
from django.db.models.sql.compiler import SQLCompiler
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.marketplace.models import Product
from messagecenter.rows import CompiledQuery

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


def test_a_value_that_does_not_reach_the_parameters_is_refused(buyer: User) -> None:
    compiled = CompiledQuery(lambda user_id, ignored: User.objects.filter(pk=user_id))

    with pytest.raises(ValueError, match="Every value must be among the parameters"):
        compiled(buyer.pk, 7)
