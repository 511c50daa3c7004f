"""Replies as mail apps write them, and a real SMTP client to hand them over."""

import smtplib
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

import dkim
from aiosmtpd.controller import Controller

from tests.delivery.dns import DkimKey

QUOTED_HISTORY = (
    "\n\nOn Tue, 1 Dec 2026 at 10:00, Message Center <no-reply@localhost> wrote:\n"
    "> Does it come in blue?\n"
    "> Reply to this e-mail to answer.\n"
)


def reply(
    *,
    sender: str,
    to: str,
    text: str,
    subject: str = "Re: Question about the lamp",
    message_id: str | None = None,
    headers: dict[str, str] | None = None,
    sign_with: DkimKey | None = None,
    signing_domain: str = "example.test",
    attachments: list[tuple[str, bytes, str]] = (),  # type: ignore[assignment]
    html: str | None = None,
) -> bytes:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = to
    message["Subject"] = subject
    message["Date"] = formatdate()
    message["Message-ID"] = message_id or make_msgid(domain="mail.example.test")
    for name, value in (headers or {}).items():
        message[name] = value
    message.set_content(text)
    if html is not None:
        message.add_alternative(html, subtype="html")
    for filename, content, content_type in attachments:
        maintype, subtype = content_type.split("/")
        message.add_attachment(content, maintype=maintype, subtype=subtype, filename=filename)
    # CRLF, as mail servers send it: an SMTP server reads the data line by line, and a
    # message with attachments is longer than one line may be.
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    if sign_with is not None:
        signature = dkim.sign(
            raw,
            b"mail",
            signing_domain.encode(),
            sign_with.private_pem,
            include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
        )
        raw = signature + raw
    return raw


def forged_and_own(address: str, holder_email: str, own_text: str) -> tuple[Any, Any]:
    """Two e-mails by SMTP to one relay address: a forger's, "From" someone else with a
    subject and text naming the forger's address (alice@forger.example, envelope
    bounces@forger.example), then the account holder's own. Their InboundEmail rows."""
    from messagecenter.delivery.inbound.actions import receive_email

    forged = receive_email(
        reply(
            sender="Alice <alice@forger.example>",
            to=address,
            text="Pay me at alice@forger.example.",
            subject="Urgent: write to alice@forger.example",
        ),
        route="smtp",
        recipients=[address],
        envelope_from="bounces@forger.example",
    )
    own = receive_email(
        reply(sender=holder_email, to=address, text=own_text, subject="Re: the lamp"),
        route="smtp",
        recipients=[address],
        envelope_from=holder_email,
    )
    return forged, own


def send(listener: Controller, raw: bytes, *, mail_from: str, to: str) -> None:
    """Over SMTP, as a mail server would: EHLO, MAIL FROM, RCPT TO, DATA."""
    with smtplib.SMTP(listener.hostname, listener.port, local_hostname="mail.example.test") as smtp:
        smtp.sendmail(mail_from, [to], raw)


def forward_suspicious_email(user: Any, *, subject: str, text: str, note: str = "") -> Any:
    """The person's forward of a suspicious e-mail (as an attachment) taken by the report
    address's action, as the inbound path hands it over once it confirmed them. The
    marketplace's answer."""
    from messagecenter.delivery.inbound import forwards
    from messagecenter.delivery.inbound.mailboxes import Delivery
    from messagecenter.support.forwarded_email_actions import report_forwarded_email

    inner = EmailMessage()
    inner["From"] = "Security <security@phish.example>"
    inner["To"] = user.email
    inner["Subject"] = subject
    inner["Date"] = formatdate()
    inner["Message-ID"] = make_msgid(domain="phish.example")
    inner.set_content(text)
    forward = EmailMessage()
    forward["From"] = user.email
    forward["Subject"] = f"Fwd: {subject}"
    forward.set_content(note)
    forward.add_attachment(inner)
    forwarded = forwards.read_forwarded(forward)
    assert forwarded is not None
    return report_forwarded_email(
        Delivery(
            sender=user,
            subject=f"Fwd: {subject}",
            body=forwarded.note,
            attachments=[],
            idempotency_key=make_msgid(),
            forwarded=forwarded,
        )
    )
