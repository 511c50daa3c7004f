"""Requests by e-mail (docs/support.md, "Requests by e-mail"): an e-mail to customer
service's address, through the real SMTP listener with SPF/DKIM/DMARC checked against a
DNS server on loopback, opens a case for the account of a confirmed sender; replies to
the case's e-mails continue it; a sender we do not know or cannot confirm opens nothing."""

import smtplib

import dkim
import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Attachment, Message, Participant
from messagecenter.delivery import relay
from messagecenter.delivery.models import InboundEmail
from messagecenter.delivery.sender import send_due_emails
from messagecenter.support import actions
from messagecenter.support.models import Case
from tests import factories
from tests.delivery.dns import DkimKey, DnsServer
from tests.delivery.replies import QUOTED_HISTORY, reply, send
from tests.delivery.smtp import Handler
from tests.web.helpers import pdf_bytes, unique_png

pytestmark = pytest.mark.django_db(transaction=True)


def bodies(conversation_id: int | None) -> list[str]:
    return list(
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("pk")
        .values_list("body", flat=True)
    )


def test_an_email_to_customer_service_opens_a_case_and_replies_continue_it(
    buyer: User, inbox: Handler, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    agent = factories.agent_in_team()
    help_address = settings.SUPPORT_EMAIL_ADDRESS
    raw = reply(
        sender=f"Alice <{buyer.email}>",
        to=help_address.upper(),
        subject="My parcel never came",
        text=f"Order 112 has not arrived.\n\nAlice\n-- \nAlice | {buyer.email}",
        sign_with=dkim_key,
    )

    send(relay_listener, raw, mail_from=buyer.email, to=help_address)

    case = Case.objects.get()
    assert (case.customer_id, case.kind, case.status, case.subject) == (
        buyer.pk,
        "request",
        "open",
        "My parcel never came",
    )
    first, received = bodies(case.conversation_id)
    assert first == "Order 112 has not arrived.\n\nAlice"
    assert "expect an answer by" in received
    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.user_id, inbound.conversation_id) == (
        "posted",
        buyer.pk,
        case.conversation_id,
    )
    assert "dmarc=pass" in inbound.authentication
    assert Message.objects.get(pk=inbound.message_id).sent_by_email

    # The agent answers; the customer's e-mail of it can be answered, and the answer
    # continues the same case.
    actions.reply_to_case(agent, case.pk, "It is on its way again.")
    send_due_emails(now=timezone.now())
    answer_email = next(e for e in inbox.to(buyer.email) if "on its way again" in e.text())
    reply_to = str(answer_email.message["Reply-To"])
    assert relay.parse(reply_to) is not None
    case.refresh_from_db()
    assert case.status == "pending"

    again = reply(
        sender=buyer.email,
        to=reply_to,
        subject="Re: My parcel never came",
        text="Thank you! By Friday?" + QUOTED_HISTORY,
        sign_with=dkim_key,
    )
    send(relay_listener, again, mail_from=buyer.email, to=reply_to)

    case.refresh_from_db()
    assert case.status == "open"
    assert bodies(case.conversation_id)[-1] == "Thank you! By Friday?"
    assert Case.objects.count() == 1


def download(user: User, attachment: Attachment) -> tuple[int, bytes]:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("attachment", args=[attachment.pk]))
    return response.status_code, b"".join(response) if response.status_code == 200 else b""


def test_a_request_by_email_keeps_its_attachments_on_the_first_message(
    buyer: User, other_buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    agent = factories.agent_in_team()
    photo, receipt = unique_png("broken lamp"), pdf_bytes("Receipt 112")
    raw = reply(
        sender=buyer.email,
        to=settings.SUPPORT_EMAIL_ADDRESS,
        subject="The lamp arrived broken",
        text="Photo and receipt attached.",
        sign_with=dkim_key,
        attachments=[
            ("lamp.png", photo, "image/png"),
            ("receipt.pdf", receipt, "application/pdf"),
        ],
    )

    send(relay_listener, raw, mail_from=buyer.email, to=settings.SUPPORT_EMAIL_ADDRESS)

    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.notes) == ("posted", "")
    case = Case.objects.get()
    first = Message.objects.filter(conversation_id=case.conversation_id).order_by("pk").first()
    assert first is not None
    assert first.pk == inbound.message_id
    assert first.body == "Photo and receipt attached."
    files = {a.filename: a for a in Attachment.objects.filter(message=first)}
    assert {name: a.content_type for name, a in files.items()} == {
        "lamp.png": "image/png",
        "receipt.pdf": "application/pdf",
    }
    # The customer and the agent who takes the case download them; another buyer cannot.
    actions.take_case(agent, case.pk)
    for person in (buyer, agent):
        assert download(person, files["receipt.pdf"]) == (200, receipt)
        assert download(person, files["lamp.png"])[0] == 200
    assert download(other_buyer, files["lamp.png"])[0] == 404
    assert download(other_buyer, files["receipt.pdf"])[0] == 404


def test_a_refused_attachment_refuses_a_request_by_email_as_it_refuses_a_reply(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey
) -> None:
    # A PDF that runs a script when opened (docs/safety.md#attachments): the upload check
    # refuses it, and with it the whole e-mail — a reply's and a request's alike.
    active = pdf_bytes("Invoice", "/OpenAction 6 0 R", ("<< /S /JavaScript /JS (app.alert(1)) >>",))
    raw = reply(
        sender=buyer.email,
        to=settings.SUPPORT_EMAIL_ADDRESS,
        subject="Invoice",
        text="My invoice is attached.",
        sign_with=dkim_key,
        attachments=[
            ("lamp.png", unique_png("lamp"), "image/png"),
            ("invoice.pdf", active, "application/pdf"),
        ],
    )

    send(relay_listener, raw, mail_from=buyer.email, to=settings.SUPPORT_EMAIL_ADDRESS)

    request = InboundEmail.objects.get()
    assert (request.status, request.reason_code, request.message_id) == (
        "refused",
        "attachment_active_content",
        None,
    )
    assert "invoice.pdf was refused" in request.reason
    assert not Case.objects.exists()
    assert not Attachment.objects.exists()

    # The same file in a reply to a conversation: refused the same way.
    case = actions.open_request(buyer, "Invoice", "About my invoice.")
    assert case.conversation_id is not None
    seat = Participant.objects.get(conversation_id=case.conversation_id, user=buyer)
    address = relay.participant_address(
        participant_id=seat.pk, conversation_id=case.conversation_id, user_id=buyer.pk
    )
    again = reply(
        sender=buyer.email,
        to=address,
        subject="Re: Invoice",
        text="My invoice is attached.",
        sign_with=dkim_key,
        attachments=[("invoice.pdf", active, "application/pdf")],
    )
    send(relay_listener, again, mail_from=buyer.email, to=address)

    answer = InboundEmail.objects.exclude(pk=request.pk).get()
    assert (answer.status, answer.reason_code, answer.reason) == (
        "refused",
        "attachment_active_content",
        request.reason,
    )
    assert not Attachment.objects.exists()


def test_an_unknown_sender_is_refused_with_a_reason_and_opens_nothing(
    relay_listener: Controller, dkim_key: DkimKey
) -> None:
    raw = reply(
        sender="stranger@example.test",
        to=settings.SUPPORT_EMAIL_ADDRESS,
        subject="Help",
        text="Where is my order?",
        sign_with=dkim_key,
    )

    with pytest.raises(smtplib.SMTPDataError) as refused:
        send(
            relay_listener,
            raw,
            mail_from="stranger@example.test",
            to=settings.SUPPORT_EMAIL_ADDRESS,
        )

    assert refused.value.smtp_code == 550
    assert b"not the e-mail address of an account" in refused.value.smtp_error
    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.reason_code, inbound.user_id) == (
        "refused",
        "unknown_sender",
        None,
    )
    assert not Case.objects.exists()


def test_a_sender_we_cannot_confirm_opens_nothing(buyer: User, relay_listener: Controller) -> None:
    # The buyer's From, unsigned, through a server example.test's SPF does not name (the
    # envelope is the forger's own domain): DMARC fails and the policy is reject.
    raw = reply(
        sender=buyer.email,
        to=settings.SUPPORT_EMAIL_ADDRESS,
        subject="Refund",
        text="Send the refund to my new card.",
    )

    send(relay_listener, raw, mail_from="forger@elsewhere.test", to=settings.SUPPORT_EMAIL_ADDRESS)

    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.reason_code, inbound.user_id) == (
        "refused",
        "not_confirmed",
        buyer.pk,
    )
    assert inbound.message_id is None
    assert not Case.objects.exists()


def test_an_agent_writing_to_customer_service_is_told_to_use_the_console(
    relay_listener: Controller, dkim_key: DkimKey
) -> None:
    agent = factories.agent_in_team()
    raw = reply(
        sender=agent.email,
        to=settings.SUPPORT_EMAIL_ADDRESS,
        subject="Test",
        text="Is this on?",
        sign_with=dkim_key,
    )

    send(relay_listener, raw, mail_from=agent.email, to=settings.SUPPORT_EMAIL_ADDRESS)

    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.reason_code) == ("refused", "customers_only")
    assert not Case.objects.exists()


def test_the_listener_accepts_the_support_address_and_still_no_other(
    relay_listener: Controller,
) -> None:
    with smtplib.SMTP(relay_listener.hostname, relay_listener.port) as smtp:
        smtp.ehlo("mail.example.test")
        smtp.mail("someone@example.test")
        assert smtp.rcpt(settings.SUPPORT_EMAIL_ADDRESS)[0] == 250
        assert smtp.rcpt(f"sales@{settings.EMAIL_REPLY_DOMAIN}")[0] == 550


def test_a_second_from_header_does_not_let_a_forger_write_as_an_account(
    buyer: User, relay_listener: Controller, dkim_key: DkimKey, dns_server: DnsServer
) -> None:
    # The forger's own domain passes DMARC (their server, their signature); the buyer's
    # publishes no DMARC record, as many domains do not.
    dns_server.publish("_dmarc.example.test")
    dns_server.publish("forger.test", "v=spf1 ip4:127.0.0.1 -all")
    dns_server.publish("mail._domainkey.forger.test", f"v=DKIM1; k=rsa; p={dkim_key.public_base64}")
    dns_server.publish("_dmarc.forger.test", "v=DMARC1; p=quarantine")
    unsigned = reply(
        sender=buyer.email,
        to=settings.SUPPORT_EMAIL_ADDRESS,
        subject="Change my payout card",
        text="Send my refunds to my new card, please.",
    )
    # A second From under the first: the account's address is the one a reader of the
    # first header sees, the forger's the one DMARC passes for.
    head, _, rest = unsigned.partition(b"\r\n")
    raw = head + b"\r\nFrom: Forger <forger@forger.test>\r\n" + rest
    raw = (
        dkim.sign(
            raw,
            b"mail",
            b"forger.test",
            dkim_key.private_pem,
            include_headers=[b"from", b"from", b"to", b"subject", b"date", b"message-id"],
        )
        + raw
    )

    send(relay_listener, raw, mail_from="bounces@forger.test", to=settings.SUPPORT_EMAIL_ADDRESS)

    inbound = InboundEmail.objects.get()
    assert (inbound.status, inbound.reason_code) == ("refused", "sender_mismatch")
    assert inbound.message_id is None
    assert not Case.objects.exists()


def test_a_forged_emails_subject_is_not_shown_on_the_account_it_names(
    buyer: User, relay_listener: Controller
) -> None:
    """Customer service's address is public: anyone could write to it "From" someone's
    account address. Refused as not confirmed, it was still listed under that account's
    Replies by e-mail as the holder's own — with the forger's subject, a line of their
    choosing in the person's account, and the same in the API and the data export."""
    lure = "Payouts on hold: confirm your bank details at payouts-help.example"
    raw = reply(sender=buyer.email, to=settings.SUPPORT_EMAIL_ADDRESS, subject=lure, text="Hi.")

    send(relay_listener, raw, mail_from="forger@elsewhere.test", to=settings.SUPPORT_EMAIL_ADDRESS)

    inbound = InboundEmail.objects.get()
    assert (inbound.user_id, inbound.reason_code) == (buyer.pk, "not_confirmed")
    assert not inbound.from_account_holder
    client = Client()
    client.force_login(buyer)
    page = client.get(reverse("email-replies")).content.decode()
    assert "payouts-help.example" not in page
    assert 'data-testid="reply-from-another-address"' in page
    [listed] = client.get("/api/v1/email-replies").json()
    assert listed["subject"] == ""


def test_the_support_address_does_not_tell_a_forger_which_addresses_have_accounts(
    buyer: User, relay_listener: Controller
) -> None:
    """Customer service's address answered an e-mail 'From' an address without an account
    550 "not the e-mail address of an account" at once, and one 'From' an account's address
    250: anyone could learn, address by address, who has an account, without being able to
    send from any of them. Whether an account exists is said only once the sender is
    confirmed as the address's owner."""
    answers = []
    for address in (buyer.email, "nobody-here@example.test"):
        raw = reply(sender=address, to=settings.SUPPORT_EMAIL_ADDRESS, subject="Hi", text="Hi.")
        with smtplib.SMTP(relay_listener.hostname, relay_listener.port) as smtp:
            smtp.ehlo("mail.forger.test")
            smtp.mail("forger@elsewhere.test")
            smtp.rcpt(settings.SUPPORT_EMAIL_ADDRESS)
            code, answer = smtp.data(raw)
        answers.append((code, answer.split(b" as ")[0]))

    assert answers[0] == answers[1] == (250, b"2.0.0 refused")
    assert list(InboundEmail.objects.order_by("pk").values_list("reason_code", "user_id")) == [
        ("not_confirmed", buyer.pk),
        ("not_confirmed", None),
    ]
    assert not Case.objects.exists()
