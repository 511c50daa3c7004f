"""How the Message Center learns what it lists: each app with something to show (the
conversations, the broadcasts) registers a Feed when Django starts (its AppConfig.ready).
The hub reads through the feeds and never imports the apps behind them.

A merged list is ordered by (time, rank, id), newest first: at one time, the feed with the
higher rank comes first. A cursor names the last row shown as `time~<marker><id>`.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from messagecenter.accounts.models import User

# A position in a merged list: (time, rank, id) of the last row shown; rows after it are
# smaller in that order.
Position = tuple[datetime, int, int]


class Entry(Protocol):
    """One row of a merged list, whatever feed it comes from."""

    @property
    def pk(self) -> Any: ...

    @property
    def last_activity_at(self) -> datetime: ...


@dataclass(frozen=True)
class Feed:
    # Prefixes the keys of its count rows ("<name>:<key>").
    name: str
    # At one time, a higher rank is listed first.
    rank: int
    # Before the id in a cursor after one of its rows ("" for at most one feed).
    cursor_marker: str
    # Up to `limit` rows in a box (and a folder of the inbox), newest first, after a
    # position of the merged list.
    rows: Callable[[User, str, str | None, Position | None, int], Sequence[Entry]]
    # A SELECT of (key, count) rows, keys prefixed "<name>:", read with every other feed's
    # in one UNION ALL; then folded into counts by folder, Archive, Trash and UNSEEN.
    count_sql: Callable[[User, datetime], tuple[str, list[Any]]]
    fold_counts: Callable[[User, dict[str, int]], dict[str, int]]
    # Opening the Message Center: what is new up to this moment is seen. Given how many of
    # its rows the counts found unseen; returns how many it marked.
    mark_seen: Callable[[User, datetime, int], int]
    # What the Message Center's bulk bar can do to the feed's rows selected beside
    # conversations, by action name ("trash", "read"…).
    bulk_actions: Mapping[str, Callable[[User, Sequence[Any]], int]] = field(default_factory=dict)


_feeds: dict[str, Feed] = {}


def register_feed(feed: Feed) -> None:
    _feeds[feed.name] = feed


def feeds() -> list[Feed]:
    """Highest rank first, the order rows of one time are listed in."""
    return sorted(_feeds.values(), key=lambda feed: -feed.rank)


def bulk_action_of_feed(name: str, action: str) -> Callable[[User, Sequence[Any]], int] | None:
    feed = _feeds.get(name)
    return None if feed is None else feed.bulk_actions.get(action)
