"""Actions on the person's own view of conversations they choose (read, archive, trash,
mute…): their rows locked all or nothing, then counters and events for what changed."""

from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from messagecenter.accounts.models import User
from messagecenter.conversations.actions.counters import apply_counter_deltas, count_transition
from messagecenter.conversations.models import Participant
from messagecenter.conversations.queries import visible_conversations
from messagecenter.errors import InvalidInput, NotFound
from messagecenter.realtime.actions import PendingEvent, record_events
from messagecenter.rows import parse_id

# Bulk actions take at most this many conversations at once (one page of selection).
MAX_CONVERSATIONS_PER_ACTION = 500


def lock_own(user: User, conversation_ids: Iterable[Any]) -> list[Participant]:
    """Lock the person's own rows for these conversations, all or nothing: one id that is
    not theirs fails the whole request, and nothing changes."""
    wanted = {parse_id(value) for value in conversation_ids}
    if not wanted:
        raise InvalidInput("Choose at least one conversation.", code="no_conversations")
    if len(wanted) > MAX_CONVERSATIONS_PER_ACTION:
        raise InvalidInput(
            f"At most {MAX_CONVERSATIONS_PER_ACTION} conversations at once.",
            code="too_many_conversations",
        )
    # Only conversations the person can see (not deleted, no promotion they switched off):
    # what is hidden from them is not theirs to act on either.
    participants = list(
        visible_conversations(user)
        .select_for_update()
        .filter(conversation_id__in=wanted)
        .order_by("id")
    )
    if len(participants) != len(wanted):
        raise NotFound("No such conversation.", code="conversation_not_found")
    return participants


def finish(changed: list[Participant], kind: str, **state: Any) -> int:
    """Counters and events for a change of box, read or seen state on the person's own
    rows. `state` holds the new values that changed: box, unread, seen, and extras for
    the event payload."""
    deltas: dict[tuple[int, str], int] = defaultdict(int)
    for participant in changed:
        count_transition(
            deltas,
            participant,
            state.get("box", participant.box),
            state.get("unread", participant.unread_count),
            state.get("seen", participant.is_seen),
        )
    apply_counter_deltas(deltas)
    payload_state = {key: value for key, value in state.items() if key not in ("unread", "seen")}
    record_events(
        PendingEvent(
            participant.user_id,
            kind,
            row_payload(
                participant,
                **payload_state
                | {
                    "box": state.get("box", participant.box),
                    "unread_count": state.get("unread", participant.unread_count),
                },
            ),
        )
        for participant in changed
    )
    return len(changed)


def row_payload(participant: Participant, **extra: Any) -> dict[str, Any]:
    """What an event about a person's own row of a conversation says of it: where it is
    and how many unread, so a device moves it without reading it again; `extra` adds to
    or overrides these."""
    return {
        "conversation_id": participant.conversation_id,
        "folder": participant.folder,
        "box": participant.box,
        "unread_count": participant.unread_count,
        **extra,
    }
