"""Deleting for ever: one person's copy (from Trash, by them or by the periodic purge), the
conversations and attachment files nobody keeps any more, and whole conversations past the
operator's retention rule (privacy/retention_actions.py)."""

from collections import defaultdict
from collections.abc import Collection
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

# What a person's row becomes when their copy is deleted for ever.
DELETED_COPY = {
    "box": Box.DELETED,
    "trashed_at": None,
    "unread_count": 0,
    "is_seen": True,
    "awaiting_response_since": None,
    "response_due_at": None,
    "is_response_overdue": False,
}


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
        **DELETED_COPY,
        history_after_message_id=Coalesce(
            Subquery(
                Conversation.objects.filter(pk=OuterRef("conversation_id")).values(
                    "last_message_id"
                )[:1]
            ),
            Value(0),
        ),
    )
    _copies_deleted(participants)
    _remove_abandoned_conversations({p.conversation_id for p in participants})
    return len(participants)


def delete_conversations_for_everyone(
    conversation_ids: list[int], *, last_message_before: datetime, keep_rows: set[int]
) -> int:
    """Delete the messages of these conversations for everyone — with their attachments
    (the files after the commit), search entries and mailbox rows — if their last message
    is still older than `last_message_before` once their participants are locked (a
    message sent meanwhile keeps its conversation). Each person's copy goes as if they had
    deleted it from Trash (counters, events, previews). The conversation rows in
    `keep_rows` stay, empty, because a record the operator keeps points at them (a case);
    so do conversations about an order, as in the Trash purge. Returns how many
    conversations lost their messages."""
    with transaction.atomic():
        participants = list(
            Participant.objects.select_for_update()
            .filter(conversation_id__in=conversation_ids)
            .order_by("id")
        )
        expired = set(
            Conversation.objects.filter(
                pk__in=conversation_ids,
                last_message__isnull=False,
                last_message_at__lt=last_message_before,
            ).values_list("pk", flat=True)
        )
        if not expired:
            return 0
        _copies_deleted(
            [p for p in participants if p.conversation_id in expired and p.box != Box.DELETED]
        )
        Participant.objects.filter(conversation_id__in=expired).update(
            **DELETED_COPY, last_read_message=None, history_after_message_id=0
        )
        _delete_messages(expired)
        Conversation.objects.filter(pk__in=expired).update(message_count=0)
        removable = list(
            Conversation.objects.filter(pk__in=expired - keep_rows, order__isnull=True).values_list(
                "pk", flat=True
            )
        )
        Participant.objects.filter(conversation_id__in=removable).delete()
        Conversation.objects.filter(pk__in=removable).delete()
        return len(expired)


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
    Participant.objects.filter(conversation_id__in=abandoned).delete()
    _delete_messages(abandoned)
    Conversation.objects.filter(pk__in=abandoned).delete()


def _copies_deleted(participants: list[Participant]) -> None:
    """What deleting these people's copies changes beside their rows: their unread
    counters, their event logs (a conversation.deleted event, no previews left)."""
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


def _delete_messages(conversation_ids: Collection[int]) -> None:
    """Every message of these conversations with its attachments; their search documents,
    mailbox rows, e-mail records and hidden marks go with them (on_delete)."""
    files = list(
        Attachment.objects.filter(message__conversation_id__in=conversation_ids).values_list(
            "file", "sha256"
        )
    )
    Conversation.objects.filter(pk__in=conversation_ids).update(last_message=None)
    Attachment.objects.filter(message__conversation_id__in=conversation_ids).delete()
    Message.objects.filter(conversation_id__in=conversation_ids).delete()
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
