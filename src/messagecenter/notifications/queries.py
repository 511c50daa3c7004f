"""Reads of broadcasts: which ones apply to a person now (fan-out on read), their states,
counts for the badges, and the audience for e-mail and realtime (docs/notifications.md).

A person's broadcasts are found by one query over the live broadcasts (index
broadcast_live_recent or broadcast_kind_live_recent: not cancelled, newest first) with the
audience rule evaluated against the person, LEFT JOINed to that person's BroadcastState.
Its cost follows the number of live broadcasts, never the number of people.
"""

from collections.abc import Collection
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from django.db import connection
from django.db.models import (
    Exists,
    F,
    FilteredRelation,
    OuterRef,
    Q,
    QuerySet,
)
from django.db.models.lookups import Exact, GreaterThan
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.errors import NotFound
from messagecenter.hub.boxes import UNSEEN, VISIBLE_BOXES, Box, Folder
from messagecenter.hub.feeds import Position
from messagecenter.notifications.models import (
    Audience,
    Broadcast,
    BroadcastKind,
    BroadcastRecipient,
)
from messagecenter.rows import parse_id

# Ids are 64-bit; a larger number given by a person is "not found", not a driver error.
# Before any broadcast: the "seen until" of a person who never opened the Message Center.
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)

FOLDER_OF_BROADCAST_KIND: dict[str, str] = {
    BroadcastKind.NOTICE: Folder.NOTICES,
    BroadcastKind.PROMOTION: Folder.PROMOTIONS,
}
BROADCAST_KIND_OF_FOLDER = {folder: kind for kind, folder in FOLDER_OF_BROADCAST_KIND.items()}
# In a list merged with conversations, at the same time conversations come first
# (hub/feeds.py).
BROADCAST_RANK = 0


@dataclass(frozen=True)
class BroadcastItem:
    """One broadcast as one person sees it: their box and read state (no state row:
    unread, in the inbox)."""

    broadcast: Broadcast
    box: str
    is_read: bool
    trashed_at: datetime | None = None

    @property
    def pk(self) -> int:
        return self.broadcast.pk

    @property
    def folder(self) -> str:
        return FOLDER_OF_BROADCAST_KIND[self.broadcast.kind]

    @property
    def last_activity_at(self) -> datetime:
        return self.broadcast.send_at

    @property
    def sort_key(self) -> Position:
        return (self.broadcast.send_at, BROADCAST_RANK, self.broadcast.pk)


def live(now: datetime) -> Q:
    """Due, not expired, not cancelled."""
    return Q(cancelled_at__isnull=True, send_at__lte=now) & (
        Q(expires_at__isnull=True) | Q(expires_at__gt=now)
    )


def audience_includes(user: User, now: datetime) -> Q:
    """The audience rules that include this person, decided from the person's own row so
    the database only compares constants (a list audience looks the person up in it)."""
    audiences = [Audience.EVERYONE]
    if user.role == Role.BUYER:
        audiences.append(Audience.BUYERS)
    if user.role == Role.SELLER:
        audiences.append(Audience.SELLERS)
    if user.is_member(now):
        audiences.append(Audience.MEMBERS)
    rule = Q(audience__in=audiences)
    if user.country:
        rule |= Q(audience=Audience.COUNTRY, country=user.country)
    on_list = BroadcastRecipient.objects.filter(broadcast_id=OuterRef("pk"), user_id=user.pk)
    return rule | Q(Q(audience=Audience.LIST), Exists(on_list))


def promotions_shown(user: User) -> bool:
    """Promotions can be switched off in the Message Center too: the switch is on the user
    row (accounts.User.shows_promotions, delivery/preferences.py), read with the request,
    so asking costs nothing. The same switch hides promotion conversations
    (conversations/queries.py)."""
    return user.shows_promotions


def _for(user: User, now: datetime) -> QuerySet[Broadcast]:
    """The live broadcasts for this person, with their state joined (alias `mine`)."""
    return (
        Broadcast.objects.filter(live(now))
        .filter(audience_includes(user, now))
        .annotate(mine=FilteredRelation("states", condition=Q(states__user=user.pk)))
    )


def _items(rows: QuerySet[Broadcast]) -> list[BroadcastItem]:
    broadcasts = rows.annotate(
        state_box=F("mine__box"),
        state_is_read=F("mine__is_read"),
        state_trashed_at=F("mine__trashed_at"),
    )
    return [
        BroadcastItem(
            broadcast=broadcast,
            box=broadcast.state_box or Box.INBOX,
            is_read=bool(broadcast.state_is_read),
            trashed_at=broadcast.state_trashed_at,
        )
        for broadcast in broadcasts
    ]


# The hot paths (every Message Center page and badge) are written as fixed-shape SQL:
# the person's attributes are parameters, never a different query, so there is nothing to
# compile per request (Django's ORM spent ~5 ms building these; the database ~0.1 ms).
LIVE_SQL = (
    "b.cancelled_at IS NULL AND b.send_at <= %s AND (b.expires_at IS NULL OR b.expires_at > %s)"
)
AUDIENCE_SQL = (
    "(b.audience = 'everyone'"
    " OR (b.audience = 'buyers' AND %s)"
    " OR (b.audience = 'sellers' AND %s)"
    " OR (b.audience = 'members' AND %s)"
    " OR (b.audience = 'country' AND b.country = %s)"
    " OR (b.audience = 'list' AND EXISTS (SELECT 1 FROM notifications_broadcastrecipient r"
    " WHERE r.broadcast_id = b.id AND r.user_id = %s)))"
)
# The person's state, when they acted on it.
STATE_JOIN_SQL = (
    "notifications_broadcast b LEFT JOIN notifications_broadcaststate s"
    " ON s.broadcast_id = b.id AND s.user_id = %s"
)
BROADCAST_COLUMNS = (
    "id",
    "kind",
    "subject",
    "body",
    "send_at",
    "expires_at",
    "audience",
    "country",
    "created_by_id",
    "created_at",
    "cancelled_at",
    "announced_at",
)


def _datetime(value: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(value)


def _live_for(user: User, now: datetime) -> tuple[str, list[Any]]:
    """WHERE clause and parameters: live, and the audience includes the person."""
    params = [
        _datetime(now),
        _datetime(now),
        user.role == Role.BUYER,
        user.role == Role.SELLER,
        user.is_member(now),
        # No country: a value no broadcast has (a country audience always names one).
        user.country or "-",
        user.pk,
    ]
    return f"{LIVE_SQL} AND {AUDIENCE_SQL}", params


def broadcast_rows(
    user: User,
    *,
    box: str = Box.INBOX,
    folder: str | None = None,
    after: Position | None = None,
    limit: int,
    now: datetime | None = None,
) -> list[BroadcastItem]:
    """Up to `limit` of the person's broadcasts in a box (and a folder of the inbox),
    newest first, after a position of a merged list. One query, walking
    broadcast_live_recent (or broadcast_kind_live_recent) backwards from now; promotions
    only when the person has them shown (their user row says)."""
    now = now or timezone.now()
    kinds: tuple[str, ...] = tuple(BroadcastKind.values)
    if folder is not None:
        kind = BROADCAST_KIND_OF_FOLDER.get(folder)
        if kind is None:
            return []
        kinds = (kind,)
    if not promotions_shown(user):
        kinds = tuple(kind for kind in kinds if kind != BroadcastKind.PROMOTION)
        if not kinds:
            return []
    return _fetch_rows(user, box=box, kinds=kinds, after=after, limit=limit, now=now)


def _fetch_rows(
    user: User,
    *,
    box: str,
    kinds: tuple[str, ...],
    after: Position | None,
    limit: int,
    now: datetime,
) -> list[BroadcastItem]:
    where, where_params = _live_for(user, now)
    params: list[Any] = [user.pk, *where_params]
    if box == Box.INBOX:
        where += " AND (s.id IS NULL OR s.box = 'inbox')"
    else:
        where += " AND s.box = %s"
        params.append(box)
    if len(kinds) == 1:
        where += " AND b.kind = %s"
        params.append(kinds[0])
    if after is not None:
        time, rank, identifier = after
        if rank == BROADCAST_RANK:
            where += " AND (b.send_at < %s OR (b.send_at = %s AND b.id < %s))"
            params += [_datetime(time), _datetime(time), identifier]
        else:
            # At one time conversations come first: after one, every broadcast of that time.
            where += " AND b.send_at <= %s"
            params.append(_datetime(time))
    columns = ", ".join(f"b.{column}" for column in BROADCAST_COLUMNS)
    sql = (
        f"SELECT {columns}, s.box AS state_box, s.is_read AS state_is_read,"
        f" s.trashed_at AS state_trashed_at FROM {STATE_JOIN_SQL} WHERE {where}"
        " ORDER BY b.send_at DESC, b.id DESC LIMIT %s"
    )
    return [
        BroadcastItem(
            broadcast=broadcast,
            # The state's columns, beside the broadcast's own.
            box=broadcast.state_box or Box.INBOX,  # type: ignore[attr-defined]
            is_read=bool(broadcast.state_is_read),  # type: ignore[attr-defined]
            trashed_at=_aware(broadcast.state_trashed_at),  # type: ignore[attr-defined]
        )
        for broadcast in Broadcast.objects.raw(sql, [*params, limit])
    ]


def _aware(value: datetime | str | None) -> datetime | None:
    """A joined column's datetime as the ORM would give it (SQLite returns it naive, in
    UTC)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


# Keys of broadcast_count_sql: "broadcast:<kind>:<group>" (the feed's name first, as the
# Message Center's counts read every feed's rows in one statement, hub/queries.py).
BROADCAST_KEY_PREFIX = "broadcast:"
# Groups of broadcast_count_sql: not acted on and sent since the person last opened the
# Message Center; not acted on and older; acted on and unread: its box; read: other.
NEW_UNSEEN, NEW_SEEN, OTHER = "new_unseen", "new_seen", "other"


def broadcast_count_sql(user: User, now: datetime) -> tuple[str, list[Any]]:
    """SELECT of (key, count) rows: the person's live broadcasts grouped by what they
    count towards, keyed "broadcast:<kind>:<group>". Shaped like the conversation
    counters (UnreadCounter key, conversations) so that the Message Center's counts read
    both in one statement (UNION ALL, hub.queries.unread_counts)."""
    where, params = _live_for(user, now)
    sql = (
        f"SELECT '{BROADCAST_KEY_PREFIX}' || b.kind || ':' || CASE"
        " WHEN s.id IS NULL AND b.send_at > COALESCE((SELECT seen.seen_until FROM"
        " notifications_broadcastsseen seen WHERE seen.user_id = %s), %s)"
        f" THEN '{NEW_UNSEEN}' WHEN s.id IS NULL THEN '{NEW_SEEN}'"
        f" WHEN s.is_read THEN '{OTHER}' ELSE s.box END AS count_key, COUNT(*) AS count"
        f" FROM {STATE_JOIN_SQL} WHERE {where} GROUP BY 1"
    )
    return sql, [user.pk, _datetime(BEGINNING), user.pk, *params]


def fold_broadcast_counts(user: User, rows: dict[str, int]) -> dict[str, int]:
    """broadcast_count_sql's rows (keyed "<kind>:<group>", the feed's name taken off) as
    the Message Center's counts: unread per folder (Notices, Promotions), in Archive and
    Trash, and unseen. Promotions switched off count nowhere (the preference is read only
    when a promotion would count)."""
    kinds = [BroadcastKind.NOTICE.value]
    if any(key.startswith("promotion:") for key in rows) and promotions_shown(user):
        kinds.append(BroadcastKind.PROMOTION.value)

    def count(kind: str, *groups: str) -> int:
        return sum(rows.get(f"{kind}:{group}", 0) for group in groups)

    counts = dict.fromkeys((Folder.NOTICES.value, Folder.PROMOTIONS.value), 0)
    for kind in kinds:
        counts[FOLDER_OF_BROADCAST_KIND[kind]] = count(kind, NEW_UNSEEN, NEW_SEEN, Box.INBOX)
    counts[Box.ARCHIVE.value] = sum(count(kind, Box.ARCHIVE) for kind in kinds)
    counts[Box.TRASH.value] = sum(count(kind, Box.TRASH) for kind in kinds)
    counts[UNSEEN] = sum(count(kind, NEW_UNSEEN) for kind in kinds)
    return counts


# --- for search (search/broadcasts.py) -------------------------------------------------------


def searchable_sql(user: User, now: datetime, folder: str | None) -> tuple[str, list[Any]] | None:
    """A SELECT of the broadcasts the person sees now in Inbox, Archive or Trash — live,
    in their audience, not deleted by them — with their box and read state, for search to
    match against its documents (columns search.broadcasts.VISIBLE_COLUMNS). The same
    fixed-shape rule as the Message Center's lists; None when the folder holds no
    broadcasts. Promotions only when the person has them shown."""
    kinds: list[str] = list(BroadcastKind.values)
    if folder is not None:
        kind = BROADCAST_KIND_OF_FOLDER.get(folder)
        kinds = [] if kind is None else [kind]
    if not promotions_shown(user):
        kinds = [kind for kind in kinds if kind != BroadcastKind.PROMOTION]
    if not kinds:
        return None
    where, params = _live_for(user, now)
    boxes = ", ".join(f"'{box}'" for box in VISIBLE_BOXES)
    sql = (
        "SELECT b.id AS id, b.kind AS kind, b.subject AS subject, b.body AS body,"
        " b.send_at AS sent_at, COALESCE(s.box, 'inbox') AS box,"
        " CASE WHEN s.is_read THEN 1 ELSE 0 END AS is_read"
        f" FROM {STATE_JOIN_SQL} WHERE {where} AND (s.id IS NULL OR s.box IN ({boxes}))"
        f" AND b.kind IN ({', '.join(['%s'] * len(kinds))})"
    )
    return sql, [user.pk, *params, *kinds]


def broadcast_texts_after(last_id: int, limit: int) -> list[tuple[int, str, str]]:
    """(id, subject, body) of every broadcast after an id, in id order: what search
    rebuilds their documents from."""
    return list(
        Broadcast.objects.filter(pk__gt=last_id)
        .order_by("pk")
        .values_list("pk", "subject", "body")[:limit]
    )


def parse_broadcast_id(value: Any) -> int:
    """A broadcast's id as a person gave it (rows.parse_id): "No such message." otherwise."""
    return parse_id(value, code="broadcast_not_found", message="No such message.")


def visible_broadcasts(
    user: User, broadcast_ids: Collection[int], now: datetime | None = None
) -> list[BroadcastItem]:
    """The person's broadcasts among these ids, in any box they can see: those the
    person is not in the audience of, or deleted, are simply absent."""
    now = now or timezone.now()
    rows = (
        _for(user, now)
        .filter(pk__in=broadcast_ids)
        .filter(Q(mine__isnull=True) | Q(mine__box__in=VISIBLE_BOXES))
        .order_by("id")
    )
    items = _items(rows)
    if any(item.broadcast.kind == BroadcastKind.PROMOTION for item in items) and not (
        promotions_shown(user)
    ):
        items = [item for item in items if item.broadcast.kind != BroadcastKind.PROMOTION]
    return items


def access_broadcast(user: User, broadcast_id: Any) -> BroadcastItem:
    """The only way from a broadcast id given by a person to the broadcast. Not due yet,
    expired, cancelled, not for this person, deleted by them, or missing: the same
    NotFound."""
    found = visible_broadcasts(user, [parse_broadcast_id(broadcast_id)])
    if not found:
        raise NotFound("No such message.", code="broadcast_not_found")
    return found[0]


# --- for the e-mail fan-out and realtime --------------------------------------------------


def broadcast_audience(
    broadcast: Broadcast, *, listed: Collection[int] | None = None
) -> QuerySet[User]:
    """Everyone the audience rule names (active accounts), by id, so a batch job can page
    with `id > last`. The rule only: preferences and suppressions are the sender's.
    `listed`: a draft's list of user ids, not saved yet — the staff's preview counts the
    people it would reach by this same rule (an erased or suspended account on the list
    is nobody the broadcast reaches)."""
    users = User.objects.filter(is_active=True)
    match broadcast.audience:
        case Audience.EVERYONE:
            pass
        case Audience.BUYERS:
            users = users.filter(role=Role.BUYER)
        case Audience.SELLERS:
            users = users.filter(role=Role.SELLER)
        case Audience.MEMBERS:
            users = users.filter(member_until__gt=timezone.now())
        case Audience.COUNTRY:
            users = users.filter(country=broadcast.country)
        case Audience.LIST if listed is not None:
            users = users.filter(pk__in=listed)
        case Audience.LIST:
            users = users.filter(
                Exists(
                    BroadcastRecipient.objects.filter(
                        broadcast_id=broadcast.pk, user_id=OuterRef("pk")
                    )
                )
            )
        case _:
            raise ValueError(f"Unknown audience {broadcast.audience!r}")
    return users.order_by("id")


def broadcast_recipients_among(broadcast_id: int, user_ids: Collection[int]) -> set[int]:
    """Of these people, the ones a live broadcast is for: one query, for a realtime
    process that knows who has a stream open."""
    if not user_ids:
        return set()
    now = timezone.now()
    user = OuterRef("pk")
    on_list = BroadcastRecipient.objects.filter(broadcast_id=OuterRef("pk"), user_id=OuterRef(user))
    rule = (
        Q(audience=Audience.EVERYONE)
        | (Q(audience=Audience.BUYERS) & Exact(OuterRef("role"), Role.BUYER))
        | (Q(audience=Audience.SELLERS) & Exact(OuterRef("role"), Role.SELLER))
        | (Q(audience=Audience.MEMBERS) & GreaterThan(OuterRef("member_until"), now))
        | Q(audience=Audience.COUNTRY, country=OuterRef("country"))
        | (Q(audience=Audience.LIST) & Exists(on_list))
    )
    applies = Broadcast.objects.filter(live(now), rule, pk=broadcast_id)
    return set(
        User.objects.filter(pk__in=list(user_ids), is_active=True)
        .filter(Exists(applies))
        .values_list("pk", flat=True)
    )


def due_broadcasts(now: datetime) -> QuerySet[Broadcast]:
    """Due and not announced yet, oldest first (index broadcast_due)."""
    return Broadcast.objects.filter(
        announced_at__isnull=True, cancelled_at__isnull=True, send_at__lte=now
    ).order_by("send_at", "id")


def announced_since(moment: datetime) -> list[int]:
    """Broadcasts announced after a moment, oldest first: how a server process finds the
    announcements its pub/sub did not carry (another process's `memory://`, a lost Redis
    message). Few rows: one per broadcast."""
    return list(
        Broadcast.objects.filter(announced_at__gt=moment, cancelled_at__isnull=True)
        .order_by("announced_at", "id")
        .values_list("id", flat=True)
    )


def next_send_at() -> datetime | None:
    """When the next broadcast not announced yet is due (index broadcast_due)."""
    return (
        Broadcast.objects.filter(announced_at__isnull=True, cancelled_at__isnull=True)
        .order_by("send_at")
        .values_list("send_at", flat=True)
        .first()
    )


def scheduled_broadcasts() -> QuerySet[Broadcast]:
    return Broadcast.objects.select_related("created_by").order_by("-send_at", "-id")
