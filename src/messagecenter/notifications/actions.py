"""Every write of broadcasts: staff schedule and cancel them; each person reads, archives,
trashes, restores and deletes their copy (a BroadcastState row, written only then); the
worker announces the ones that became due (docs/notifications.md)."""

import functools
import logging
import re
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from messagecenter import moments
from messagecenter.accounts.models import Role, User
from messagecenter.conversations.actions.checks import clean_text
from messagecenter.errors import InvalidInput, NotAllowed, NotFound
from messagecenter.hub.boxes import Box
from messagecenter.notifications import queries
from messagecenter.notifications.emails import enqueue_broadcast_emails
from messagecenter.notifications.models import (
    Audience,
    Broadcast,
    BroadcastKind,
    BroadcastRecipient,
    BroadcastsSeen,
    BroadcastState,
)
from messagecenter.notifications.queries import BroadcastItem
from messagecenter.realtime.actions import PendingEvent, announce_broadcast, record_events
from messagecenter.realtime.models import EventKind
from messagecenter.rows import MAX_ID
from messagecenter.search.actions import index_broadcast

logger = logging.getLogger(__name__)

MAX_BROADCASTS_PER_ACTION = 500
SUBJECT_MAX_CHARS = 200
BODY_MAX_CHARS = 20_000
# An uploaded list larger than this is a mistake for an audience rule (everyone, a country).
MAX_LIST_SIZE = 1_000_000
# How many unknown ids an error names before "and N more".
UNKNOWN_IDS_SHOWN = 10
RECIPIENT_BATCH = 5_000
COUNTRY_CODE = re.compile(r"[A-Z]{2}")


@functools.cache
def known_countries() -> frozenset[str]:
    """Every ISO 3166-1 alpha-2 code, from the time-zone database's own table (tzdata,
    offline): "XX" has the shape of a country code but names no country, so an audience of
    it would reach nobody."""
    table = resources.files("tzdata.zoneinfo").joinpath("iso3166.tab").read_text("utf-8")
    return frozenset(
        line.split("\t", 1)[0] for line in table.splitlines() if line and not line.startswith("#")
    )


# --- staff -----------------------------------------------------------------------------------


def require_staff(user: User) -> None:
    if not (user.is_staff or user.role == Role.ADMIN):
        raise NotAllowed("Only staff can send broadcasts.", code="staff_only")


def parse_user_ids(text: str) -> list[int]:
    """A pasted or uploaded list of user ids: numbers separated by commas, spaces or line
    breaks (a CSV's single column too; a first line without digits is a header and is
    skipped). Every other token is an error that names its line."""
    ids: list[int] = []
    is_first = True
    for line_number, line in enumerate(text.splitlines(), start=1):
        tokens = [token for token in re.split(r"[\s,;]+", line.strip()) if token]
        if not tokens:
            continue
        if is_first and not any(character.isdigit() for character in line):
            is_first = False
            continue
        is_first = False
        for token in tokens:
            if not token.isdigit() or not 0 < int(token) <= MAX_ID:
                raise InvalidInput(
                    f"Line {line_number}: {token[:40]!r} is not a user id.", code="invalid_user_id"
                )
            ids.append(int(token))
    return ids


@dataclass(frozen=True)
class BroadcastDraft:
    """A broadcast checked and ready to schedule: what a staff form previews."""

    kind: str
    subject: str
    body: str
    send_at: datetime
    audience: str
    expires_at: datetime | None
    country: str
    user_ids: list[int]


def check_broadcast(
    *,
    kind: str,
    subject: str,
    body: str,
    send_at: datetime,
    audience: str,
    expires_at: datetime | None = None,
    country: str = "",
    user_ids: Collection[int] = (),
) -> BroadcastDraft:
    """Every rule of a broadcast, each with its own error code; writes nothing."""
    if kind not in BroadcastKind.values:
        raise InvalidInput(f"Unknown kind {kind!r}.", code="invalid_kind")
    if audience not in Audience.values:
        raise InvalidInput(f"Unknown audience {audience!r}.", code="invalid_audience")
    subject = clean_text(subject)
    body = clean_text(body)
    if not subject:
        raise InvalidInput("Give the broadcast a subject.", code="empty_subject")
    if len(subject) > SUBJECT_MAX_CHARS:
        raise InvalidInput(
            f"Subjects are limited to {SUBJECT_MAX_CHARS} characters.", code="subject_too_long"
        )
    if not body:
        raise InvalidInput("Write the broadcast's text.", code="empty_body")
    if len(body) > BODY_MAX_CHARS:
        raise InvalidInput(
            f"Broadcasts are limited to {BODY_MAX_CHARS:,} characters.", code="body_too_long"
        )
    if send_at.tzinfo is None:
        raise InvalidInput("Give the send time with its time zone.", code="invalid_send_at")
    moments.check(send_at, what="The send time", code="invalid_send_at")
    if expires_at is not None:
        moments.check(expires_at, what="The expiry", code="invalid_expires_at")
    if expires_at is not None and expires_at <= send_at:
        raise InvalidInput("It must expire after it is sent.", code="invalid_expires_at")
    country = country.strip().upper()
    if audience == Audience.COUNTRY:
        if not COUNTRY_CODE.fullmatch(country):
            raise InvalidInput(
                "Give the country as its two-letter code (ISO 3166-1), e.g. US or DE.",
                code="invalid_country",
            )
        if country not in known_countries():
            raise InvalidInput(
                f"{country} is not a country code (ISO 3166-1); give one such as US or DE.",
                code="invalid_country",
            )
    elif country:
        raise InvalidInput("A country goes with the country audience only.", code="invalid_country")
    recipients = sorted(set(user_ids))
    if audience == Audience.LIST:
        _check_list(recipients)
    elif recipients:
        raise InvalidInput(
            "A list of user ids goes with the list audience only.", code="invalid_list"
        )
    return BroadcastDraft(kind, subject, body, send_at, audience, expires_at, country, recipients)


def schedule_broadcast(staff: User, **fields: Any) -> Broadcast:
    """A notice or promotion to an audience, appearing in their Message Center at
    `send_at` (now or later): one row, plus the list for a list audience. Takes the
    fields of check_broadcast."""
    require_staff(staff)
    draft = check_broadcast(**fields)
    with transaction.atomic():
        broadcast = Broadcast.objects.create(
            kind=draft.kind,
            subject=draft.subject,
            body=draft.body,
            send_at=draft.send_at,
            expires_at=draft.expires_at,
            audience=draft.audience,
            country=draft.country,
            created_by=staff,
            created_at=timezone.now(),
        )
        for start in range(0, len(draft.user_ids), RECIPIENT_BATCH):
            BroadcastRecipient.objects.bulk_create(
                BroadcastRecipient(broadcast=broadcast, user_id=user_id)
                for user_id in draft.user_ids[start : start + RECIPIENT_BATCH]
            )
        # Searchable exactly when it exists: one document, whoever the audience holds.
        index_broadcast(broadcast.pk, broadcast.subject, broadcast.body)
    return broadcast


def _check_list(user_ids: list[int]) -> None:
    if not user_ids:
        raise InvalidInput("The list of user ids is empty.", code="empty_list")
    if len(user_ids) > MAX_LIST_SIZE:
        raise InvalidInput(
            f"Lists are limited to {MAX_LIST_SIZE:,} people; use another audience.",
            code="list_too_long",
        )
    known: set[int] = set()
    for start in range(0, len(user_ids), RECIPIENT_BATCH):
        batch = user_ids[start : start + RECIPIENT_BATCH]
        known.update(User.objects.filter(pk__in=batch).values_list("pk", flat=True))
    unknown = [user_id for user_id in user_ids if user_id not in known]
    if unknown:
        shown = ", ".join(str(user_id) for user_id in unknown[:UNKNOWN_IDS_SHOWN])
        more = len(unknown) - UNKNOWN_IDS_SHOWN
        raise InvalidInput(
            f"No user has the id {shown}" + (f" (and {more:,} more)." if more > 0 else "."),
            code="unknown_user_ids",
        )


def cancel_broadcast(staff: User, broadcast_id: Any) -> bool:
    """Withdraw a broadcast: a scheduled one never appears, a sent one disappears from
    every inbox. Returns False when it was already cancelled."""
    require_staff(staff)
    with transaction.atomic():
        broadcast = Broadcast.objects.filter(pk=queries.parse_broadcast_id(broadcast_id)).first()
        if broadcast is None:
            raise NotFound("No such broadcast.", code="broadcast_not_found")
        return bool(
            Broadcast.objects.filter(pk=broadcast.pk, cancelled_at__isnull=True).update(
                cancelled_at=timezone.now()
            )
        )


# --- the worker: announcing what became due --------------------------------------------------


def announce_due_broadcasts(*, now: datetime | None = None) -> list[int]:
    """Mark each due broadcast announced and hand it on (on_broadcast_due), once: several
    workers may race, and the conditional UPDATE lets exactly one of them win each."""
    now = now or timezone.now()
    announced = []
    for broadcast in list(queries.due_broadcasts(now)[:100]):
        with transaction.atomic():
            claimed = Broadcast.objects.filter(
                pk=broadcast.pk, announced_at__isnull=True, cancelled_at__isnull=True
            ).update(announced_at=timezone.now())
            if not claimed:
                continue
            on_broadcast_due(broadcast)
        announced.append(broadcast.pk)
    return announced


def on_broadcast_due(broadcast: Broadcast) -> None:
    """The single hook for what follows a broadcast becoming due, inside the transaction
    that marks it announced: the e-mail fan-out is enqueued there (durable with it), and
    open streams get a nudge after commit (realtime's announce_broadcast). Nothing is
    written per person: the Message Center finds the broadcast on read."""
    enqueue_broadcast_emails(broadcast)
    # It publishes after commit itself.
    announce_broadcast(broadcast.pk)


# --- each person's copy ------------------------------------------------------------------


def mark_broadcasts_read(user: User, broadcast_ids: Iterable[Any]) -> int:
    return _change(
        user, broadcast_ids, EventKind.BROADCAST_READ, lambda item: not item.is_read, is_read=True
    )


def mark_broadcasts_unread(user: User, broadcast_ids: Iterable[Any]) -> int:
    return _change(
        user, broadcast_ids, EventKind.BROADCAST_UNREAD, lambda item: item.is_read, is_read=False
    )


def archive_broadcasts(user: User, broadcast_ids: Iterable[Any]) -> int:
    return _change(
        user,
        broadcast_ids,
        EventKind.BROADCAST_ARCHIVED,
        lambda item: item.box == Box.INBOX,
        box=Box.ARCHIVE,
    )


def move_broadcasts_to_inbox(user: User, broadcast_ids: Iterable[Any]) -> int:
    return _change(
        user,
        broadcast_ids,
        EventKind.BROADCAST_MOVED_TO_INBOX,
        lambda item: item.box == Box.ARCHIVE,
        box=Box.INBOX,
    )


def trash_broadcasts(user: User, broadcast_ids: Iterable[Any]) -> int:
    return _change(
        user,
        broadcast_ids,
        EventKind.BROADCAST_TRASHED,
        lambda item: item.box != Box.TRASH,
        box=Box.TRASH,
        trashed_at=timezone.now(),
    )


def restore_broadcasts(user: User, broadcast_ids: Iterable[Any]) -> int:
    return _change(
        user,
        broadcast_ids,
        EventKind.BROADCAST_RESTORED,
        lambda item: item.box == Box.TRASH,
        box=Box.INBOX,
        trashed_at=None,
    )


def delete_broadcasts(user: User, broadcast_ids: Iterable[Any]) -> int:
    """Delete for ever, from Trash only: it never comes back for this person."""
    return _change(
        user,
        broadcast_ids,
        EventKind.BROADCAST_DELETED,
        lambda item: True,
        only_from_trash=True,
        box=Box.DELETED,
    )


def _change(
    user: User,
    broadcast_ids: Iterable[Any],
    kind: str,
    needs_change: Callable[[BroadcastItem], bool],
    *,
    only_from_trash: bool = False,
    **state: Any,
) -> int:
    """All or nothing: one id the person cannot see fails the request with the same
    NotFound as a missing one, and nothing changes. One read, one upsert, and an event
    per broadcast changed in the person's log (`kind`), in the same transaction."""
    wanted = {queries.parse_broadcast_id(value) for value in broadcast_ids}
    if not wanted:
        raise InvalidInput("Choose at least one message.", code="no_broadcasts")
    if len(wanted) > MAX_BROADCASTS_PER_ACTION:
        raise InvalidInput(
            f"At most {MAX_BROADCASTS_PER_ACTION} messages at once.", code="too_many_broadcasts"
        )
    items = queries.visible_broadcasts(user, wanted)
    if len(items) != len(wanted):
        raise NotFound("No such message.", code="broadcast_not_found")
    if only_from_trash and any(item.box != Box.TRASH for item in items):
        raise InvalidInput("Only messages in Trash can be deleted for ever.", code="not_in_trash")
    changed = [item for item in items if needs_change(item)]
    if not changed:
        return 0
    now = timezone.now()
    fields = {"box", "is_read", "trashed_at", "updated_at"}
    rows = []
    for item in changed:
        values: dict[str, Any] = {
            "box": item.box,
            "is_read": item.is_read,
            "trashed_at": item.trashed_at,
        }
        values.update(state, updated_at=now)
        rows.append(BroadcastState(user=user, broadcast=item.broadcast, **values))
    with transaction.atomic():
        BroadcastState.objects.bulk_create(
            rows,
            update_conflicts=True,
            unique_fields=["user", "broadcast"],
            update_fields=sorted(fields),
        )
        record_events(
            PendingEvent(
                user.pk,
                kind,
                {
                    "broadcast_id": row.broadcast_id,
                    "folder": item.folder,
                    "box": row.box,
                    "is_read": row.is_read,
                },
            )
            for item, row in zip(changed, rows, strict=True)
        )
    return len(changed)


def mark_broadcasts_seen(user: User, *, until: datetime | None = None) -> None:
    """Opening the Message Center: broadcasts sent up to `until` (the time the page was
    read) stop counting in the header badge; each stays unread until opened. One row
    per person; never moves back. Other devices hear it as message_center.seen."""
    until = until or timezone.now()
    with transaction.atomic():
        moved = BroadcastsSeen.objects.filter(Q(user_id=user.pk) & Q(seen_until__lt=until)).update(
            seen_until=until
        )
        if not moved:
            # The first time; a concurrent first time (or a later `until`) wins the tie.
            BroadcastsSeen.objects.bulk_create(
                [BroadcastsSeen(user_id=user.pk, seen_until=until)], ignore_conflicts=True
            )
        record_events([PendingEvent(user.pk, EventKind.MESSAGE_CENTER_SEEN, {})])


def purge_trashed_broadcasts(*, now: datetime | None = None) -> int:
    """Broadcasts in someone's Trash for TRASH_RETENTION_DAYS are deleted for them, as
    conversations are (docs/conversations.md): one UPDATE of their state rows."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.TRASH_RETENTION_DAYS)
    return BroadcastState.objects.filter(box=Box.TRASH, trashed_at__lt=cutoff).update(
        box=Box.DELETED, updated_at=now or timezone.now()
    )


def delete_broadcasts_ended_before(kind: str, cutoff: datetime, *, batch_size: int) -> int:
    """Delete up to `batch_size` broadcasts of one kind that ended before `cutoff` — sent
    then, or expired then if they had an end — for everyone: their people's states, their
    list of recipients and their search document go with them (the operator's retention
    rule, privacy/retention_actions.py). Nothing is counted per person: the Message Center
    counts broadcasts when it reads them. Returns how many were deleted."""
    with transaction.atomic():
        ended = list(
            Broadcast.objects.filter(kind=kind)
            .filter(Q(expires_at__isnull=True, send_at__lt=cutoff) | Q(expires_at__lt=cutoff))
            .order_by("id")
            .values_list("pk", flat=True)[:batch_size]
        )
        Broadcast.objects.filter(pk__in=ended).delete()
        return len(ended)
