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

A mailbox that reads forwards (support: PHISHING_REPORT_ADDRESS, a suspicious e-mail
forwarded to trust and safety) is handed the forwarded e-mail as found
(`forwards.Forwarded`) instead of files: nothing attached to a suspicious e-mail is kept
as an upload, and its answer is the marketplace's message, not one the sender wrote.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.core.files.base import ContentFile

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Message
from messagecenter.delivery.inbound.forwards import Forwarded


@dataclass(frozen=True)
class Delivery:
    """A confirmed sender's e-mail to a mailbox, as the mailbox's action takes it."""

    sender: User
    subject: str
    body: str
    attachments: Sequence[ContentFile[bytes]]
    # Stable per e-mail: a second delivery posts nothing new.
    idempotency_key: str
    # The e-mail forwarded in it, for a mailbox that reads forwards (else None).
    forwarded: Forwarded | None = None


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
    # The e-mail is a forward of someone else's (the report address): its receive gets
    # the forwarded e-mail, no files, and returns the marketplace's answer to the sender.
    reads_forwards: bool = False


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
