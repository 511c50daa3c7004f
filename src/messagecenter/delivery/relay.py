"""Relay addresses: how a reply from any mail app finds its conversation without either
side ever seeing the other's real address (docs/email.md#reply-by-e-mail).

Every e-mail about a conversation says `Reply-To: <token>@EMAIL_REPLY_DOMAIN`, where the
token belongs to the recipient's own Participant row: the participant's id and an
HMAC-SHA256 over (participant, conversation, person) under a key derived from SECRET_KEY.
Nothing is stored: the address is computed when an e-mail is built and checked when a
reply arrives. Guessing one means guessing 100 bits; changing the id to reach another
conversation (or another person's seat in the same one) breaks the HMAC.

A digest that gathers several conversations has one address of its own (kind "d"), which
is never posted anywhere: each conversation in it has its own "Reply by e-mail" link to
the participant's address (docs/decisions/0007-digest-reply-routes.md).
"""

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings

# Crockford's base32 in lower case: mail systems may change the case of a local part, and
# people read these aloud to support.
ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"
MAC_CHARS = 20  # 100 bits
PARTICIPANT, DIGEST = "p", "d"


@dataclass(frozen=True)
class RelayToken:
    """What an address names, before it is checked against the database."""

    kind: str
    object_id: int
    mac: str


def participant_address(*, participant_id: int, conversation_id: int, user_id: int) -> str:
    """The relay address of one person's seat in one conversation."""
    return _address(PARTICIPANT, participant_id, _subject(participant_id, conversation_id, user_id))


def digest_address(*, email_id: int, user_id: int) -> str:
    """The Reply-To of a digest that gathers several conversations: a reply to it cannot
    know which one is meant, and is refused with a reason the person sees."""
    return _address(DIGEST, email_id, f"digest:{email_id}:{user_id}")


def participant_mac_matches(token: RelayToken, *, conversation_id: int, user_id: int) -> bool:
    return _matches(token, _subject(token.object_id, conversation_id, user_id))


def digest_mac_matches(token: RelayToken, *, user_id: int) -> bool:
    return _matches(token, f"digest:{token.object_id}:{user_id}")


def is_relay_domain(address: str) -> bool:
    return address.rpartition("@")[2].strip().lower().rstrip(".") == settings.EMAIL_REPLY_DOMAIN


def parse(address: str) -> RelayToken | None:
    """The token of an address at the reply domain, or None for anything else (another
    domain, a malformed or truncated token). Case is ignored."""
    local, at, domain = address.strip().strip("<>").lower().rpartition("@")
    if not at or domain.rstrip(".") != settings.EMAIL_REPLY_DOMAIN:
        return None
    # Sub-addressing some mail systems add (token+anything@) is not part of the token.
    local = local.split("+", 1)[0]
    kind, _, rest = local.partition(".")
    if kind not in (PARTICIPANT, DIGEST) or "-" not in rest:
        return None
    encoded_id, _, mac = rest.partition("-")
    if len(mac) != MAC_CHARS or not encoded_id or len(encoded_id) > 13:
        return None
    if any(character not in ALPHABET for character in encoded_id + mac):
        return None
    object_id = 0
    for character in encoded_id:
        object_id = object_id * 32 + ALPHABET.index(character)
    if object_id <= 0:
        return None
    return RelayToken(kind, object_id, mac)


def _subject(participant_id: int, conversation_id: int, user_id: int) -> str:
    return f"participant:{participant_id}:{conversation_id}:{user_id}"


def _address(kind: str, object_id: int, subject: str) -> str:
    token = f"{kind}.{_encode(object_id)}-{_mac(subject, settings.SECRET_KEY)}"
    return f"{token}@{settings.EMAIL_REPLY_DOMAIN}"


def _matches(token: RelayToken, subject: str) -> bool:
    # Addresses handed out before a SECRET_KEY rotation keep working while the old key is
    # listed in SECRET_KEY_FALLBACKS.
    keys = [settings.SECRET_KEY, *getattr(settings, "SECRET_KEY_FALLBACKS", [])]
    return any(hmac.compare_digest(token.mac, _mac(subject, key)) for key in keys)


def _mac(subject: str, secret_key: str) -> str:
    key = hashlib.sha256(f"messagecenter.delivery.relay:{secret_key}".encode()).digest()
    digest = hmac.new(key, subject.encode(), hashlib.sha256).digest()
    number = int.from_bytes(digest[:13], "big") >> 4  # 100 bits
    return _encode(number).rjust(MAC_CHARS, "0")


def _encode(number: int) -> str:
    characters = []
    while number:
        number, remainder = divmod(number, 32)
        characters.append(ALPHABET[remainder])
    return "".join(reversed(characters)) or "0"
