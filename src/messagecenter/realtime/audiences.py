"""How a realtime process learns who a broadcast or a nudge is for. The notifications app
fills the broadcasts' part when Django starts (NotificationsConfig.ready), support the
queue nudges' (SupportConfig.ready); realtime never imports them, which import realtime's
actions."""

from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from typing import Any


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


# A nudge's kind → of these people (with a stream open here), the ones it is for.
NudgeAudience = Callable[[dict[str, Any], Collection[int]], set[int]]
_nudge_audiences: dict[str, NudgeAudience] = {}


def register_nudge_audience(kind: str, audience: NudgeAudience) -> None:
    _nudge_audiences[kind] = audience


def nudge_audience(kind: str) -> NudgeAudience:
    found = _nudge_audiences.get(kind)
    if found is None:
        raise LookupError(f"No app registered the audience of {kind!r} nudges.")
    return found
