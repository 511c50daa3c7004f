"""How search learns which broadcasts (important notices, promotions) a person may find.

A broadcast is one row plus an audience rule, fanned out when read (docs/notifications.md):
search indexes each broadcast once (search.models.BroadcastDocument) and, when someone
searches, keeps only the broadcasts that apply to them now and that they did not delete.
That rule is the notifications app's, which fills this registry when Django starts
(NotificationsConfig.ready); search never imports notifications, which sits above it.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from messagecenter.accounts.models import User

# The columns of BroadcastSource.visible_sql's SELECT, in this order.
VISIBLE_COLUMNS = ("id", "kind", "subject", "body", "sent_at", "box", "is_read")


@dataclass(frozen=True)
class BroadcastSource:
    # A SELECT of the broadcasts the person sees now, in Inbox, Archive or Trash (live, in
    # their audience, not deleted by them), with the columns VISIBLE_COLUMNS: `box` is
    # theirs ("inbox" when they never acted on it), `is_read` 1 or 0. Given a topical folder
    # (hub.boxes.Folder): only the broadcasts filed there, None when none can be. Promotions
    # only when the person has them shown. (sql, params), for use as a subquery.
    visible_sql: Callable[[User, datetime, str | None], tuple[str, list[Any]] | None]
    # (id, subject, body) of the broadcasts after an id, in id order, at most `limit`: what
    # rebuild_search_index writes their documents from.
    texts_after: Callable[[int, int], list[tuple[int, str, str]]]


_registered: list[BroadcastSource] = []


def register_broadcast_source(source: BroadcastSource) -> None:
    _registered[:] = [source]


def broadcast_source() -> BroadcastSource:
    if not _registered:
        raise LookupError("No app registered broadcasts for search (notifications not installed).")
    return _registered[0]
