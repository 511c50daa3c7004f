"""Replies that reach the Message Center through a provider's inbound webhook
(django-anymail; SendGrid's "raw MIME" format here): the same action as the SMTP
listener, DKIM and DMARC checked by us, a provider's own verdict trusted only from the
authserv-id the operator lists."""

import base64
import json

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.delivery.models import InboundEmail
from messagecenter.delivery.rendering import reply_address
from messagecenter.marketplace.models import Product
from tests.delivery.dns import DkimKey, DnsServer
from tests.delivery.replies import QUOTED_HISTORY, reply

pytestmark = pytest.mark.django_db


@pytest.fixture
def webhook(settings: Settings) -> Client:
    settings.ROOT_URLCONF = "tests.delivery.anymail_urls"
    settings.ANYMAIL = {"WEBHOOK_SECRET": "provider:webhook-secret"}
    credentials = base64.b64encode(b"provider:webhook-secret").decode()
    return Client(HTTP_AUTHORIZATION=f"Basic {credentials}")


def seller_address(buyer: User, seller: User, product: Product) -> tuple[int, str]:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    seat = Participant.objects.get(conversation_id=question.conversation_id, user=seller)
    address = reply_address(seat)
    assert address is not None
    return question.conversation_id, address


def post(webhook: Client, raw: bytes, *, to: str, sender: str) -> int:
    response = webhook.post(
        "/anymail/sendgrid/inbound/",
        {"email": raw.decode(), "envelope": json.dumps({"to": [to], "from": sender})},
    )
    return response.status_code


def test_a_reply_through_a_provider_webhook_is_posted_once(
    webhook: Client,
    buyer: User,
    seller: User,
    product: Product,
    dns_server: DnsServer,
    dkim_key: DkimKey,
) -> None:
    conversation_id, address = seller_address(buyer, seller, product)
    raw = reply(
        sender=seller.email,
        to=address,
        text="Brand new, in its box." + QUOTED_HISTORY,
        sign_with=dkim_key,
    )

    assert post(webhook, raw, to=address, sender=seller.email) == 200
    assert post(webhook, raw, to=address, sender=seller.email) == 200

    inbound = InboundEmail.objects.get()
    assert (inbound.route, inbound.status) == ("sendgrid", "posted")
    assert list(
        Message.objects.filter(conversation_id=conversation_id).values_list("body", flat=True)
    ) == ["Is it new?", "Brand new, in its box."]


def test_a_providers_verdict_counts_only_from_a_trusted_authserv_id(
    webhook: Client,
    buyer: User,
    seller: User,
    product: Product,
    dns_server: DnsServer,
    settings: Settings,
) -> None:
    conversation_id, address = seller_address(buyer, seller, product)
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.provider.test"]
    # Unsigned: only the provider's header could vouch for it.
    forged = reply(
        sender=seller.email,
        to=address,
        text="Forged verdict.",
        headers={"Authentication-Results": "mx.forger.test; dmarc=pass"},
    )
    vouched = reply(
        sender=seller.email,
        to=address,
        text="Vouched for.",
        headers={"Authentication-Results": "mx.provider.test; spf=pass; dmarc=pass"},
    )

    post(webhook, forged, to=address, sender=seller.email)
    post(webhook, vouched, to=address, sender=seller.email)

    assert list(InboundEmail.objects.order_by("pk").values_list("status", flat=True)) == [
        "refused",
        "posted",
    ]
    assert list(
        Message.objects.filter(conversation_id=conversation_id).values_list("body", flat=True)
    ) == ["Is it new?", "Vouched for."]
