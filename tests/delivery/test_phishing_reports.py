"""A suspicious e-mail forwarded to the report address (docs/safety.md#forwarded-e-mails):
through the real SMTP listener, with SPF/DKIM/DMARC checked against a DNS server on
loopback. A confirmed account's forward — as an attachment or inline — opens a case for
trust and safety with the evidence, and the person is answered in their Message Center
(and by e-mail to their account's address): from us when the reference it carried was
signed for them, else not; a sender we do not know or cannot confirm gets nothing back."""

import re
import smtplib
from datetime import timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message
from messagecenter.delivery import references, rendering
from messagecenter.delivery.actions import record_account_email
from messagecenter.delivery.inbound import forwards
from messagecenter.delivery.models import Email, EmailKind, InboundEmail
from messagecenter.delivery.sender import send_due_emails
from messagecenter.marketplace.models import Product
from messagecenter.notifications.models import BroadcastKind
from messagecenter.support.models import Case, ForwardedEmail
from tests import factories
from tests.delivery.dns import DkimKey
from tests.delivery.forwards import (
    forward_as_attachment,
    forward_inline,
    ours_to_read,
    signed,
    suspicious,
)
from tests.delivery.helpers import send_broadcast
from tests.delivery.replies import send
from tests.delivery.smtp import Handler

pytestmark = pytest.mark.django_db(transaction=True)


def deliver(listener: Controller, raw: bytes, sender: str) -> None:
    send(listener, raw, mail_from=sender, to=settings.PHISHING_REPORT_ADDRESS)


def forward_ours(
    buyer: User,
    listener: Controller,
    dkim_key: DkimKey,
    reference: str,
    subject: str,
    text: str,
    html: str,
    reply_to: str | None = None,
) -> tuple[ForwardedEmail, str]:
    """An e-mail from our address with this reference, forwarded by the buyer as an
    attachment: the evidence kept, and the answer's text."""
    inner = suspicious(
        subject=subject,
        reference=reference,
        sender=settings.DEFAULT_FROM_EMAIL,
        text=text,
        html=html,
        reply_to=reply_to,
    )
    deliver(listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)
    evidence = ForwardedEmail.objects.get()
    return evidence, Message.objects.get(pk=evidence.answer_id).body


def answer_of(user: User) -> str:
    """The marketplace's answer in the person's Message Center (one)."""
    answers = list(
        Message.objects.filter(
            sender__isnull=True, conversation__participants__user=user
        ).values_list("body", flat=True)
    )
    assert len(answers) == 1, answers
    return answers[0]


def test_an_email_forwarded_as_an_attachment_opens_a_case_with_its_evidence_and_is_answered(
    buyer: User, inbox: Handler, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    inner = suspicious()

    deliver(relay_listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)

    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.reason_code, inbound.user_id) == ("posted", "", buyer.pk)
    assert "dmarc=pass" in inbound.authentication
    case = Case.objects.select_related("team").get()
    assert (case.kind, case.team.slug, case.customer_id, case.status) == (
        "report",
        "trust-and-safety",
        buyer.pk,
        "open",
    )
    assert case.subject == "Forwarded e-mail: Your account is on hold"
    evidence = ForwardedEmail.objects.get(case=case)
    assert (evidence.how, evidence.from_header, evidence.reply_to, evidence.subject) == (
        "attached",
        "Marketplace Security <security@marketplace-secure.example>",
        "payments@elsewhere.example",
        "Your account is on hold",
    )
    assert evidence.date == "Tue, 01 Dec 2026 09:30:00 +0000"
    assert evidence.message_id == inner["Message-ID"]
    assert evidence.links == [
        {"href": "https://marketplace-secure.example/login?u=1", "text": "Sign in to your account"},
        {"href": "https://evil.example/pay", "text": "[image: Pay now]"},
    ]
    assert evidence.note == "Is this real?"
    assert (evidence.reference, evidence.reference_origin) == ("", "")
    assert "Act now" in evidence.text
    # Nothing of the suspicious e-mail was kept as a file.
    assert not Message.objects.filter(sender=buyer).exists()

    answer = answer_of(buyer)
    assert answer.startswith(
        "Thank you for forwarding the e-mail “Your account is on hold” to us. "
        "We did not send you this e-mail: it carries no reference of ours"
    )
    assert "Do not click its links" in answer
    assert "change your password" in answer
    assert inbound.message_id == evidence.answer_id
    # …and by e-mail, to the account's own address.
    send_due_emails(now=timezone.now())
    told = inbox.to(buyer.email)
    assert len(told) == 1
    assert "We did not send you this e-mail" in told[0].text()


def test_an_email_forwarded_inline_is_read_from_its_forwarded_block(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    deliver(relay_listener, forward_inline(buyer.email, dkim_key), buyer.email)

    evidence = ForwardedEmail.objects.get()
    assert (evidence.how, evidence.from_header, evidence.subject, evidence.date) == (
        "inline",
        "Marketplace Billing <billing@market-place.example>",
        "Confirm your payment",
        "Tue, 1 Dec 2026 at 10:02",
    )
    assert evidence.note == "This looks fake to me."
    assert (
        evidence.text == "Dear customer, pay the balance at https://market-place.example/pay today."
    )
    # The HTML's anchor (its words), then nothing twice for the same address in the text.
    assert evidence.links == [
        {"href": "https://market-place.example/pay", "text": "pay the balance"}
    ]
    assert "We did not send you this e-mail" in answer_of(buyer)


def test_an_outlook_inline_forward_is_read_too(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    forward = EmailMessage()
    forward["From"] = buyer.email
    forward["To"] = settings.PHISHING_REPORT_ADDRESS
    forward["Subject"] = "FW: Refund waiting"
    forward["Date"] = formatdate()
    forward["Message-ID"] = make_msgid(domain="mail.example.test")
    forward.set_content(
        "\n\n-----Original Message-----\n"
        "From: Refunds <refunds@elsewhere.example>\n"
        "Sent: Monday, November 30, 2026 8:15 PM\n"
        "To: Alice\n"
        "Subject: Refund waiting\n\n"
        "Claim your refund: www.elsewhere.example/refund\n"
    )

    deliver(relay_listener, signed(forward, dkim_key), buyer.email)

    evidence = ForwardedEmail.objects.get()
    assert (evidence.from_header, evidence.date, evidence.subject, evidence.note) == (
        "Refunds <refunds@elsewhere.example>",
        "Monday, November 30, 2026 8:15 PM",
        "Refund waiting",
        "",
    )
    assert evidence.links == [{"href": "www.elsewhere.example/refund", "text": ""}]


def test_a_forward_from_a_sender_we_cannot_confirm_opens_nothing_and_sends_nothing_back(
    buyer: User, inbox: Handler, relay_listener: Controller
) -> None:
    # The buyer's From, unsigned, from an envelope whose SPF does not name this machine:
    # it may be anyone's, so no case and no answer to that address.
    raw = forward_as_attachment(buyer.email, suspicious(), dkim_key=None)

    send(
        relay_listener, raw, mail_from="forger@elsewhere.test", to=settings.PHISHING_REPORT_ADDRESS
    )

    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.reason_code, inbound.message_id) == (
        "refused",
        "not_confirmed",
        None,
    )
    assert not Case.objects.exists()
    assert not ForwardedEmail.objects.exists()
    assert not Message.objects.exists()
    send_due_emails(now=timezone.now())
    assert inbox.received == []


def test_a_forward_from_an_address_of_no_account_is_refused_in_the_session(
    relay_listener: Controller, dkim_key: DkimKey
) -> None:
    raw = forward_as_attachment("stranger@example.test", suspicious(), dkim_key)

    with pytest.raises(smtplib.SMTPDataError) as refused:
        deliver(relay_listener, raw, "stranger@example.test")

    assert refused.value.smtp_code == 550
    assert b"not the e-mail address of an account" in refused.value.smtp_error
    assert InboundEmail.objects.get().reason_code == "unknown_sender"
    assert not Case.objects.exists()
    assert not Message.objects.exists()


def test_a_forward_carrying_a_reference_signed_for_the_person_is_answered_from_us(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    ours = conversation_actions.start_customer_service_conversation(
        buyer, "Your order has shipped", "Your parcel is on its way.", can_reply=False
    )
    reference = references.for_message(ours.pk, buyer.pk, is_official=True)
    text, html = ours_to_read("Your parcel is on its way.")

    # Answers to our own relay address, as our e-mails ask.
    evidence, answer = forward_ours(
        buyer,
        relay_listener,
        dkim_key,
        reference,
        "Your order has shipped",
        text,
        html,
        reply_to=f"r-123@{settings.EMAIL_REPLY_DOMAIN}",
    )

    assert (evidence.reference, evidence.reference_origin) == (reference, "marketplace")
    assert (
        f"It is from us: its reference {reference} is one we sent to you, and its subject "
        "and links are ours."
    ) in answer
    assert f"?message={ours.pk}#message-{ours.pk}" in answer
    # Not every word can be compared: the person is sent to our copy, never told "safe".
    assert "if the e-mail you have says anything ours does not" in answer
    assert "safe to read" not in answer
    assert "We did not send you" not in answer


@pytest.mark.parametrize("what", ["agent's answer", "notice"])
def test_a_link_our_own_text_had_is_ours_too(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey, what: str
) -> None:
    """Our links are our site's — and what our own text linked to: an agent's answer with a
    carrier's tracking page, a notice with the operator's terms. A forward of those
    genuine e-mails is answered as from us."""
    if what == "notice":
        notice = send_broadcast(
            BroadcastKind.NOTICE,
            subject="New terms of service",
            body="Our terms change on 1 January. Read them at https://www.marketplace-terms.com/terms",
        )
        reference = references.for_broadcast(notice.pk, buyer.pk)
        subject, link = "New terms of service", "https://www.marketplace-terms.com/terms"
    else:
        ours = conversation_actions.start_customer_service_conversation(
            buyer, "Your parcel", "Track it at https://www.ups.com/track?n=1Z999", can_reply=False
        )
        reference = references.for_message(ours.pk, buyer.pk, is_official=True)
        subject, link = "Your parcel", "https://www.ups.com/track?n=1Z999"
    text, html = ours_to_read("See below.")
    text += f"{link}\n"
    html += f'<p><a href="{link}">{link}</a></p>'

    evidence, answer = forward_ours(buyer, relay_listener, dkim_key, reference, subject, text, html)

    assert (evidence.reference, evidence.reference_origin) == (reference, "marketplace")
    assert "It is from us" in answer


@pytest.mark.parametrize(
    ("subject", "links", "told"),
    [
        # The scam the review sent: a real reference under our From, our subject kept,
        # a link elsewhere (in the HTML, shown as ours, and written in the text).
        (
            "Your order has shipped",
            "anchor",
            "its link to marketplace-refunds[.]com leads to a site our e-mail never linked to",
        ),
        ("Your order has shipped", "text", "its link to marketplace-refunds[.]com"),
        # Our links only, another subject.
        (
            "Refund failed: action needed",
            "",
            "its subject is not the one of our e-mail (“Your order has shipped”)",
        ),
        # Our links and subject, answers sent elsewhere ("reply with your card number").
        (
            "Your order has shipped",
            "reply-to",
            "its Reply-To sends answers to refunds-desk[.]com, not to us",
        ),
    ],
)
def test_a_genuine_reference_in_an_email_with_another_link_or_subject_is_not_from_us(
    buyer: User,
    relay_listener: Controller,
    dkim_key: DkimKey,
    subject: str,
    links: str,
    told: str,
) -> None:
    """A scam kept a reference of ours and our From, and was answered "It is from us … It
    is safe to read": a From is whatever its writer typed. What can be compared — every
    link ours, the subject ours — must be, or the e-mail is not from us."""
    ours = conversation_actions.start_customer_service_conversation(
        buyer, "Your order has shipped", "Your parcel is on its way.", can_reply=False
    )
    reference = references.for_message(ours.pk, buyer.pk, is_official=True)
    text, html = ours_to_read("Your parcel is on its way.")
    scam = "https://marketplace-refunds.com/verify"
    if links == "anchor":
        html += f'<p><a href="{scam}">{settings.SITE_URL}/message-center/</a></p>'
    elif links == "text":
        text += f"Confirm your card at {scam} within 24 hours.\n"

    evidence, answer = forward_ours(
        buyer,
        relay_listener,
        dkim_key,
        reference,
        subject,
        text,
        html,
        reply_to="Refunds <claims@refunds-desk.com>" if links == "reply-to" else None,
    )

    assert (evidence.reference, evidence.reference_origin) == (reference, "altered")
    assert "We did not send you this e-mail: it carries the reference" in answer
    assert told in answer
    assert "someone copied the reference into an e-mail of their own" in answer
    assert "It is from us" not in answer
    assert "safe to read" not in answer


def test_a_reference_found_in_an_inline_forwards_text_is_checked_too(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    ours = conversation_actions.start_customer_service_conversation(
        buyer, "Confirm your payment", "Your payment is confirmed.", can_reply=False
    )
    reference = references.for_message(ours.pk, buyer.pk, is_official=True)

    deliver(
        relay_listener,
        forward_inline(
            buyer.email,
            dkim_key,
            reference_line=f"Reference {reference}.",
            retyped_from="Message Center <no-reply@localhost>",
            said=f"Your payment is confirmed: {settings.SITE_URL}/message-center/",
            link=f"{settings.SITE_URL}/message-center/",
        ),
        buyer.email,
    )

    evidence = ForwardedEmail.objects.get()
    assert (evidence.reference, evidence.reference_origin) == (reference, "marketplace")
    assert "It is from us" in Message.objects.get(pk=evidence.answer_id).body


def test_a_reference_copied_from_someone_elses_email_is_not_ours_to_the_person(
    buyer: User, other_buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    # A genuine e-mail of ours — to another buyer — whose reference a phisher copied.
    theirs = conversation_actions.start_customer_service_conversation(
        other_buyer, "Your order has shipped", "Your parcel is on its way.", can_reply=False
    )
    reference = references.for_message(theirs.pk, other_buyer.pk, is_official=True)
    inner = suspicious(subject="Your order has shipped", reference=reference)

    deliver(relay_listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)

    evidence = ForwardedEmail.objects.get()
    assert (evidence.reference, evidence.reference_origin) == (reference, "unknown")
    answer = Message.objects.get(pk=evidence.answer_id).body
    assert "We did not send you this e-mail" in answer
    assert f"its reference {reference} is not one we sent to you" in answer
    assert "It is from us" not in answer
    assert f"?message={theirs.pk}" not in answer


def test_a_sellers_message_we_delivered_is_answered_as_theirs_not_ours(
    buyer: User, seller: User, product: Product, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "In blue?")
    theirs = conversation_actions.send_message(
        seller, question.conversation_id, "Yes. Pay me by bank transfer and I ship today."
    )
    reference = references.for_message(theirs.pk, buyer.pk, is_official=False)
    inner = suspicious(
        subject="New message about your question",
        reference=reference,
        sender=f"{seller.public_name} via Message Center <no-reply@localhost>",
    )

    deliver(relay_listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)

    evidence = ForwardedEmail.objects.get()
    assert (evidence.reference, evidence.reference_origin) == (reference, "person")
    answer = Message.objects.get(pk=evidence.answer_id).body
    assert f"It is a message from {seller.public_name}, a seller, which we delivered" in answer
    assert "not from the marketplace" in answer
    assert "Never pay outside the marketplace" in answer


def test_the_persons_own_genuine_reference_copied_into_a_phishers_email_is_not_from_us(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    # The reference verifies for them — copied from an e-mail of ours they were sent —
    # but the e-mail came from another address than ours.
    ours = conversation_actions.start_customer_service_conversation(
        buyer, "Your order has shipped", "Your parcel is on its way.", can_reply=False
    )
    reference = references.for_message(ours.pk, buyer.pk, is_official=True)
    inner = suspicious(subject="Your order has shipped", reference=reference)

    deliver(relay_listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)

    evidence = ForwardedEmail.objects.get()
    assert (evidence.reference, evidence.reference_origin) == (reference, "copied")
    answer = Message.objects.get(pk=evidence.answer_id).body
    assert "We did not send you this e-mail" in answer
    assert "did not come from our address (no-reply@localhost)" in answer
    assert "It is from us" not in answer


def test_a_reference_the_person_wrote_to_a_seller_is_not_answered_as_from_us(
    buyer: User, product: Product, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    """From our address (a phisher's spoof may pass for it), with a genuine reference of the
    person's — which they wrote in a message to a seller, who could print it."""
    ours = conversation_actions.start_customer_service_conversation(
        buyer, "Your refund", "Your refund is on its way.", can_reply=False
    )
    reference = references.for_message(ours.pk, buyer.pk, is_official=True)
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    conversation_actions.send_message(
        buyer, question.conversation_id, f"The marketplace wrote to me: {reference}"
    )
    inner = suspicious(
        subject="Your refund", reference=reference, sender=settings.DEFAULT_FROM_EMAIL
    )

    deliver(relay_listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)

    evidence = ForwardedEmail.objects.get()
    assert (evidence.reference, evidence.reference_origin) == (reference, "told")
    answer = Message.objects.get(pk=evidence.answer_id).body
    assert f"but you wrote it in a message to {product.storefront.name} on " in answer
    assert "cannot tell whether this e-mail is that one" in answer
    assert f"?message={ours.pk}#message-{ours.pk}" in answer
    assert "It is from us" not in answer


def test_the_same_email_forwarded_twice_opens_one_case_and_answers_once(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    inner = suspicious()
    deliver(relay_listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)
    # Forwarded again a minute later: another e-mail (its own Message-ID), the same one in it.
    again = forward_as_attachment(buyer.email, inner, dkim_key, note="Did you get this?")
    deliver(relay_listener, again, buyer.email)

    assert InboundEmail.objects.count() == 2
    assert Case.objects.count() == 1
    evidence = ForwardedEmail.objects.get()
    answer_of(buyer)
    assert set(InboundEmail.objects.values_list("status", "message_id")) == {
        ("posted", evidence.answer_id)
    }

    # The same twice inline (no Message-ID: its sender, subject, date and text).
    deliver(relay_listener, forward_inline(buyer.email, dkim_key), buyer.email)
    deliver(relay_listener, forward_inline(buyer.email, dkim_key), buyer.email)
    assert Case.objects.count() == 2


def test_a_forward_again_after_the_answer_was_purged_answers_again_in_the_same_case(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    inner = suspicious()
    deliver(relay_listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)
    first = ForwardedEmail.objects.get()
    # The answer's conversation deleted for ever and purged (Trash's purge, retention).
    Message.objects.filter(pk=first.answer_id).delete()

    again = forward_as_attachment(buyer.email, inner, dkim_key, note="Me again")
    deliver(relay_listener, again, buyer.email)

    assert Case.objects.count() == 1
    first.refresh_from_db()
    assert first.answer_id is not None
    assert "We did not send you this e-mail" in answer_of(buyer)
    latest = InboundEmail.objects.order_by("pk").last()
    assert latest is not None
    assert (latest.status, latest.message_id) == ("posted", first.answer_id)


def test_another_person_forwarding_the_same_email_opens_their_own_case(
    buyer: User, other_buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    inner = suspicious()
    for person in (buyer, other_buyer):
        deliver(relay_listener, forward_as_attachment(person.email, inner, dkim_key), person.email)

    assert sorted(ForwardedEmail.objects.values_list("reporter_id", flat=True)) == sorted(
        [buyer.pk, other_buyer.pk]
    )
    answer_of(buyer)
    answer_of(other_buyer)


def test_forwards_count_against_the_persons_hourly_limit(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey, settings: object
) -> None:
    settings.INBOUND_EMAILS_PER_HOUR = 1  # type: ignore[attr-defined]
    deliver(relay_listener, forward_as_attachment(buyer.email, suspicious(), dkim_key), buyer.email)
    deliver(relay_listener, forward_as_attachment(buyer.email, suspicious(), dkim_key), buyer.email)

    assert list(InboundEmail.objects.order_by("pk").values_list("reason_code", flat=True)) == [
        "",
        "rate_limited",
    ]
    assert Case.objects.count() == 1


def test_an_email_to_the_report_address_with_nothing_forwarded_opens_nothing(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    plain = EmailMessage()
    plain["From"] = buyer.email
    plain["To"] = settings.PHISHING_REPORT_ADDRESS
    plain["Subject"] = "Phishing"
    plain["Date"] = formatdate()
    plain["Message-ID"] = make_msgid(domain="mail.example.test")
    plain.set_content("I got a strange e-mail yesterday.")

    deliver(relay_listener, signed(plain, dkim_key), buyer.email)

    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.reason_code) == ("refused", "nothing_forwarded")
    assert "Forward the suspicious e-mail itself" in inbound.reason
    assert not Case.objects.exists()


def test_the_answer_quotes_the_subject_with_its_contact_details_masked_and_links_defanged(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    """The subject is the phisher's words inside the marketplace's own message: its link was
    defanged, but "call 415-555-0123" was repeated as written."""
    inner = suspicious(subject="Verify at https://evil-login.com/x or call 415-555-0123 today")

    deliver(relay_listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)

    answer = answer_of(buyer)
    assert "Thank you for forwarding the e-mail “Verify at hxxps://evil-login[.]com/x" in answer
    assert "[contact details removed]" in answer
    assert "415-555-0123" not in answer
    assert "555" not in answer


def test_the_console_shows_the_evidence_as_text_never_as_html_or_links(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    agent = factories.agent_in_team("trust-and-safety")
    inner = suspicious(
        subject="<script>alert(1)</script> Urgent",
        html=(
            '<p onclick="steal()">Hello</p>'
            '<a href="https://evil.example/login">Sign <b>in</b> <img src=x onerror=alert(2)></a>'
            '<a href="javascript:alert(3)">Click</a>'
        ),
        text="Hello <b>friend</b>\nhttps://evil.example/login\n",
    )
    deliver(relay_listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)
    case = Case.objects.get()

    page = factories.signed_in(agent).get(reverse("console-case", args=[case.pk]))

    assert page.status_code == 200
    html = page.content.decode()
    assert 'data-testid="forwarded-email-panel"' in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt; Urgent" in html
    assert "<script>alert(1)" not in html
    assert "Hello &lt;b&gt;friend&lt;/b&gt;" in html
    assert '<code dir="ltr">https://evil.example/login</code> shown as “<bdi>Sign in</bdi>”' in html
    assert '<code dir="ltr">javascript:alert(3)</code>' in html
    # Never a link, a handler or an image of the phisher's.
    assert 'href="https://evil.example' not in html
    assert 'href="javascript:' not in html
    assert "onerror" not in html
    assert "onclick" not in html


def test_an_html_only_inline_forward_and_apple_mails_are_read_too() -> None:
    """Read straight from the MIME (no database): Gmail's HTML without a text part, whose
    forwarded block sits in a quote container, and Apple Mail's "Begin forwarded message:"."""
    html_only = EmailMessage()
    html_only["From"] = "alice@example.test"
    html_only["Subject"] = "Fwd: Verify"
    html_only.set_content(
        '<div>Spam?<div class="gmail_quote">---------- Forwarded message ---------<br>'
        "From: Support &lt;help@verify.example&gt;<br>Subject: Verify<br><br>"
        '<a href="https://verify.example/x">Verify &amp; keep your account</a></div></div>',
        subtype="html",
    )
    apple = EmailMessage()
    apple["From"] = "alice@example.test"
    apple["Subject"] = "Fwd: Parcel"
    apple.set_content(
        "Begin forwarded message:\n\n"
        "> From: Parcels <parcels@track.example>\n"
        "> Subject: Parcel held\n"
        "> Reply-To: pay@track.example\n"
        "> Date: 2 December 2026 at 08:00:00 CET\n>\n"
        "> Pay the fee: https://track.example/fee.\n"
    )

    gmail = forwards.read_forwarded(html_only)
    mac = forwards.read_forwarded(apple)

    assert gmail is not None
    assert (gmail.how, gmail.from_header, gmail.subject, gmail.note) == (
        "inline",
        "Support <help@verify.example>",
        "Verify",
        "Spam?",
    )
    assert gmail.links == (forwards.Link("https://verify.example/x", "Verify & keep your account"),)
    assert mac is not None
    assert (mac.from_header, mac.subject, mac.reply_to, mac.date) == (
        "Parcels <parcels@track.example>",
        "Parcel held",
        "pay@track.example",
        "2 December 2026 at 08:00:00 CET",
    )
    assert mac.text == "Pay the fee: https://track.example/fee."
    assert mac.links == (forwards.Link("https://track.example/fee"),)
    # An e-mail with nothing forwarded in it.
    plain = EmailMessage()
    plain.set_content("Just a question.")
    assert forwards.read_forwarded(plain) is None


@pytest.mark.parametrize(
    ("header", "found"),
    [
        ("Sign in at evil.example/login now", ()),
        ("Reference MC-O7Q-4KX2ABCD", ("MC-O7Q-4KX2ABCD",)),
    ],
)
def test_only_what_reads_as_a_reference_is_taken_from_the_header(
    header: str, found: tuple[str, ...]
) -> None:
    """The header is the phisher's to write, and the answer — an Official message — quotes
    the reference it names: words that are no reference are never taken as one."""
    forward = EmailMessage()
    forward["From"] = "alice@example.test"
    forward["Subject"] = "Fwd: Your account is on hold"
    forward.set_content("Is this you?")
    forward.add_attachment(suspicious(reference=header, text="Act now.\n", html="<p>Act now.</p>"))

    read = forwards.read_forwarded(forward)

    assert read is not None
    assert read.references == found


def forwarded_password_reset(
    buyer: User,
    listener: Controller,
    dkim_key: DkimKey,
    *,
    subject: str | None = None,
    link: str | None = None,
) -> tuple[ForwardedEmail, str, str]:
    """A genuine password reset e-mail, forwarded whole by the buyer — its subject or its
    reset link changed when given: the evidence, the answer's text and the reference."""
    record_account_email(buyer, EmailKind.PASSWORD_RESET, timedelta(0))
    row = Email.objects.get(kind=EmailKind.PASSWORD_RESET)
    raw = rendering.build(row, buyer, {}).message().as_bytes()
    inner = message_from_bytes(raw, _class=EmailMessage, policy=policy.default)
    assert isinstance(inner, EmailMessage)
    reference = str(inner["X-Message-Center-Reference"])
    if subject is not None:
        inner.replace_header("Subject", subject)
    if link is not None:
        for part in inner.walk():
            if part.get_content_maintype() == "text":
                content = str(part.get_content())
                swapped = re.sub(RESET_LINK, link, content)
                part.set_content(swapped, subtype=part.get_content_subtype())
    deliver(listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)
    evidence = ForwardedEmail.objects.get()
    return evidence, Message.objects.get(pk=evidence.answer_id).body, reference


RESET_LINK = r"http://127\.0\.0\.1:8000/accounts/password-reset/[^\s\"<]+/[^\s\"<]+/"


def test_a_forwarded_password_reset_of_ours_is_answered_from_its_outbox_row(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    """The account's own e-mails carry a reference now (docs/email.md#the-reference): a
    genuine password reset forwarded whole was answered "it carries no reference of ours,
    and every e-mail we send has one" — a real e-mail called a scam."""
    evidence, answer, reference = forwarded_password_reset(buyer, relay_listener, dkim_key)

    assert (evidence.reference, evidence.reference_origin) == (reference, "marketplace")
    assert (
        f"It is from us: its reference {reference} is one we sent to you, and its "
        "subject and links are ours. It is an e-mail about your account, sent on "
    ) in answer
    assert "a link to choose a new password" in answer
    assert "E-mails about your account are not kept in your Message Center." in answer
    assert "Every link in a genuine one goes to our site, 127.0.0.1" in answer
    # A reset the person asked for is theirs to use: not "do not click its links".
    assert "Do not click its links" not in answer
    assert "no longer in your Message Center" not in answer
    assert "We did not send you" not in answer


def test_a_forwarded_genuine_reset_keeps_no_working_link_for_the_agents_to_read(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    """A review forwarded a genuine reset e-mail: the console's Forwarded e-mail panel and
    the admin's original showed its link, which opened "Choose a new password" for anyone
    who read the case."""
    agent = factories.agent_in_team("trust-and-safety")
    evidence, _, _ = forwarded_password_reset(buyer, relay_listener, dkim_key)

    stored = evidence.text + str(evidence.links) + evidence.note
    assert re.search(RESET_LINK, stored) is None
    assert "http://127.0.0.1:8000/accounts/password-reset/[removed]/" in evidence.text
    assert any(
        link["href"] == "http://127.0.0.1:8000/accounts/password-reset/[removed]/"
        for link in evidence.links
    )
    page = (
        factories.signed_in(agent)
        .get(reverse("console-case", args=[evidence.case_id]))
        .content.decode()
    )
    assert "password-reset/[removed]/" in page
    assert re.search(RESET_LINK, page) is None
    admin = Client()
    admin.force_login(
        factories.UserFactory(username="root", role="admin", is_staff=True, is_superuser=True)
    )
    inbound = InboundEmail.objects.latest("pk")
    original = admin.get(
        reverse("admin:delivery_inboundemail_change", args=[inbound.pk])
    ).content.decode()
    assert "password-reset/[removed]/" in original
    assert re.search(RESET_LINK, original.replace("=\r\n", "").replace("=\n", "")) is None


@pytest.mark.parametrize(
    ("subject", "origin"),
    [
        ("[EXTERNAL] Reset your Marketplace password", "marketplace"),
        ("EXTERNAL: Reset your Marketplace password", "marketplace"),
        ("Reset your Marketplace password [EXTERNAL]", "marketplace"),
        ("AW: WG: Reset your Marketplace password", "marketplace"),
        ("转发: Reset your Marketplace password", "marketplace"),
        ("URGENT: Reset your Marketplace password", "altered"),
        ("[Call 415-555-0123 today] Reset your Marketplace password", "altered"),
        ("Reset your password", "altered"),
    ],
)
def test_a_forwarded_reset_s_subject_is_ours_only_as_we_wrote_it(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey, subject: str, origin: str
) -> None:
    """A gateway's tag before a genuine subject was answered "not ours"; "URGENT:" before
    it was taken as an agent's "<name>: <subject>", which no account e-mail has."""
    evidence, answer, _ = forwarded_password_reset(buyer, relay_listener, dkim_key, subject=subject)

    assert evidence.reference_origin == origin
    if origin == "altered":
        assert "its subject is not the one of our e-mail" in answer


def test_a_forwarded_reset_whose_record_is_gone_is_still_checked_against_our_subjects(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    """After the outbox's retention its row is gone: a forward with the subject changed
    was answered "its subject and links are ours", the subject no longer compared."""
    record_account_email(buyer, EmailKind.PASSWORD_RESET, timedelta(0))
    row = Email.objects.get(kind=EmailKind.PASSWORD_RESET)
    raw = rendering.build(row, buyer, {}).message().as_bytes()
    Email.objects.filter(pk=row.pk).delete()
    for subject, origin in [
        ("Your account will be closed today unless you act", "altered"),
        ("Reset your Marketplace password", "marketplace"),
    ]:
        inner = message_from_bytes(raw, _class=EmailMessage, policy=policy.default)
        assert isinstance(inner, EmailMessage)
        inner.replace_header("Subject", subject)
        inner.replace_header("Message-ID", make_msgid(domain="localhost"))
        deliver(relay_listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)
        evidence = ForwardedEmail.objects.latest("pk")
        answer = Message.objects.get(pk=evidence.answer_id).body
        assert evidence.reference_origin == origin, answer
        if origin == "altered":
            assert "its subject is not one our e-mails about your account have" in answer


def test_a_forwarded_reset_with_its_link_swapped_is_not_ours(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    evidence, answer, reference = forwarded_password_reset(
        buyer, relay_listener, dkim_key, link="https://marketplace-account-help.com/reset"
    )

    assert (evidence.reference, evidence.reference_origin) == (reference, "altered")
    assert "We did not send you this e-mail: it carries the reference" in answer
    assert "its link to marketplace-account-help[.]com leads to a site" in answer
    assert "It is from us" not in answer


def test_a_forward_with_a_full_width_slash_in_an_address_is_answered(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    """ "http://parcel-hold.example／pay" — a phisher's obfuscation — made the report fail
    with a 500 once the evidence's links were parsed to take out our secret ones."""
    inner = suspicious(
        subject="Your parcel is on hold", text="Pay the fee at http://parcel-hold.example／pay\n"
    )

    deliver(relay_listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)

    evidence = ForwardedEmail.objects.get()
    assert "http://parcel-hold.example／pay" in evidence.text
    assert "We did not send you this e-mail" in answer_of(buyer)


def test_a_secret_link_in_a_subject_or_cut_by_a_line_break_reaches_no_agent(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    """A second review retyped the reset link into the forwarded subject, and cut an
    anchor's address with a line break (a browser drops it): both kept the working link."""
    link = "http://127.0.0.1:8000/accounts/password-reset/MQ/dj69sg-06f271bf0123456789/"
    inner = suspicious(
        subject=f"Is this real? {link}",
        text="Choose a new password\n",
        html=f'<a href="{link[:52]}\r\n{link[52:]}">Choose a new password</a>',
    )

    deliver(relay_listener, forward_as_attachment(buyer.email, inner, dkim_key), buyer.email)

    evidence = ForwardedEmail.objects.get()
    stored = evidence.subject + evidence.case.subject + str(evidence.links) + evidence.text
    assert "dj69sg" not in stored
    assert "password-reset/[removed]/" in evidence.subject
    # Nor in the answer's quote of the subject, which agents may open as context.
    assert "dj69sg" not in answer_of(buyer)
