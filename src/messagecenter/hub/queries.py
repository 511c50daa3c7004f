"""The Message Center's merged list and its counts, read through the registered feeds
(feeds.py): every list of conversations and broadcasts a person sees, and the header
badge."""

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime

from django.conf import settings
from django.db import connection
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.errors import InvalidInput
from messagecenter.hub.boxes import COUNTER_KEYS, UNSEEN, VISIBLE_BOXES, Box, Folder
from messagecenter.hub.cursors import decode_cursor, encode_cursor
from messagecenter.hub.feeds import Entry, Feed, Position, feeds


@dataclass(frozen=True)
class MessageCenterPage:
    # Every row of the page, of any feed, newest first.
    entries: list[Entry]
    next_cursor: str | None


def message_center_page(
    user: User,
    *,
    box: str = Box.INBOX,
    folder: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> MessageCenterPage:
    """One page of a person's Message Center, newest first: each feed's rows after the
    cursor (one query each, docs/notifications.md), merged by time."""
    if box not in VISIBLE_BOXES:
        raise InvalidInput(f"Unknown box {box!r}.", code="invalid_box")
    if folder is not None and folder not in Folder.values:
        raise InvalidInput(f"Unknown folder {folder!r}.", code="invalid_folder")
    page_size = limit or settings.INBOX_PAGE_SIZE
    after = _decode_position(cursor) if cursor else None
    merged: list[tuple[Position, Feed, Entry]] = [
        ((row.last_activity_at, feed.rank, row.pk), feed, row)
        for feed in feeds()
        for row in feed.rows(user, box, folder, after, page_size + 1)
    ]
    merged.sort(key=lambda found: found[0], reverse=True)
    next_cursor = None
    if len(merged) > page_size:
        merged = merged[:page_size]
        (time, _, identifier), feed, _ = merged[-1]
        next_cursor = encode_cursor(time, identifier, marker=feed.cursor_marker)
    return MessageCenterPage(entries=[row for _, _, row in merged], next_cursor=next_cursor)


def _decode_position(cursor: str) -> Position:
    """`time~<marker><id>`: the marker says which feed's row it was."""
    timestamp, _, identifier = cursor.rpartition("~")
    for feed in feeds():
        if feed.cursor_marker and identifier.startswith(feed.cursor_marker):
            time, last_id = decode_cursor(f"{timestamp}~{identifier[len(feed.cursor_marker) :]}")
            return (time, feed.rank, last_id)
    unmarked = next(feed for feed in feeds() if not feed.cursor_marker)
    time, last_id = decode_cursor(cursor)
    return (time, unmarked.rank, last_id)


@dataclass(frozen=True)
class MessageCenterCounts:
    # Unread per folder, "all" (the inbox), Archive, Trash, and UNSEEN (the badge).
    counts: dict[str, int]
    # Of UNSEEN, how many each feed has: what opening the Message Center has to mark.
    unseen_by_feed: dict[str, int]


def unread_counts(user: User, *, now: datetime | None = None) -> dict[str, int]:
    """What is unread per folder, Archive and Trash, plus "all" (the inbox) and "unseen"
    (the header badge): one statement, every feed's counts in one UNION ALL."""
    return message_center_counts(user, now=now).counts


def message_center_counts(user: User, *, now: datetime | None = None) -> MessageCenterCounts:
    now = now or timezone.now()
    registered = feeds()
    selects = [feed.count_sql(user, now) for feed in registered]
    found: dict[str, dict[str, int]] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(
            " UNION ALL ".join(sql for sql, _ in selects),
            [param for _, params in selects for param in params],
        )
        for key, count in cursor.fetchall():
            feed_name, _, feed_key = key.partition(":")
            found[feed_name][feed_key] = count
    counts = dict.fromkeys(COUNTER_KEYS, 0)
    unseen_by_feed = {}
    for feed in registered:
        folded = feed.fold_counts(user, found[feed.name])
        unseen_by_feed[feed.name] = folded.pop(UNSEEN, 0)
        for key, count in folded.items():
            counts[key] += count
    counts[UNSEEN] = sum(unseen_by_feed.values())
    counts["all"] = sum(counts[folder] for folder in Folder.values)
    return MessageCenterCounts(counts=counts, unseen_by_feed=unseen_by_feed)
