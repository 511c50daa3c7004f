"""Every change to cases goes through a function here: the console's pages, the JSON API
and the conversations hook (a customer's reply reopens their case) all call these
(docs/support.md).

Lock order, everywhere: the case's conversation participants (by id, as every
conversation action takes them), then the case's team, then the case row; everything
after (queue counters, unread counters, event streams) is touched only while the team is
held. A customer's reply arrives with the participants already locked by the send path
and takes the team and the case next, so it queues behind an agent's action instead of
deadlocking with it; the team's lock serialises its counters, whatever order one
transaction moves them in (docs/support.md, "Lock order").
"""

import re
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any, Literal

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import F
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.accounts.time_zones import zone_of
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations.actions.checks import clean_text
from messagecenter.conversations.hooks import PostedMessage
from messagecenter.conversations.models import (
    Attachment,
    Conversation,
    Kind,
    Message,
    Participant,
    ParticipantRole,
)
from messagecenter.delivery.inbound.mailboxes import Delivery
from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.marketplace import queries as marketplace_queries
from messagecenter.marketplace.models import Order, Product
from messagecenter.realtime.actions import PendingEvent, nudge_after_commit, record_events
from messagecenter.realtime.models import EventKind
from messagecenter.rows import parse_id, unique_row
from messagecenter.safety.links import defang
from messagecenter.support import queries
from messagecenter.support.models import (
    ACTIVE,
    REOPENABLE,
    UNASSIGNED,
    CannedResponse,
    Case,
    CaseCounter,
    CaseEvent,
    CaseEventKind,
    CaseKind,
    CaseNote,
    CasePriority,
    CaseStatus,
    ChatAvailability,
    Report,
    ReportOutcome,
    Team,
    TeamMember,
)
from messagecenter.web.dates import email_time

# Case.subject's and Conversation.subject's max_length.
SUBJECT_MAX_LENGTH = 200

NOTE_MAX_CHARS = 10_000
MAX_CANNED_RESPONSES_PER_TEAM = 200
# What agents may set by hand; CLOSED belongs to a kind's own lifecycle (claims).
AGENT_STATUSES = (CaseStatus.OPEN, CaseStatus.PENDING, CaseStatus.SOLVED)
# move_case's "leave the assignee as it is" (no user has this id).
KEEP_ASSIGNEE = -1


# --- opening ------------------------------------------------------------------------------


def team_for(kind: str) -> Team:
    """The team a new case of this kind goes to (settings.SUPPORT_TEAMS), made on first
    use so a fresh database needs no setup step."""
    slug, name = settings.SUPPORT_TEAMS[kind]
    team = unique_row(Team.objects.filter(slug=slug))
    if team is not None:
        return team
    try:
        with transaction.atomic():
            return Team.objects.create(slug=slug, name=name)
    except IntegrityError:
        return Team.objects.get(slug=slug)


def typed_subject(subject: str) -> str:
    """A subject the person typed ("Contact customer service", POST /customer-service):
    too long is refused, as a too long message is, rather than cut without a word. The
    subjects made here (a chat's first line, an escalation's "No answer from …") and an
    e-mail's Subject line are cut to fit instead (contact_customer_service)."""
    if len(subject.strip()) > SUBJECT_MAX_LENGTH:
        raise InvalidInput(
            f"A subject is at most {SUBJECT_MAX_LENGTH} characters.", code="subject_too_long"
        )
    return subject


def open_request(
    customer: User,
    subject: str,
    body: str,
    *,
    order_number: str | None = None,
    product_sku: str | None = None,
    about_conversation_id: Any = None,
    idempotency_key: str | None = None,
    chat_with: User | None = None,
    channel: str = "web",
    attachments: Sequence[Any] = (),
) -> Case:
    """ "Contact customer service" (web, API): a conversation in the customer's Customer
    service folder and a case in the customer-service queue, with what it is about, in one
    transaction. The customer is told at once, in the conversation (and by e-mail), when
    to expect an answer. A retry with the same idempotency key returns the same case.
    `attachments` go on the customer's first message, under the policy of any message
    (a request by e-mail keeps the e-mail's files)."""
    if customer.role not in (Role.BUYER, Role.SELLER):
        raise NotAllowed(
            "Customer service is for buyers and sellers; agents work cases in the console.",
            code="customers_only",
        )
    order = _order_of(customer, order_number)
    product = marketplace_queries.product_by_sku(product_sku) if product_sku else None
    about: Conversation | None = None
    if about_conversation_id not in (None, ""):
        participant = conversation_queries.access_conversation(customer, about_conversation_id)
        about = participant.conversation
        if about.kind != Kind.BUYER_SELLER:
            # The console shows it as "the customer's conversation with a seller": a
            # review named its own customer-service request and a claim, and both opened.
            raise InvalidInput(
                "A request can be about one of your conversations between a buyer and a "
                "seller; this one is not (order updates, customer service, a claim…). For "
                "an order, give its number instead.",
                code="not_a_seller_conversation",
            )
        if order is None and about.order is not None and about.order.buyer_id == customer.pk:
            order = about.order
    # Checked (type, size, count, then safety's re-encoding or refusal) and stored before
    # the transaction, as for any message: a refused file opens nothing.
    files = conversation_actions.store_attachments(list(attachments))
    with transaction.atomic():
        message = conversation_actions.contact_customer_service(
            customer,
            subject,
            body,
            order=order if order is not None and order.buyer_id == customer.pk else None,
            idempotency_key=idempotency_key,
            files=files,
        )
        existing = unique_row(Case.objects.filter(conversation_id=message.conversation_id))
        if existing is not None:
            existing.found_by_idempotency_key = True
            return existing
        team = team_for(CaseKind.REQUEST)
        expected = queries.expected_response(team)
        case = open_case(
            CaseKind.REQUEST,
            customer,
            message.conversation.subject,
            team=team,
            conversation_id=message.conversation_id,
            order=order,
            product=product,
            about_conversation=about,
            queued_at=message.created_at,
            # A chat an agent takes at once promises no time: they answer as they write.
            respond_within=expected if chat_with is None else None,
            channel="chat" if chat_with is not None else channel,
        )
        if chat_with is None:
            conversation_actions.post_marketplace_message(
                message.conversation_id, _received_text(case, expected)
            )
            return case
        # A chat: the agent is on it at once. The conversation was made in this
        # transaction, so nobody else can be holding its participants.
        case = lock_case(case)
        assign_locked_case(case, chat_with, actor=chat_with)
        conversation_actions.post_marketplace_message(
            message.conversation_id,
            f"You are chatting with {chat_with.public_name} ({case.number}). Their answers "
            "appear here as they write them; this conversation stays in your Message Center.",
        )
        return case


def start_chat(
    customer: User,
    body: str,
    *,
    order_number: str | None = None,
    idempotency_key: str | None = None,
) -> Case:
    """ "Chat with us": a request that an available agent of the team takes at once
    (the conversation then updates live on both sides); with nobody available, an
    ordinary request with the expected response time. `case.assignee` says which."""
    text = (body or "").strip()
    first_line = text.splitlines()[0] if text else ""
    subject = f"Chat: {first_line[:70]}" + ("…" if len(first_line) > 70 else "")
    agent = queries.chat_agent(team_for(CaseKind.REQUEST))
    return open_request(
        customer,
        subject,
        body,
        order_number=order_number,
        idempotency_key=idempotency_key,
        chat_with=agent,
    )


def set_chat_availability(agent: User, is_available: bool) -> ChatAvailability:
    """An agent's "available for chat" switch (agents only)."""
    if agent.role != Role.AGENT:
        raise NotAllowed("Only agents take chats.", code="agents_only")
    now = timezone.now()
    with transaction.atomic():
        availability, _ = ChatAvailability.objects.update_or_create(
            agent=agent, defaults={"is_available": bool(is_available), "seen_at": now}
        )
        return availability


def agent_seen(agent: User, availability: ChatAvailability | None) -> None:
    """An available agent's console page is open: they still take chats. At most one
    write a minute (the console renews it while a page of it is open). `availability` is
    the agent's switch as the page has just read it (queries.chat_availability): a page
    with nothing to renew (away, or seen within the minute) writes nothing: an UPDATE that
    matches no row still begins a write transaction (SQLite's write lock)."""
    now = timezone.now()
    if (
        availability is None
        or not availability.is_available
        or availability.seen_at >= now - timedelta(minutes=1)
    ):
        return
    ChatAvailability.objects.filter(
        agent=agent, is_available=True, seen_at__lt=now - timedelta(minutes=1)
    ).update(seen_at=now)


def open_case(
    kind: str,
    customer: User,
    subject: str,
    *,
    team: Team | None = None,
    conversation_id: int | None = None,
    order: Order | None = None,
    product: Product | None = None,
    about_conversation: Conversation | None = None,
    about_message: Message | None = None,
    priority: int = CasePriority.NORMAL,
    status: str = CaseStatus.OPEN,
    queued_at: datetime | None = None,
    respond_within: timedelta | None = None,
    due_at: datetime | None = None,
    actor: User | Literal["customer"] | None = "customer",
    tell_customer: bool = True,
    **detail: Any,
) -> Case:
    """Open a case of any kind (request, report, claim) in its team's queue, unassigned:
    the row with what it is about, +1 on its queue counter, the "opened" line of its
    history and (unless told not to) the customer's live `case.updated`, in the caller's
    transaction (or its own).

    The caller checks who may open it and what the links point at (access getters) and
    writes its own rows (a claim's stage, a report's reasons) beside it. A conversation
    the case talks in must already exist, with its participants locked if the caller
    holds them (the lock order: participants → team → case). `team` defaults to the
    kind's (`team_for`); `queued_at` to now; `respond_within` sets `respond_by` (what
    the customer was promised); `actor` is who opened it for the history (the customer
    unless given; None for the marketplace's own systems); `detail` goes into that
    history line."""
    if kind not in CaseKind.values:
        raise InvalidInput("Unknown kind of case.", code="invalid_case_kind")
    if status not in CaseStatus.values:
        raise InvalidInput("Unknown case status.", code="invalid_status")
    team = team if team is not None else team_for(kind)
    # No savepoint when the caller is already in a transaction: it is theirs to roll back.
    with transaction.atomic(savepoint=False):
        lock_team(team.pk)
        now = timezone.now()
        case = Case.objects.create(
            kind=kind,
            status=status,
            priority=priority,
            team=team,
            customer=customer,
            subject=subject[:200],
            conversation_id=conversation_id,
            order=order,
            product=product,
            about_conversation=about_conversation,
            about_message=about_message,
            created_at=now,
            queued_at=queued_at or now,
            respond_by=now + respond_within if respond_within is not None else None,
            solved_at=now if status in (CaseStatus.SOLVED, CaseStatus.CLOSED) else None,
            due_at=due_at,
        )
        _move_counters({(team.pk, status, UNASSIGNED): 1})
        opened_by = customer if actor == "customer" else actor
        record_case_event(case, opened_by, CaseEventKind.OPENED, now=now, **detail)
        if tell_customer:
            tell_customer_of(case)
        return case


def open_request_by_email(delivery: Delivery) -> Message:
    """An e-mail to SUPPORT_EMAIL_ADDRESS from a customer's confirmed address (the inbound
    path checked who sent it): a request like the web's, its subject and text from the
    e-mail; the answers reach them by e-mail with a reply address of this conversation.
    Returns the customer's message (a second delivery of the e-mail: the same one)."""
    case = open_request(
        delivery.sender,
        delivery.subject or "E-mail to customer service",
        delivery.body,
        idempotency_key=delivery.idempotency_key,
        channel="email",
        attachments=delivery.attachments,
    )
    assert case.conversation_id is not None
    first = unique_row(
        Message.objects.filter(
            conversation_id=case.conversation_id, sender_id=delivery.sender.pk
        ).order_by("id")[:1]
    )
    assert first is not None
    return first


def _order_of(customer: User, order_number: str | None) -> Order | None:
    if not order_number:
        return None
    if customer.role == Role.SELLER:
        return marketplace_queries.sold_order(customer, order_number)
    return marketplace_queries.access_order(customer, order_number)


def _received_text(case: Case, expected: timedelta) -> str:
    assert case.respond_by is not None
    # Written into the customer's conversation (and its e-mail): in their time zone.
    with timezone.override(zone_of(case.customer)):
        when = email_time(case.respond_by)
    return (
        f"We have your request ({case.number}) and an agent will answer here. "
        f"We usually answer within {queries.describe_duration(expected)}, "
        f"so expect an answer by {when}. You will get an e-mail when we do."
    )


# --- the hook: messages in a case's conversation -------------------------------------------


def case_message_posted(posted: PostedMessage) -> list[PendingEvent]:
    """Called by the send path inside its transaction (conversations.hooks): the
    customer's reply takes a pending or solved case back to the queue; an agent's reply
    answers it (first response time, waiting on the customer)."""
    if posted.sender_id is None:
        return []
    found = unique_row(Case.objects.filter(conversation_id=posted.conversation_id))
    if found is not None and found.merged_into_id is not None:
        # A reply in a merged duplicate's conversation moves the case it was merged into
        # (the console shows both conversations there).
        found = unique_row(Case.objects.filter(pk=found.merged_into_id))
    if found is None:
        return []
    lock_team(found.team_id)
    case = unique_row(Case.objects.select_for_update().filter(pk=found.pk))
    if case is None:
        return []
    now = posted.created_at
    if case.kind == CaseKind.CLAIM:
        return _claim_message_posted(case, posted)
    if posted.sender_id == case.customer_id:
        if case.status not in REOPENABLE:
            return []
        move_case(case, status=CaseStatus.OPEN, now=now)
        if case.respond_by is not None:
            # A new question, promised an answer as a new request asked now would be: the
            # promise made for the one answered, often long past, showed the customer and
            # the console a request overdue at once. (A case promised nothing keeps none.)
            case.respond_by = now + queries.expected_response(case.team)
            case.save(update_fields=["respond_by"])
        record_case_event(case, User(pk=case.customer_id), CaseEventKind.CUSTOMER_REPLIED, now=now)
        return [_customer_event(case)]
    if posted.sender_role != ParticipantRole.AGENT:
        return []
    if case.first_response_at is None:
        case.first_response_at = now
        case.save(update_fields=["first_response_at"])
    record_case_event(
        case,
        User(pk=posted.sender_id),
        CaseEventKind.ANSWERED,
        now=now,
        message_id=posted.message_id,
    )
    if case.status != CaseStatus.OPEN:
        return []
    move_case(case, status=CaseStatus.PENDING, now=now)
    return [_customer_event(case)]


def _claim_message_posted(case: Case, posted: PostedMessage) -> list[PendingEvent]:
    """A claim's status follows its stage (support.claim_actions), never a message: a
    buyer writing while the seller's window runs does not put it in front of an agent.
    An agent's message still counts as the first response."""
    if posted.sender_role != ParticipantRole.AGENT:
        return []
    if case.first_response_at is None:
        case.first_response_at = posted.created_at
        case.save(update_fields=["first_response_at"])
    record_case_event(
        case,
        User(pk=posted.sender_id),
        CaseEventKind.ANSWERED,
        now=posted.created_at,
        message_id=posted.message_id,
    )
    return []


# --- agents' actions ---------------------------------------------------------------------


def take_case(agent: User, case_id: Any) -> Case:
    """ "Assign to me": only a case nobody has yet. When many agents press it at once,
    one gets the case and the others are told who has it."""
    case = queries.access_case(agent, case_id, for_agent=True)
    with transaction.atomic():
        case = lock_case(case)
        refuse_if_merged(case)
        if case.assignee_id == agent.pk:
            return case
        if case.assignee_id is not None:
            assert case.assignee is not None
            raise Conflict(
                f"{queries.internal_name(case.assignee)} already has this case.",
                code="case_already_assigned",
            )
        assign_locked_case(case, agent, actor=agent)
        return case


def assign_case(agent: User, case_id: Any, assignee_id: Any) -> Case:
    """Give a case to a teammate (or to oneself), whoever has it now."""
    case = queries.access_case(agent, case_id, for_agent=True)
    # A missing or malformed choice is the form's to answer, as a teammate outside the team
    # is (`400 agent_not_in_team`): as parse_id's NotFound the console showed the site's 404
    # page for a case the agent can see.
    try:
        assignee_key = parse_id(assignee_id)
    except NotFound:
        raise InvalidInput(
            "Choose an agent of the case's team.", code="agent_not_in_team"
        ) from None
    with transaction.atomic():
        case = lock_case(case)
        membership = unique_row(
            TeamMember.objects.select_related("agent").filter(
                team_id=case.team_id, agent_id=assignee_key, agent__role=Role.AGENT
            )
        )
        if membership is None:
            raise InvalidInput("Choose an agent of the case's team.", code="agent_not_in_team")
        refuse_if_merged(case)
        if case.assignee_id == assignee_key:
            return case
        assign_locked_case(case, membership.agent, actor=agent)
        return case


def refuse_if_merged(case: Case) -> None:
    """A merged duplicate is worked on in the case it was merged into: it is in no queue
    and no count (queries.recount), so given to someone it would have moved counters for
    a case no queue lists — an agent's page opened before the merge still offers Take."""
    if case.merged_into_id is not None:
        raise InvalidInput(
            f"{case.number} was merged into CS-{case.merged_into_id}: work on that case.",
            code="case_merged",
        )


def unassign_case(agent: User, case_id: Any) -> Case:
    """Back to the team's queue. The agent leaves the conversation; what they wrote stays
    in it for the customer."""
    case = queries.access_case(agent, case_id, for_agent=True)
    with transaction.atomic():
        case = lock_case(case)
        if case.assignee_id is None:
            return case
        previous = case.assignee_id
        move_case(case, assignee_id=None, now=timezone.now())
        _promise_once_nobody_has_it(case)
        _leave(case, previous)
        record_case_event(
            case, agent, CaseEventKind.UNASSIGNED, now=timezone.now(), previous=previous
        )
        tell_customer_of(case)
        return case


def _promise_once_nobody_has_it(case: Case) -> None:
    """A chat promises no time while its agent answers as they write (start_chat); handed
    back to a queue with the customer waiting (unassigned, or transferred to a team its
    agent is not in), it promises what a request asked when they started waiting would —
    else their status line read "Waiting for an agent" with no time at all."""
    if (
        case.kind == CaseKind.REQUEST
        and case.status == CaseStatus.OPEN
        and case.assignee_id is None
        and case.respond_by is None
    ):
        case.respond_by = _promise_for_wait(case, case.queued_at)
        case.save(update_fields=["respond_by"])


def statuses_for(case: Case) -> tuple[str, ...]:
    """What an agent may set this case to: "waiting on the customer" only where there is a
    conversation with them to wait in (a report has none: nobody would ever answer, and it
    would sit in the Waiting queue for good)."""
    if case.conversation_id is None:
        return (CaseStatus.OPEN, CaseStatus.SOLVED)
    return AGENT_STATUSES


def set_case_status(agent: User, case_id: Any, status: str) -> Case:
    if status not in AGENT_STATUSES:
        raise InvalidInput(
            "A case is open, pending (waiting on the customer) or solved.", code="invalid_status"
        )
    case = queries.access_case(agent, case_id, for_agent=True)
    if case.kind == CaseKind.CLAIM:
        raise InvalidInput(
            "A claim's status follows its stage: decide the claim instead.",
            code="claim_status_follows_stage",
        )
    if status not in statuses_for(case):
        raise InvalidInput(
            "This case has no conversation with the customer, so it cannot wait on them: "
            "set it open or solved.",
            code="no_customer_to_wait_on",
        )
    with transaction.atomic():
        case = lock_case(case)
        # Erasure left a solved request solved: opened again (open, or waiting on a
        # customer who is gone) it went back in the queues, to be answered to no one.
        if status != case.status:
            refuse_if_customer_erased(case)
        # A decided report is solved for good: opened again, no decision could close it
        # (the decision is final: report_already_decided), so it would sit in the queues.
        if (
            case.kind == CaseKind.REPORT
            and status != case.status
            and Report.objects.filter(pk=case.pk).exclude(outcome=ReportOutcome.PENDING).exists()
        ):
            raise Conflict(
                "This report is decided: it stays solved, and its decision is final.",
                code="report_already_decided",
            )
        set_locked_case_status(case, status, actor=agent)
        return case


def set_locked_case_status(case: Case, status: str, *, actor: User) -> None:
    """A case held by `lock_case` moved to `status` by `actor`: its counters
    (`move_case`), a "status" line in its history, the customer's live `case.updated`,
    and, when solved, the message telling the customer that a reply opens it again.
    Nothing when it already has that status; a closed case is refused (`case_closed`).
    The caller has checked who may set it."""
    if case.status == status:
        return
    if case.status == CaseStatus.CLOSED:
        raise InvalidInput("This case is closed.", code="case_closed")
    now = timezone.now()
    previous = case.status
    move_case(case, status=status, now=now)
    record_case_event(case, actor, CaseEventKind.STATUS, now=now, previous=previous, status=status)
    if status == CaseStatus.SOLVED and case.conversation_id is not None:
        conversation_actions.post_marketplace_message(
            case.conversation_id,
            f"We have marked your request {case.number} as solved. If you still need help, "
            "reply here and it opens again.",
        )
    tell_customer_of(case)


def set_case_priority(agent: User, case_id: Any, priority: Any) -> Case:
    try:
        value = CasePriority(int(priority))
    except (TypeError, ValueError):
        raise InvalidInput("Priority is 1 (low) to 4 (urgent).", code="invalid_priority") from None
    case = queries.access_case(agent, case_id, for_agent=True)
    with transaction.atomic():
        case = lock_case(case)
        if case.priority == value:
            return case
        previous = case.priority
        case.priority = value
        case.save(update_fields=["priority"])
        record_case_event(
            case,
            agent,
            CaseEventKind.PRIORITY,
            now=timezone.now(),
            previous=previous,
            priority=value,
        )
        return case


def add_note(agent: User, case_id: Any, body: str) -> CaseNote:
    """An internal note: agents only, never a message (models.CaseNote)."""
    body = clean_text(body)
    if not body:
        raise InvalidInput("Write the note first.", code="empty_note")
    if len(body) > NOTE_MAX_CHARS:
        raise InvalidInput(
            f"Notes are limited to {NOTE_MAX_CHARS:,} characters.", code="note_too_long"
        )
    case = queries.access_case(agent, case_id, for_agent=True)
    with transaction.atomic():
        return CaseNote.objects.create(
            case=case, author=agent, body=body, created_at=timezone.now()
        )


def reply_to_case(
    agent: User,
    case_id: Any,
    body: str,
    *,
    status: str = CaseStatus.PENDING,
    idempotency_key: str | None = None,
) -> Message:
    """An agent's answer to the customer, as an Official message in the case's
    conversation (live, and e-mailed), then the status the agent chose ("send and set
    pending" by default; solved to close it). An unassigned case becomes the agent's."""
    if status not in AGENT_STATUSES:
        raise InvalidInput(
            "A case is open, pending (waiting on the customer) or solved.", code="invalid_status"
        )
    case = queries.access_case(agent, case_id, for_agent=True)
    conversation_id = case.conversation_id
    if conversation_id is None:
        raise InvalidInput("This case has no conversation to answer in.", code="no_conversation")
    # Erasure closes their requests (close_cases_of_erased), but an answer would reach
    # nobody whatever the case's status: say why rather than "closed".
    refuse_if_customer_erased(case)
    # A canned text pasted rather than inserted: its placeholders filled as *Insert*
    # fills them (one the case has a value for was refused as having none).
    body = fill_placeholders(body, case, agent)
    _refuse_unfilled(body)
    with transaction.atomic():
        case = lock_case(case)
        if case.status == CaseStatus.CLOSED:
            raise InvalidInput("This case is closed.", code="case_closed")
        if case.assignee_id is None:
            assign_locked_case(case, agent, actor=agent)
        else:
            conversation_actions.add_participants(conversation_id, [(agent, ParticipantRole.AGENT)])
        message = conversation_actions.send_message(
            agent, conversation_id, body, idempotency_key=idempotency_key
        )
        case.refresh_from_db()
        # A claim's status follows its stage (decide it to move it), not a reply.
        if case.kind != CaseKind.CLAIM:
            set_locked_case_status(case, status, actor=agent)
        return message


def close_cases_of_erased(operator: User, customer: User) -> int:
    """A person being erased (privacy/erasure.py, in its transaction): their requests and
    appeals still waiting for someone — open or pending — are closed for good, each with a
    history line saying why. Nobody can answer them any more: left open they sat in the
    agents' queue as "erased-<id>", to be answered to no one. Claims go on (the seller
    takes part, and a decision may refund the order); reports they filed are the review of
    someone else. Returns how many were closed."""
    closed = 0
    waiting = Case.objects.filter(
        customer=customer, kind__in=queries.ANSWERED_BY_CUSTOMER_ALONE, status__in=ACTIVE
    ).order_by("pk")
    with transaction.atomic(savepoint=False):
        for found in waiting:
            case = lock_case(found)
            if case.status not in ACTIVE:
                continue
            now = timezone.now()
            previous = case.status
            move_case(case, status=CaseStatus.CLOSED, now=now)
            record_case_event(
                case,
                operator,
                CaseEventKind.STATUS,
                now=now,
                previous=previous,
                status=CaseStatus.CLOSED,
                reason=queries.CLOSED_FOR_ERASURE,
            )
            closed += 1
    return closed


def refuse_if_customer_erased(case: Case) -> None:
    """`409 customer_erased` for a case whose customer was erased (queries.is_customer_erased):
    no answer to them, and no opening it again, from whichever path."""
    if queries.is_customer_erased(case):
        raise Conflict(queries.CUSTOMER_ERASED, code="customer_erased")


def _refuse_unfilled(body: str) -> None:
    """A canned response's placeholder the case had no value for, still in the reply."""
    unfilled = unfilled_placeholders(body)
    if unfilled:
        names = ", ".join(f"{{{name}}}" for name in unfilled)
        raise InvalidInput(
            f"Fill in {names} before sending: this case has nothing to put there (a case "
            "without an order has no order number).",
            code="unfilled_placeholder",
        )


def note_context_opened(
    agent: User, case: Case, conversation: Conversation, *, attachment: Attachment | None = None
) -> None:
    """The audit line of an agent reading one of the customer's other conversations, or
    downloading a file of it (what the page showed was its name only)."""
    detail: dict[str, Any] = {"conversation_id": conversation.pk, "subject": conversation.subject}
    if attachment is not None:
        detail |= {"attachment_id": attachment.pk, "attachment": attachment.download_name}
    with transaction.atomic():
        record_case_event(case, agent, CaseEventKind.CONTEXT_OPENED, now=timezone.now(), **detail)


# --- merging and splitting --------------------------------------------------------------


def merge_cases(agent: User, case_id: Any, into_case_id: Any) -> Case:
    """A duplicate merged into the case that is kept: the duplicate leaves every queue
    (its counter goes down, it is closed), its conversation and notes show on the kept
    case, the kept case takes the links it lacked, and the customer is told in both
    conversations. Replies in the duplicate's conversation move the kept case from then
    on. Returns the kept case."""
    duplicate = queries.access_case(agent, case_id, for_agent=True)
    kept = queries.access_case(agent, into_case_id, for_agent=True)
    if duplicate.pk == kept.pk:
        raise InvalidInput("A case cannot be merged into itself.", code="merge_into_itself")
    if duplicate.customer_id != kept.customer_id:
        raise InvalidInput(
            "Only cases of the same customer can be merged: the customer sees both.",
            code="merge_other_customer",
        )
    for case in (duplicate, kept):
        if case.kind != CaseKind.REQUEST:
            # A claim, a report or an appeal has its own stages, team and decision, which
            # the kept case's page does not show: merged away, a claim waited for a
            # decision nobody could make, and a report's merge named its case to the
            # reporter (which their messages never do).
            raise InvalidInput(
                f"{case.number} is {_KIND_WORDS[case.kind]}: only customer-service requests "
                "can be merged.",
                code="merge_requests_only",
            )
    if (
        duplicate.about_conversation_id is not None
        and kept.about_conversation_id is not None
        and duplicate.about_conversation_id != kept.about_conversation_id
    ):
        # Two requests for help, each about its own conversation with a seller, are no
        # duplicates: the kept case keeps its own, and its agents could no longer write
        # to the buyer and the seller in the other (the merged one refuses: case_merged).
        raise InvalidInput(
            f"{duplicate.number} and {kept.number} are about different conversations with "
            "sellers: answer each in its own request.",
            code="merge_other_conversation",
        )
    with transaction.atomic():
        duplicate, kept = _lock_cases(duplicate, kept)
        if duplicate.merged_into_id is not None:
            raise Conflict(
                f"{duplicate.number} is already merged into CS-{duplicate.merged_into_id}.",
                code="case_already_merged",
            )
        if kept.merged_into_id is not None:
            raise InvalidInput(
                f"{kept.number} is merged into CS-{kept.merged_into_id}; merge into that one.",
                code="merge_into_merged",
            )
        if kept.status == CaseStatus.CLOSED:
            raise InvalidInput(f"{kept.number} is closed.", code="case_closed")
        now = timezone.now()
        _move_counters(
            {(duplicate.team_id, duplicate.status, duplicate.assignee_id or UNASSIGNED): -1}
        )
        # The duplicate's question still waits for us: merged into a request that was
        # solved or waits on the customer, it left every queue with no one to answer it
        # while the customer was told "we answer here". The kept case is open again, as a
        # reply there would open it.
        question_waits = duplicate.status == CaseStatus.OPEN and kept.status in REOPENABLE
        # Since when the duplicate's customer waits for us: the kept case waits since then
        # too, so the queue's order and its waiting times count from the question, not
        # from the merge (which would put it behind questions asked after it).
        duplicate_waits_since = duplicate.queued_at if duplicate.status == CaseStatus.OPEN else None
        duplicate_promise = (
            _promise_for_wait(duplicate, duplicate_waits_since)
            if duplicate_waits_since is not None
            else None
        )
        previous_assignee = duplicate.assignee_id
        duplicate.merged_into = kept
        duplicate.status = CaseStatus.CLOSED
        duplicate.assignee = None
        duplicate.queued_at = duplicate.solved_at = now
        duplicate.save(
            update_fields=["merged_into", "status", "assignee", "queued_at", "solved_at"]
        )
        if previous_assignee is not None:
            _leave(duplicate, previous_assignee)
        # Its other agents too, unless they work the kept case's team: a reply of theirs in
        # the duplicate's conversation moves the kept case, which they may not open.
        _leave_unless_in_team(_conversations_of(duplicate), kept.team_id)
        # Cases merged into the duplicate before now lead to the kept case in one step.
        Case.objects.filter(merged_into=duplicate).update(merged_into=kept)
        taken = [
            field
            for field in ("order", "product", "about_conversation", "about_message")
            if getattr(kept, f"{field}_id") is None
            and getattr(duplicate, f"{field}_id") is not None
        ]
        for field in taken:
            setattr(kept, f"{field}_id", getattr(duplicate, f"{field}_id"))
        if taken:
            kept.save(update_fields=taken)
        record_case_event(duplicate, agent, CaseEventKind.MERGED, now=now, into=kept.pk)
        record_case_event(kept, agent, CaseEventKind.MERGED, now=now, merged=duplicate.pk)
        if question_waits and duplicate_promise is not None:
            assert duplicate_waits_since is not None
            previous = kept.status
            move_case(kept, status=CaseStatus.OPEN, now=duplicate_waits_since)
            record_case_event(
                kept, agent, CaseEventKind.STATUS, now=now, previous=previous, status=kept.status
            )
            # The kept case's own promise was for its answered question, often long past:
            # reopened, it showed as overdue at once. It now answers the duplicate's
            # question, by the time that question was promised.
            kept.respond_by = duplicate_promise
            kept.save(update_fields=["respond_by"])
        elif kept.status == CaseStatus.OPEN and duplicate_promise is not None:
            # Both waited: the customer has waited since the earlier question, and was
            # promised an answer by the earlier of the two times.
            assert duplicate_waits_since is not None
            kept_promise = _promise_for_wait(kept, kept.queued_at)
            kept.queued_at = min(kept.queued_at, duplicate_waits_since)
            kept.respond_by = min(kept_promise, duplicate_promise)
            kept.save(update_fields=["queued_at", "respond_by"])
        if duplicate.conversation_id is not None:
            conversation_actions.post_marketplace_message(
                duplicate.conversation_id,
                f"We have merged this request ({duplicate.number}) into your request "
                f"{kept.number} (“{kept.subject}”), so one agent sees everything together. "
                "We answer there; a reply here reaches it too.",
            )
        if kept.conversation_id is not None:
            conversation_actions.post_marketplace_message(
                kept.conversation_id,
                f"We have merged your request {duplicate.number} (“{duplicate.subject}”) "
                "into this one, so one agent sees everything together. We answer here.",
            )
        record_events([_customer_event(duplicate), _customer_event(kept)])
        return kept


_KIND_WORDS: dict[str, str] = {
    CaseKind.CLAIM: "a guarantee claim",
    CaseKind.REPORT: "a report",
    CaseKind.APPEAL: "an appeal",
}


def _promise_for_wait(case: Case, waits_since: datetime) -> datetime:
    """When an open case's customer was promised an answer for the question they wait on
    since `waits_since`: its `respond_by` if made for this wait (a request's is set when it
    is opened, and again when a reply opens it again); else (none, or one for an earlier
    question, already past when this one was asked) what a new request asked then would be
    promised, the team's expected response time counted from the question."""
    if case.respond_by is not None and case.respond_by >= waits_since:
        return case.respond_by
    return waits_since + queries.expected_response(case.team)


def split_case(agent: User, case_id: Any, message_id: Any, subject: str | None = None) -> Case:
    """One of the customer's messages becomes a request of its own (a second question in
    one request): a new case in the same queue, waiting since that message, with a new
    conversation that quotes it; the customer is told in both. Returns the new case."""
    case = queries.access_case(agent, case_id, for_agent=True)
    if case.kind != CaseKind.REQUEST:
        raise InvalidInput(
            "Only customer-service requests can be split.", code="split_requests_only"
        )
    conversation_id = case.conversation_id
    if conversation_id is None:
        raise InvalidInput("This case has no conversation to split.", code="no_conversation")
    message = unique_row(
        Message.objects.filter(
            pk=parse_id(message_id, code="message_not_found"),
            conversation_id=conversation_id,
        )
    )
    if message is None:
        raise NotFound("No such message in this case.", code="message_not_found")
    if message.sender_id != case.customer_id:
        raise InvalidInput(
            "Split out one of the customer's messages.", code="not_a_customer_message"
        )
    # Typed by the agent: too long is refused, as the customer's own subject is.
    subject = typed_subject(clean_text(subject)) or f"{case.subject[:170]} (from {case.number})"
    # The customer's words travel on in the marketplace's (Official) messages, whose page
    # makes addresses links and whose e-mail mail apps link up: defanged
    # (hxxp://host[.]example) like every quoted word (docs/safety.md), before they are cut
    # so that no half of an address is left to link.
    words = defang(message.body)
    quote = words if len(words) <= 500 else words[:499] + "…"
    with transaction.atomic():
        case = lock_case(case)
        if case.merged_into_id is not None or case.status == CaseStatus.CLOSED:
            raise InvalidInput("This case is closed.", code="case_closed")
        # A request of their own for someone who can no longer read it (their solved
        # requests stay as they were after an erasure): refused as an answer would be,
        # not with the new conversation's not-found.
        refuse_if_customer_erased(case)
        expected = queries.expected_response(case.team)
        started = conversation_actions.start_customer_service_conversation(
            case.customer,
            subject,
            f"We have opened a separate request for this part of your request {case.number}, "
            f"so it gets its own answer:\n\n“{quote}”\n\nAn agent will answer here.",
            order=case.order,
        )
        new = open_case(
            CaseKind.REQUEST,
            case.customer,
            subject,
            team=case.team,
            conversation_id=started.conversation_id,
            order=case.order,
            product=case.product,
            about_conversation=case.about_conversation,
            about_message=message,
            priority=case.priority,
            queued_at=message.created_at,
            respond_within=expected,
            actor=agent,
            split_from=case.pk,
            message_id=message.pk,
        )
        now = timezone.now()
        record_case_event(
            case, agent, CaseEventKind.SPLIT, now=now, into=new.pk, message_id=message.pk
        )
        conversation_actions.post_marketplace_message(
            conversation_id,
            f"We have moved your message “{quote[:80]}{'…' if len(quote) > 80 else ''}” to "
            f"a new request, {new.number}, so it gets its own answer. You find it in your "
            "Customer service folder.",
        )
        return new


# --- transferring to another team -------------------------------------------------------


def transfer_case(agent: User, case_id: Any, team_id: Any, note: str | None = None) -> Case:
    """A request that reached the wrong team (a phishing e-mail for trust and safety, a
    guarantee matter for claims) moved to another team's queue. It keeps its status and
    how long the customer has waited (`queued_at`: the new team's queue puts it where the
    wait puts it, as a merge keeps the question's wait); its assignee keeps it only if
    they work in the new team (an agent of it, or an admin), else it waits there
    unassigned; every agent who no longer works the case leaves its conversations. A
    "transferred" line goes into its history, the optional note is an internal note
    (never a message), and the customer hears of it only through their live
    `case.updated` (whose words name no team: we never tell customers our teams). A
    transfer to the case's own team changes nothing, as assigning a case to whoever has
    it does. Returns the case as it now stands; the agent may no longer be able to open
    it (they are not in the new team)."""
    case = queries.access_case(agent, case_id, for_agent=True)
    if case.kind != CaseKind.REQUEST:
        # A claim, a report or an appeal is decided by its own team (claim_queries,
        # report_queries, appeal_queries read the case's team), and new filings join it
        # there: moved, nobody whose work it is would see it.
        raise InvalidInput(
            f"{case.number} is {_KIND_WORDS[case.kind]}: it stays with its team, who decide "
            "it. Only customer-service requests can be transferred.",
            code="transfer_requests_only",
        )
    # Missing, malformed or no team of ours: the form's to answer, as a teammate outside
    # the team is for Assign.
    try:
        team = unique_row(Team.objects.filter(pk=parse_id(team_id)))
    except NotFound:
        team = None
    if team is None:
        raise InvalidInput("Choose the team to transfer the case to.", code="unknown_team")
    note = clean_text(note or "")
    if len(note) > NOTE_MAX_CHARS:
        raise InvalidInput(
            f"Notes are limited to {NOTE_MAX_CHARS:,} characters.", code="note_too_long"
        )
    with transaction.atomic():
        case = _lock_for_transfer(case, team.pk)
        if case.team_id == team.pk:
            return case
        if case.merged_into_id is not None or case.status == CaseStatus.CLOSED:
            raise InvalidInput("This case is closed.", code="case_closed")
        now = timezone.now()
        previous_team = case.team
        previous_assignee = case.assignee
        keeps_assignee = previous_assignee is not None and _works_in(previous_assignee, team.pk)
        move_case(
            case,
            now=now,
            team=team,
            assignee_id=KEEP_ASSIGNEE if keeps_assignee else None,
        )
        if not keeps_assignee:
            case.assignee = None
            _promise_once_nobody_has_it(case)
        # Those who can no longer open the case (agents of the old team alone) leave its
        # conversations and its merged duplicates' (a reply there moves it), the assignee
        # among them: their Message Center would go on showing the customer's messages of
        # a case they cannot work.
        _leave_unless_in_team(_conversations_with_duplicates(case), team.pk)
        added = (
            CaseNote.objects.create(case=case, author=agent, body=note, created_at=now)
            if note
            else None
        )
        record_case_event(
            case,
            agent,
            CaseEventKind.TRANSFERRED,
            now=now,
            from_team_id=previous_team.pk,
            from_team=previous_team.name,
            to_team_id=team.pk,
            to_team=team.name,
            unassigned=previous_assignee.pk
            if previous_assignee is not None and not keeps_assignee
            else None,
            note_id=added.pk if added is not None else None,
        )
        tell_customer_of(case)
        return case


def _works_in(person: User, team_id: int) -> bool:
    """Whether the person works the team's cases: an admin every team's, an agent their
    teams'."""
    return team_id in queries.team_ids(person)


def _leave_unless_in_team(conversation_ids: list[int], team_id: int) -> None:
    """The agents in these conversations (as agents) who are not in this team leave them:
    once the case they lead to is the team's, they can no longer open it, and a reply of
    theirs there would still move it. Admins work every team's cases. The conversations'
    participants are held already."""
    leaving = (
        Participant.objects.filter(
            conversation_id__in=conversation_ids,
            role=ParticipantRole.AGENT,
            user__role=Role.AGENT,
        )
        .exclude(user__team_memberships__team_id=team_id)
        .values_list("conversation_id", "user_id")
        .order_by("conversation_id", "user_id")
    )
    for conversation_id, agent_id in list(leaving):
        conversation_actions.remove_participant(conversation_id, agent_id)


def _conversations_with_duplicates(case: Case) -> list[int]:
    """The case's conversations and its merged duplicates' (a reply there moves this case),
    by id: what a transfer locks, and leaves for those who no longer work the case."""
    return sorted(
        set(_conversations_of(case))
        | set(
            Case.objects.filter(merged_into=case, conversation__isnull=False).values_list(
                "conversation_id", flat=True
            )
        )
    )


def _lock_for_transfer(case: Case, team_id: int) -> Case:
    """lock_case for a move to another team, in the same order: the participants of the
    case's conversations and of its merged duplicates' (a reply there moves this case,
    and its send reads the case's team under those locks), by conversation id; then both
    teams by id (their counters move); then the case row."""
    for conversation_id in _conversations_with_duplicates(case):
        conversation_actions.lock_participants(conversation_id)
    for locked_team_id in sorted({case.team_id, team_id}):
        lock_team(locked_team_id)
    return _locked_row(case)


# --- canned responses ----------------------------------------------------------------------


def save_canned_response(
    agent: User, team_id: Any, title: str, body: str, *, canned_response_id: Any = None
) -> CannedResponse:
    team = queries.access_team(agent, team_id)
    title = clean_text(title)
    if not title or len(title) > 80:
        raise InvalidInput("A title is 1 to 80 characters.", code="invalid_title")
    body = clean_text(body)
    if not body:
        raise InvalidInput("Write the response first.", code="empty_message")
    if len(body) > settings.MESSAGE_BODY_MAX_CHARS:
        raise InvalidInput(
            f"Responses are limited to {settings.MESSAGE_BODY_MAX_CHARS:,} characters.",
            code="message_too_long",
        )
    check_placeholders(body)
    now = timezone.now()
    with transaction.atomic():
        # The team's row serialises its edits: the limit and the unique title hold.
        Team.objects.select_for_update().filter(pk=team.pk).first()
        if canned_response_id is not None:
            canned = unique_row(
                CannedResponse.objects.filter(
                    team=team, pk=parse_id(canned_response_id, code="canned_response_not_found")
                )
            )
            if canned is None:
                raise NotFound("No such canned response.", code="canned_response_not_found")
        else:
            if CannedResponse.objects.filter(team=team).count() >= MAX_CANNED_RESPONSES_PER_TEAM:
                raise InvalidInput(
                    f"A team has at most {MAX_CANNED_RESPONSES_PER_TEAM} canned responses.",
                    code="too_many_canned_responses",
                )
            canned = CannedResponse(team=team, created_at=now)
        if CannedResponse.objects.filter(team=team, title=title).exclude(pk=canned.pk).exists():
            raise Conflict("The team already has a response with that title.", code="title_taken")
        canned.title, canned.body, canned.updated_at = title, body, now
        canned.save()
        return canned


def delete_canned_response(agent: User, canned_response_id: Any) -> None:
    canned = queries.access_canned_response(agent, canned_response_id)
    canned.delete()


# --- shared pieces ---------------------------------------------------------------------------
# Public: the other support modules (claims, reports, appeals, escalations) change their
# cases with these, inside their own transaction, so that every change locks in the same
# order and keeps the counters and the history true. Each one that writes expects the case
# held by lock_case (or lock_team, for a case not made yet) in the caller's transaction.


def lock_case(case: Case) -> Case:
    """The case, read again and locked for change, in the one lock order of support
    (module docstring): first the participants of every conversation a change to it may
    touch — its own, and for a request for help the buyer–seller conversation it is about
    (`_conversations_of`) — by conversation id, as the send path takes them; then its
    team's row (`lock_team`: its counters move one transaction at a time); then the case
    row. Call it inside a transaction before any other write to the case, and use the case
    it returns (its status and assignee as they are now, with its assignee, team, customer
    and order). A case deleted meanwhile is `NotFound` (`case_not_found`)."""
    for conversation_id in _conversations_of(case):
        conversation_actions.lock_participants(conversation_id)
    lock_team(case.team_id)
    return _locked_row(case)


def _locked_row(case: Case) -> Case:
    """The case row locked, once its team's row is held. A case transferred to another
    team since the caller read it (transfer_case) is refused, `409 case_transferred`: the
    team held is no longer its own, so its counters would move without their team's lock
    (the lock order's guarantee), for someone whose access was checked against the old
    team."""
    locked = unique_row(
        Case.objects.select_for_update(of=("self",))
        .select_related("assignee", "team", "customer", "order")
        .filter(pk=case.pk)
    )
    if locked is None:
        raise NotFound("No such case.", code="case_not_found")
    if locked.team_id != case.team_id:
        raise _transferred_meanwhile(case)
    return locked


def _transferred_meanwhile(case: Case) -> Conflict:
    return Conflict(
        f"{case.number} was just transferred to another team: open it again from the queues.",
        code="case_transferred",
    )


def _lock_cases(*cases: Case) -> list[Case]:
    """Several cases locked for one change (a merge), in the documented order for each
    kind of row: every conversation's participants by conversation id, the teams by id,
    then the cases by id. A case transferred since it was read is refused, as by
    `_locked_row`: the team held would not be its own."""
    conversation_ids = {conversation_id for c in cases for conversation_id in _conversations_of(c)}
    for conversation_id in sorted(conversation_ids):
        conversation_actions.lock_participants(conversation_id)
    for team_id in sorted({c.team_id for c in cases}):
        lock_team(team_id)
    locked = {
        found.pk: found
        for found in Case.objects.select_for_update(of=("self",))
        .select_related("assignee", "team", "customer", "order")
        .filter(pk__in=[c.pk for c in cases])
        .order_by("pk")
    }
    if len(locked) != len({c.pk for c in cases}):
        raise NotFound("No such case.", code="case_not_found")
    for case in cases:
        if locked[case.pk].team_id != case.team_id:
            raise _transferred_meanwhile(case)
    return [locked[c.pk] for c in cases]


def lock_case_teams(conversation_ids: list[int]) -> None:
    """A batch of sends about to post in these conversations (conversations.hooks): the
    teams of their cases (and of the cases they were merged into), by id, right after
    the participants — where every support action takes them — so the batch never holds
    counters or event streams while waiting for a team."""
    team_ids: set[int] = set()
    for team_id, kept_team_id in Case.objects.filter(
        conversation_id__in=conversation_ids
    ).values_list("team_id", "merged_into__team_id"):
        team_ids.add(kept_team_id or team_id)
    for team_id in sorted(team_ids):
        lock_team(team_id)


def lock_team(team_id: int) -> None:
    """The team's row (second in the lock order, after the conversations'
    participants): held by every change to the team's cases, so their counters move one
    transaction at a time (SQLite's write lock does the same). Every such change
    therefore also tells the team's open queue pages, after commit, to show the queue
    again (queries.queue_watchers_among: its agents and the admins)."""
    list(Team.objects.select_for_update().filter(pk=team_id).values_list("pk", flat=True))
    nudge_after_commit(queries.QUEUE_CHANGED, {"team_id": team_id})


def assign_locked_case(case: Case, assignee: User, *, actor: User) -> None:
    """A case held by `lock_case` given to `assignee` by `actor` (the same person when an
    agent takes it or answers it unassigned): its counters move (`move_case`), the
    assignee joins its conversation, the previous assignee leaves it and the buyer–seller
    conversation a request for help is about (`_leave`: only the agent with the case
    writes there), an "assigned" line goes into its history and the customer gets the live
    `case.updated`. The caller has checked that the assignee may have it (an agent of the
    case's team); assigning it to whoever has it already moves nothing but writes the
    line again, so callers check that first."""
    now = timezone.now()
    previous = case.assignee_id
    move_case(case, assignee_id=assignee.pk, now=now)
    case.assignee = assignee
    if case.conversation_id is not None:
        conversation_actions.add_participants(
            case.conversation_id, [(assignee, ParticipantRole.AGENT)]
        )
    if previous is not None:
        _leave(case, previous)
    record_case_event(
        case, actor, CaseEventKind.ASSIGNED, now=now, assignee=assignee.pk, previous=previous
    )
    tell_customer_of(case)


def _leave(case: Case, agent_id: int) -> None:
    """An agent who no longer has the case leaves its conversation, and the buyer–seller
    conversation a request for help is about if they wrote there
    (escalation_actions.write_in_conversation): only an agent with the case writes to the
    seller. Both conversations' participants are held already (lock_case, _lock_cases)."""
    for conversation_id in _conversations_of(case):
        conversation_actions.remove_participant(conversation_id, agent_id)


def _conversations_of(case: Case) -> list[int]:
    """The conversations a change to the case may touch, by id (the lock order): its own,
    and for a request for help about a buyer–seller conversation that one, where its
    agents write too."""
    ids = {case.conversation_id}
    if case.kind == CaseKind.REQUEST:
        ids.add(case.about_conversation_id)
    return sorted(conversation_id for conversation_id in ids if conversation_id is not None)


def move_case(
    case: Case,
    *,
    now: datetime,
    status: str | None = None,
    assignee_id: int | None = KEEP_ASSIGNEE,
    team: Team | None = None,
) -> None:
    """A case held by `lock_case` (or made in this transaction) moved to a new status,
    assignee and/or team, with its queue counters in the same transaction: queued again
    from `now` on a new status, solved at `now` when solved; a new team alone keeps its
    place in the queue (`queued_at`: since when the customer waits), and the caller holds
    both teams' rows (transfer_case). No history line and no event: the caller writes
    those (record_case_event, tell_customer_of)."""
    old_key = (case.team_id, case.status, case.assignee_id or UNASSIGNED)
    fields = []
    if team is not None and team.pk != case.team_id:
        case.team = team
        fields.append("team")
    if status is not None and status != case.status:
        case.status = status
        case.queued_at = now
        fields += ["status", "queued_at"]
        if status == CaseStatus.SOLVED:
            case.solved_at = now
            fields.append("solved_at")
    if assignee_id != KEEP_ASSIGNEE and assignee_id != case.assignee_id:
        case.assignee_id = assignee_id
        fields.append("assignee")
    if not fields:
        return
    case.save(update_fields=fields)
    new_key = (case.team_id, case.status, case.assignee_id or UNASSIGNED)
    if new_key != old_key:
        _move_counters({old_key: -1, new_key: 1})


def _move_counters(deltas: dict[tuple[int, str, int], int]) -> None:
    """Counters change by their deltas, one row at a time in key order (so concurrent
    actions on PostgreSQL lock them in the same order and never deadlock)."""
    moving = {key: delta for key, delta in deltas.items() if delta}
    rising = [key for key, delta in moving.items() if delta > 0]
    if rising:
        CaseCounter.objects.bulk_create(
            [
                CaseCounter(team_id=team_id, status=status, assignee_key=assignee_key)
                for team_id, status, assignee_key in sorted(rising)
            ],
            ignore_conflicts=True,
        )
    for (team_id, status, assignee_key), delta in sorted(moving.items()):
        CaseCounter.objects.filter(
            team_id=team_id, status=status, assignee_key=assignee_key
        ).update(cases=F("cases") + delta)


def record_case_event(
    case: Case, actor: User | None, kind: str, *, now: datetime, **detail: Any
) -> None:
    """One line of the case's history (`CaseEvent`, read by the console and the API;
    never by the customer): `actor` did `kind` at `now` (None: the marketplace's own
    systems), with `detail` for its words (queries.case_history). Written in the caller's
    transaction, so a change rolled back leaves no line."""
    CaseEvent.objects.create(case=case, actor=actor, kind=kind, detail=detail, created_at=now)


def tell_customer_of(case: Case) -> None:
    """The customer's live `case.updated` for the case as it now stands, in the caller's
    transaction (the event log is written with the change, or not at all)."""
    record_events([_customer_event(case)])


def _customer_event(case: Case) -> PendingEvent:
    """The customer's devices learn the case's new state (their status line updates
    live); agents' names are not in it."""
    return PendingEvent(
        case.customer_id,
        EventKind.CASE_UPDATED,
        {
            "case_id": case.pk,
            "conversation_id": case.conversation_id,
            "status": case.status,
            "status_label": queries.customer_status_label(case),
        },
    )


PLACEHOLDER = re.compile(r"\{(\w+)\}")
PLACEHOLDERS = ("customer_name", "order_number", "case_number", "agent_name")
# A brace left over once the placeholders are taken out, with a few characters around it.
_STRAY_BRACE = re.compile(r"\S{0,20}[{}]\S{0,20}")


class PlaceholderRefused(InvalidInput):
    """A canned response with a placeholder nothing fills, or a brace not closed: saved, it
    was inserted as written ("{unknown_placeholder}"). 422: the text is well formed, its
    placeholders are not."""

    code = "unknown_placeholder"
    status = 422


def check_placeholders(body: str) -> None:
    """Refuses a canned response's unknown placeholders and unbalanced braces, naming
    them."""
    known = ", ".join(f"{{{name}}}" for name in PLACEHOLDERS)
    unknown = sorted({name for name in PLACEHOLDER.findall(body) if name not in PLACEHOLDERS})
    if unknown:
        names = ", ".join(f"{{{name}}}" for name in unknown)
        raise PlaceholderRefused(
            f"Unknown placeholder{'s' if len(unknown) > 1 else ''} {names}: the placeholders "
            f"are {known}.",
            code="unknown_placeholder",
        )
    stray = _STRAY_BRACE.search(PLACEHOLDER.sub("", body))
    if stray is not None:
        raise PlaceholderRefused(
            f"A brace without its pair near “{stray.group(0)}”: write a placeholder as "
            f"{{order_number}}, with both braces; the placeholders are {known}.",
            code="unbalanced_placeholder",
        )


def fill_placeholders(text: str, case: Case, agent: User) -> str:
    """A canned response for this case: {customer_name}, {order_number}, {case_number},
    {agent_name}. One the case has no value for (a case without an order) stays as
    written, for the agent to fill in: the reply is refused while it is there
    (`unfilled_placeholders`); it became "", and "the refund for order  has been issued"
    went out. Anything else in braces (a response saved before they were checked) is left
    as written."""
    customer = case.customer
    values = {
        "customer_name": customer.first_name or customer.public_name,
        "order_number": case.order.number if case.order is not None else None,
        "case_number": case.number,
        "agent_name": agent.public_name,
    }
    return PLACEHOLDER.sub(lambda match: values.get(match.group(1)) or match.group(0), text)


def unfilled_placeholders(text: str) -> list[str]:
    """The placeholders still in a reply ({order_number} on a case without an order)."""
    return sorted({name for name in PLACEHOLDER.findall(text) if name in PLACEHOLDERS})
