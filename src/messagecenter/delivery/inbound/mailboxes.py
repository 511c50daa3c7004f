"""Addresses of the reply domain that are not relay addresses: a mailbox an app above
delivery fills when Django starts (support: "help@…" opens a customer-service request),
so the inbound path can hand it an e-mail without importing that app
(docs/email.md#mailboxes).

A mailbox only ever receives e-mail from a sender the inbound action has already
confirmed (one From, an account of that address, SPF/DKIM/DMARC, the rate limit); it
turns the text into its own action and returns the message it posted.

A suspended (inactive) account's e-mail, confirmed the same way, goes to the one action
registered for it here instead (support: its appeal, docs/safety.md#appeals) — from a
mailbox that takes appeals, or as a reply to the person's suspension notice — and
nowhere else.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.files.base import ContentFile

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Message


@dataclass(frozen=True)
class Delivery:
    """A confirmed sender's e-mail to a mailbox, as the mailbox's action takes it."""

    sender: User
    subject: str
    body: str
    attachments: Sequence[ContentFile[bytes]]
    # Stable per e-mail: a second delivery posts nothing new.
    idempotency_key: str


@dataclass(frozen=True)
class Mailbox:
    name: str
    # The address, read when asked (settings may change in tests).
    address: Callable[[], str]
    receive: Callable[[Delivery], Message]
    # What an unknown sender is told (the SMTP answer): where to write instead.
    unknown_sender_reason: str
    # A suspended account's e-mail to this address is its appeal (register_appeal).
    takes_appeals: bool = False


_mailboxes: dict[str, Mailbox] = {}
_appeal: list[Callable[[Delivery], Message]] = []


def register(mailbox: Mailbox) -> None:
    _mailboxes[mailbox.name] = mailbox


def register_appeal(receive: Callable[[Delivery], Message]) -> None:
    """What a suspended account's confirmed e-mail does: appeal its suspension. The
    action raises NotFound for an inactive account that has no suspension to appeal."""
    _appeal[:] = [receive]


def appeal() -> Callable[[Delivery], Message] | None:
    return _appeal[0] if _appeal else None


def find(address: str) -> Mailbox | None:
    """The mailbox at this address (any case, angle brackets or not), if one is set."""
    wanted = address.strip().strip("<>").strip().lower()
    if not wanted:
        return None
    for mailbox in _mailboxes.values():
        own = mailbox.address().strip().lower()
        if own and own == wanted:
            return mailbox
    return None
