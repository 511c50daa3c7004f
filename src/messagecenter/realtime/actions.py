"""Writing to the per-user event log. Called by other apps' actions inside their
transaction; never on its own."""

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import partial
from typing import Any

from django.conf import settings
from django.db import connection, transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

from messagecenter.realtime import pubsub
from messagecenter.realtime.models import EventKind, EventStream, UserEvent
from messagecenter.rows import insert_rows, statement_cursor


@dataclass(frozen=True)
class PendingEvent:
    user_id: int
    kind: str
    payload: dict[str, Any] = field(default_factory=dict)


def record_events(events: Iterable[PendingEvent]) -> None:
    """Append events to their users' logs, in the given order per user.

    Two statements for any number of users: one UPDATE … RETURNING that allocates the
    sequence numbers (and row-locks each user's stream until commit), one bulk INSERT.
    """
    pending = list(events)
    if not pending:
        return
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
        rows.append((event.user_id, sequence, event.kind, event.payload, now))
    # Written once per process and number of rows, not compiled per send; as tuples
    # (rows.insert_rows): no model instance per event.
    insert_rows(UserEvent, ("user_id", "sequence", "kind", "payload", "created_at"), rows)
    # Pub/sub only wakes the open streams, which then read the log: after commit, so a
    # woken stream always finds the events (docs/realtime.md). Robust: the publishes of a
    # batch of sends (db/group_commit.py) share one commit, and a wake-up that fails
    # (logged) must not keep the others from going out; a stream missing one catches up
    # at its next wake-up or reconnection.
    transaction.on_commit(partial(pubsub.publish, sorted(wanted)), robust=True)


# What a person wrote, as events carry it: gone from the log when the person deletes the
# conversation for ever (the event stays, in its place, saying only what happened).
CONTENT_KEYS = ("preview", "sender_name")


def forget_conversation_content(deleted: Iterable[tuple[int, int]]) -> int:
    """Remove the previews and names from each (user, conversation)'s events, in the
    deleting action's transaction; the retention purge would have kept them for up to
    REALTIME_EVENT_RETENTION_DAYS. Returns how many events changed."""
    by_user: dict[int, set[int]] = defaultdict(set)
    for user_id, conversation_id in deleted:
        by_user[user_id].add(conversation_id)
    if not by_user:
        return 0
    condition = Q()
    for user_id, conversation_ids in by_user.items():
        condition |= Q(user_id=user_id, payload__conversation_id__in=sorted(conversation_ids))
    events = list(
        UserEvent.objects.filter(condition, kind=EventKind.MESSAGE_CREATED).only("id", "payload")
    )
    for event in events:
        event.payload = {
            key: value for key, value in event.payload.items() if key not in CONTENT_KEYS
        } | {"content_removed": True}
    UserEvent.objects.bulk_update(events, ["payload"], batch_size=500)
    return len(events)


def announce_broadcast(broadcast_id: int) -> None:
    """Nudge the open streams of everyone in a broadcast's audience, in every server
    process, after the transaction that publishes it commits: each stream whose person is
    in the audience gets `event: broadcast` with `{"broadcast_id": …}` and no `id`
    (docs/realtime.md). A broadcast fans out on read, so this writes nothing to anyone's
    log: a device that misses the nudge sees the broadcast when it next refetches."""
    transaction.on_commit(partial(pubsub.announce, broadcast_id), robust=True)


def nudge_after_commit(
    kind: str, payload: dict[str, Any], user_ids: Iterable[int] | None = None
) -> None:
    """After the transaction commits, send `event: <kind>` with the payload and no `id` to
    the open streams of `user_ids`, or (None) of the audience its kind registered
    (realtime/audiences.py), in every server process. Written to nobody's log: a device
    that misses it refetches what it shows when it reconnects (docs/realtime.md,
    "Nudges")."""
    chosen = None if user_ids is None else tuple(sorted(set(user_ids)))
    transaction.on_commit(partial(pubsub.nudge, pubsub.Nudge(kind, payload, chosen)), robust=True)


def nudge_now(kind: str, payload: dict[str, Any], user_ids: Iterable[int]) -> None:
    """The same at once, for what is never stored (someone typing)."""
    pubsub.nudge(pubsub.Nudge(kind, payload, tuple(sorted(set(user_ids)))))


def _allocate(counts: dict[int, int]) -> dict[int, int]:
    """Advance each user's stream by its count; returns the new last sequence per user."""
    table = connection.ops.quote_name(EventStream._meta.db_table)
    # Grouped by count so one statement serves the common case (every user gets one event).
    by_count: dict[int, list[int]] = {}
    for user_id, count in counts.items():
        by_count.setdefault(count, []).append(user_id)
    result: dict[int, int] = {}
    # The send's kept cursor (rows.statement_cursor).
    cursor = statement_cursor()
    for count, user_ids in sorted(by_count.items()):
        placeholders = ", ".join(["%s"] * len(user_ids))
        cursor.execute(
            f"UPDATE {table} SET last_sequence = last_sequence + %s "
            f"WHERE user_id IN ({placeholders}) RETURNING user_id, last_sequence",
            [count, *sorted(user_ids)],
        )
        result.update({int(user_id): int(last) for user_id, last in cursor.fetchall()})
    return result


def purge_old_events(*, now: datetime | None = None, batch_size: int = 1000) -> int:
    """Delete events older than REALTIME_EVENT_RETENTION_DAYS, in batches so no lock is
    held for long. Each person's newest event is kept however old: a device that asks
    after an older position then gets an explicit resync, never a silent gap
    (realtime/queries.py). Runs periodically in the worker; safe to run twice."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.REALTIME_EVENT_RETENTION_DAYS)
    newest = EventStream.objects.filter(user_id=OuterRef("user_id")).values("last_sequence")
    purged = 0
    while True:
        with transaction.atomic():
            # Oldest first, along the created_at index: a range scan that stops at the
            # batch size, and finds nothing at once when nothing is old.
            batch = list(
                UserEvent.objects.filter(created_at__lt=cutoff, sequence__lt=Subquery(newest))
                .order_by("created_at")
                .values_list("id", flat=True)[:batch_size]
            )
            if not batch:
                return purged
            purged += UserEvent.objects.filter(id__in=batch).delete()[0]
