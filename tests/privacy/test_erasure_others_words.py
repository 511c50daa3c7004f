"""Erasure replaces the person's names and a seller's words where they are theirs, not
the same letters in other people's messages (#18)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message
from messagecenter.marketplace import return_actions
from messagecenter.marketplace.models import OrderItem, Product, Shipment
from messagecenter.marketplace.return_actions import ReturnLine
from messagecenter.privacy.erasure import REMOVED, erase_person
from tests import factories
from tests.privacy.test_erasure import admin_user, order_placed, report_and_decide

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


def test_a_reporters_other_buyers_order_note_keeps_a_word_that_is_the_persons_name(
    seller: User, product: Product, other_buyer: User, admin_user: User
) -> None:
    person: User = factories.BuyerFactory(
        username="rq-buyer", first_name="Rose", last_name="Quill", display_name="Rose"
    )
    question = conversation_actions.ask_seller_about_product(person, product.pk, "Cheap?")
    report_and_decide(seller, question, "confirmed", sender_action="restricted")
    candle = factories.ProductFactory(storefront=seller.storefront, title="Rose candle")
    order_placed(factories.order_with_item(other_buyer, candle))
    notes = Message.objects.filter(sender__isnull=True, body__contains="Rose candle")
    before = sorted(notes.values_list("pk", flat=True))
    assert before

    erase_person(admin_user, person)

    # Another buyer's order of another product, told to the seller who once reported
    # the person: nothing in it is about the person.
    assert sorted(notes.values_list("pk", flat=True)) == before
