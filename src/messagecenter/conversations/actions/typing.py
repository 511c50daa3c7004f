"""Someone typing a reply (docs/conversations.md#typing): a nudge to the conversation's
other people — "Customer Service is typing…" on their open page — and nothing stored: no
row, no event in anyone's log, however fast the keys go."""

from django.core.cache import cache

from messagecenter.accounts.models import User
from messagecenter.conversations import queries
from messagecenter.conversations.models import Participant, ParticipantRole
from messagecenter.errors import Conflict, NotAllowed
from messagecenter.realtime.actions import nudge_now

TYPING = "conversation.typing"
# A person's "typing" goes out at most this often per conversation; a page shows it this
# long after the last one (web/static/web/typing.js), so it stays up while they type.
TYPING_INTERVAL_SECONDS = 3


def tell_typing(user: User, conversation_id: object) -> bool:
    """Tell the conversation's other people that this person is typing, unless they were
    told within TYPING_INTERVAL_SECONDS (then nothing is sent: False). Only in a
    conversation the person can see (the same 404 as for the conversation otherwise). The
    name is the one the others see on the person's messages (an agent: "Customer
    Service", unless the operator shows agents' names). Only from someone who may reply
    there, refused as their reply would be (actions/sending.py) and nothing sent: an answer
    to the marketplace's systems (`cannot_reply`), an agent in a buyer–seller conversation,
    who writes from the request about it (`write_from_the_request`), or a message to a
    closed account (`recipient_closed`), a shop or buyer the other side blocked
    (`blocked`) — else the others read "Customer Service is typing…" for a message that
    can never come. A blocked shop's message about the buyer's order still reaches them,
    marked; its typing does not (nothing sent: the person who blocked it is not shown it
    typing)."""
    participant = queries.access_conversation(user, conversation_id)
    if participant.role == ParticipantRole.RECIPIENT:
        raise NotAllowed(
            "Messages from the marketplace's systems cannot be answered; contact customer "
            "service instead.",
            code="cannot_reply",
        )
    if refusal := queries.written_from_the_request(participant):
        raise NotAllowed(refusal, code="write_from_the_request")
    if closed := queries.closed_counterpart(participant):
        raise Conflict(closed, code="recipient_closed")
    if blocked := queries.blocked_by_counterpart(participant):
        raise NotAllowed(blocked, code="blocked")
    if participant.is_blocked_by_other_side:
        return False
    key = f"conversations:typing:{user.pk}:{participant.conversation_id}"
    # add() is atomic in every cache backend: two requests at once send one nudge.
    if not cache.add(key, True, timeout=TYPING_INTERVAL_SECONDS):
        return False
    others = (
        Participant.objects.filter(conversation_id=participant.conversation_id)
        .exclude(user_id=user.pk)
        .values_list("user_id", flat=True)
    )
    nudge_now(
        TYPING,
        {"conversation_id": participant.conversation_id, "name": user.public_name},
        list(others),
    )
    return True
