"""Messages taken out of sight after a report (docs/safety.md#reports): hidden for the
person who reported them at once, removed for every recipient when customer service
confirms the report. Called by support's report actions inside their transaction, after
they locked the conversations' participants; the rows stay (the sender still sees their
own message, marked, and agents review it).

A message out of someone's sight is no longer unread for them either: their unread count
of the conversation, their counters and their badge drop at once, as if they had read it,
and their devices are told (conversation.read, or conversation.unread with what is left
when something else is still unread)."""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from django.db.models import Q
from django.utils import timezone

from messagecenter.conversations.actions.counters import apply_counter_deltas, count_transition
from messagecenter.conversations.actions.own_rows import row_payload
from messagecenter.conversations.models import HiddenMessage, Message, Participant
from messagecenter.realtime.actions import PendingEvent, record_events
from messagecenter.realtime.models import EventKind
from messagecenter.search.actions import remove_messages_from_mailboxes

# (person, conversation) → the ids of that conversation's messages just taken out of the
# person's sight.
OutOfSight = dict[tuple[int, int], list[int]]


def hide_messages_for(user_id: int, message_ids: Sequence[int]) -> None:
    """The person no longer sees or finds these messages (hiding twice is hiding once)."""
    if not message_ids:
        return
    already = set(
        HiddenMessage.objects.filter(user_id=user_id, message_id__in=message_ids).values_list(
            "message_id", flat=True
        )
    )
    now = timezone.now()
    HiddenMessage.objects.bulk_create(
        [HiddenMessage(user_id=user_id, message_id=pk, hidden_at=now) for pk in message_ids],
        ignore_conflicts=True,
    )
    remove_messages_from_mailboxes(message_ids, user_id=user_id)
    # Only what was still in their sight: not hidden before, not their own, not removed
    # by customer service already (that took it out of their unread count then).
    newly_hidden = (
        Message.objects.filter(pk__in=set(message_ids) - already, removed_at__isnull=True)
        .exclude(sender_id=user_id)
        .values_list("pk", "conversation_id")
    )
    gone: OutOfSight = defaultdict(list)
    for message_id, conversation_id in newly_hidden:
        gone[(user_id, conversation_id)].append(message_id)
    _no_longer_unread(gone)


def remove_messages(sender_id: int, message_ids: Sequence[int], *, now: datetime) -> int:
    """Nobody but their sender sees or finds these messages any more; returns how many
    were removed now (a message removed before keeps its first date)."""
    removing = list(
        Message.objects.filter(
            pk__in=message_ids, sender_id=sender_id, removed_at__isnull=True
        ).values_list("pk", "conversation_id")
    )
    removed = Message.objects.filter(pk__in=[pk for pk, _ in removing]).update(removed_at=now)
    remove_messages_from_mailboxes(message_ids, keep_user_id=sender_id)
    _no_longer_unread(_out_of_sight_of_others(sender_id, removing))
    return removed


def _out_of_sight_of_others(sender_id: int, removing: list[tuple[int, int]]) -> OutOfSight:
    """Who of the messages' conversations loses sight of which of them: everyone but the
    sender, less those who had hidden one already (reporting it took it out of their
    unread count then)."""
    gone: OutOfSight = defaultdict(list)
    if not removing:
        return gone
    hidden = set(
        HiddenMessage.objects.filter(message_id__in=[pk for pk, _ in removing]).values_list(
            "user_id", "message_id"
        )
    )
    members: dict[int, list[int]] = defaultdict(list)
    for conversation_id, user_id in (
        Participant.objects.filter(conversation_id__in={c for _, c in removing})
        .exclude(user_id=sender_id)
        .values_list("conversation_id", "user_id")
    ):
        members[conversation_id].append(user_id)
    for message_id, conversation_id in removing:
        for user_id in members[conversation_id]:
            if (user_id, message_id) not in hidden:
                gone[(user_id, conversation_id)].append(message_id)
    return gone


def _no_longer_unread(gone: OutOfSight) -> None:
    """Take the messages out of sight out of each person's unread count of their
    conversation — those after what they last read, and after what they deleted — and
    move their counters and badge as reading would: a conversation with nothing unread
    left is read (and seen). The rows are locked in id order, the order of every
    conversation action (the callers hold them already: this keeps it true alone)."""
    if not gone:
        return
    people = Q()
    for user_id, conversation_id in gone:
        people |= Q(user_id=user_id, conversation_id=conversation_id)
    changed: list[Participant] = []
    deltas: dict[tuple[int, str], int] = defaultdict(int)
    for participant in (
        Participant.objects.select_for_update().filter(people, unread_count__gt=0).order_by("id")
    ):
        unread_gone = _unread_among(
            participant, gone[(participant.user_id, participant.conversation_id)]
        )
        if not unread_gone:
            continue
        unread = max(participant.unread_count - unread_gone, 0)
        seen = participant.is_seen or unread == 0
        count_transition(deltas, participant, participant.box, unread, seen)
        participant.unread_count, participant.is_seen = unread, seen
        changed.append(participant)
    if not changed:
        return
    Participant.objects.bulk_update(changed, ["unread_count", "is_seen"])
    apply_counter_deltas(deltas)
    record_events(_events(changed))


def _unread_among(participant: Participant, message_ids: Iterable[int]) -> int:
    """How many of these messages of the conversation were unread for the person: after
    the last one they read, and after their deleted history (never counted since)."""
    after = max(participant.last_read_message_id or 0, participant.history_after_message_id)
    return sum(1 for message_id in message_ids if message_id > after)


def _events(changed: list[Participant]) -> list[PendingEvent]:
    return [
        PendingEvent(
            participant.user_id,
            EventKind.CONVERSATION_UNREAD
            if participant.unread_count
            else EventKind.CONVERSATION_READ,
            row_payload(participant),
        )
        for participant in changed
    ]
