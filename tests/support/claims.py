"""What the claim tests share: a clock the test moves, and an order a buyer may claim on."""

from dataclasses import dataclass
from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.marketplace.models import Order, Product, Refund
from tests import factories


@dataclass
class Clock:
    """The time every `timezone.now()` reads while the test runs; only the test moves it."""

    now: datetime

    def advance(self, **duration: float) -> datetime:
        self.now += timedelta(**duration)
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    frozen = Clock(timezone.now().replace(microsecond=0))
    monkeypatch.setattr(timezone, "now", lambda: frozen.now)
    return frozen


def claimable_order(buyer: User, product: Product, clock: Clock, **fields: object) -> Order:
    """Placed 20 days ago, no delivery estimate (so "not received" may be filed), and the
    buyer wrote to the seller two days ago (their 48 hours to put it right are over)."""
    order = factories.order_with_item(
        buyer, product, placed_at=clock.now - timedelta(days=20), **fields
    )
    conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "My parcel has not arrived. Can you check?"
    )
    clock.advance(hours=48)
    return order


def refunded_in_full(order: Order, clock: Clock) -> Refund:
    """An issued refund of the order's whole total, now."""
    return Refund.objects.create(
        order=order,
        amount_cents=order.total_cents,
        currency=order.currency,
        status="issued",
        created_at=clock.now,
    )
