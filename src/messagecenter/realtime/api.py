"""Catch-up for devices that poll: GET /api/v1/sync/events?after=N (docs/api.md). The
stream itself, /api/v1/sync/stream, is the async view in realtime/views.py."""

from typing import Annotated, Any

import pydantic
from django.conf import settings
from ninja import Router, Schema

from messagecenter.api_support import ApiRequest, QueryNumber
from messagecenter.realtime import queries
from messagecenter.rows import MAX_ID

router = Router(tags=["sync"])

# Numbers in the query string: digits only (QueryNumber), and a sequence number is 64-bit
# like an id (a larger one cannot exist).
Position = Annotated[QueryNumber, pydantic.Field(ge=0, le=MAX_ID)]
EventsLimit = Annotated[
    QueryNumber, pydantic.Field(ge=1, le=settings.REALTIME_EVENTS_PAGE_MAX_SIZE)
]


class EventOut(Schema):
    # The person's sequence number: pass the last one seen as `after`.
    id: int
    kind: str
    payload: dict[str, Any]
    created_at: str


class EventsOut(Schema):
    # Present and true when the events after `after` are no longer all kept: refetch the
    # state, then continue from `last_sequence`.
    resync: bool
    events: list[EventOut]
    last_sequence: int
    has_more: bool


@router.get("/events", response=EventsOut, summary="Events since a sequence number")
def list_events(request: ApiRequest, after: Position = 0, limit: EventsLimit = 100) -> EventsOut:
    """The person's events with a sequence above `after`, oldest first. Ask again with
    `after=last_sequence` while `has_more`; with `resync`, refetch and use `last_sequence`."""
    page = queries.events_after(request.auth, after, limit)
    return EventsOut(
        resync=page.resync,
        events=[
            EventOut(
                id=event.sequence,
                kind=event.kind,
                payload=event.payload,
                created_at=event.created_at.isoformat(),
            )
            for event in page.events
        ],
        last_sequence=page.last_sequence,
        has_more=page.has_more,
    )
