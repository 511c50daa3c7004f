"""Optional DKIM signatures on outgoing mail (dkimpy), from settings: DKIM_DOMAIN,
DKIM_SELECTOR and DKIM_PRIVATE_KEY_FILE (a PEM RSA key). Providers that build their own
messages through an API sign with their own keys; this is for SMTP (docs/email.md)."""

from email.message import Message
from functools import cache

import dkim
from django.conf import settings

SIGNED_HEADERS = (
    b"From",
    b"To",
    b"Subject",
    b"Date",
    b"Message-ID",
    b"List-Unsubscribe",
    b"List-Unsubscribe-Post",
    b"MIME-Version",
    b"Content-Type",
)


def is_configured() -> bool:
    return bool(settings.DKIM_DOMAIN and settings.DKIM_SELECTOR and settings.DKIM_PRIVATE_KEY_FILE)


@cache
def _private_key(path: str) -> bytes:
    with open(path, "rb") as key_file:
        return key_file.read()


def sign(message: Message) -> None:
    """Add a DKIM-Signature header over the message as it will be sent."""
    raw = message.as_bytes(policy=message.policy.clone(linesep="\r\n"))
    present = [name for name in SIGNED_HEADERS if message.get(name.decode()) is not None]
    signature = dkim.sign(
        raw,
        settings.DKIM_SELECTOR.encode(),
        settings.DKIM_DOMAIN.encode(),
        _private_key(settings.DKIM_PRIVATE_KEY_FILE),
        canonicalize=(b"relaxed", b"simple"),
        include_headers=present,
    )
    # dkim.sign returns the whole folded header line; relaxed header canonicalisation lets
    # it be unfolded into a plain header value.
    name, _, value = signature.decode().partition(":")
    message[name] = " ".join(value.split())
