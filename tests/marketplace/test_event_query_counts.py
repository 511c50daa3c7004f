"""Exact query counts for receiving one order event.

Inside a test the action's transaction is a savepoint, so the counts include SAVEPOINT and
RELEASE (2); in production those are BEGIN and COMMIT. The part inside
send_marketplace_message (conversations/actions/sending.py) is measured, not pinned here: the
conversation tests own it, and it grows when that action records more (e-mail).
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import User
from messagecenter.conversations.actions import send_marketplace_message
from messagecenter.conversations.models import Kind
from messagecenter.marketplace import actions
from messagecenter.marketplace.events import parse_event
from messagecenter.marketplace.models import Order, Product
from tests import factories
from tests.marketplace.helpers import event

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(buyer: User, product: Product) -> Order:
    return factories.order_with_item(buyer, product, number="112-0000001-0000001")


def message_queries(order: Order) -> int:
    """What a marketplace message into the order's existing conversation costs today."""
    with CaptureQueriesContext(connection) as queries:
        send_marketplace_message(
            order.buyer,
            kind=Kind.ORDER_UPDATES,
            subject="s",
            body="b",
            topic_key=f"order:{order.pk}:updates",
            order=order,
        )
    return len(queries)


def test_a_shipped_event_costs_its_own_ten_queries_plus_the_message(
    order: Order, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    payload = event("order.problem", {"order_number": order.number, "description": "Lost."})
    actions.receive_marketplace_event(parse_event(payload), payload)
    # A message into an existing conversation, as the measured event below sends.
    message = message_queries(order)

    payload = event(
        "order.shipped",
        {"order_number": order.number, "carrier": "DHL", "tracking_number": "1"},
        "evt-2",
    )
    # Is it a retry (select event), savepoint, insert event, select the order with its
    # buyer, update the shipment (none yet), insert it, update the order's status, the
    # items' titles (for the subject), [the message], store the result, release.
    with django_assert_num_queries(10 + message):
        actions.receive_marketplace_event(parse_event(payload), payload)


def test_a_retry_costs_one_query(
    order: Order, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    payload = event("order.problem", {"order_number": order.number, "description": "Lost."})
    actions.receive_marketplace_event(parse_event(payload), payload)

    with django_assert_num_queries(1):
        received = actions.receive_marketplace_event(parse_event(payload), payload)

    assert not received.is_new
