"""One person's read, seen and muted state of conversations."""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone

from messagecenter import moments
from messagecenter.accounts.models import User
from messagecenter.conversations.actions.counters import apply_counter_deltas
from messagecenter.conversations.actions.own_rows import finish, lock_own
from messagecenter.conversations.models import MUTED_INDEFINITELY, Conversation, Participant
from messagecenter.errors import InvalidInput
from messagecenter.hub.boxes import UNSEEN
from messagecenter.realtime.actions import PendingEvent, record_events
from messagecenter.realtime.models import EventKind


def mark_read(user: User, conversation_ids: Iterable[Any]) -> int:
    """Everything in these conversations up to now is read. Returns how many changed."""
    with transaction.atomic():
        changed = [p for p in lock_own(user, conversation_ids) if p.unread_count]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(
            unread_count=0,
            is_seen=True,
            last_read_message_id=Subquery(
                Conversation.objects.filter(pk=OuterRef("conversation_id")).values(
                    "last_message_id"
                )[:1]
            ),
        )
        return finish(changed, EventKind.CONVERSATION_READ, unread=0, seen=True)


def mark_unread(user: User, conversation_ids: Iterable[Any]) -> int:
    with transaction.atomic():
        changed = [p for p in lock_own(user, conversation_ids) if not p.unread_count]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(unread_count=1)
        return finish(changed, EventKind.CONVERSATION_UNREAD, unread=1)


def mark_seen(user: User) -> int:
    """Opening the Message Center: everything new is now seen, so the header badge clears;
    each conversation stays unread until it is opened."""
    with transaction.atomic():
        # Locked in id order like every other action, so two tabs cannot deadlock.
        unseen = list(
            Participant.objects.select_for_update()
            .filter(user=user, is_seen=False)
            .order_by("id")
            .values_list("pk", flat=True)
        )
        if not unseen:
            return 0
        Participant.objects.filter(pk__in=unseen).update(is_seen=True)
        # By how many rows changed, not "set to 0": a message that arrives meanwhile keeps
        # its +1.
        apply_counter_deltas({(user.pk, UNSEEN): -len(unseen)})
        record_events([PendingEvent(user.pk, EventKind.MESSAGE_CENTER_SEEN, {})])
        return len(unseen)


def mute_conversations(
    user: User, conversation_ids: Iterable[Any], *, until: datetime | None = None
) -> int:
    """No notifications and no return to the inbox until `until` (None: until unmuted).
    Messages still arrive and count as unread."""
    muted_until = until if until is not None else MUTED_INDEFINITELY
    if muted_until <= timezone.now():
        raise InvalidInput("Mute until a time in the future.", code="invalid_mute_until")
    if until is not None:
        moments.check(until, what="The end of a mute", code="invalid_mute_until")
    with transaction.atomic():
        changed = lock_own(user, conversation_ids)
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(muted_until=muted_until)
        return finish(
            changed,
            EventKind.CONVERSATION_MUTED,
            muted_until=None if until is None else muted_until.isoformat(),
        )


def unmute_conversations(user: User, conversation_ids: Iterable[Any]) -> int:
    with transaction.atomic():
        changed = [p for p in lock_own(user, conversation_ids) if p.muted_until is not None]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(muted_until=None)
        return finish(changed, EventKind.CONVERSATION_UNMUTED)
