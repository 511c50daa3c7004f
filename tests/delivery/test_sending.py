"""E-mails from messages, through a real SMTP server on loopback: what is recorded with
the message, what goes over the wire (content, headers, Message-ID), digests, retries,
bounces and DKIM."""

import html
import re
import subprocess
from datetime import timedelta
from html import escape
from pathlib import Path
from zoneinfo import ZoneInfo

import dkim
import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django.utils.html import strip_tags
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Kind, Message, Participant
from messagecenter.delivery import actions, references
from messagecenter.delivery.models import (
    Category,
    Channel,
    Email,
    EmailKind,
    EmailStatus,
    Suppression,
)
from messagecenter.delivery.sender import send_due_emails
from messagecenter.marketplace.models import Product
from messagecenter.safety.links import defang
from messagecenter.support import actions as support_actions
from messagecenter.support import claim_actions, report_actions
from tests import factories
from tests.delivery.helpers import KEEPS_SPACES, NESTED_LIST, nested_list_in_html
from tests.delivery.smtp import Handler, Received
from tests.factories import order_with_item
from tests.support.claims import Clock, claimable_order, clock
from tests.web.helpers import not_isolated

__all__ = ["clock"]

pytestmark = pytest.mark.django_db

LATER = timedelta(minutes=11)


def order_update(buyer: User, body: str = "Your order has shipped with DHL.") -> int:
    message = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001", body=body, topic_key="order:1001"
    )
    return message.pk


def test_an_order_update_is_recorded_with_its_message_and_sent_after_commit(
    buyer: User, inbox: Handler
) -> None:
    with transaction.atomic():
        message_id = order_update(buyer)
        queued = Email.objects.get()
        assert (queued.kind, queued.status, queued.message_id) == ("message", "queued", message_id)
        assert inbox.received == []

    assert send_due_emails() == 1

    [received] = inbox.received
    email = Email.objects.get()
    assert (email.status, email.to_address, email.attempts) == ("sent", buyer.email, 1)
    message = received.message
    assert received.recipients == [buyer.email]
    assert message["Subject"] == "Order 1001"
    assert message["Message-ID"] == f"<mc.message.{email.pk}@localhost>"
    assert message["Auto-Submitted"] == "auto-generated"
    reference = references.for_message(message_id, buyer.pk, is_official=True)
    assert message["X-Message-Center-Reference"] == reference
    assert "Your order has shipped with DHL." in received.text()
    assert f"Reference {reference}." in received.text()
    assert "If it is not in your Message Center, it is not from us." in received.text()
    assert reference in received.html()
    assert "/email/preferences/" in received.text()
    # Transactional: no one-click unsubscribe pair.
    assert message["List-Unsubscribe"] is None
    assert message["List-Unsubscribe-Post"] is None


def test_a_rolled_back_message_leaves_no_email(buyer: User, inbox: Handler) -> None:
    def fail_after_sending() -> None:
        with transaction.atomic():
            order_update(buyer)
            raise RuntimeError

    with pytest.raises(RuntimeError):
        fail_after_sending()

    assert Email.objects.count() == 0
    assert send_due_emails() == 0
    assert inbox.received == []


def test_the_sender_and_people_who_muted_get_no_email(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    conversation_actions.mute_conversations(seller, [question.conversation_id])
    conversation_actions.send_message(buyer, question.conversation_id, "Hello?")

    # Only the first question (before the mute) made a digest, and none for the sender.
    assert list(Email.objects.values_list("user_id", "kind")) == [(seller.pk, "digest")]


def test_agents_get_no_email_and_buyers_get_customer_service_replies(
    buyer: User, agent: User, inbox: Handler
) -> None:
    first = conversation_actions.contact_customer_service(
        buyer, "My parcel", "Where is my parcel?", agent=agent
    )
    conversation_actions.send_message(agent, first.conversation_id, "It arrives tomorrow.")

    assert list(Email.objects.values_list("user_id", "category")) == [
        (buyer.pk, Category.CUSTOMER_SERVICE)
    ]


def test_an_admins_answer_from_the_console_is_e_mailed_from_customer_service(
    buyer: User, inbox: Handler
) -> None:
    """Whoever answers for customer service, an administrator too, is "Customer Service"
    to the customer (docs/support.md): never their own name in the subject or the text."""
    from messagecenter.accounts.models import Role

    admin = factories.UserFactory(role=Role.ADMIN, is_staff=True, display_name="Site administrator")
    case = support_actions.open_request(buyer, "Pending charge", "Why is it pending?")
    Email.objects.all().delete()
    support_actions.reply_to_case(admin, case.pk, "It goes away within a week.")

    assert send_due_emails() == 1
    [received] = inbox.received
    assert received.message["Subject"] == "Customer Service: Pending charge"
    assert "Site administrator" not in received.text() + received.html()


def one_line(text: str) -> str:
    return " ".join(text.split())


def html_as_read(received: Received) -> str:
    """The HTML part's words as its reader reads them: no tags (a name is an element of
    its own), entities decoded, on one line."""
    return one_line(html.unescape(strip_tags(received.html())))


def test_an_official_answer_by_e_mail_says_customer_service_reads_a_reply(
    buyer: User, inbox: Handler
) -> None:
    """The e-mail said "Reply to this e-mail to answer", naming nobody: a reply is posted
    in the request's conversation, which customer service reads."""
    case = support_actions.open_request(buyer, "Pending charge", "Why is it pending?")
    Email.objects.all().delete()
    support_actions.reply_to_case(factories.agent_in_team(), case.pk, "It goes within a week.")

    assert send_due_emails() == 1

    [received] = inbox.received
    assert received.message["Reply-To"]
    assert (
        "Reply to this e-mail to answer customer service (your address stays private), "
        "or view it in your Message Center:"
    ) in one_line(received.text())
    assert "Or reply to this e-mail to answer customer service: your answer is posted" in (
        one_line(received.html())
    )


def assert_says_a_reply_answers(received: Received, who: str) -> None:
    """A message e-mail names whom a reply answers, in its text and its HTML."""
    assert f"Reply to this e-mail to answer {who} (your" in one_line(received.text())
    assert f"Or reply to this e-mail to answer {who}:" in html_as_read(received)


def test_an_official_message_in_a_claim_says_both_the_other_party_and_customer_service_read_a_reply(
    buyer: User, seller: User, product: Product, clock: Clock, inbox: Handler
) -> None:
    """A reply is posted in the claim's conversation: the other party reads it there, and
    customer service, whose message it answers."""
    claim = claim_actions.file_claim(
        buyer,
        claimable_order(buyer, product, clock).number,
        "not_received",
        "The parcel never came.",
    )
    agent = factories.agent_in_team("claims", username="dana")
    support_actions.reply_to_case(agent, claim.case.pk, "Please both send what you have.")
    send_due_emails()

    for reader, other in ((buyer, seller.storefront.name), (seller, buyer.public_name)):
        [received] = [
            received
            for received in inbox.to(reader.email)
            if "Please both send what you have." in received.text()
        ]
        assert received.message["Reply-To"]
        if reader == buyer:
            assert_says_a_reply_answers(received, f"{other} and customer service")
        else:
            # The seller still owes the claim's response: a reply to the e-mail is read by
            # both, and is not that response (docs/support.md#guarantee-claims).
            who = f"{other} and customer service"
            assert (
                f"A reply to this e-mail is posted in the claim's conversation for {who} to "
                "read (your address stays private); it is not your response to the claim."
            ) in one_line(received.text())
            assert f"for {who} to read" in html_as_read(received)


def test_a_partys_own_message_in_a_claim_says_customer_service_reads_a_reply_too(
    buyer: User, seller: User, product: Product, clock: Clock, inbox: Handler
) -> None:
    """The seller's answer to a claim reached the buyer as "Reply to this e-mail to answer
    <the shop>", though customer service reads the claim's conversation as well."""
    claim = claim_actions.file_claim(
        buyer,
        claimable_order(buyer, product, clock).number,
        "not_received",
        "The parcel never came.",
    )
    claim_actions.respond_to_claim(seller, claim.pk, "It was sent on Monday with tracking.")
    send_due_emails()

    [received] = [
        received
        for received in inbox.to(buyer.email)
        if "It was sent on Monday with tracking." in received.text()
    ]
    assert_says_a_reply_answers(received, f"{seller.storefront.name} and customer service")


def test_an_official_message_no_reply_reaches_offers_no_reply_by_e_mail(
    buyer: User, inbox: Handler
) -> None:
    """A message to read (the outcome of a report, an order update): a reply would go
    nowhere, so none is offered and the e-mail has no Reply-To."""
    conversation_actions.start_customer_service_conversation(
        buyer, "Your report", "We reviewed it.", can_reply=False
    )

    assert send_due_emails() == 1

    [received] = inbox.received
    assert received.message["Reply-To"] is None
    assert "reply to this e-mail" not in (received.text() + received.html()).lower()
    assert "View it in your Message Center:" in received.text()


def test_a_digest_with_the_marketplaces_notice_names_who_reads_a_reply(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    """The notice that a seller's answer is overdue is the marketplace's, in the buyer–seller
    conversation: a reply to its digest goes to the seller, and says so."""
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    Participant.objects.filter(user=seller, conversation_id=question.conversation_id).update(
        response_due_at=timezone.now() - timedelta(minutes=1)
    )
    assert conversation_actions.pass_response_deadlines() == 1

    send_due_emails(now=timezone.now() + LATER)

    [received] = inbox.to(buyer.email)
    assert received.message["Subject"] == "New message from Marketplace"
    shop = seller.storefront.name
    assert f"Reply to this e-mail to answer {shop}; your e-mail address stays private." in (
        one_line(received.text())
    )
    assert f"Reply to this e-mail to answer {shop}; your e-mail address stays private." in (
        html_as_read(received)
    )


def test_buyer_seller_messages_wait_for_a_quiet_period_then_go_as_one_digest(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    start = timezone.now()
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    conversation_actions.send_message(
        buyer, question.conversation_id, "And does it ship to Canada?"
    )
    conversation_actions.send_message(buyer, question.conversation_id, "Thanks!")

    [digest] = Email.objects.all()
    assert (digest.kind, digest.user_id) == (EmailKind.DIGEST, seller.pk)
    assert send_due_emails(now=start + timedelta(minutes=9)) == 0

    assert send_due_emails(now=timezone.now() + LATER) == 1

    [received] = inbox.received
    assert received.recipients == [seller.email]
    text = received.text()
    assert received.message["Subject"] == f"3 new messages from {buyer.public_name}"
    assert [
        line
        for line in text.splitlines()
        if line in {"Is it new?", "And does it ship to Canada?", "Thanks!"}
    ] == [
        "Is it new?",
        "And does it ship to Canada?",
        "Thanks!",
    ]
    assert text.count("Ref. MC-P") == 3
    assert received.message["Message-ID"] == f"<mc.digest.{digest.pk}@localhost>"
    assert received.message["List-Unsubscribe"] is None
    # One person's messages in one conversation: from them, via the Message Center (a
    # review found every digest "From: Message Center", the docs saying otherwise).
    assert str(received.message["From"]) == (
        f"{buyer.public_name} via Message Center <no-reply@localhost>"
    )


def test_a_digest_of_several_peoples_messages_comes_from_the_message_center(
    buyer: User, other_buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    conversation_actions.ask_seller_about_product(other_buyer, product.pk, "In blue?")

    assert send_due_emails(now=timezone.now() + LATER) == 1

    [received] = inbox.received
    assert str(received.message["From"]) == "Message Center <no-reply@localhost>"


def test_a_nested_list_keeps_its_indent_in_both_parts_of_a_message_e_mail(
    buyer: User, inbox: Handler
) -> None:
    """The HTML part showed the body with `white-space: pre-line`, which collapses a line's
    leading spaces: a two-level list arrived flat, "Poles" level with "Tent"."""
    order_update(buyer, NESTED_LIST)

    send_due_emails()

    [received] = inbox.received
    assert NESTED_LIST in received.text().replace("\r\n", "\n")
    white_space, shown = nested_list_in_html(received.html())
    assert white_space in KEEPS_SPACES
    assert shown == NESTED_LIST


def test_a_nested_list_keeps_its_indent_in_both_parts_of_a_digest(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    conversation_actions.ask_seller_about_product(buyer, product.pk, NESTED_LIST)

    assert send_due_emails(now=timezone.now() + LATER) == 1

    [received] = inbox.received
    assert NESTED_LIST in received.text().replace("\r\n", "\n")
    white_space, shown = nested_list_in_html(received.html())
    assert white_space in KEEPS_SPACES
    assert shown == NESTED_LIST


def test_a_digest_shows_its_messages_times_in_the_recipients_zone(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    account_actions.set_time_zone(seller, "Asia/Tokyo")
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    sent_at = question.created_at

    assert send_due_emails(now=timezone.now() + LATER) == 1

    [received] = inbox.received
    tokyo = sent_at.astimezone(ZoneInfo("Asia/Tokyo"))
    noon = "AM" if tokyo.hour < 12 else "PM"
    shown = f"{tokyo:%a} {tokyo.day} {tokyo:%b %Y}, {tokyo.hour % 12 or 12}:{tokyo:%M} {noon} JST"
    assert f"{buyer.public_name}, {shown}" in received.text()
    assert shown in received.html()
    assert "UTC" not in received.text()


def test_each_new_message_pushes_the_digest_but_never_past_the_longest_wait(
    buyer: User, seller: User, product: Product, settings: Settings
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "One")
    created = Email.objects.get().created_at
    assert Email.objects.get().next_attempt_at == created + timedelta(minutes=10)

    second = conversation_actions.send_message(buyer, question.conversation_id, "Two")
    digest = Email.objects.get()
    assert digest.next_attempt_at == second.created_at + timedelta(minutes=10)

    settings.EMAIL_DIGEST_MAX_WAIT_MINUTES = 5
    conversation_actions.send_message(buyer, question.conversation_id, "Three")
    digest = Email.objects.get()
    assert digest.next_attempt_at == created + timedelta(minutes=5)


def test_a_digest_read_in_the_message_center_is_not_sent(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    conversation_actions.mark_read(seller, [question.conversation_id])

    assert send_due_emails(now=timezone.now() + LATER) == 1

    assert inbox.received == []
    digest = Email.objects.get()
    assert (digest.status, digest.last_error) == (
        EmailStatus.CANCELLED,
        "Read in the Message Center before the e-mail was due.",
    )


def test_after_a_digest_goes_out_the_next_message_starts_a_new_one(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "First")
    send_due_emails(now=timezone.now() + LATER)
    conversation_actions.send_message(buyer, question.conversation_id, "Second")

    assert send_due_emails(now=timezone.now() + LATER) == 1
    first, second = inbox.received
    assert "First" in first.text()
    assert "Second" in second.text()
    assert "First" not in second.text()
    assert first.message["Message-ID"] != second.message["Message-ID"]


def test_switching_off_buyer_seller_email_stops_digests(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    actions.set_preferences(seller, {(Category.BUYER_SELLER, Channel.EMAIL): False})

    assert send_due_emails(now=timezone.now() + LATER) == 1

    assert inbox.received == []
    assert Email.objects.get().status == EmailStatus.CANCELLED


def test_a_temporary_refusal_is_retried_with_backoff_and_the_same_message_id(
    buyer: User, inbox: Handler
) -> None:
    inbox.refuse[buyer.email] = "451 4.3.0 Try again later"
    order_update(buyer)

    now = timezone.now()
    assert send_due_emails(now=now) == 1
    email = Email.objects.get()
    assert (email.status, email.attempts) == (EmailStatus.QUEUED, 1)
    assert email.last_error == "451 4.3.0 Try again later"
    assert now + timedelta(seconds=20) < email.next_attempt_at < now + timedelta(seconds=40)
    assert send_due_emails(now=now + timedelta(seconds=10)) == 0

    del inbox.refuse[buyer.email]
    assert send_due_emails(now=now + timedelta(minutes=1)) == 1
    [received] = inbox.received
    assert received.message["Message-ID"] == f"<mc.message.{email.pk}@localhost>"
    email.refresh_from_db()
    assert (email.status, email.attempts) == (EmailStatus.SENT, 2)


def test_an_email_that_keeps_failing_ends_as_failed(
    buyer: User, inbox: Handler, settings: Settings
) -> None:
    settings.EMAIL_MAX_ATTEMPTS = 3
    inbox.refuse[buyer.email] = "451 4.3.0 Try again later"
    order_update(buyer)

    for hours in (0, 1, 2, 3):
        send_due_emails(now=timezone.now() + timedelta(hours=hours))

    email = Email.objects.get()
    assert (email.status, email.attempts) == (EmailStatus.FAILED, 3)
    assert inbox.received == []


def test_a_server_that_is_down_leaves_the_email_queued(buyer: User, settings: Settings) -> None:
    from tests.test_processes import free_port

    settings.MAILERS = {
        "default": {
            "BACKEND": "django.core.mail.backends.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": free_port(), "timeout": 2},
        }
    }
    order_update(buyer)

    with pytest.raises(ConnectionRefusedError):
        send_due_emails()

    email = Email.objects.get()
    # Claimed by the failed attempt; another sender takes it again once the lease ends.
    assert (email.status, email.attempts) == (EmailStatus.QUEUED, 1)
    assert email.claimed_until is not None


def test_a_hard_bounce_suppresses_the_address_for_promotional_mail(
    buyer: User, inbox: Handler
) -> None:
    inbox.refuse[buyer.email] = "550 5.1.1 No such user"
    order_update(buyer)

    send_due_emails()

    email = Email.objects.get()
    assert (email.status, email.last_error) == (EmailStatus.BOUNCED, "550 5.1.1 No such user")
    assert list(Suppression.objects.values_list("address", "reason")) == [
        (buyer.email, "hard_bounce")
    ]


def test_a_claimed_email_is_not_taken_by_another_sender_until_its_lease_ends(
    buyer: User, inbox: Handler, settings: Settings
) -> None:
    from messagecenter.delivery.sender import _claim

    order_update(buyer)
    now = timezone.now()
    assert len(_claim(10, now)) == 1  # a sender that then dies

    assert send_due_emails(now=now + timedelta(seconds=60)) == 0
    assert send_due_emails(now=now + timedelta(seconds=settings.EMAIL_CLAIM_SECONDS + 1)) == 1
    [received] = inbox.received
    assert received.message["Message-ID"] == f"<mc.message.{Email.objects.get().pk}@localhost>"


def test_dkim_signature_verifies_on_the_received_bytes(
    buyer: User, inbox: Handler, settings: Settings, tmp_path: Path
) -> None:
    key = tmp_path / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    settings.DKIM_DOMAIN, settings.DKIM_SELECTOR = "example.test", "mc2026"
    settings.DKIM_PRIVATE_KEY_FILE = str(key)
    order_update(buyer)

    send_due_emails()

    [received] = inbox.received
    assert received.message["DKIM-Signature"] is not None
    import base64

    record = b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)

    def dns(name: bytes, timeout: int = 5) -> bytes:
        assert name == b"mc2026._domainkey.example.test."
        return record

    assert dkim.verify(received.raw, dnsfunc=dns)
    tampered = received.raw.replace(b"DHL", b"UPS")
    assert not dkim.verify(tampered, dnsfunc=dns)


def test_message_ids_are_unique_per_email(buyer: User, other_buyer: User, inbox: Handler) -> None:
    order_update(buyer)
    order_update(other_buyer)
    order_update(buyer, "Out for delivery.")

    send_due_emails()

    ids = [item.message["Message-ID"] for item in inbox.received]
    assert len(set(ids)) == 3
    assert all(re.fullmatch(r"<mc\.message\.\d+@localhost>", value) for value in ids)


def test_old_delivery_records_are_purged_but_never_queued_ones(buyer: User, inbox: Handler) -> None:
    order_update(buyer, "Shipped.")
    send_due_emails()
    order_update(buyer, "Delivered.")  # still queued
    later = timezone.now() + timedelta(days=91)

    assert actions.purge_old_emails(now=later) == 1

    assert list(Email.objects.values_list("status", flat=True)) == [EmailStatus.QUEUED]


def test_a_promotion_sent_to_one_person_carries_one_click_unsubscribe(
    buyer: User, inbox: Handler
) -> None:
    conversation_actions.send_marketplace_message(
        buyer, kind=Kind.PROMOTION, subject="Picked for you", body="20% off kettles."
    )

    send_due_emails()

    [received] = inbox.received
    assert received.message["List-Unsubscribe"].startswith(
        "<http://127.0.0.1:8000/email/unsubscribe/"
    )
    assert received.message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Unsubscribe from promotions" in received.html()
    # Switched off: not sent.
    actions.unsubscribe(buyer)
    conversation_actions.send_marketplace_message(
        buyer, kind=Kind.PROMOTION, subject="More for you", body="30% off."
    )
    assert send_due_emails() == 0
    assert len(inbox.received) == 1


def test_the_email_copy_of_a_warned_message_carries_the_warning_and_no_clickable_link(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    order = order_with_item(buyer, product)
    conversation_actions.contact_buyer_about_order(
        seller,
        order.pk,
        "Your account has been suspended. Verify your account at "
        "https://rnarketplace-account-verify.example/secure-login and confirm your password.",
    )

    assert send_due_emails(now=timezone.now() + LATER) == 1

    [received] = inbox.received
    assert "BE CAREFUL: THIS MESSAGE MAY BE A SCAM." in received.text()
    assert "- It asks for a password" in received.text()
    assert "hxxps://rnarketplace-account-verify[.]example/secure-login" in received.text()
    assert "https://rnarketplace-account-verify.example" not in received.text()
    assert "Be careful: this message may be a scam." in received.html()
    assert "https://rnarketplace-account-verify.example" not in received.html()


PHISHING = (
    "Please confirm your account at http://marketplace-security-check.example/login and "
    "enter your card number to get the refund"
)


def test_the_email_of_a_sellers_warned_response_to_a_claim_carries_the_warning(
    buyer: User, seller: User, product: Product, clock: Clock, inbox: Handler
) -> None:
    """A claim's messages are e-mailed one by one, not in a digest: that e-mail showed the
    seller's phishing text as written, with a live link, while the page warned."""
    claim = claim_actions.file_claim(
        buyer,
        claimable_order(buyer, product, clock).number,
        "not_received",
        "The parcel never came.",
    )
    claim_actions.respond_to_claim(seller, claim.pk, PHISHING)
    response = Message.objects.get(conversation_id=claim.case.conversation_id, sender=seller)
    assert response.safety_verdict == "warn"

    send_due_emails()

    [received] = [
        received
        for received in inbox.to(buyer.email)
        if received.message["Subject"].startswith("Acme Kitchen: ")
    ]
    text, html = received.text(), received.html()
    assert "BE CAREFUL: THIS MESSAGE MAY BE A SCAM." in text
    assert "Be careful: this message may be a scam." in html
    for reason in response.safety_reasons:
        assert f"- {defang(reason['text'])}" in text
        assert escape(defang(reason["text"])) in html
    assert "hxxp://marketplace-security-check[.]example/login" in text
    assert "hxxp://marketplace-security-check[.]example/login" in html
    assert "marketplace-security-check.example/login" not in text + html


def test_a_digest_leaves_out_what_was_removed_or_reported_while_it_waited(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    """A digest is rendered when it is due: a message customer service removed meanwhile
    (a confirmed report), or one its reader reported, went out in it all the same — the
    removed words by e-mail to the very people they were taken from."""
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    removed = conversation_actions.send_message(buyer, question.conversation_id, "Removed words")
    reported = conversation_actions.send_message(buyer, question.conversation_id, "Reported words")
    conversation_actions.send_message(buyer, question.conversation_id, "Thanks!")
    conversation_actions.remove_messages(buyer.pk, [removed.pk], now=timezone.now())
    report_actions.report_message(seller, reported.pk, "scam")

    assert send_due_emails(now=timezone.now() + LATER) == 1

    [received] = inbox.to(seller.email)
    assert received.message["Subject"] == f"2 new messages from {buyer.public_name}"
    text, html = received.text(), received.html()
    assert "Is it new?" in text
    assert "Thanks!" in text
    assert "Removed words" not in text + html
    assert "Reported words" not in text + html
    assert text.count("Ref. MC-P") == 2


def test_a_digest_with_nothing_left_to_show_is_not_sent(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Removed words")
    reported = conversation_actions.send_message(buyer, question.conversation_id, "Reported words")
    conversation_actions.remove_messages(buyer.pk, [question.pk], now=timezone.now())
    report_actions.report_message(seller, reported.pk, "scam")

    assert send_due_emails(now=timezone.now() + LATER) == 1

    assert inbox.to(seller.email) == []
    digest = Email.objects.get(kind=EmailKind.DIGEST)
    assert (digest.status, digest.last_error) == (
        EmailStatus.CANCELLED,
        "Every new message was removed by customer service or reported by the recipient "
        "before the e-mail was due.",
    )


@pytest.mark.parametrize("how", ["removed", "reported"])
def test_the_email_of_a_message_removed_or_reported_before_it_went_is_not_sent(
    how: str, buyer: User, seller: User, product: Product, clock: Clock, inbox: Handler
) -> None:
    """A claim's messages are e-mailed one by one: a seller's answer customer service
    removed, or the buyer reported, before the worker took its e-mail went out as written."""
    claim = claim_actions.file_claim(
        buyer,
        claimable_order(buyer, product, clock).number,
        "not_received",
        "The parcel never came.",
    )
    claim_actions.respond_to_claim(seller, claim.pk, "Removed or reported words")
    response = Message.objects.get(conversation_id=claim.case.conversation_id, sender=seller)
    if how == "removed":
        conversation_actions.remove_messages(seller.pk, [response.pk], now=timezone.now())
    else:
        report_actions.report_message(buyer, response.pk, "scam")

    send_due_emails()

    assert not [
        received
        for received in inbox.to(buyer.email)
        if "Removed or reported words" in received.text() + received.html()
    ]
    email = Email.objects.get(user=buyer, message=response)
    assert (email.status, email.last_error) == (
        EmailStatus.CANCELLED,
        "Removed by customer service before the e-mail was due."
        if how == "removed"
        else "Reported by the recipient before the e-mail was due.",
    )


REASON = "A link goes to marketplace-security-check.com."


@pytest.mark.parametrize(
    "kind", [Kind.CUSTOMER_SERVICE, Kind.RETURNS, Kind.ORDER_UPDATES, Kind.MEMBERSHIP]
)
def test_every_email_of_one_message_renders_a_warned_message_as_the_digest_does(
    kind: str, buyer: User, inbox: Handler
) -> None:
    """Whatever the conversation, the e-mail of a single message goes through the digest's
    rendering of a warned one (templatetags/safety_warnings.py): a message warned in a kind
    the check does not judge today would still arrive with its warning."""
    if kind == Kind.CUSTOMER_SERVICE:
        # The acknowledgement of a request is the e-mail of one customer-service message.
        support_actions.open_request(buyer, "My parcel", "Where is it?")
    else:
        conversation_actions.send_marketplace_message(
            buyer, kind=kind, subject="About your order", body="Nothing to see."
        )
    [queued] = Email.objects.filter(user=buyer, kind=EmailKind.MESSAGE)
    Message.objects.filter(pk=queued.message_id).update(
        body=PHISHING,
        safety_verdict="warn",
        safety_reasons=[{"category": "links", "code": "link_lookalike", "text": REASON}],
    )

    assert send_due_emails() == 1

    [received] = inbox.received
    text, html = received.text().replace("\r\n", "\n"), received.html()
    assert "BE CAREFUL: THIS MESSAGE MAY BE A SCAM." in text
    assert "Be careful: this message may be a scam." in html
    # The reasons are defanged like the body: they name the host the link goes to.
    assert (
        "in a message.\n- A link goes to marketplace-security-check[.]com.\n"
        "Please confirm your account at hxxp://marketplace-security-check[.]example/login "
    ) in text
    assert "<li>A link goes to marketplace-security-check[.]com.</li>" in html
    assert "marketplace-security-check.com" not in text + html
    assert "marketplace-security-check.example" not in text + html


def test_an_unwarned_message_email_reads_as_written(buyer: User, inbox: Handler) -> None:
    """No warning, no defanging, and no blank line where the warning would stand."""
    order_update(buyer, body="Shipped: https://www.ups.com/track?n=1Z999")

    assert send_due_emails() == 1

    [received] = inbox.received
    assert 'wrote about "Order 1001":\n\nShipped: https://www.ups.com/track?n=1Z999\n' in (
        received.text().replace("\r\n", "\n")
    )
    assert "scam" not in received.text().lower() + received.html().lower()


# Shows "invoiceexe.jpg" where it stands (U+202E RIGHT-TO-LEFT OVERRIDE, U+2066 LRI).
SPOOF = "invoice\u202egpj.exe \u2066x\u2069"


def test_bidirectional_overrides_are_removed_from_a_message_email(
    buyer: User, inbox: Handler
) -> None:
    buyer.display_name = "Al\u202eice"
    buyer.save(update_fields=["display_name"])
    conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject=f"Order {SPOOF}", body=f"Open {SPOOF}"
    )

    send_due_emails()

    [received] = inbox.received
    assert received.message["Subject"] == "Order invoicegpj.exe x"
    for shown in (received.text(), received.html()):
        assert "Open invoicegpj.exe x" in shown
        assert "Alice" in shown
        assert not {"\u202e", "\u2066", "\u2069"} & set(shown)


# Hebrew throughout, and a subject that starts left to right and ends right to left.
HEBREW = "שאלה על ההזמנה 123?"
KETTLE = "קומקום חשמלי"


def test_a_message_emails_subject_is_an_isolate_of_its_own(buyer: User, inbox: Handler) -> None:
    """ "wrote about <subject>:" in a left-to-right e-mail: a Hebrew subject's "?" went to
    the wrong end, the colon after it into its run. Shown with dir="auto", as on the site."""
    conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject=HEBREW, body="Shipped."
    )

    send_due_emails()

    [received] = inbox.received
    assert not_isolated(received.html(), HEBREW) == []


def test_a_digests_subjects_are_isolates_of_their_own(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    Product.objects.filter(pk=product.pk).update(title=KETTLE)
    conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it new?")

    send_due_emails(now=timezone.now() + LATER)

    [received] = inbox.received
    assert not_isolated(received.html(), f"Question about {KETTLE}") == []


# What people wrote, in Arabic: a name ending in a number, a question ending in "?".
ARABIC_NAME = "سارة 24"
ARABIC_SHOP = "متجر الأمل"
ARABIC_QUESTION = "هل المنتج جديد؟"


def test_a_digests_names_and_messages_have_their_own_direction(
    buyer: User, seller: User, product: Product, inbox: Handler
) -> None:
    """Only the subjects had a direction of their own: an Arabic message read left aligned
    in the e-mail's left-to-right order, its "؟" at the wrong end, and an Arabic name took
    the " · <time>" after it, or the "; your e-mail address…" of "Reply to this e-mail to
    answer <name>", into its run. Each is now an element with dir="auto", as on the site;
    the greeting's name too (the seller's own)."""
    User.objects.filter(pk=buyer.pk).update(display_name=ARABIC_NAME)
    User.objects.filter(pk=seller.pk).update(display_name=ARABIC_SHOP)
    conversation_actions.ask_seller_about_product(buyer, product.pk, ARABIC_QUESTION)

    send_due_emails(now=timezone.now() + LATER)

    [received] = inbox.received
    html = received.html()
    # The buyer's name stands twice: over the message, and as whom a reply answers.
    assert html.count(ARABIC_NAME) == 2
    for written in (ARABIC_NAME, ARABIC_QUESTION, ARABIC_SHOP):
        assert not_isolated(html, written) == [], written


def test_a_message_emails_sender_message_and_who_reads_a_reply_have_their_own_direction(
    buyer: User, seller: User, product: Product, clock: Clock, inbox: Handler
) -> None:
    """A claim's messages go one by one: "<shop> wrote about …", the message, and "reply to
    this e-mail to answer <shop> and customer service" — an Arabic shop's name isolated
    alone, so "and customer service" keeps its place after it."""
    seller.storefront.name = ARABIC_SHOP
    seller.storefront.save(update_fields=["name"])
    claim = claim_actions.file_claim(
        buyer,
        claimable_order(buyer, product, clock).number,
        "not_received",
        "The parcel never came.",
    )
    claim_actions.respond_to_claim(seller, claim.pk, ARABIC_QUESTION)

    send_due_emails()

    [received] = [
        received
        for received in inbox.to(buyer.email)
        if received.message["Subject"].startswith(f"{ARABIC_SHOP}: ")
    ]
    html = received.html()
    assert html.count(ARABIC_SHOP) == 2
    assert f"{ARABIC_SHOP}</span> and customer service: your answer" in html
    for written in (ARABIC_SHOP, ARABIC_QUESTION):
        assert not_isolated(html, written) == [], written
    # The plain text says it as one phrase, with no direction controls (docs/email.md).
    assert f"to answer {ARABIC_SHOP} and customer service (your address" in received.text()


def test_an_order_number_in_an_arabic_message_email_reads_in_order(
    buyer: User, agent: User, inbox: Handler
) -> None:
    """Inside Arabic a mail app showed "113-6624019-7781204" as "7781204-6624019-113": the
    site keeps such numbers left to right (numbers_ltr), and so do its e-mails."""
    written = "مرحبا، طلبك رقم 113-6624019-7781204 في الطريق"
    first = conversation_actions.contact_customer_service(
        buyer, "My parcel", "Where is my parcel?", agent=agent
    )
    conversation_actions.send_message(agent, first.conversation_id, written)

    send_due_emails()

    [received] = inbox.to(buyer.email)
    assert '<bdi dir="ltr">113-6624019-7781204</bdi>' in received.html()
    assert written in received.text()


def _queue_mail_for(count: int, prefix: str) -> None:
    """`count` order updates to as many buyers, and `count` sellers each with a digest of
    two buyer questions."""
    for number in range(count):
        customer = factories.BuyerFactory(username=f"{prefix}-buyer{number}")
        conversation_actions.send_marketplace_message(
            customer,
            kind=Kind.ORDER_UPDATES,
            subject=f"Order {prefix}-{number}",
            body="Shipped.",
            topic_key=f"order:{prefix}-{number}",
        )
        shop = factories.ProductFactory(
            storefront=factories.SellerFactory(username=f"{prefix}-seller{number}").storefront
        )
        question = conversation_actions.ask_seller_about_product(
            customer, shop.pk, f"Question {number}"
        )
        conversation_actions.send_message(customer, question.conversation_id, f"And {number}?")


def _queries_to_send_due() -> int:
    with CaptureQueriesContext(connection) as queries:
        send_due_emails(now=timezone.now() + LATER)
    return len(queries)


def test_sending_message_emails_and_digests_reads_them_per_batch_not_per_email(
    inbox: Handler,
) -> None:
    _queue_mail_for(2, "few")
    few = _queries_to_send_due()
    _queue_mail_for(6, "many")
    many = _queries_to_send_due()

    # claim (2), the rows, the people, the batch's messages and their recipients' rows, the
    # digests' participants and messages, then per chunk of switchable mail its
    # transaction's locks, choices, suppressions and outcome, and the outcome of the rest.
    # The order updates (2, then 6) are each recorded as sent alone, so that a killed
    # sender repeats at most the one in flight: one UPDATE each, nothing else per e-mail.
    assert (few, many) == (16 + 2, 16 + 6)
    assert len(inbox.received) == 16
    assert Email.objects.filter(status=EmailStatus.SENT).count() == 16


def test_who_reported_a_message_of_the_batch_is_read_once_and_only_when_someone_did(
    inbox: Handler,
) -> None:
    """Whether a recipient reported a message is read in the messages' own statement (the
    pin above does not move); which recipient did, in one more query for the whole batch."""
    _queue_mail_for(2, "few")
    reported = Message.objects.get(body="And 0?")
    report_actions.report_message(User.objects.get(username="few-seller0"), reported.pk, "scam")

    assert _queries_to_send_due() == 16 + 2 + 1

    assert len(inbox.received) == 4
    assert not [received for received in inbox.received if "And 0?" in received.text()]


def test_each_digest_of_a_batch_holds_its_own_persons_messages(
    buyer: User, other_buyer: User, seller: User, other_seller: User, inbox: Handler
) -> None:
    mine = factories.ProductFactory(storefront=seller.storefront)
    theirs = factories.ProductFactory(storefront=other_seller.storefront)
    conversation_actions.ask_seller_about_product(buyer, mine.pk, "Is it new?")
    later = conversation_actions.ask_seller_about_product(other_buyer, theirs.pk, "Boxed?")
    conversation_actions.send_message(other_buyer, later.conversation_id, "Still there?")

    assert send_due_emails(now=timezone.now() + LATER) == 2

    by_recipient = {received.recipients[0]: received for received in inbox.received}
    assert by_recipient[seller.email].message["Subject"] == f"New message from {buyer.public_name}"
    assert "Is it new?" in by_recipient[seller.email].text()
    assert "Boxed?" not in by_recipient[seller.email].text()
    assert (
        by_recipient[other_seller.email].message["Subject"]
        == f"2 new messages from {other_buyer.public_name}"
    )
    assert "Is it new?" not in by_recipient[other_seller.email].text()
