"""Requests by e-mail (docs/support.md, "Requests by e-mail"): an e-mail to customer
service's address, through the real SMTP listener with SPF/DKIM/DMARC checked against a
DNS server on loopback, opens a case for the account of a confirmed sender; replies to
the case's e-mails continue it; a sender we do not know or cannot confirm opens nothing."""

import smtplib

import pytest
from aiosmtpd.controller import Controller
from django.conf import settings
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Message
from messagecenter.delivery import relay
from messagecenter.delivery.models import InboundEmail
from messagecenter.delivery.sender import send_due_emails
from messagecenter.support import actions
from messagecenter.support.models import Case
from tests import factories
from tests.delivery.dns import DkimKey
from tests.delivery.replies import QUOTED_HISTORY, reply, send
from tests.delivery.smtp import Handler

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
