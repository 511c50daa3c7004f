"""Writing to the per-user event log. Called by other apps' actions inside their
transaction; never on its own."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db import connection
from django.utils import timezone

from messagecenter.realtime.models import EventStream, UserEvent


@dataclass(frozen=True)
class PendingEvent:
    user_id: int
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


def record_events(events: Iterable[PendingEvent]) -> list[UserEvent]:
    """Append events to their users' logs, in the given order per user.

    Two statements for any number of users: one UPDATE … RETURNING that allocates the
    sequence numbers (and row-locks each user's stream until commit), one bulk INSERT.
    """
    pending = list(events)
    if not pending:
        return []
    if not connection.in_atomic_block:
        raise RuntimeError("record_events must run inside the action's transaction")
    wanted: dict[int, int] = {}
    for event in pending:
        wanted[event.user_id] = wanted.get(event.user_id, 0) + 1
    last_by_user = _allocate(wanted)
    missing = wanted.keys() - last_by_user.keys()
    if missing:
        EventStream.objects.bulk_create(
            [EventStream(user_id=user_id) for user_id in sorted(missing)], ignore_conflicts=True
        )
        last_by_user |= _allocate({user_id: wanted[user_id] for user_id in missing})
    # Number each user's events from the first allocated one, in the order given.
    next_by_user = {user_id: last_by_user[user_id] - wanted[user_id] + 1 for user_id in wanted}
    now = timezone.now()
    rows = []
    for event in pending:
        sequence = next_by_user[event.user_id]
        next_by_user[event.user_id] = sequence + 1
        rows.append(
            UserEvent(
                user_id=event.user_id,
                sequence=sequence,
                kind=event.kind,
                payload=event.payload,
                created_at=now,
            )
        )
    return UserEvent.objects.bulk_create(rows)


def _allocate(counts: dict[int, int]) -> dict[int, int]:
    """Advance each user's stream by its count; returns the new last sequence per user."""
    table = connection.ops.quote_name(EventStream._meta.db_table)
    # Grouped by count so one statement serves the common case (every user gets one event).
    by_count: dict[int, list[int]] = {}
    for user_id, count in counts.items():
        by_count.setdefault(count, []).append(user_id)
    result: dict[int, int] = {}
    with connection.cursor() as cursor:
        for count, user_ids in sorted(by_count.items()):
            placeholders = ", ".join(["%s"] * len(user_ids))
            cursor.execute(
                f"UPDATE {table} SET last_sequence = last_sequence + %s "
                f"WHERE user_id IN ({placeholders}) RETURNING user_id, last_sequence",
                [count, *sorted(user_ids)],
            )
            result.update({int(user_id): int(last) for user_id, last in cursor.fetchall()})
    return result
