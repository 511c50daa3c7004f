"""Who takes part: people who join a conversation that has started (an agent taking a
customer-service case) and leave it (the case goes to a colleague), and the participant
lock other apps take before changing something tied to a conversation."""

from collections import defaultdict
from collections.abc import Sequence

from messagecenter.accounts.models import User
from messagecenter.conversations.actions.counters import apply_counter_deltas, count_transition
from messagecenter.conversations.models import (
    FOLDER_OF_KIND,
    Conversation,
    Participant,
    UnreadCounter,
)
from messagecenter.errors import NotFound
from messagecenter.hub.boxes import COUNTER_KEYS, Box
from messagecenter.realtime.actions import PendingEvent, record_events
from messagecenter.realtime.models import EventKind
from messagecenter.rows import unique_row
from messagecenter.search.actions import add_to_mailboxes, remove_from_mailboxes


def lock_participants(conversation_id: int) -> list[Participant]:
    """The conversation's participant rows, locked in the order every conversation action
    takes them: an app changing something tied to a conversation (support's case) locks
    these first, and queues behind a send instead of deadlocking with it."""
    return list(
        Participant.objects.select_for_update()
        .filter(conversation_id=conversation_id)
        .order_by("id")
    )


def add_participants(conversation_id: int, members: Sequence[tuple[User, str]]) -> int:
    """People who join a conversation that has started (an agent taking a case): each gets
    a participant row, counters and the conversation's history in their search mailbox, in
    the caller's transaction, so they see and find the whole conversation at once. They
    join with it read: nothing in it is news to the person who takes it on. Those already
    in it are left as they are. Returns how many joined."""
    conversation = unique_row(Conversation.objects.filter(pk=conversation_id))
    if conversation is None:
        raise NotFound("No such conversation.", code="conversation_not_found")
    present = set(
        Participant.objects.filter(
            conversation_id=conversation_id, user_id__in=[user.pk for user, _ in members]
        ).values_list("user_id", flat=True)
    )
    joining = [(user, role) for user, role in members if user.pk not in present]
    if not joining:
        return 0
    Participant.objects.bulk_create(
        Participant(
            conversation_id=conversation_id,
            user=user,
            role=role,
            folder=FOLDER_OF_KIND[conversation.kind],
            last_activity_at=conversation.last_message_at or conversation.created_at,
            last_read_message_id=conversation.last_message_id,
        )
        for user, role in joining
    )
    UnreadCounter.objects.bulk_create(
        [UnreadCounter(user=user, key=key) for user, _ in joining for key in COUNTER_KEYS],
        ignore_conflicts=True,
    )
    add_to_mailboxes(conversation_id, [user.pk for user, _ in joining])
    return len(joining)


def remove_participant(conversation_id: int, user_id: int) -> bool:
    """Someone leaves a conversation (an agent whose case went to a colleague): their row,
    counters and search mailbox entries go; the conversation and everything they wrote
    in it stay for everyone else."""
    participant = unique_row(
        Participant.objects.select_for_update().filter(
            conversation_id=conversation_id, user_id=user_id
        )
    )
    if participant is None:
        return False
    deltas: dict[tuple[int, str], int] = defaultdict(int)
    count_transition(deltas, participant, Box.DELETED, 0, True)
    apply_counter_deltas(deltas)
    remove_from_mailboxes(conversation_id, [user_id])
    Participant.objects.filter(pk=participant.pk).delete()
    record_events(
        [
            PendingEvent(
                user_id, EventKind.CONVERSATION_DELETED, {"conversation_id": conversation_id}
            )
        ]
    )
    return True
