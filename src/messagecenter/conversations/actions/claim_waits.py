"""A seller's wait in a guarantee claim's conversation (docs/support.md#guarantee-claims).

In a buyer–seller conversation any answer ends the buyer's wait. In a claim's conversation
the seller owes one thing, the claim's formal response (with its evidence, on the claim's
page or through the API): a reply written in the conversation — on the web or by e-mail —
is read by the buyer and the agent but is not that response, and the claim still waits.
So the send path neither starts nor ends a wait there (sending._update_participants), and
support's claim actions do: the filing starts it, the formal response ends it (recorded
like any answer for the seller's response times), and so does the deadline passing without
one. Meanwhile the conversation stays in the seller's *Response needed*, and "No response
needed" cannot take it out (refuse_ending_claim_waits): the claim would still wait, its
deadline running out of the seller's sight.

Called inside the claim action's transaction, the conversation's participants locked by
it (support's lock order starts with them).
"""

from datetime import datetime

from messagecenter.conversations.models import (
    Conversation,
    Kind,
    Participant,
    ParticipantRole,
    ResponseTime,
)
from messagecenter.errors import Conflict


def start_claim_wait(conversation_id: int, since: datetime) -> None:
    """The seller now owes the claim's response: the conversation joins their Response
    needed, waiting since the filing."""
    Participant.objects.filter(
        conversation_id=conversation_id,
        role=ParticipantRole.SELLER,
        awaiting_response_since__isnull=True,
    ).update(awaiting_response_since=since)


def end_claim_wait(conversation_id: int, *, answered_at: datetime | None) -> None:
    """The claim no longer waits for the seller: they responded (`answered_at`, recorded as
    an answer for their response times) or the deadline passed (None: nothing to record,
    an agent decides without them)."""
    waiting = list(
        Participant.objects.filter(
            conversation_id=conversation_id,
            role=ParticipantRole.SELLER,
            awaiting_response_since__isnull=False,
        )
    )
    if not waiting:
        return
    if answered_at is not None:
        ResponseTime.objects.bulk_create(
            ResponseTime(
                seller_id=row.user_id,
                conversation_id=conversation_id,
                asked_at=asked_at,
                answered_at=answered_at,
                due_at=row.response_due_at,
            )
            for row in waiting
            if (asked_at := row.awaiting_response_since) is not None
        )
    Participant.objects.filter(pk__in=[row.pk for row in waiting]).update(
        awaiting_response_since=None, response_due_at=None, is_response_overdue=False
    )


def refuse_ending_claim_waits(waiting: list[Participant]) -> None:
    """A seller's "No response needed" on waits of theirs: refused, for the whole selection,
    when one of them is a claim's — in a claim's conversation only the claim's actions start
    and end a wait, so one there means the claim's response is still due."""
    claims = list(
        Conversation.objects.filter(
            pk__in=[row.conversation_id for row in waiting], kind=Kind.CLAIM
        ).values_list("subject", flat=True)[:2]
    )
    if not claims:
        return
    others = " (and another claim's)" if len(claims) > 1 else ""
    raise Conflict(
        f"“{claims[0]}”{others} waits for your response to the claim: respond to the claim "
        "on its page, with your evidence, or at its deadline an agent decides without it. "
        "“No response needed” cannot take a claim out of Response needed; nothing was "
        "changed.",
        code="claim_response_due",
    )
