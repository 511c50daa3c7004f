"""The safety check in the send path (docs/safety.md): what is stored with the message,
what the recipient and the sender see, the e-mail copy, and holds."""

from typing import Any

import pytest
from django.urls import reverse

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message
from messagecenter.conversations.send_checks import MessageHeld
from messagecenter.marketplace.models import Product
from messagecenter.safety import checks as safety_checks
from messagecenter.safety import vocabulary_cache
from messagecenter.safety.models import HeldMessage
from tests import factories
from tests.api.helpers import error_of, with_token
from tests.factories import signed_in

pytestmark = pytest.mark.django_db

SCAM = (
    "URGENT: Your Marketplace account has been suspended. Verify your account now: "
    "https://rnarketplace-account-verify.example/secure-login — you will need to confirm "
    "your password and the card used for this order."
)


def test_a_scam_from_a_seller_is_delivered_with_a_warning_and_its_reasons(
    buyer: User, seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)

    message = actions.contact_buyer_about_order(seller, order.pk, SCAM)

    stored = Message.objects.get(pk=message.pk)
    assert (stored.safety_verdict, stored.is_masked, stored.body) == ("warn", False, SCAM)
    assert stored.safety_version == vocabulary_cache.current().version
    assert [reason["code"] for reason in stored.safety_reasons] == [
        "writes_as_operator",
        "account_threat",
        "asks_for_secrets",
        "pressure",
        "link_lookalike",
    ]
    page = signed_in(buyer).get(reverse("conversation", args=[message.conversation_id]))
    content = page.content.decode()
    assert 'data-testid="safety-warning"' in content
    assert "Be careful: this message may be a scam." in content
    assert "which imitates Marketplace but is not ours." in content
    assert '<a href="https://rnarketplace' not in content
    listing = signed_in(buyer).get(reverse("message-center")).content.decode()
    assert 'data-testid="safety-chip"' in listing
    # The sender is not shown a warning about their own message.
    own = signed_in(seller).get(reverse("conversation", args=[message.conversation_id]))
    assert 'data-testid="safety-warning"' not in own.content.decode()


def test_contact_details_are_masked_for_the_recipient_and_the_sender_is_told(
    buyer: User, seller: User, product: Product
) -> None:
    message = actions.ask_seller_about_product(
        buyer, product.pk, "Cheaper if we talk directly: john at gmail dot com or 415-867-5309"
    )

    stored = Message.objects.get(pk=message.pk)
    assert stored.body == (
        "Cheaper if we talk directly: [contact details removed] or [contact details removed]"
    )
    assert (stored.safety_verdict, stored.is_masked) == ("ok", True)
    assert [reason["category"] for reason in stored.safety_reasons] == [
        "contact_email",
        "contact_phone",
    ]
    seller_page = signed_in(seller).get(reverse("conversation", args=[message.conversation_id]))
    assert "john at gmail" not in seller_page.content.decode()
    buyer_page = signed_in(buyer).get(reverse("conversation", args=[message.conversation_id]))
    assert "We removed contact details from your message." in buyer_page.content.decode()
    assert "It contains an e-mail address." in buyer_page.content.decode()


def test_a_payment_link_is_held_for_review_and_nothing_is_delivered(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Is it still available?")
    before = Message.objects.count()

    for _ in range(2):
        with pytest.raises(MessageHeld) as held:
            actions.send_message(
                seller,
                question.conversation_id,
                "Pay here instead: paypal.me/cheapdeals",
                idempotency_key="pay-1",
            )

    assert held.value.status == 202
    assert "waits for our team to review it" in held.value.message
    assert Message.objects.count() == before
    [waiting] = HeldMessage.objects.all()
    assert (waiting.sender, waiting.status, waiting.body) == (
        seller,
        "held",
        "Pay here instead: paypal.me/cheapdeals",
    )
    assert waiting.held_as == {"send": "reply", "conversation_id": question.conversation_id}
    assert [reason["category"] for reason in waiting.reasons] == ["contact_payment_link"]


def test_a_held_reply_through_the_api_answers_202_with_the_reason(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Is it still available?")

    response = with_token(seller).post(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Pay here instead: paypal.me/cheapdeals"},
    )

    assert error_of(response) == (202, "message_held")
    assert "It contains a payment link or handle." in response.json()["error"]["message"]


def test_messages_through_the_api_carry_their_safety_verdict(
    buyer: User, seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)
    message = actions.contact_buyer_about_order(seller, order.pk, SCAM)

    response = with_token(buyer).get(f"/conversations/{message.conversation_id}/messages")

    [item] = response.json()["items"]
    assert item["safety"]["verdict"] == "warn"
    assert item["safety"]["is_masked"] is False
    assert item["safety"]["reasons"][0] == {
        "category": "impersonation",
        "code": "writes_as_operator",
        "text": 'It speaks in the marketplace\'s name ("marketplace account"), but it is not '
        "from the marketplace.",
    }


def test_customer_service_may_ask_for_a_phone_number(buyer: User, agent: User) -> None:
    message = actions.contact_customer_service(
        buyer, "Delivery problem", "Please call me on 415-867-5309.", agent=agent
    )
    reply = actions.send_message(agent, message.conversation_id, "What is your phone number?")

    assert Message.objects.get(pk=message.pk).body == "Please call me on 415-867-5309."
    assert (reply.safety_verdict, reply.safety_version) == ("ok", "")


@pytest.mark.parametrize("page", ["reply", "product", "order"])
def test_a_held_message_sent_from_a_page_tells_its_sender_it_waits_for_review(
    buyer: User, seller: User, product: Product, page: str
) -> None:
    """Every page that sends a message shows the hold beside its form (it was a 500: the
    pages caught the refusals, not MessageHeld), with the box emptied and nothing sent."""
    order = factories.order_with_item(buyer, product)
    question = actions.ask_seller_about_product(buyer, product.pk, "Is it still available?")
    before = Message.objects.count()
    held_body = "Pay here instead: paypal.me/cheapdeals"
    url, sender = {
        "reply": (reverse("conversation", args=[question.conversation_id]), seller),
        "product": (reverse("ask-seller", args=[product.sku]), buyer),
        "order": (reverse("contact-buyer", args=[order.number]), seller),
    }[page]

    response = signed_in(sender).post(url, {"body": held_body, "idempotency_key": "held-1"})

    assert response.status_code == 202
    content = response.content.decode()
    assert 'data-testid="message-held"' in content
    assert "waits for our team to review it" in content
    assert "It contains a payment link or handle." in content
    assert held_body not in content.split('data-testid="message-held"')[1]
    assert Message.objects.count() == before
    assert HeldMessage.objects.get().body == held_body


def test_the_benchmarks_switch_turns_the_check_off_and_says_so(
    buyer: User, seller: User, product: Product, settings: object
) -> None:
    """SAFETY_DETECTOR=off exists to measure the check's cost (docs/benchmarks.md): the scam
    goes through unjudged, and `check` warns whoever starts a server that way."""
    from django.core import checks as system_checks

    from messagecenter.safety.apps import detector_off_warning

    order = factories.order_with_item(buyer, product)
    settings.SAFETY_DETECTOR = "off"  # type: ignore[attr-defined]

    message = actions.contact_buyer_about_order(seller, order.pk, SCAM)

    stored = Message.objects.get(pk=message.pk)
    assert (stored.safety_verdict, stored.safety_reasons, stored.safety_version) == ("ok", [], "")
    assert detector_off_warning in system_checks.registry.registry.get_checks()
    assert [found.id for found in detector_off_warning()] == ["safety.W001"]
    settings.SAFETY_DETECTOR = "on"  # type: ignore[attr-defined]
    assert detector_off_warning() == []


def test_a_message_is_checked_once_however_many_kinds_are_checked(
    buyer: User, product: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Claims are checked too: the decision made before the send's transaction was made
    once per checked kind, and the detector ran twice for every message."""
    ran: list[str] = []
    detector = safety_checks.check

    def counted(body: str, *args: Any, **kwargs: Any) -> Any:
        ran.append(body)
        return detector(body, *args, **kwargs)

    monkeypatch.setattr(safety_checks, "check", counted)
    question = actions.ask_seller_about_product(buyer, product.pk, "Does it fit a 30 cm pot?")
    actions.send_message(buyer, question.conversation_id, "And is the lid glass?")

    assert len(safety_checks.CHECKED_KINDS) > 1
    assert ran == ["Does it fit a 30 cm pot?", "And is the lid glass?"]
