"""Replies by e-mail through a real SMTP client against the Message Center's own listener,
with SPF, DKIM and DMARC checked against a DNS server on loopback: what lands, where, as
what — and what never does."""

import smtplib
from collections.abc import Callable
from datetime import timedelta

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from django.utils.html import escape

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.delivery import relay
from messagecenter.delivery.inbound import authentication
from messagecenter.delivery.models import InboundEmail
from messagecenter.delivery.sender import send_due_emails
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import UserEvent
from messagecenter.safety.models import HeldMessage
from tests import factories
from tests.api.helpers import with_token
from tests.delivery.dns import DkimKey, DnsServer
from tests.delivery.replies import QUOTED_HISTORY, reply, send
from tests.delivery.smtp import Handler
from tests.factories import ProductFactory, signed_in

pytestmark = pytest.mark.django_db(transaction=True)

# What the safety check holds for review (docs/safety.md#hold).
PAYMENT = "Pay here instead: paypal.me/cheapdeals"


LATER = timedelta(minutes=11)


def seller_reply_address(buyer: User, product: Product, inbox: Handler) -> tuple[int, str]:
    """The buyer asks; the seller's digest arrives; its Reply-To is the seller's relay
    address for that conversation."""
    question = conversation_actions.ask_seller_about_product(
        buyer, product.pk, "Does it come in blue?"
    )
    send_due_emails(now=timezone.now() + LATER)
    [digest] = inbox.to(product.storefront.seller.email)
    return question.conversation_id, str(digest.message["Reply-To"])


def _lines(raw: bytes) -> list[bytes]:
    return raw.replace(b"\r\n", b"\n").rstrip().split(b"\n")


def posted_in(conversation_id: int) -> list[str]:
    return list(
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("pk")
        .values_list("body", flat=True)
    )


def test_a_reply_lands_in_its_conversation_without_the_quoted_text_and_reaches_the_buyer_live(
    buyer: User,
    seller: User,
    product: Product,
    inbox: Handler,
    relay_listener: Controller,
    dkim_key: DkimKey,
) -> None:
    conversation_id, address = seller_reply_address(buyer, product, inbox)
    assert relay.parse(address) is not None
    raw = reply(
        sender=f"Acme Kitchen Owner <{seller.email}>",
        to=address,
        text="Yes, it comes in blue and in red.\n\nBest regards,\nAcme\n-- \n"
        f"Acme Kitchen | {seller.email}" + QUOTED_HISTORY,
        sign_with=dkim_key,
    )
    before = UserEvent.objects.filter(user=buyer).count()

    send(relay_listener, raw, mail_from=seller.email, to=address)

    assert posted_in(conversation_id) == [
        "Does it come in blue?",
        "Yes, it comes in blue and in red.",
    ]
    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.reason_code, inbound.user_id) == ("posted", "", seller.pk)
    assert "dmarc=pass" in inbound.authentication
    # The original, for agents (as it went over the wire: SMTP lines end in CRLF).
    assert _lines(bytes(inbound.raw)) == _lines(raw)
    message = Message.objects.get(pk=inbound.message_id)
    assert (message.sender_id, message.conversation_id) == (seller.pk, conversation_id)
    # Live: the buyer's devices stream this event (docs/realtime.md).
    [event] = UserEvent.objects.filter(user=buyer).order_by("sequence")[before:]
    assert event.kind == "message.created"
    assert event.payload["message_id"] == message.pk
    assert event.payload["preview"] == "Yes, it comes in blue and in red."
    # And by e-mail, through the relay the other way: nothing of the seller's address.
    send_due_emails(now=timezone.now() + LATER)
    [to_buyer] = inbox.to(buyer.email)
    assert "Yes, it comes in blue and in red." in to_buyer.text()
    buyer_address = str(to_buyer.message["Reply-To"])
    assert relay.parse(buyer_address) is not None
    assert seller.email not in to_buyer.raw.decode()

    # And back: the buyer answers from their mail app, the seller gets it through the relay.
    answer = reply(
        sender=buyer.email,
        to=buyer_address,
        text="Blue, please!\n\nAlice" + QUOTED_HISTORY,
        sign_with=dkim_key,
    )
    send(relay_listener, answer, mail_from=buyer.email, to=buyer_address)
    assert posted_in(conversation_id)[-1] == "Blue, please!\n\nAlice"
    send_due_emails(now=timezone.now() + LATER)
    latest = inbox.to(seller.email)[-1]
    assert "Blue, please!" in latest.text()
    assert buyer.email not in latest.raw.decode()


def test_the_same_email_delivered_twice_posts_once(
    buyer: User,
    seller: User,
    product: Product,
    inbox: Handler,
    relay_listener: Controller,
    dkim_key: DkimKey,
) -> None:
    conversation_id, address = seller_reply_address(buyer, product, inbox)
    raw = reply(sender=seller.email, to=address, text="Shipped today.", sign_with=dkim_key)

    send(relay_listener, raw, mail_from=seller.email, to=address)
    send(relay_listener, raw, mail_from=seller.email, to=address)

    assert posted_in(conversation_id) == ["Does it come in blue?", "Shipped today."]
    assert InboundEmail.objects.count() == 1


def refused(
    expected_status: str, expected_code: str, conversation_id: int, messages_before: list[str]
) -> InboundEmail:
    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.reason_code) == (expected_status, expected_code)
    assert inbound.message_id is None
    assert inbound.reason
    assert posted_in(conversation_id) == messages_before
    return inbound


def test_a_forged_from_is_refused_and_nothing_is_posted(
    buyer: User,
    seller: User,
    other_buyer: User,
    product: Product,
    inbox: Handler,
    relay_listener: Controller,
    dkim_key: DkimKey,
) -> None:
    conversation_id, address = seller_reply_address(buyer, product, inbox)
    # Someone else (validly signed for their own address) writes to the seller's address.
    raw = reply(sender=other_buyer.email, to=address, text="Send it to me.", sign_with=dkim_key)

    send(relay_listener, raw, mail_from=other_buyer.email, to=address)

    inbound = refused("refused", "sender_mismatch", conversation_id, ["Does it come in blue?"])
    assert inbound.user_id == seller.pk  # the seller sees it was refused, and why


def test_a_token_moved_to_another_conversation_is_refused(
    buyer: User,
    seller: User,
    product: Product,
    inbox: Handler,
    relay_listener: Controller,
    dkim_key: DkimKey,
) -> None:
    conversation_id, address = seller_reply_address(buyer, product, inbox)
    other = conversation_actions.ask_seller_about_product(
        buyer, ProductFactory(storefront=seller.storefront).pk, "And this one?"
    )
    seat = Participant.objects.get(conversation_id=other.conversation_id, user=seller)
    token = relay.parse(address)
    assert token is not None
    moved = f"p.{relay._encode(seat.pk)}-{token.mac}@{settings.EMAIL_REPLY_DOMAIN}"
    raw = reply(sender=seller.email, to=moved, text="Moved here.", sign_with=dkim_key)

    send(relay_listener, raw, mail_from=seller.email, to=moved)

    refused("refused", "unknown_address", conversation_id, ["Does it come in blue?"])
    assert posted_in(other.conversation_id) == ["And this one?"]


def test_dmarc_failure_is_refused_even_with_a_forged_authentication_results_header(
    buyer: User,
    seller: User,
    product: Product,
    inbox: Handler,
    relay_listener: Controller,
) -> None:
    conversation_id, address = seller_reply_address(buyer, product, inbox)
    # The seller's From, but not signed and sent through a server that example.test's SPF
    # does not name (the envelope is the forger's own domain): DMARC fails, p=reject.
    raw = reply(
        sender=seller.email,
        to=address,
        text="Please pay me directly instead.",
        headers={
            "Authentication-Results": "reply.localhost; spf=pass; dkim=pass; dmarc=pass",
        },
    )

    send(relay_listener, raw, mail_from="forger@elsewhere.test", to=address)

    inbound = refused("refused", "not_confirmed", conversation_id, ["Does it come in blue?"])
    assert inbound.reason.startswith("We could not confirm this e-mail came from you")
    assert "dmarc=fail" in inbound.authentication


def test_an_unsigned_reply_from_an_unlisted_server_is_quarantined(
    buyer: User,
    seller: User,
    product: Product,
    inbox: Handler,
    relay_listener: Controller,
    dns_server: DnsServer,
) -> None:
    conversation_id, address = seller_reply_address(buyer, product, inbox)
    # No DMARC policy at all for this domain, and nothing else vouches for the sender.
    dns_server.publish("_dmarc.example.test")
    dns_server.publish("example.test", "v=spf1 ip4:192.0.2.10 -all")
    raw = reply(sender=seller.email, to=address, text="Maybe.")

    send(relay_listener, raw, mail_from=seller.email, to=address)

    inbound = refused("quarantined", "not_confirmed", conversation_id, ["Does it come in blue?"])
    # An unsigned e-mail has no DKIM result to speak of: it read "DKIM fail".
    assert "DKIM none" in inbound.reason
    assert "it was not posted" in inbound.reason


@pytest.mark.parametrize("is_released", [True, False], ids=["released", "rejected"])
def test_a_reply_the_safety_check_holds_is_quarantined_shown_to_its_sender_and_reviewed(
    buyer: User,
    seller: User,
    product: Product,
    inbox: Handler,
    relay_listener: Controller,
    dkim_key: DkimKey,
    is_released: bool,
) -> None:
    conversation_id, address = seller_reply_address(buyer, product, inbox)
    raw = reply(sender=seller.email, to=address, text=PAYMENT, sign_with=dkim_key)

    send(relay_listener, raw, mail_from=seller.email, to=address)

    # Held, not refused: confirmed as the seller's, but nothing reached the buyer.
    inbound = refused("quarantined", "message_held", conversation_id, ["Does it come in blue?"])
    [held] = HeldMessage.objects.all()
    assert (held.sender_id, held.body, held.status) == (seller.pk, PAYMENT, "held")
    # The seller sees what became of it, and why, on the page and through the API.
    page = signed_in(seller).get(reverse("email-replies")).content.decode()
    assert "Held for review" in page
    assert escape(inbound.reason) in page
    [listed] = with_token(seller).get("/email-replies").json()
    assert (listed["status"], listed["reason_code"], listed["reason"]) == (
        "quarantined",
        "message_held",
        inbound.reason,
    )
    # Staff review it in the admin.
    staff = Client()
    staff.force_login(
        factories.UserFactory(username="staff", role=Role.ADMIN, is_staff=True, is_superuser=True)
    )
    response = staff.post(
        reverse("admin:safety_heldmessage_changelist"),
        {"action": "release" if is_released else "reject", "_selected_action": [held.pk]},
    )
    assert response.status_code == 302

    [reviewed] = with_token(seller).get("/email-replies").json()
    if not is_released:
        assert posted_in(conversation_id) == ["Does it come in blue?"]
        assert HeldMessage.objects.get().status == "rejected"
        assert (reviewed["status"], reviewed["reason_code"], reviewed["message_id"]) == (
            "refused",
            "rejected",
            None,
        )
        return
    assert posted_in(conversation_id) == ["Does it come in blue?", PAYMENT]
    released = Message.objects.get(conversation_id=conversation_id, sender=seller)
    # Still a reply by e-mail, with the warning the check gave it.
    assert (released.sent_by_email, released.safety_verdict) == (True, "warn")
    # Its sender learns it was posted after all.
    assert (reviewed["status"], reviewed["reason_code"], reviewed["message_id"]) == (
        "posted",
        "released",
        released.pk,
    )
    conversation = (
        signed_in(buyer).get(reverse("conversation", args=[conversation_id])).content.decode()
    )
    assert "sent by e-mail" in conversation


@pytest.mark.parametrize(
    ("make", "code"),
    [
        (
            lambda seller, address, key: (
                reply(
                    sender=seller.email,
                    to=address,
                    subject="Out of office: Re: Question about the lamp",
                    text="I am away until Monday.",
                    headers={"Auto-Submitted": "auto-replied"},
                    sign_with=key,
                ),
                seller.email,
            ),
            "auto_reply",
        ),
        (
            lambda seller, address, key: (
                reply(
                    sender=seller.email,
                    to=address,
                    subject="Abwesenheitsnotiz",
                    text="Ich bin bis Montag nicht im Büro.",
                    sign_with=key,
                ),
                seller.email,
            ),
            "auto_reply",
        ),
        (
            lambda seller, address, key: (
                reply(
                    sender="Mail Delivery System <MAILER-DAEMON@example.test>",
                    to=address,
                    subject="Undelivered Mail Returned to Sender",
                    text="This is the mail system at host example.test.",
                    sign_with=key,
                ),
                "",
            ),
            "bounce",
        ),
    ],
    ids=["vacation-auto-submitted", "vacation-subject", "bounce"],
)
def test_automatic_mail_is_refused_and_nothing_is_posted(
    make: Callable[[User, str, DkimKey], tuple[bytes, str]],
    code: str,
    buyer: User,
    seller: User,
    product: Product,
    inbox: Handler,
    relay_listener: Controller,
    dkim_key: DkimKey,
) -> None:
    conversation_id, address = seller_reply_address(buyer, product, inbox)
    raw, mail_from = make(seller, address, dkim_key)

    send(relay_listener, raw, mail_from=mail_from, to=address)

    refused("refused", code, conversation_id, ["Does it come in blue?"])


def test_a_relay_address_forwarding_to_another_is_not_posted_again(
    buyer: User,
    seller: User,
    product: Product,
    inbox: Handler,
    relay_listener: Controller,
) -> None:
    conversation_id, address = seller_reply_address(buyer, product, inbox)
    [digest] = inbox.to(seller.email)

    # The seller's own mailbox forwards everything to a relay address: our own e-mail
    # comes back, as it was sent.
    send(relay_listener, digest.raw, mail_from="no-reply@localhost", to=address)

    refused("refused", "loop", conversation_id, ["Does it come in blue?"])


def test_the_listener_accepts_only_relay_addresses(relay_listener: Controller) -> None:
    with smtplib.SMTP(relay_listener.hostname, relay_listener.port) as smtp:
        smtp.ehlo("mail.example.test")
        smtp.mail("someone@example.test")
        code, _ = smtp.rcpt("anyone@example.com")
        assert code == 550
        code, _ = smtp.rcpt(f"p.1-{'0' * 20}@reply.example")
        assert code == 550


def test_dmarc_passing_for_another_domain_than_the_senders_confirms_nothing(
    dns_server: DnsServer, dkim_key: DkimKey
) -> None:
    # What authheaders passed DMARC for must be the From domain the reply is judged by
    # (parsing.addresses): a pass for the forger's own domain vouches for no account.
    # (Under a real suffix: two .test domains count as one organisation, .test being
    # unlisted in the Public Suffix List.)
    dns_server.publish("forger.net", "v=spf1 ip4:127.0.0.1 -all")
    dns_server.publish("mail._domainkey.forger.net", f"v=DKIM1; k=rsa; p={dkim_key.public_base64}")
    dns_server.publish("_dmarc.forger.net", "v=DMARC1; p=none")
    raw = reply(
        sender="forger@forger.net",
        to="help@example.test",
        text="Hello.",
        sign_with=dkim_key,
        signing_domain="forger.net",
    )
    judged = {"ip": "127.0.0.1", "helo": "mail.forger.net", "mail_from": "b@forger.net"}

    assert authentication.authenticate(raw, from_domain="forger.net", **judged).is_confirmed
    verdict = authentication.authenticate(raw, from_domain="example.test", **judged)
    assert not verdict.is_confirmed
    assert "example.test did not vouch for it" in verdict.explanation


def test_an_email_to_two_of_our_addresses_is_taken_for_the_first_and_refused_for_the_other(
    buyer: User, product: Product, inbox: Handler, relay_listener: Controller
) -> None:
    """A review sent one e-mail to two relay addresses: it was posted for the first only,
    and nothing said so; with someone else's address first, the whole e-mail was refused
    on that person's page and the sender heard nothing. The second address is refused in
    the session now, so the sender's own server tells them."""
    _, address = seller_reply_address(buyer, product, inbox)
    with smtplib.SMTP(relay_listener.hostname, relay_listener.port) as smtp:
        smtp.ehlo("mail.example.test")
        smtp.mail("someone@example.test")
        assert smtp.rcpt(address)[0] == 250
        code, reply = smtp.rcpt(settings.SUPPORT_EMAIL_ADDRESS)
        assert code == 550
        assert b"One address of ours per e-mail" in reply
        assert settings.SUPPORT_EMAIL_ADDRESS.encode() in reply
