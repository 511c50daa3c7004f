"""Sending limits (docs/safety.md#sending-limits): how many messages a buyer or a seller
may send per minute, hour and day, stricter for new accounts and for first contacts
(messages to someone who has never written back).

Counted in the send's transaction by one statement: an upsert of the sender's
`SendingCount` row that starts a window's count again when the window changed and returns
the new counts. In a batch of sends (db/group_commit.py) the batch reads its senders' rows
once (locked on PostgreSQL; SQLite's batch holds the one write lock), each send counts in
what was read, by the same rules, and the batch writes the rows once after its last send.
A refused send rolls back with everything else, so it is not counted.
Fixed UTC windows: a sender may fit up to twice a limit around a window's edge, which
limits that exist to stop floods, not to meter, can afford.
"""

import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.conversations.models import Conversation
from messagecenter.db import group_commit
from messagecenter.errors import NotAllowed, TooManyRequests
from messagecenter.rows import people_rows_locker, statement_cursor, update_rows
from messagecenter.safety.models import SendingCount

PERIODS = {"minute": 60, "hour": 3600, "day": 86400}
# The clock the windows are read from (tests move it).
_now = time.time


@dataclass(frozen=True)
class Limits:
    """Messages per period (0: no limit)."""

    minute: int = 0
    hour: int = 0
    day: int = 0

    @classmethod
    def parse(cls, pairs: list[str], *, setting: str) -> "Limits":
        values: dict[str, int] = {}
        for pair in pairs:
            period, _, count = pair.partition("=")
            period = period.strip()
            if period not in PERIODS or not count.strip().isdigit():
                raise ValueError(
                    f"{setting}: {pair!r} is not period=count with a period of "
                    f"{', '.join(PERIODS)}."
                )
            values[period] = int(count)
        return cls(**values)


def configured_limits() -> tuple[Limits, Limits, Limits, Limits]:
    """(everyone, new accounts, first contacts, new accounts' first contacts)."""
    return (
        Limits.parse(settings.SAFETY_SEND_LIMITS, setting="SAFETY_SEND_LIMITS"),
        Limits.parse(
            settings.SAFETY_NEW_ACCOUNT_SEND_LIMITS, setting="SAFETY_NEW_ACCOUNT_SEND_LIMITS"
        ),
        Limits.parse(settings.SAFETY_FIRST_CONTACT_LIMITS, setting="SAFETY_FIRST_CONTACT_LIMITS"),
        Limits.parse(
            settings.SAFETY_NEW_ACCOUNT_FIRST_CONTACT_LIMITS,
            setting="SAFETY_NEW_ACCOUNT_FIRST_CONTACT_LIMITS",
        ),
    )


_TABLE = SendingCount._meta.db_table
# Every assignment reads the row as it was (SQL's UPDATE semantics, on both databases), so
# each count is compared with its window's old number before the number moves on.
_UPSERT = f"""
INSERT INTO {_TABLE} AS counts (
    user_id, minute, minute_sends, hour, hour_sends, first_contact_hour_sends,
    day, day_sends, first_contact_day_sends
) VALUES (%s, %s, 1, %s, 1, %s, %s, 1, %s)
ON CONFLICT (user_id) DO UPDATE SET
    minute_sends = CASE WHEN counts.minute = excluded.minute
        THEN counts.minute_sends + 1 ELSE 1 END,
    hour_sends = CASE WHEN counts.hour = excluded.hour
        THEN counts.hour_sends + 1 ELSE 1 END,
    first_contact_hour_sends = CASE WHEN counts.hour = excluded.hour
        THEN counts.first_contact_hour_sends + excluded.first_contact_hour_sends
        ELSE excluded.first_contact_hour_sends END,
    day_sends = CASE WHEN counts.day = excluded.day
        THEN counts.day_sends + 1 ELSE 1 END,
    first_contact_day_sends = CASE WHEN counts.day = excluded.day
        THEN counts.first_contact_day_sends + excluded.first_contact_day_sends
        ELSE excluded.first_contact_day_sends END,
    minute = excluded.minute,
    hour = excluded.hour,
    day = excluded.day
RETURNING minute_sends, hour_sends, day_sends, first_contact_hour_sends, first_contact_day_sends,
    restricted_at
"""


# The columns a send moves, in the order _Counts holds them.
_COUNTED = (
    "minute",
    "minute_sends",
    "hour",
    "hour_sends",
    "first_contact_hour_sends",
    "day",
    "day_sends",
    "first_contact_day_sends",
)


@dataclass(slots=True)
class _Counts:
    """A sender's row as a batch read it (locked), moved by each of the batch's sends by
    the rules of _UPSERT, and written once after the batch's last send (_write_counts).
    Its fields: user_id, then _COUNTED's, then restricted_at."""

    user_id: int
    minute: int
    minute_sends: int
    hour: int
    hour_sends: int
    first_contact_hour_sends: int
    day: int
    day_sends: int
    first_contact_day_sends: int
    restricted_at: datetime | None

    def count(self, minute: int, hour: int, day: int, first: int) -> None:
        """_UPSERT's SET, in Python: each count compared with its window's old number
        before the numbers move on."""
        self.minute_sends = self.minute_sends + 1 if self.minute == minute else 1
        if self.hour == hour:
            self.hour_sends += 1
            self.first_contact_hour_sends += first
        else:
            self.hour_sends, self.first_contact_hour_sends = 1, first
        if self.day == day:
            self.day_sends += 1
            self.first_contact_day_sends += first
        else:
            self.day_sends, self.first_contact_day_sends = 1, first
        self.minute, self.hour, self.day = minute, hour, day

    def returned(self) -> tuple[int, int, int, int, int, datetime | None]:
        """What _UPSERT's RETURNING gives, in its order."""
        return (
            self.minute_sends,
            self.hour_sends,
            self.day_sends,
            self.first_contact_hour_sends,
            self.first_contact_day_sends,
            self.restricted_at,
        )


def counts_for_batch(senders: list[int]) -> dict[int, _Counts]:
    """A group commit's batch reads its senders' rows before its sends run, in the place
    a send alone takes its sender's (after the participants, before the counters and
    event streams), so a batch and a lone send never wait for each other in a cycle; on
    PostgreSQL locked, on SQLite read under the batch's write lock. A sender without a row
    (their first send ever) counts by the upsert, in their send: a row that does not exist
    cannot be locked, so then a batch can still meet a lone send in a cycle once, and
    PostgreSQL's deadlock detector ends one."""
    if not senders:
        return {}
    return {row[0]: _Counts(*row) for row in _READ_COUNTS(*senders, shape=len(senders))}


# Compiled once per number of senders, not on every batch.
_READ_COUNTS = people_rows_locker(
    SendingCount, "user_id", columns=("user_id", *_COUNTED, "restricted_at")
)


def _write_counts(changed: list[_Counts]) -> None:
    """The rows a batch's sends counted in, each once, as they now are: one UPDATE."""
    rows = {counts.user_id: counts for counts in changed}
    update_rows(
        SendingCount,
        _COUNTED,
        [(pk, *(getattr(rows[pk], column) for column in _COUNTED)) for pk in sorted(rows)],
    )


def count_send(
    sender: User,
    conversation: Conversation,
    is_first_contact: bool,
    batch: dict[int, _Counts] | None = None,
) -> None:
    """Registered into conversations.send_checks: the marketplace and its agents are not
    limited; a buyer's or seller's send is counted, and refused once a limit is passed.
    `batch`: the rows its batch read (counts_for_batch)."""
    if sender.role not in (Role.BUYER, Role.SELLER):
        return
    everyone, new_accounts, first_contacts, new_first_contacts = configured_limits()
    is_new = sender.date_joined > timezone.now() - timedelta(days=settings.SAFETY_NEW_ACCOUNT_DAYS)
    limits = new_accounts if is_new else everyone
    first_limits = new_first_contacts if is_new else first_contacts
    now = _now()
    minute, hour, day = (int(now // seconds) for seconds in PERIODS.values())
    first = 1 if is_first_contact else 0
    counts = None if batch is None else batch.get(sender.pk)
    if counts is not None:
        counts.count(minute, hour, day, first)
        # Written once for the batch, in its savepoint, where the row's lock is held.
        group_commit.together(_write_counts, [counts], early=True)
        row: Sequence[Any] = counts.returned()
    else:
        # The send's kept cursor (rows.statement_cursor), every row fetched.
        cursor = statement_cursor()
        cursor.execute(_UPSERT, [sender.pk, minute, hour, first, day, first])
        [row] = cursor.fetchall()
    minute_sends, hour_sends, day_sends, first_hour_sends, first_day_sends, restricted_at = row
    if restricted_at is not None and is_first_contact:
        # A confirmed report restricted the sender (docs/safety.md#reports).
        raise NotAllowed(
            "Your account is restricted after a review by customer service: you can answer "
            "people who write to you, but not write to someone first, so this message was "
            "not sent.",
            code="sender_restricted",
        )
    checks = [
        ("minute", minute_sends, limits.minute, False),
        ("hour", hour_sends, limits.hour, False),
        ("day", day_sends, limits.day, False),
    ]
    if is_first_contact:
        checks += [
            ("hour", first_hour_sends, first_limits.hour, True),
            ("day", first_day_sends, first_limits.day, True),
        ]
    for period, sent, limit, first_contact in checks:
        if limit and sent > limit:
            raise _refusal(period, limit, now, first_contact=first_contact, is_new=is_new)


def _refusal(
    period: str, limit: int, now: float, *, first_contact: bool, is_new: bool
) -> TooManyRequests:
    seconds = PERIODS[period]
    retry_after = int(seconds - now % seconds) + 1
    what = (
        f"{_messages(limit)} per {period} to people who have not written to you yet"
        if first_contact
        else f"{_messages(limit)} per {period}"
    )
    newcomer = " while your account is new" if is_new else ""
    return TooManyRequests(
        f"You have reached the limit of {what}{newcomer}, so this message was not sent. "
        f"You can send again in {_wait(retry_after)}.",
        retry_after=retry_after,
        code="first_contact_limit" if first_contact else "too_many_messages",
    )


def _messages(count: int) -> str:
    return "1 message" if count == 1 else f"{count} messages"


def _wait(seconds: int) -> str:
    if seconds < 120:
        return f"{seconds} seconds"
    if seconds < 2 * 3600:
        return f"{(seconds + 59) // 60} minutes"
    return f"{(seconds + 3599) // 3600} hours"
