"""A mute can only end within the range of times anyone may name (messagecenter/moments.py):
the action refuses others, and the database keeps every stored one readable."""

from datetime import UTC, datetime

import pytest
from django.db import IntegrityError, connection, transaction

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.errors import InvalidInput
from messagecenter.marketplace.models import Product
from tests.conftest import database_vendor
from tests.conversations.helpers import snapshot

pytestmark = pytest.mark.django_db


@pytest.fixture
def question(buyer: User, seller: User, product: Product) -> Message:
    return actions.ask_seller_about_product(buyer, product.pk, "Is it loud?")


@pytest.mark.parametrize(
    "until", [datetime(2200, 1, 1, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)]
)
def test_the_mute_action_refuses_an_end_out_of_range(
    buyer: User, question: Message, until: datetime
) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as refused:
        actions.mute_conversations(buyer, [question.conversation_id], until=until)

    assert refused.value.code == "invalid_mute_until"
    assert snapshot() == before


@pytest.mark.skipif(
    database_vendor() != "postgresql",
    reason="only PostgreSQL can hold a time Python cannot read; on SQLite Django cannot write one",
)
def test_postgresql_refuses_to_store_a_mute_python_cannot_read(question: Message) -> None:
    participant = Participant.objects.filter(conversation_id=question.conversation_id).first()
    assert participant is not None

    with pytest.raises(IntegrityError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "UPDATE conversations_participant SET muted_until = %s::timestamptz WHERE id = %s",
            ["9999-12-31T23:59:59-14:00", participant.pk],
        )
