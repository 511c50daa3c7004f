"""Appeals of a suspension (docs/safety.md#appeals): every write, each in one transaction.

A suspended account cannot sign in, so it appeals by e-mail: a reply to its suspension
notice, or an e-mail to customer service's address (delivery.inbound hands either to
`appeal_by_email` once it has confirmed the sender). The person's message goes into their
suspension conversation (conversations.topics.account_suspension) — the only one whose
e-mail still reaches an inactive account — and opens the case of kind `appeal` in the
trust-and-safety queue, or joins it. Agents answer there like in any case and decide:
lift the suspension (the account is active again) or keep it; the person is told by
e-mail either way."""

from typing import Any

from django.db import transaction
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.accounts.time_zones import zone_of
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations import topics
from messagecenter.conversations.models import Conversation, Message
from messagecenter.delivery.inbound.mailboxes import Delivery
from messagecenter.errors import Conflict, InvalidInput, NotFound
from messagecenter.rows import unique_row
from messagecenter.safety import actions as safety_actions
from messagecenter.support import actions as support_actions
from messagecenter.support import appeal_queries, queries
from messagecenter.support.models import Case, CaseEventKind, CaseKind, CaseStatus
from messagecenter.web.dates import email_time

LIFT, KEEP = "lift", "keep"
DECISIONS = ((LIFT, "Lift the suspension"), (KEEP, "Keep the suspension"))


def appeal_by_email(delivery: Delivery) -> Message:
    """A suspended person's e-mail, its sender confirmed by the inbound path: posted in
    their suspension conversation, marked sent by e-mail; the first opens the appeal case
    (with an acknowledgement they receive by e-mail), a later one joins it — and takes it
    back to the queue, as any customer's reply does. An inactive account with no
    suspension conversation (deactivated for another reason) has nothing to appeal."""
    person = delivery.sender
    conversation = unique_row(
        Conversation.objects.filter(topic_key=topics.account_suspension(person.pk))
    )
    if person.is_active or conversation is None:
        raise NotFound("There is no suspension to appeal.", code="no_suspension")
    files = conversation_actions.store_attachments(list(delivery.attachments))
    with transaction.atomic():
        message = conversation_actions.send_message(
            person,
            conversation.pk,
            delivery.body,
            idempotency_key=delivery.idempotency_key,
            files=files,
            sent_by_email=True,
        )
        if Case.objects.filter(conversation_id=conversation.pk).exists():
            # Joined: the send's hook took the case back to the queue (or this is the
            # same e-mail again).
            return message
        team = support_actions.team_for(CaseKind.APPEAL)
        expected = queries.expected_response(team)
        case = support_actions.open_case(
            CaseKind.APPEAL,
            person,
            f"Appeal: suspension of {person.public_name}",
            team=team,
            conversation_id=conversation.pk,
            queued_at=message.created_at,
            respond_within=expected,
            channel="email",
        )
        assert case.respond_by is not None
        with timezone.override(zone_of(person)):
            when = email_time(case.respond_by)
        conversation_actions.post_marketplace_message(
            conversation.pk,
            f"We have your appeal ({case.number}). Our trust and safety team will review "
            f"it and answer you by e-mail, usually within "
            f"{queries.describe_duration(expected)}: expect an answer by {when}. To add "
            "anything, reply to this e-mail.",
        )
        return message


def decide_appeal(agent: User, case_id: Any, decision: Any) -> Case:
    """Lift the suspension (the account active again: the person signs in afresh) or keep
    it. The person is told in their suspension conversation, so by e-mail; the case is
    solved, and a later e-mail from them takes it back to the queue."""
    case = appeal_queries.access_appeal(agent, case_id)
    if decision not in (LIFT, KEEP):
        raise InvalidInput(
            "Lift the suspension or keep it: choose one.", code="invalid_appeal_decision"
        )
    with transaction.atomic():
        # The conversation's participants, the team, the case (support's lock order).
        case = support_actions.lock_case(case)
        person = case.customer
        # Erasure closed the appeal and the account for good: lifting it made an erased
        # account active again (and resumed its waits), keeping it wrote to no one.
        support_actions.refuse_if_customer_erased(case)
        if person.is_active:
            raise Conflict(
                "This account is not suspended any more: there is nothing to decide.",
                code="appeal_already_decided",
            )
        now = timezone.now()
        if decision == LIFT:
            safety_actions.reinstate(person)
            text = (
                "We reviewed your appeal and lifted the suspension: your account is active "
                "again. Sign in with your username and password (you were signed out of "
                "every device). Please keep to the marketplace's rules: another confirmed "
                "report may suspend it again."
            )
        else:
            text = (
                "We reviewed your appeal and the suspension stays: your account remains "
                "suspended and cannot sign in. If you have something new to tell us, "
                "reply to this e-mail."
            )
        if case.assignee_id is None:
            support_actions.assign_locked_case(case, agent, actor=agent)
        support_actions.record_case_event(
            case, agent, CaseEventKind.APPEAL_DECIDED, now=now, decision=decision
        )
        assert case.conversation_id is not None
        conversation_actions.post_marketplace_message(case.conversation_id, text)
        # Solved without the usual "we marked your request as solved" message: the
        # decision just sent says it all, in one e-mail.
        previous = case.status
        support_actions.move_case(case, status=CaseStatus.SOLVED, now=now)
        support_actions.record_case_event(
            case, agent, CaseEventKind.STATUS, now=now, previous=previous, status=case.status
        )
        support_actions.tell_customer_of(case)
        return case
