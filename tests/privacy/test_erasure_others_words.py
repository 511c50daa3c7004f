"""Erasure replaces the person's names and a seller's words where they are theirs, not
the same letters in other people's messages (#18)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message
from messagecenter.marketplace import return_actions
from messagecenter.marketplace.models import OrderItem, Product, Shipment
from messagecenter.marketplace.return_actions import ReturnLine
from messagecenter.privacy.erasure import REMOVED, erase_person
from messagecenter.support import actions as support_actions
from messagecenter.support.models import Team, TeamMember
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


@pytest.mark.parametrize("role", [Role.AGENT, Role.ADMIN])
def test_erasing_someone_who_answers_as_customer_service_keeps_that_label_in_others_words(
    buyer: User, admin_user: User, role: str
) -> None:
    """Agents and admins appear to customers as "Customer Service", a label every colleague
    shares: it is no name of theirs. A customer who was later hired asked for help once
    (their own request, answered by a colleague, is scrubbed of their names); erased, the
    colleague's answer still says "Customer Service", and the customers they answered keep
    their words as written."""
    person: User = factories.BuyerFactory(
        username="mo-buyer", first_name="Maeve", last_name="Orla", display_name="Maeve Orla"
    )
    colleague = factories.agent_in_team("customer-service", display_name="Priya")
    own = support_actions.open_request(person, "My own order", "Where is my parcel?")
    support_actions.take_case(colleague, own.pk)
    answer = support_actions.reply_to_case(
        colleague, own.pk, "Hello Maeve, Customer Service has found your parcel."
    )
    # Hired: from now on they answer customers as customer service.
    person.role = role
    person.save(update_fields=["role"])
    if role == Role.AGENT:
        TeamMember.objects.create(team=Team.objects.get(slug="customer-service"), agent=person)
    assert person.public_name == "Customer Service"
    helped = support_actions.open_request(buyer, "Pending charge", "Why is it pending?")
    support_actions.take_case(person, helped.pk)
    support_actions.reply_to_case(person, helped.pk, "It goes away within a week.")
    assert helped.conversation_id is not None
    thanks = conversation_actions.send_message(
        buyer, helped.conversation_id, "Thank you, Customer Service! Maeve was quick."
    )

    erase_person(admin_user, person)

    answer.refresh_from_db()
    pseudonym = f"erased-{person.pk}"
    assert answer.body == f"Hello {pseudonym}, Customer Service has found your parcel."
    thanks.refresh_from_db()
    assert thanks.body == "Thank you, Customer Service! Maeve was quick."
    assert list(
        Message.objects.filter(conversation_id=helped.conversation_id, sender=person).values_list(
            "body", flat=True
        )
    ) == [REMOVED]
