"""Moving one person's conversations between the inbox, Archive and Trash, and deleting
them for ever from Trash."""

from collections.abc import Iterable
from typing import Any

from django.db import transaction
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations.actions.own_rows import finish, lock_own
from messagecenter.conversations.actions.purge import delete_for_participants
from messagecenter.conversations.models import Participant
from messagecenter.errors import InvalidInput
from messagecenter.hub.boxes import Box
from messagecenter.realtime.models import EventKind


def archive_conversations(user: User, conversation_ids: Iterable[Any]) -> int:
    with transaction.atomic():
        changed = [p for p in lock_own(user, conversation_ids) if p.box == Box.INBOX]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(
            box=Box.ARCHIVE, is_seen=True
        )
        return finish(changed, EventKind.CONVERSATION_ARCHIVED, box=Box.ARCHIVE, seen=True)


def move_to_inbox(user: User, conversation_ids: Iterable[Any]) -> int:
    """Unarchive."""
    with transaction.atomic():
        changed = [p for p in lock_own(user, conversation_ids) if p.box == Box.ARCHIVE]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(box=Box.INBOX)
        return finish(changed, EventKind.CONVERSATION_MOVED_TO_INBOX, box=Box.INBOX)


def trash_conversations(user: User, conversation_ids: Iterable[Any]) -> int:
    """Move to Trash, where conversations stay restorable for TRASH_RETENTION_DAYS."""
    with transaction.atomic():
        changed = [p for p in lock_own(user, conversation_ids) if p.box != Box.TRASH]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(
            box=Box.TRASH, trashed_at=timezone.now(), is_seen=True
        )
        return finish(changed, EventKind.CONVERSATION_TRASHED, box=Box.TRASH, seen=True)


def restore_conversations(user: User, conversation_ids: Iterable[Any]) -> int:
    """Back from Trash to the inbox."""
    with transaction.atomic():
        changed = [p for p in lock_own(user, conversation_ids) if p.box == Box.TRASH]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(
            box=Box.INBOX, trashed_at=None
        )
        return finish(changed, EventKind.CONVERSATION_RESTORED, box=Box.INBOX)


def delete_conversations(user: User, conversation_ids: Iterable[Any]) -> int:
    """Delete for ever, from Trash only: the person's copy is gone; a conversation no one
    keeps any more is removed, unless it is about an order (kept as the order's record)."""
    with transaction.atomic():
        participants = lock_own(user, conversation_ids)
        if any(p.box != Box.TRASH for p in participants):
            raise InvalidInput(
                "Only conversations in Trash can be deleted for ever.", code="not_in_trash"
            )
        return delete_for_participants(participants)
