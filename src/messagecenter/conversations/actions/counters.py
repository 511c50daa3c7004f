"""How a change to people's Participant rows moves their unread counters, and the one
UPDATE that moves them."""

from django.db.models import Case, F, Q, Value, When

from messagecenter.conversations.models import Participant, UnreadCounter
from messagecenter.hub.boxes import UNSEEN, counter_key


def count_transition(
    deltas: dict[tuple[int, str], int],
    participant: Participant,
    new_box: str,
    new_unread: int,
    new_seen: bool,
) -> None:
    """Record how one participant's change moves its person's counters."""
    old_key = counter_key(participant.box, participant.folder) if participant.unread_count else None
    new_key = counter_key(new_box, participant.folder) if new_unread else None
    if old_key != new_key:
        if old_key is not None:
            deltas[(participant.user_id, old_key)] -= 1
        if new_key is not None:
            deltas[(participant.user_id, new_key)] += 1
    if participant.is_seen != new_seen:
        deltas[(participant.user_id, UNSEEN)] += -1 if new_seen else 1


def apply_counter_deltas(deltas: dict[tuple[int, str], int]) -> None:
    """One UPDATE for every counter that moves, each by its own delta."""
    moving = {key: delta for key, delta in deltas.items() if delta}
    if not moving:
        return
    where = Q()
    cases = []
    for (user_id, key), delta in sorted(moving.items()):
        where |= Q(user_id=user_id, key=key)
        cases.append(When(user_id=user_id, key=key, then=Value(delta)))
    UnreadCounter.objects.filter(where).update(
        conversations=F("conversations") + Case(*cases, default=Value(0))
    )
