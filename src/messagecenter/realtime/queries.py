"""Reading a person's event log: what a device missed since its last sequence number
(docs/realtime.md)."""

from dataclasses import dataclass

from messagecenter.accounts.models import User
from messagecenter.realtime.models import EventStream, UserEvent


@dataclass(frozen=True)
class EventsPage:
    """The events after a device's position, oldest first.

    `last_sequence` is where the device stands after applying this page (the last event's
    sequence, or its own position when there is nothing new). With `resync`, the events it
    missed are no longer all kept (or its position is not one this log ever reached): it
    must refetch its state and continue from `last_sequence`, the log's newest event.
    """

    events: list[UserEvent]
    last_sequence: int
    has_more: bool
    resync: bool = False


def events_after(user: User | int, after: int, limit: int) -> EventsPage:
    """Up to `limit` of the person's events with a sequence above `after`.

    One index range scan on (user, sequence) in the common case; a second small read of
    the stream row when there is nothing new, to tell "up to date" from "ahead of the log".
    The log has no gaps (docs/realtime.md), so the first event after `after` is `after + 1`
    exactly when nothing the device needs was purged.
    """
    user_id = user if isinstance(user, int) else user.pk
    rows = list(
        UserEvent.objects.filter(user_id=user_id, sequence__gt=after).order_by("sequence")[
            : limit + 1
        ]
    )
    if rows and rows[0].sequence != after + 1:
        return _resync(user_id)
    if not rows:
        if after > 0 and after > last_sequence_of(user_id):
            return _resync(user_id)
        return EventsPage(events=[], last_sequence=after, has_more=False)
    events = rows[:limit]
    return EventsPage(events=events, last_sequence=events[-1].sequence, has_more=len(rows) > limit)


def last_sequence_of(user_id: int) -> int:
    """The newest sequence number handed out to the person; 0 before their first event."""
    found = EventStream.objects.filter(user_id=user_id).values_list("last_sequence", flat=True)
    return next(iter(found), 0)


def _resync(user_id: int) -> EventsPage:
    return EventsPage(
        events=[], last_sequence=last_sequence_of(user_id), has_more=False, resync=True
    )
