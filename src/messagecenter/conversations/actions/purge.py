"""Deleting for ever: one person's copy (from Trash, by them or by the periodic purge), and
the conversations and attachment files nobody keeps any more."""

from collections import defaultdict
from datetime import datetime, timedelta

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import OuterRef, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from messagecenter.conversations.actions.attachments import lock_contents
from messagecenter.conversations.actions.counters import apply_counter_deltas, count_transition
from messagecenter.conversations.models import Attachment, Conversation, Message, Participant
from messagecenter.hub.boxes import VISIBLE_BOXES, Box
from messagecenter.realtime.actions import (
    PendingEvent,
    forget_conversation_content,
    record_events,
)
from messagecenter.realtime.models import EventKind


def purge_expired_trash(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Delete for ever what has been in Trash longer than the retention period. Runs
    periodically in the worker; in batches so it never holds locks for long."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TRASH_RETENTION_DAYS)
    purged = 0
    while True:
        with transaction.atomic():
            batch = list(
                Participant.objects.select_for_update()
                .filter(box=Box.TRASH, trashed_at__lt=cutoff)
                .order_by("id")[:batch_size]
            )
            if not batch:
                return purged
            purged += delete_for_participants(batch)


def delete_for_participants(participants: list[Participant]) -> int:
    if not participants:
        return 0
    Participant.objects.filter(pk__in=[p.pk for p in participants]).update(
        box=Box.DELETED,
        trashed_at=None,
        unread_count=0,
        is_seen=True,
        awaiting_response_since=None,
        response_due_at=None,
        is_response_overdue=False,
        history_after_message_id=Coalesce(
            Subquery(
                Conversation.objects.filter(pk=OuterRef("conversation_id")).values(
                    "last_message_id"
                )[:1]
            ),
            Value(0),
        ),
    )
    deltas: dict[tuple[int, str], int] = defaultdict(int)
    for participant in participants:
        count_transition(deltas, participant, Box.DELETED, 0, True)
    apply_counter_deltas(deltas)
    forget_conversation_content((p.user_id, p.conversation_id) for p in participants)
    record_events(
        PendingEvent(
            p.user_id, EventKind.CONVERSATION_DELETED, {"conversation_id": p.conversation_id}
        )
        for p in participants
    )
    _remove_abandoned_conversations({p.conversation_id for p in participants})
    return len(participants)


def _remove_abandoned_conversations(conversation_ids: set[int]) -> None:
    """Remove conversations nobody keeps any more. Never order conversations: they are the
    order's record, for claims and returns long after the messages were read."""
    abandoned = list(
        Conversation.objects.filter(pk__in=conversation_ids, order__isnull=True)
        .exclude(participants__box__in=VISIBLE_BOXES)
        .values_list("pk", flat=True)
    )
    if not abandoned:
        return
    files = list(
        Attachment.objects.filter(message__conversation_id__in=abandoned).values_list(
            "file", "sha256"
        )
    )
    Conversation.objects.filter(pk__in=abandoned).update(last_message=None)
    Participant.objects.filter(conversation_id__in=abandoned).delete()
    Attachment.objects.filter(message__conversation_id__in=abandoned).delete()
    Message.objects.filter(conversation_id__in=abandoned).delete()
    Conversation.objects.filter(pk__in=abandoned).delete()
    if files:
        # Files go only once the deletion is committed, and only if no other message
        # still uses the same content.
        transaction.on_commit(lambda: _delete_unused_files(files))


def _delete_unused_files(files: list[tuple[str, str]]) -> None:
    """Files are content-addressed: a message sent meanwhile may share one. The check and
    the deletion hold the contents' locks, which a send holds from finding its files to
    its commit (attachments.keep_files): a send is either seen here as a user of the file,
    or finds the file gone and stores it again."""
    with transaction.atomic():
        lock_contents([sha256 for _, sha256 in files], shared=False)
        still_used = set(
            Attachment.objects.filter(sha256__in=[sha for _, sha in files]).values_list(
                "sha256", flat=True
            )
        )
        for name, sha256 in files:
            if sha256 not in still_used:
                default_storage.delete(name)
