"""How a realtime process learns who a broadcast is for. The notifications app fills this
when Django starts (NotificationsConfig.ready); realtime never imports notifications, which
imports realtime's actions."""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class BroadcastAudiences:
    # Broadcasts announced after a moment, oldest first.
    announced_since: Callable[[datetime], list[int]]
    # Of these people, the ones a live broadcast is for.
    recipients_among: Callable[[int, Collection[int]], set[int]]


_registered: list[BroadcastAudiences] = []


def register_broadcast_audiences(audiences: BroadcastAudiences) -> None:
    _registered[:] = [audiences]


def broadcast_audiences() -> BroadcastAudiences:
    if not _registered:
        raise LookupError("No app registered broadcast audiences (notifications not installed).")
    return _registered[0]
