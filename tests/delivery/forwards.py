"""Suspicious e-mails as phishers send them, and forwards of them as mail apps write
them (docs/safety.md#forwarded-e-mails): real MIME, signed for example.test."""

import uuid
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import dkim
from django.conf import settings

from tests.delivery.dns import DkimKey

PHISH_HTML = (
    "<p>Your account is on hold. <b>Act now</b>.</p>"
    '<p><a href="https://marketplace-secure.example/login?u=1">Sign in to your account</a></p>'
    '<p><a href="https://evil.example/pay"><img src="x.png" alt="Pay now"></a></p>'
)
PHISH_TEXT = (
    "Your account is on hold. Act now.\nSign in: https://marketplace-secure.example/login?u=1\n"
)


def ours_to_read(subject: str) -> tuple[str, str]:
    """An e-mail of ours as its text and HTML: its links to our own site only."""
    url = f"{settings.SITE_URL}/message-center/"
    return (
        f"{subject}\nRead it in your Message Center: {url}\n",
        f'<p>{subject}</p><p><a href="{url}">Open your Message Center</a></p>',
    )


def suspicious(
    *,
    subject: str = "Your account is on hold",
    reference: str | None = None,
    text: str = PHISH_TEXT,
    html: str = PHISH_HTML,
    message_id: str | None = None,
    sender: str = "Marketplace Security <security@marketplace-secure.example>",
    reply_to: str | None = "payments@elsewhere.example",
) -> EmailMessage:
    """The phisher's e-mail, as it reached the person (or ours, from our own address)."""
    email = EmailMessage()
    email["From"] = sender
    if reply_to is not None:
        email["Reply-To"] = reply_to
    email["To"] = "alice@example.test"
    email["Subject"] = subject
    email["Date"] = "Tue, 01 Dec 2026 09:30:00 +0000"
    # Short enough for one line: a folded header is written back unfolded by some
    # providers' parsers, which a DKIM signature over the forward's body would not survive.
    email["Message-ID"] = message_id or f"<{uuid.uuid4().hex[:16]}@phish.example>"
    if reference is not None:
        email["X-Message-Center-Reference"] = reference
    email.set_content(text)
    email.add_alternative(html, subtype="html")
    return email


def signed(message: EmailMessage, dkim_key: DkimKey) -> bytes:
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    signature = dkim.sign(
        raw,
        b"mail",
        b"example.test",
        dkim_key.private_pem,
        include_headers=[b"from", b"to", b"subject", b"date", b"message-id"],
    )
    return signature + raw


def forward_as_attachment(
    sender: str, inner: EmailMessage, dkim_key: DkimKey | None, note: str = "Is this real?"
) -> bytes:
    """Gmail's and Outlook's "Forward as attachment": the e-mail whole, as message/rfc822."""
    forward = EmailMessage()
    forward["From"] = sender
    forward["To"] = settings.PHISHING_REPORT_ADDRESS
    forward["Subject"] = f"Fwd: {inner['Subject']}"
    forward["Date"] = formatdate()
    forward["Message-ID"] = make_msgid(domain="mail.example.test")
    forward.set_content(note)
    forward.add_attachment(inner)
    if dkim_key is None:
        return forward.as_bytes(policy=forward.policy.clone(linesep="\r\n"))
    return signed(forward, dkim_key)


def forward_inline(
    sender: str,
    dkim_key: DkimKey,
    *,
    reference_line: str = "",
    retyped_from: str = "Marketplace Billing <billing@market-place.example>",
    said: str = "Dear customer, pay the balance at https://market-place.example/pay today.",
    link: str = "https://market-place.example/pay",
) -> bytes:
    """Gmail's plain "Forward": the headers retyped under its marker, in both parts."""
    forward = EmailMessage()
    forward["From"] = sender
    forward["To"] = settings.PHISHING_REPORT_ADDRESS
    forward["Subject"] = "Fwd: Confirm your payment"
    forward["Date"] = formatdate()
    forward["Message-ID"] = make_msgid(domain="mail.example.test")
    forward.set_content(
        "This looks fake to me.\n\n"
        "---------- Forwarded message ---------\n"
        f"From: {retyped_from}\n"
        "Date: Tue, 1 Dec 2026 at 10:02\n"
        "Subject: Confirm your payment\n"
        "To: <alice@example.test>\n\n"
        f"{said}\n"
        f"{reference_line}\n"
    )
    forward.add_alternative(
        '<div dir="ltr">This looks fake to me.<br><br>'
        '<div class="gmail_quote"><div dir="ltr" class="gmail_attr">'
        "---------- Forwarded message ---------<br>"
        "From: <strong>Marketplace Billing</strong> &lt;billing@market-place.example&gt;<br>"
        "Date: Tue, 1 Dec 2026 at 10:02<br>Subject: Confirm your payment<br>"
        "To: &lt;alice@example.test&gt;<br></div><br><br>"
        f'<div>Dear customer, <a href="{link}">pay the balance</a>'
        " today.</div></div></div>",
        subtype="html",
    )
    return signed(forward, dkim_key)
