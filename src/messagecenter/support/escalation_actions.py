"""A silent seller: the buyer asks customer service to step in (docs/escalation.md).

Once a seller's response deadline has passed (conversations/deadlines.py), the buyer of the
conversation can open a customer-service request about it with one click. The request is an
ordinary case (kind request, through open_request) linked to the buyer–seller conversation
(`about_conversation`) and to its order when the buyer's, so the agent reads the whole
thread beside the case in the console. One at a time per conversation: while such a case
is open or pending, another click is refused with its number.

While it is open, an agent of the case's team writes in the buyer–seller conversation
itself (`write_in_conversation`): the seller's page tells them an agent may write to them
there, and both sides read the agent's message as customer service's, Official.
"""

from typing import Any

from django.db import transaction
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.accounts.time_zones import for_readers
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations.actions.checks import trimmed
from messagecenter.conversations.deadlines import describe_due
from messagecenter.conversations.models import Kind, Message, ParticipantRole
from messagecenter.errors import Conflict, InvalidInput, NotAllowed
from messagecenter.support import actions as support_actions
from messagecenter.support import escalation_queries, queries
from messagecenter.support.actions import open_request
from messagecenter.support.models import ACTIVE, Case, CaseEventKind, CaseStatus

NOTE_MAX_CHARS = 2_000


def ask_for_help(buyer: User, conversation_id: Any, *, note: str = "") -> Case:
    """ "Ask customer service to help" on a buyer–seller conversation whose seller did not
    answer in time. Refused, with the reason, before the deadline, after the seller has
    answered, while an earlier request about it is still open, and when the shop's account
    is closed."""
    participant = conversation_queries.access_conversation(buyer, conversation_id)
    conversation = participant.conversation
    if buyer.role != Role.BUYER:
        raise NotAllowed(
            "Only the buyer of a conversation with a seller can ask us to step in.",
            code="buyers_only",
        )
    # Checked before the participant's role: in order updates or a customer-service
    # conversation the buyer is no "buyer" participant, and "only the buyer can" told them
    # they were not who they are.
    if conversation.kind != Kind.BUYER_SELLER:
        raise InvalidInput(
            "This is not a conversation with a seller: we step in where a seller did not "
            "answer you in time. For anything else, contact customer service.",
            code="not_a_seller_conversation",
        )
    if participant.role != ParticipantRole.BUYER:
        raise NotAllowed(
            "Only the buyer of a conversation with a seller can ask us to step in.",
            code="buyers_only",
        )
    # A shop whose account is closed (erased, suspended) can never answer: its wait was set
    # aside, or went with its data, so the check below would say "the seller has answered
    # … reply to them here". The reply box's refusal instead, with the way that works.
    closed = conversation_queries.closed_counterpart(participant)
    if closed is not None:
        raise Conflict(
            f"{closed} For help with the order, contact customer service.",
            code="recipient_closed",
        )
    note = trimmed(note)
    if len(note) > NOTE_MAX_CHARS:
        raise InvalidInput(f"Add at most {NOTE_MAX_CHARS:,} characters.", code="message_too_long")
    with transaction.atomic():
        # The conversation's rows first (the send path's order): a seller's answer and this
        # request queue behind each other, and two clicks cannot both pass the check below.
        conversation_actions.lock_participants(conversation.pk)
        window = conversation_queries.response_window(participant)
        if window is None:
            raise InvalidInput(
                "The seller has answered (or is not waiting to answer): reply to them here. "
                "For anything else, contact customer service.",
                code="seller_not_waiting",
            )
        now = timezone.now()
        if not window.has_passed(now):
            raise InvalidInput(
                f"{window.seller_name} still has until {describe_due(window.due_at)} to "
                "answer. If there is no answer by then, you can ask us to step in.",
                code="seller_still_has_time",
            )
        open_case = escalation_queries.open_escalation(buyer, conversation.pk)
        if open_case is not None:
            raise Conflict(
                f"Customer service is already helping with this conversation "
                f"({open_case.number}): follow it in your Customer service folder.",
                code="already_asked_for_help",
            )
        # The buyer's words, read by them and by agents (and e-mailed to the buyer): in
        # the buyer's own zone, named, whichever zone the request came in.
        body = (
            f"{window.seller_name} has not answered my message about “{conversation.subject}” "
            f"(asked {for_readers(window.asked_at, buyer)}; the answer was due by "
            f"{for_readers(window.due_at, buyer)}). Please help."
        )
        if note:
            body += f"\n\n{note}"
        order = conversation.order
        return open_request(
            buyer,
            f"No answer from {window.seller_name}: {conversation.subject}",
            body,
            order_number=order.number if order is not None and order.buyer_id == buyer.pk else None,
            about_conversation_id=conversation.pk,
        )


def write_in_conversation(
    agent: User,
    case_id: Any,
    conversation_id: Any,
    body: str,
    *,
    idempotency_key: str | None = None,
) -> Message:
    """An agent of the request's team writes in the buyer–seller conversation the request
    is about, to the buyer and the seller at once, as customer service (Official). Only
    that conversation; a solved request opens again, as an answer in the request's own
    conversation opens it (not while a newer request about the conversation is open: one
    at a time, as the buyer's click keeps it); closed, never. An unassigned request
    becomes the agent's, as an answer to the customer makes it. The agent joins the
    conversation as its agent, and leaves it with the case: when the case goes to someone
    else or back to the queue, or is merged (support.actions.assign_locked_case,
    unassign_case, merge_cases)."""
    case = queries.access_case(agent, case_id, for_agent=True)
    conversation = escalation_queries.escalated_conversation(case, conversation_id)
    with transaction.atomic():
        # Both conversations' rows by id (the buyer–seller one, older, first: as the
        # buyer's "Ask customer service to help" takes it before the request's team), the
        # team, the case (support.actions.lock_case).
        case = support_actions.lock_case(case)
        if case.merged_into_id is not None:
            raise InvalidInput(
                f"This request was merged into CS-{case.merged_into_id}: write from there.",
                code="case_merged",
            )
        # A buyer erased since: the reason, as for an answer in the request's own
        # conversation, rather than "closed" (erasure closed it) — and a solved request
        # would otherwise open again, to wait in the queues for no one.
        support_actions.refuse_if_customer_erased(case)
        if case.status == CaseStatus.CLOSED:
            raise InvalidInput("This request is closed.", code="case_closed")
        if case.status not in ACTIVE:
            _refuse_beside_a_newer_request(case, conversation.pk)
        if case.assignee_id is None:
            support_actions.assign_locked_case(case, agent, actor=agent)
        conversation_actions.add_participants(conversation.pk, [(agent, ParticipantRole.AGENT)])
        # The one way an agent writes there (the ordinary reply refuses them): every
        # message goes through the checks above and the history below.
        message = conversation_actions.send_from_a_request(
            agent, conversation.pk, body, idempotency_key=idempotency_key
        )
        if not message.found_by_idempotency_key:
            # Solved: open again, as an answer in the request's own conversation opens it
            # ("set the status to Open" in its history), so it is back in the agent's
            # queue; the seller's answer moves nothing on the request.
            if case.status == CaseStatus.SOLVED:
                support_actions.set_locked_case_status(case, CaseStatus.OPEN, actor=agent)
            support_actions.record_case_event(
                case,
                agent,
                CaseEventKind.ANSWERED,
                now=message.created_at,
                conversation_id=conversation.pk,
                subject=conversation.subject,
            )
        return message


def _refuse_beside_a_newer_request(case: Case, conversation_id: int) -> None:
    """A solved request about a conversation the buyer has asked about again since: opened
    again, it would be a second request about it at once. Read under the conversation's
    participant locks (support.actions.lock_case), which the buyer's click takes too."""
    newer = escalation_queries.open_escalation_about(conversation_id)
    if newer is not None and newer.pk != case.pk:
        raise Conflict(
            f"The buyer has asked again about this conversation: {newer.number} is open. "
            "Write to the buyer and the seller from there.",
            code="newer_request_open",
        )
