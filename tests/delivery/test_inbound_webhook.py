"""Replies that reach the Message Center through a provider's inbound webhook
(django-anymail; SendGrid's "raw MIME" format here): the same action as the SMTP
listener, DKIM and DMARC checked by us, a provider's own verdict trusted only from the
authserv-id the operator lists."""

import base64
import json
from typing import Any

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.delivery import queries
from messagecenter.delivery.models import InboundEmail
from messagecenter.delivery.rendering import reply_address
from messagecenter.marketplace.models import Product
from tests.delivery.dns import DkimKey, DnsServer
from tests.delivery.replies import QUOTED_HISTORY, forged_and_own, reply

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
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("id")
        .values_list("body", flat=True)
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
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("id")
        .values_list("body", flat=True)
    ) == ["Is it new?", "Vouched for."]


def test_each_person_sees_what_became_of_their_own_replies_and_sent_by_email_is_shown(
    webhook: Client,
    client: Client,
    buyer: User,
    seller: User,
    product: Product,
    dns_server: DnsServer,
    dkim_key: DkimKey,
) -> None:
    conversation_id, address = seller_address(buyer, seller, product)
    post(
        webhook,
        reply(sender=seller.email, to=address, text="On its way.", sign_with=dkim_key),
        to=address,
        sender=seller.email,
    )
    post(
        webhook,
        reply(sender=buyer.email, to=address, text="Not the seller.", sign_with=dkim_key),
        to=address,
        sender=buyer.email,
    )

    client.force_login(seller)
    page = client.get(reverse("email-replies")).content.decode()
    assert "Posted in the conversation" in page
    assert "was not sent from the e-mail address of your account" in page
    answer = client.get("/api/v1/email-replies").json()
    assert [(item["status"], item["reason_code"]) for item in answer] == [
        ("refused", "sender_mismatch"),
        ("posted", ""),
    ]
    client.force_login(buyer)
    assert "No replies by e-mail yet." in client.get(reverse("email-replies")).content.decode()
    assert client.get("/api/v1/email-replies").json() == []
    thread = client.get(reverse("conversation", args=[conversation_id])).content.decode()
    assert thread.count("sent by e-mail") == 1
    messages = client.get(f"/api/v1/conversations/{conversation_id}/messages").json()["items"]
    assert [(item["body"], item["sent_by_email"]) for item in messages] == [
        ("Is it new?", False),
        ("On its way.", True),
    ]


def test_a_forgers_address_and_words_are_never_shown_to_the_account_holder(
    client: Client, buyer: User, seller: User, product: Product, settings: Settings
) -> None:
    settings.INBOUND_REQUIRE_AUTHENTICATION = False
    conversation_id, address = seller_address(buyer, seller, product)
    # Someone who learnt the seller's relay address writes to it as another person.
    forged, own = forged_and_own(address, seller.email, "On its way.")
    assert (forged.status, forged.reason_code, forged.from_account_holder) == (
        "refused",
        "sender_mismatch",
        False,
    )
    assert (own.status, own.from_account_holder) == ("posted", True)
    # Staff keep what abuse handling needs.
    forged.refresh_from_db()
    assert (forged.from_address, forged.envelope_from) == (
        "alice@forger.example",
        "bounces@forger.example",
    )

    client.force_login(seller)
    page = client.get(reverse("email-replies")).content.decode()
    assert "forger" not in page
    assert "Urgent" not in page
    assert 'data-testid="reply-from-another-address"' in page
    assert "was not sent from the e-mail address of your account" in page
    # Their own e-mail is listed as before, and the page does not say they sent the other.
    assert "Re: the lamp" in page
    assert "e-mails you sent" not in page
    answer = client.get("/api/v1/email-replies").json()
    assert "forger" not in json.dumps(answer)
    assert [
        (item["reason_code"], item["from_your_address"], item["subject"]) for item in answer
    ] == [("", True, "Re: the lamp"), ("sender_mismatch", False, "")]
    assert answer[1]["conversation_id"] == conversation_id


def test_a_conversation_deleted_for_ever_is_named_on_the_replies_page_not_linked(
    webhook: Client,
    client: Client,
    buyer: User,
    seller: User,
    product: Product,
    dns_server: DnsServer,
    dkim_key: DkimKey,
    django_assert_num_queries: Any,
) -> None:
    """The seller's posted reply, then the conversation deleted for ever, then a reply
    refused for it: "Replies by e-mail" linked the conversation on both rows, a page
    that is not found for them. Now its subject shows as plain text, read with the
    page's one query of replies."""
    conversation_id, address = seller_address(buyer, seller, product)
    for text in ("On its way.", "And a tracking number."):
        if text != "On its way.":
            conversation_actions.trash_conversations(seller, [conversation_id])
            conversation_actions.delete_conversations(seller, [conversation_id])
        raw = reply(sender=seller.email, to=address, text=text, sign_with=dkim_key)
        post(webhook, raw, to=address, sender=seller.email)
    assert list(InboundEmail.objects.values_list("status", "reason_code").order_by("pk")) == [
        ("posted", ""),
        ("refused", "conversation_deleted"),
    ]
    link = reverse("conversation", args=[conversation_id])

    client.force_login(seller)
    seller_page = client.get(reverse("email-replies")).content.decode()
    with django_assert_num_queries(1):
        replies = queries.email_replies(seller)

    assert link not in seller_page
    assert [reply.conversation_opens for reply in replies] == [False, False]
    assert seller_page.count('data-testid="reply-conversation-gone"') == 2
    assert "Question about" in seller_page.split('data-testid="reply-conversation-gone"')[1]
    # Still theirs: still linked.
    assert InboundEmail.objects.filter(status="posted").update(user=buyer) == 1
    client.force_login(buyer)
    assert link in client.get(reverse("email-replies")).content.decode()


def test_the_api_gives_no_id_of_a_conversation_deleted_for_ever(
    webhook: Client,
    client: Client,
    buyer: User,
    seller: User,
    product: Product,
    dns_server: DnsServer,
    dkim_key: DkimKey,
) -> None:
    """GET /api/v1/email-replies gave the ids of a conversation the person deleted for
    ever — the refused conversation_deleted e-mail's and the posted one's before it — where
    the page names it without a link: each id led to a 404. Now both are null, read with
    the list's queries (as many for two rows as for one)."""
    conversation_id, address = seller_address(buyer, seller, product)
    client.force_login(seller)
    queries_per_call = []
    for text in ("On its way.", "And a tracking number."):
        if text != "On its way.":
            conversation_actions.trash_conversations(seller, [conversation_id])
            conversation_actions.delete_conversations(seller, [conversation_id])
        raw = reply(sender=seller.email, to=address, text=text, sign_with=dkim_key)
        post(webhook, raw, to=address, sender=seller.email)
        with CaptureQueriesContext(connection) as listed:
            answer = client.get("/api/v1/email-replies").json()
        queries_per_call.append(len(listed))

    assert [(item["status"], item["reason_code"]) for item in answer] == [
        ("refused", "conversation_deleted"),
        ("posted", ""),
    ]
    assert [(item["conversation_id"], item["message_id"]) for item in answer] == [
        (None, None),
        (None, None),
    ]
    assert queries_per_call[0] == queries_per_call[1]
    # Still theirs: still given.
    posted = InboundEmail.objects.get(status="posted")
    assert InboundEmail.objects.filter(pk=posted.pk).update(user=buyer) == 1
    client.force_login(buyer)
    [theirs] = client.get("/api/v1/email-replies").json()
    assert (theirs["conversation_id"], theirs["message_id"]) == (
        conversation_id,
        posted.message_id,
    )


def test_a_providers_pass_for_another_from_domain_does_not_vouch_for_the_account(
    webhook: Client,
    buyer: User,
    seller: User,
    product: Product,
    dns_server: DnsServer,
    settings: Settings,
) -> None:
    conversation_id, address = seller_address(buyer, seller, product)
    settings.INBOUND_TRUSTED_AUTHSERV_IDS = ["mx.provider.test"]
    # The provider passed DMARC for the domain it read From as — not the seller's.
    raw = reply(
        sender=seller.email,
        to=address,
        text="Pay me directly instead.",
        headers={"Authentication-Results": "mx.provider.test; dmarc=pass header.from=forger.test"},
    )

    post(webhook, raw, to=address, sender=seller.email)

    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.reason_code) == ("quarantined", "not_confirmed")
    assert list(
        Message.objects.filter(conversation_id=conversation_id).values_list("body", flat=True)
    ) == ["Is it new?"]


def test_a_suspicious_email_forwarded_through_a_provider_webhook_opens_a_case(
    webhook: Client, buyer: User, dns_server: DnsServer, dkim_key: DkimKey, settings: Settings
) -> None:
    """The report address (docs/safety.md#forwarded-e-mails) takes the provider's route
    as it takes the listener's, with the same checks of who sent it."""
    from messagecenter.support.models import Case, ForwardedEmail
    from tests.delivery.forwards import forward_as_attachment, suspicious

    address = settings.PHISHING_REPORT_ADDRESS
    raw = forward_as_attachment(buyer.email, suspicious(), dkim_key)

    assert post(webhook, raw, to=address, sender=buyer.email) == 200
    assert post(webhook, raw, to=address, sender=buyer.email) == 200

    inbound = InboundEmail.objects.get()
    assert (inbound.route, inbound.status, inbound.user_id) == ("sendgrid", "posted", buyer.pk)
    assert "dkim=pass" in inbound.authentication
    evidence = ForwardedEmail.objects.get()
    assert (evidence.reporter_id, evidence.subject) == (buyer.pk, "Your account is on hold")
    assert Case.objects.get().kind == "report"
    assert inbound.message_id == evidence.answer_id
