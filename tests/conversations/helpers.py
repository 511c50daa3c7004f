"""Checks shared by the conversation tests."""

from typing import Any

from django.db.models import Count, Q
from django.tasks import TaskResultStatus
from django_tasks_db.models import DBTaskResult

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Message, Participant, UnreadCounter
from messagecenter.conversations.queries import visible_messages
from messagecenter.hub.boxes import Box
from messagecenter.hub.queries import unread_counts
from messagecenter.realtime.models import UserEvent


def recounted_unread(user: User) -> dict[str, int]:
    """The unread counters as they should be, counted the slow way from Participant rows."""
    truth: dict[str, int] = {}
    rows = Participant.objects.filter(user=user, unread_count__gt=0).exclude(box=Box.DELETED)
    for participant in rows:
        key = participant.folder if participant.box == Box.INBOX else participant.box
        truth[key] = truth.get(key, 0) + 1
    unseen = Participant.objects.filter(user=user, is_seen=False).exclude(box=Box.DELETED).count()
    if unseen:
        truth["unseen"] = unseen
    return truth


def unread_in_sight(user: User, conversation_id: int) -> int:
    """The messages of a conversation the person has not read, counted the slow way: someone
    else's, after the last one they read, and still in their sight (not reported by them,
    not removed by customer service). A conversation's unread count is this, unless they
    marked it unread (docs/conversations.md)."""
    participant = Participant.objects.get(user=user, conversation_id=conversation_id)
    return (
        Message.objects.filter(
            visible_messages(user),
            ~Q(sender_id=user.pk),
            conversation_id=conversation_id,
            pk__gt=participant.last_read_message_id or 0,
        )
        .distinct()
        .count()
    )


def maintained_unread(user: User) -> dict[str, int]:
    counts = unread_counts(user)
    return {key: value for key, value in counts.items() if value and key != "all"}


def event_sequences(user: User) -> list[int]:
    return list(
        UserEvent.objects.filter(user=user).order_by("sequence").values_list("sequence", flat=True)
    )


def event_kinds(user: User) -> list[str]:
    return list(
        UserEvent.objects.filter(user=user).order_by("sequence").values_list("kind", flat=True)
    )


def snapshot() -> dict[str, Any]:
    """Everything an action could change, to prove a refused action changed nothing."""
    return {
        "participants": list(
            Participant.objects.order_by("id").values(
                "id",
                "box",
                "unread_count",
                "trashed_at",
                "muted_until",
                "last_read_message_id",
                "last_activity_at",
                "history_after_message_id",
            )
        ),
        "messages": list(Message.objects.order_by("id").values_list("id", "body")),
        "counters": list(UnreadCounter.objects.order_by("id").values_list("id", "conversations")),
        "events": UserEvent.objects.aggregate(n=Count("id"))["n"],
    }


def run_other_sides_jobs() -> int:
    """The worker's jobs that tell the other sides of an account suspended, erased or open
    again (actions.tell_the_other_sides), run as the worker runs them — each chunk enqueues
    the next — until none is left. Returns how many jobs ran."""
    ran = 0
    while True:
        job = (
            DBTaskResult.objects.filter(
                task_path="messagecenter.conversations.tasks.tell_the_other_sides",
                status=TaskResultStatus.READY,
            )
            .order_by("enqueued_at", "id")
            .first()
        )
        if job is None:
            return ran
        job.task.call(*job.args_kwargs["args"], **job.args_kwargs["kwargs"])
        job.delete()
        ran += 1
