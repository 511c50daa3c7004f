"""Erasure replaces a seller's words where the marketplace quotes them, not the same
letters elsewhere in the buyer's conversation (#18)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Message
from messagecenter.marketplace import return_actions
from messagecenter.marketplace.models import OrderItem, Shipment
from messagecenter.marketplace.return_actions import ReturnLine
from messagecenter.privacy.erasure import REMOVED, erase_person
from tests import factories
from tests.privacy.test_erasure import admin_user

pytestmark = pytest.mark.django_db

__all__ = ["admin_user"]


def test_a_short_decline_reason_is_replaced_only_where_it_is_quoted(
    buyer: User, admin_user: User
) -> None:
    seller: User = factories.SellerFactory(username="zs-seller")
    sold = factories.ProductFactory(storefront=seller.storefront, title="Copper kettle")
    order = factories.order_with_item(buyer, sold)
    Shipment.objects.create(
        order=order,
        carrier="UPS",
        tracking_number="1Z1",
        shipped_at=timezone.now() - timedelta(days=3),
        delivered_at=timezone.now() - timedelta(days=1),
    )
    started = return_actions.request_return(
        buyer,
        order.number,
        [ReturnLine(OrderItem.objects.get(order=order).pk, 1)],
        resolution="refund",
        reason_code="no_longer_needed",
    ).return_request
    return_actions.decide_return(seller, started.pk, approve=False, reason="No")
    requested = Message.objects.get(
        sender__isnull=True, body__startswith="We received your request"
    )
    assert "Reason: No longer needed." in requested.body

    erase_person(admin_user, seller)

    # The marketplace's own words in the buyer's conversation, not the seller's.
    requested.refresh_from_db()
    assert "Reason: No longer needed." in requested.body
    declined = Message.objects.get(sender__isnull=True, body__contains="declined your return")
    assert f"in their words: “{REMOVED}”" in declined.body
