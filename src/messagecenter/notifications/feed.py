"""The broadcasts' feed of the Message Center (hub/feeds.py): notices and promotions that
apply to a person, fanned out on read into its lists and counts (docs/notifications.md)."""

from collections.abc import Sequence
from datetime import datetime

from messagecenter.accounts.models import User
from messagecenter.hub.feeds import Feed, Position
from messagecenter.notifications import actions, queries
from messagecenter.notifications.bulk import BROADCAST_ACTIONS


def _rows(
    user: User, box: str, folder: str | None, after: Position | None, limit: int
) -> Sequence[queries.BroadcastItem]:
    return queries.broadcast_rows(user, box=box, folder=folder, after=after, limit=limit)


def _mark_seen(user: User, now: datetime, unseen: int) -> int:
    # One "seen until" per person, not a row per broadcast: what was unseen is now seen.
    actions.mark_broadcasts_seen(user, until=now)
    return unseen


BROADCASTS = Feed(
    name="broadcast",
    rank=queries.BROADCAST_RANK,
    cursor_marker="b",
    rows=_rows,
    count_sql=queries.broadcast_count_sql,
    fold_counts=queries.fold_broadcast_counts,
    mark_seen=_mark_seen,
    bulk_actions=BROADCAST_ACTIONS,
)
