"""What e-mail delivery learns about broadcasts (notices and promotions) from the app that
owns them. Delivery sits below notifications and never imports it (docs/architecture.md):
notifications fills this registry in its AppConfig.ready — the fan-out that queues a
broadcast's e-mails in batches, what its e-mail says, and whose reference it is."""

from collections.abc import Callable
from dataclasses import dataclass

from messagecenter.accounts.models import User


@dataclass(frozen=True)
class BroadcastForEmail:
    """One broadcast as its e-mail renders it, for every recipient alike."""

    kind: str
    subject: str
    body: str
    is_promotion: bool
    # Not cancelled, not expired: an e-mail still queued for it may go.
    is_active: bool


@dataclass(frozen=True)
class ReferencedBroadcast:
    """The broadcast an e-mail's reference names: its subject, and where the person finds
    it in their Message Center ("" when it is not theirs to open)."""

    subject: str
    url: str = ""
    # A promotion (hidden from people who switched promotions off in the Message Center).
    is_promotion: bool = False
    # Its text as sent: the sites its e-mail linked to (a forwarded e-mail's links are
    # compared with them, support/forwarded_email_actions.py).
    body: str = ""


@dataclass(frozen=True)
class Broadcasts:
    # Queue the next batch of recipients of every unfinished fan-out; how many e-mails.
    queue_next_batches: Callable[[], int]
    # The broadcast with this id, or None when there is none.
    for_email: Callable[[int], BroadcastForEmail | None]
    # The broadcast a reference names, as this person may see it; None when there is none.
    referenced: Callable[[User, int], ReferencedBroadcast | None]


_registered: list[Broadcasts] = []


def register_broadcasts(broadcasts: Broadcasts) -> None:
    _registered[:] = [broadcasts]


def broadcasts() -> Broadcasts:
    if not _registered:
        raise LookupError("No app registered broadcasts (notifications not installed).")
    return _registered[0]
