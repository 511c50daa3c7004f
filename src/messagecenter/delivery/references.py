"""The reference printed in every e-mail and shown beside the same message in the
Message Center, and what "Is this e-mail from us?" can tell from it (docs/email.md#the-reference).

A reference names what the e-mail is about and says who it came from, under a keyed
signature bound to the person it was sent to:

    MC-O7Q-4KX2ABCD   a message from the marketplace or its customer service
    MC-P7Q-…          a message from a buyer or a seller (never vouched for)
    MC-B1F-…          a notice or promotion (a broadcast)
    MC-A2K-…          an e-mail about the person's account (a password reset link, an
                      address to confirm or changed, a data export ready): its outbox row

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
import unicodedata
from dataclasses import dataclass

from django.conf import settings

ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"
OFFICIAL, PERSON, BROADCAST, ACCOUNT = "O", "P", "B", "A"
# Before references were bound to their recipient: every message was "M".
LEGACY_MESSAGE = "M"
# A reference as typed, once its separators are gone: "MC", the kind, then the id and the
# check run together (where one ends is tried both ways: eight check characters, or four
# for a legacy one).
_COMPACT = re.compile(r"^MC([MBOPA])([0-9A-Z]{5,21})$")
# The footer's words before it ("Reference MC-….", "Ref. MC-…"), copied with it, and
# any punctuation between them and the reference ('Ref. "MC-…"').
_LABEL = re.compile(r"^REF(?:ERENCE)?[^0-9A-Z]*(?=MC)")
_PUNCTUATION_AROUND = re.compile(r"^[^0-9A-Z]+|[^0-9A-Z]+$")
_LONGEST_NUMBER = 13
# The id and the check are in ALPHABET, which has no O, I or L: typed, they can only mean
# 0 and 1 (Crockford's base32 forgives the same three).
_TYPOS = str.maketrans({"O": "0", "I": "1", "L": "1"})
# The kind is one of four letters and never a digit: a 0 there can only be the O of a
# marketplace e-mail, an 8 only the B of a broadcast.
_KIND_TYPOS = {"0": OFFICIAL, "8": BROADCAST}
# Characters people (and word processors) put where the reference has a hyphen or nothing:
# every Unicode dash, the minus sign, the soft hyphen; spaces of any kind, and the invisible
# format characters a copy from a web page or PDF brings along.
_DASHES = {"\u2212", "\u00ad", "\u2043", "\ufe63", "\uff0d"}


# A reference as the footer prints it ("Reference MC-O7Q-4KX2ABCD"), in any case, inside
# a longer text: what a forwarded e-mail carries, or what a person pasted into a message.
WRITTEN = re.compile(r"\bMC[-\u2010-\u2015 ]?[0-9A-Z]{2,16}[-\u2010-\u2015 ][0-9A-Z]{4,8}\b", re.I)


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


def for_account_email(email_id: int, recipient_id: int) -> str:
    """An account e-mail's (delivery.models.ACCOUNT_EMAIL_KINDS), named by its outbox row:
    the e-mail is kept nowhere else (its link is a secret no copy should hold)."""
    return _make(ACCOUNT, email_id, recipient_id)


def parse(text: str, recipient_id: int) -> Reference | None:
    """A reference as people type it that verifies for this recipient, or None.

    Forgiven: any case, spaces, any kind of dash or none at all between the parts, the
    punctuation and the "Reference"/"Ref." copied around it, O for 0, I or L for 1 in the
    id and the check, 0 for the O and 8 for the B of the kind. What
    is left must still be, character for character, one reference signed for this
    recipient: forgiving the spelling never makes a signature verify."""
    compact = _compact(text)
    if compact is None:
        return None
    if compact[2:3] in _KIND_TYPOS:
        compact = compact[:2] + _KIND_TYPOS[compact[2]] + compact[3:]
    match = _COMPACT.match(compact)
    if match is None:
        return None
    kind, rest = match.groups()
    for check_length in (8, 4):
        number, check = rest[:-check_length], rest[-check_length:]
        if 1 <= len(number) <= _LONGEST_NUMBER:
            verified = _verified(kind, number, check.translate(_TYPOS), recipient_id)
            if verified is not None:
                return verified
    return None


def spelled(reference: Reference, recipient_id: int) -> str:
    """The reference as its e-mail printed it: what the checker answers about, whatever
    the spelling that was typed."""
    if reference.is_legacy:
        check = _legacy_check(reference.kind, reference.object_id)
        return f"MC-{reference.kind}{_encode(reference.object_id)}-{check}"
    return _make(reference.kind, reference.object_id, recipient_id)


def folded(text: str) -> str:
    """The text as one run of letters and digits, folded so that every way `parse`
    forgives of writing a reference folds to the same run: NFKC (full-width letters, the
    no-break space), capitals, nothing but letters and digits kept — no spaces, line
    breaks, dashes, underscores, dots or invisible characters between them — and 0 as O,
    1 and L as I, 8 as B. For finding a reference written inside a text, however it was
    cut up (`queries._message_telling`): "M C - O Z - X B H D V A Z B", "MC-OT-\nH0DBVFYR",
    "mc_o1c_wpqr7adf" and "ＭＣ－ＯＶ－ＮＸＺＶＸＮＢＢ" all hold their reference's folded
    run. Looser than `parse`: it finds, it never verifies."""
    normalized = unicodedata.normalize("NFKC", text).upper()
    return "".join(character for character in normalized if character.isalnum()).translate(_FOLDED)


_FOLDED = str.maketrans({"0": "O", "1": "I", "L": "I", "8": "B"})


def example() -> str:
    """A reference of the real shape for the checker's page to show, signed for nobody:
    its check is made for another purpose, so typing it in is answered "not from us"."""
    return f"MC-{OFFICIAL}{_encode(_EXAMPLE_ID)}-{_signature('reference:example', 8)}"


# An id of the length real ones have (three characters).
_EXAMPLE_ID = 2000


def _compact(text: str) -> str | None:
    """The text in capitals without its separators, the label and the punctuation around
    it, or None when anything else is left between its letters."""
    # NFKC: full-width letters and digits, and the no-break space, as their plain selves.
    normalized = unicodedata.normalize("NFKC", text[:100]).upper()
    kept = "".join(
        character
        for character in normalized
        if not (
            character.isspace()
            or character in _DASHES
            or unicodedata.category(character) in {"Pd", "Cf"}
        )
    )
    # Quotes, brackets, the full stop of the footer's sentence, then its "Reference".
    kept = _LABEL.sub("", _PUNCTUATION_AROUND.sub("", kept), count=1)
    if not (kept.isascii() and kept.isalnum()):
        return None
    return kept


def _verified(kind: str, number: str, check: str, recipient_id: int) -> Reference | None:
    number = number.translate(_TYPOS)
    # Written as _encode writes it, or it is not the reference an e-mail printed: a zero
    # in front is the same number, and was vouched for (docs/email.md: character for
    # character).
    if number.startswith("0"):
        return None
    object_id = 0
    for character in number:
        if character not in ALPHABET:
            return None
        object_id = object_id * 32 + ALPHABET.index(character)
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
    return _signature(f"reference:2:{kind}:{object_id}:{recipient_id}", 8)


def _legacy_check(kind: str, object_id: int) -> str:
    return _signature(f"reference:{kind}:{object_id}", 4)


def _signature(purpose: str, length: int) -> str:
    digest = hmac.new(settings.SECRET_KEY.encode(), purpose.encode(), hashlib.sha256).digest()
    # The check must not contain O, I or L (typed for 0 and 1): the alphabet has none.
    return "".join(ALPHABET[byte % 32] for byte in digest[:length])
