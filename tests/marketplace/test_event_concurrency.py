"""Deliveries at the same moment, from threads with their own database connections and
committed transactions, on SQLite and on PostgreSQL: the marketplace's backend retries on
timeouts, so one event can arrive twice at once."""

from collections import Counter

import pytest

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Conversation, Message
from messagecenter.marketplace.models import MarketplaceEvent, Order, Product
from tests import factories
from tests.conversations.test_concurrency import in_threads
from tests.marketplace.helpers import deliver, event

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def order(buyer: User, product: Product) -> Order:
    return factories.order_with_item(buyer, product, number="112-0000001-0000001")


def test_concurrent_deliveries_of_one_event_make_one_message(order: Order) -> None:
    payload = event("order.problem", {"order_number": order.number, "description": "Lost."})

    responses = in_threads([lambda: deliver(payload)] * 8)

    assert Counter(response.status_code for response in responses) == {201: 1, 200: 7}
    assert len({response.content for response in responses}) == 1
    assert MarketplaceEvent.objects.count() == 1
    assert Message.objects.count() == 1
    assert Conversation.objects.count() == 1


def test_concurrent_events_about_one_order_share_its_one_conversation(order: Order) -> None:
    """Both may try to start the order's conversation; the loser retries and joins it."""
    payloads = [
        event(
            "order.problem", {"order_number": order.number, "description": f"Problem {n}"}, f"e{n}"
        )
        for n in range(6)
    ]

    responses = in_threads([lambda payload=payload: deliver(payload) for payload in payloads])

    assert [response.status_code for response in responses] == [201] * 6
    assert MarketplaceEvent.objects.count() == 6
    conversation = Conversation.objects.get()
    assert (conversation.topic_key, conversation.message_count) == (f"order:{order.pk}:updates", 6)
