"""The reference printed in every e-mail and shown beside the same message in the
Message Center, and what "Is this e-mail from us?" can tell from it (docs/email.md#the-reference).

A reference names what the e-mail is about and says who it came from, under a keyed
signature bound to the person it was sent to:

    MC-O7Q-4KX2ABCD   a message from the marketplace or its customer service
    MC-P7Q-…          a message from a buyer or a seller (never vouched for)
    MC-B1F-…          a notice or promotion (a broadcast)

The signature (40 bits of HMAC-SHA256 under SECRET_KEY over the kind, the id and the
recipient's id) lets the checker answer without finding a surviving copy: a genuine
marketplace e-mail is recognised after its in-app copy was deleted, a seller cannot turn
their message's "P" into an "O", and a reference copied from someone else's e-mail does not
verify for you. References of e-mails sent before this scheme (`MC-M…`/`MC-B…` with four
check characters) are still recognised, by finding the person's own copy as before.
"""

import hashlib
import hmac
import re
from dataclasses import dataclass

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
OFFICIAL, PERSON, BROADCAST = "O", "P", "B"
# Before references were bound to their recipient: every message was "M".
LEGACY_MESSAGE = "M"
PATTERN = re.compile(r"^MC-([MBOP])([0-9A-Z]{1,13})-([0-9A-Z]{4}|[0-9A-Z]{8})$")
_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})


@dataclass(frozen=True)
class Reference:
    kind: str
    object_id: int
    # A legacy reference proves only that it was made by us, not for whom.
    is_legacy: bool = False


def for_message(message_id: int, recipient_id: int, *, is_official: bool) -> str:
    return _make(OFFICIAL if is_official else PERSON, message_id, recipient_id)


def for_broadcast(broadcast_id: int, recipient_id: int) -> str:
    return _make(BROADCAST, broadcast_id, recipient_id)


def parse(text: str, recipient_id: int) -> Reference | None:
    """A reference as people type it (any case, spaces, O for 0, I/L for 1) that verifies
    for this recipient, or None."""
    cleaned = text.strip().upper().replace(" ", "")
    match = PATTERN.match(cleaned)
    if match is None:
        return None
    kind, number, check = match.groups()
    object_id = 0
    for character in number.translate(_TYPOS):
        if character not in ALPHABET:
            return None
        object_id = object_id * 32 + ALPHABET.index(character)
    check = check.translate(_TYPOS)
    if len(check) == 4:
        if kind in {LEGACY_MESSAGE, BROADCAST} and hmac.compare_digest(
            _legacy_check(kind, object_id), check
        ):
            return Reference(kind, object_id, is_legacy=True)
        return None
    if kind == LEGACY_MESSAGE or not hmac.compare_digest(
        _check(kind, object_id, recipient_id), check
    ):
        return None
    return Reference(kind, object_id)


def _make(kind: str, object_id: int, recipient_id: int) -> str:
    return f"MC-{kind}{_encode(object_id)}-{_check(kind, object_id, recipient_id)}"


def _encode(number: int) -> str:
    digits = ""
    while True:
        number, remainder = divmod(number, 32)
        digits = ALPHABET[remainder] + digits
        if number == 0:
            return digits


def _check(kind: str, object_id: int, recipient_id: int) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(),
        f"reference:2:{kind}:{object_id}:{recipient_id}".encode(),
        hashlib.sha256,
    ).digest()
    # The check must not contain O, I or L (typed for 0 and 1): the alphabet has none.
    return "".join(ALPHABET[byte % 32] for byte in digest[:8])


def _legacy_check(kind: str, object_id: int) -> str:
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"reference:{kind}:{object_id}".encode(), hashlib.sha256
    ).digest()
    return "".join(ALPHABET[byte % 32] for byte in digest[:4])
