"""The reference printed in every e-mail and shown beside the same message in the
Message Center: "if it is not in your Message Center, it is not from us" (docs/email.md).

A reference names a message or a broadcast (its id in Crockford base32) plus four check
characters from a keyed hash, so a mistyped or made-up reference is told apart from one
that is simply not yours. Looking one up is always scoped to the person asking.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
MESSAGE, BROADCAST = "M", "B"
PATTERN = re.compile(r"^MC-([MB])([0-9A-Z]{1,13})-([0-9A-Z]{4})$")


@dataclass(frozen=True)
class Reference:
    kind: str
    object_id: int


def for_message(message_id: int) -> str:
    return _make(MESSAGE, message_id)


def for_broadcast(broadcast_id: int) -> str:
    return _make(BROADCAST, broadcast_id)


def parse(text: str) -> Reference | None:
    """A reference as people type it (any case, spaces, O for 0, I/L for 1), or None."""
    cleaned = text.strip().upper().replace(" ", "")
    match = PATTERN.match(cleaned)
    if match is None:
        return None
    kind, number, check = match.groups()
    number = number.replace("O", "0").replace("I", "1").replace("L", "1")
    object_id = 0
    for character in number:
        if character not in ALPHABET:
            return None
        object_id = object_id * 32 + ALPHABET.index(character)
    if not hmac.compare_digest(_check(kind, object_id), check):
        return None
    return Reference(kind, object_id)


def _make(kind: str, object_id: int) -> str:
    return f"MC-{kind}{_encode(object_id)}-{_check(kind, object_id)}"


def _encode(number: int) -> str:
    digits = ""
    while True:
        number, remainder = divmod(number, 32)
        digits = ALPHABET[remainder] + digits
        if number == 0:
            return digits


def _check(kind: str, object_id: int) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"reference:{kind}:{object_id}".encode(), hashlib.sha256
    ).digest()
    return "".join(ALPHABET[byte % 32] for byte in digest[:4])
