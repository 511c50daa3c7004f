"""The API's notices and promotions (docs/api.md, docs/notifications.md): a page of the
broadcasts that apply to the person, one broadcast, and actions on them. Their unread and
unseen counts are in GET /folders with the conversations'; POST /seen sees them too.

A client shows "All" (or Notices, Promotions, Archive, Trash) by merging GET /broadcasts
with GET /conversations of the same box and folder by time: both are newest first."""

from datetime import datetime
from typing import Literal

from django.conf import settings
from ninja import Router, Schema

from messagecenter.api_support import ApiRequest, BodyId, Id, PageLimit, Text
from messagecenter.errors import InvalidInput
from messagecenter.hub.boxes import Box
from messagecenter.hub.cursors import decode_cursor, encode_cursor
from messagecenter.hub.feeds import Position
from messagecenter.notifications import queries
from messagecenter.notifications.bulk import BROADCAST_ACTIONS
from messagecenter.notifications.models import BroadcastKind
from messagecenter.notifications.queries import BROADCAST_RANK, BroadcastItem

router = Router(tags=["notices and promotions"])

ListBox = Literal["inbox", "archive", "trash"]
BroadcastFolder = Literal["notices", "promotions"]


class BroadcastOut(Schema):
    id: int
    kind: BroadcastKind
    # "notices" or "promotions": the Message Center folder it is in.
    folder: BroadcastFolder
    box: ListBox
    subject: str
    # From the marketplace itself: always official.
    is_official: bool
    sender_name: str
    preview: str
    sent_at: datetime
    expires_at: datetime | None
    is_read: bool


class BroadcastDetailOut(BroadcastOut):
    # Plain text; paragraphs are separated by blank lines.
    body: str


class BroadcastPageOut(Schema):
    items: list[BroadcastOut]
    # Pass as `cursor` for the next (older) page; null on the last page.
    next_cursor: str | None


class ChangedOut(Schema):
    # How many broadcasts changed (those already in the asked state do not count).
    changed: int


def _box(box: str) -> ListBox:
    if box == Box.ARCHIVE:
        return "archive"
    if box == Box.TRASH:
        return "trash"
    return "inbox"


def broadcast_out(item: BroadcastItem) -> BroadcastOut:
    broadcast = item.broadcast
    return BroadcastOut(
        id=broadcast.pk,
        kind=BroadcastKind(broadcast.kind),
        folder="promotions" if broadcast.kind == BroadcastKind.PROMOTION else "notices",
        box=_box(item.box),
        subject=broadcast.subject,
        is_official=True,
        sender_name="Marketplace",
        preview=broadcast.body[:140],
        sent_at=broadcast.send_at,
        expires_at=broadcast.expires_at,
        is_read=item.is_read,
    )


def _decode_cursor(cursor: str) -> Position:
    sent_at, last_id = decode_cursor(cursor)
    return (sent_at, BROADCAST_RANK, last_id)


@router.get("/broadcasts", response=BroadcastPageOut, summary="A page of notices and promotions")
def list_broadcasts(
    request: ApiRequest,
    box: ListBox = "inbox",
    folder: BroadcastFolder | None = None,
    cursor: Text | None = None,
    limit: PageLimit = settings.INBOX_PAGE_SIZE,
) -> BroadcastPageOut:
    """The marketplace's notices and promotions for this person, newest first: those due,
    not expired, whose audience includes them. Promotions switched off in the Message
    Center are left out."""
    if box != "inbox" and folder is not None:
        raise InvalidInput("Archive and Trash take no folder.", code="invalid_folder")
    after = _decode_cursor(cursor) if cursor else None
    items = queries.broadcast_rows(
        request.auth, box=box, folder=folder, after=after, limit=limit + 1
    )
    next_cursor = None
    if len(items) > limit:
        items = items[:limit]
        next_cursor = encode_cursor(items[-1].broadcast.send_at, items[-1].pk)
    return BroadcastPageOut(items=[broadcast_out(item) for item in items], next_cursor=next_cursor)


BroadcastAction = Literal["read", "unread", "archive", "inbox", "trash", "restore", "delete"]


class BroadcastActionIn(Schema):
    action: BroadcastAction
    broadcast_ids: list[BodyId]


@router.post(
    "/broadcasts/actions", response=ChangedOut, summary="Act on selected notices and promotions"
)
def act_on_broadcasts(request: ApiRequest, payload: BroadcastActionIn) -> ChangedOut:
    """All or nothing: one id that is not yours (or does not exist) fails the request with
    404 and changes nothing. At most 500 at once; `delete` (for ever) only from Trash."""
    return ChangedOut(
        changed=BROADCAST_ACTIONS[payload.action](request.auth, payload.broadcast_ids)
    )


# After /broadcasts/actions, which the path of one broadcast would otherwise shadow.
@router.get(
    "/broadcasts/{broadcast_id}", response=BroadcastDetailOut, summary="One notice or promotion"
)
def get_broadcast(request: ApiRequest, broadcast_id: Id) -> BroadcastDetailOut:
    """Reading does not mark it read (unlike opening the web page): send the `read`
    action. Not for you and missing are the same 404 broadcast_not_found."""
    item = queries.access_broadcast(request.auth, broadcast_id)
    return BroadcastDetailOut(**broadcast_out(item).model_dump(), body=item.broadcast.body)
