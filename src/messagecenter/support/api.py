"""The JSON API of customer service (docs/api.md, docs/support.md): a customer opens and
follows their requests; agents work the queues from a support app. Like the console's
pages: parse, check access, call one action.

A customer replies in the case's conversation with POST /conversations/{id}/messages,
like in any conversation: that reply reopens the case.
"""

from datetime import datetime
from typing import Annotated, Literal, cast

import pydantic
from django.conf import settings
from django.http import FileResponse
from django.urls import reverse
from ninja import Router, Schema, Status

from messagecenter.accounts.models import User
from messagecenter.api_support import (
    ApiRequest,
    BodyBool,
    BodyId,
    Id,
    IdempotencyKey,
    PageLimit,
    QueryId,
    QueryNumber,
    Text,
    WholeNumber,
)
from messagecenter.conversations.downloads import attachment_response, download_openapi
from messagecenter.conversations.models import Attachment, Message
from messagecenter.conversations.schemas import AttachmentOut, SafetyOut, SafetyReasonOut
from messagecenter.errors import NotAllowed
from messagecenter.rows import MAX_ID
from messagecenter.support import actions, escalation_actions, queries
from messagecenter.support.models import (
    CannedResponse,
    Case,
    CaseKind,
    CaseNote,
    CaseStatus,
)

router = Router(tags=["customer service"])

QueueView = Literal["unassigned", "mine", "team", "waiting", "solved"]
AgentStatus = Literal["open", "pending", "solved"]
Priority = Annotated[QueryNumber, pydantic.Field(ge=1, le=4)]


# --- the customer's side ------------------------------------------------------------------------


class CaseOut(Schema):
    id: int
    # How it is quoted: "CS-12".
    number: str
    kind: CaseKind
    status: CaseStatus
    # Where it stands, in the customer's words ("Waiting for an agent", "Solved").
    status_label: str
    subject: str
    # The conversation in the customer's Customer service folder: read and reply there.
    conversation_id: int | None
    order_number: str | None
    # What we told the customer: an answer is expected by then.
    respond_by: datetime | None
    created_at: datetime


def case_out(case: Case) -> CaseOut:
    return CaseOut(
        id=case.pk,
        number=case.number,
        kind=CaseKind(case.kind),
        status=CaseStatus(case.status),
        status_label=queries.customer_status_label(case),
        subject=case.subject,
        conversation_id=case.conversation_id,
        order_number=case.order.number if case.order is not None else None,
        respond_by=case.respond_by,
        created_at=case.created_at,
    )


class CustomerServiceIn(Schema):
    subject: Text
    body: Text
    # One of the person's own orders (a seller: one it sold on), when it is about one.
    order_number: Text | None = None
    # A product, by its SKU.
    product_sku: Text | None = None
    # One of the person's conversations with a seller ("the seller does not answer").
    conversation_id: BodyId | None = None


@router.post(
    "/customer-service",
    response={200: CaseOut, 201: CaseOut},
    summary="Ask customer service (opens a case)",
)
def open_request(
    request: ApiRequest, payload: CustomerServiceIn, idempotency_key: IdempotencyKey = None
) -> Status[CaseOut]:
    """A new case in the customer-service queue, with a conversation in your Customer
    service folder; the answer arrives there (live, and by e-mail). 200 when an earlier
    request with the same Idempotency-Key opened it."""
    case = actions.open_request(
        request.auth,
        actions.typed_subject(payload.subject),
        payload.body,
        order_number=payload.order_number,
        product_sku=payload.product_sku,
        about_conversation_id=payload.conversation_id,
        idempotency_key=idempotency_key.strip() if idempotency_key is not None else None,
    )
    return Status(200 if case.found_by_idempotency_key else 201, case_out(case))


class CaseListOut(Schema):
    items: list[CaseOut]


@router.get("/cases", response=CaseListOut, summary="Your customer-service requests")
def list_cases(request: ApiRequest) -> CaseListOut:
    return CaseListOut(items=[case_out(case) for case in queries.customer_cases(request.auth)])


@router.get("/cases/{case_id}", response=CaseOut, summary="One of your requests")
def get_case(request: ApiRequest, case_id: Id) -> CaseOut:
    return case_out(queries.access_case(request.auth, case_id))


class AskForHelpIn(Schema):
    # Anything the buyer wants to add for the agent (optional, up to 2,000 characters).
    note: str = ""


@router.post(
    "/conversations/{conversation_id}/ask-for-help",
    response={201: CaseOut},
    summary="Ask customer service to help with a seller who did not answer",
)
def ask_for_help(
    request: ApiRequest, conversation_id: Id, payload: AskForHelpIn | None = None
) -> Status[CaseOut]:
    """Once the seller's response deadline has passed (the conversation's
    `response_window.has_passed`), open a customer-service request about the
    conversation; the agent reads the whole conversation with the seller. 400
    `seller_still_has_time` before the deadline (the message says until when), 400
    `seller_not_waiting` once the seller has answered, 409 `already_asked_for_help` while
    an earlier request about it is open, 409 `recipient_closed` when the shop's account is
    closed (erased or suspended: it can never answer), 403 `buyers_only` for the seller, 400
    `not_a_seller_conversation` for a conversation that is not with a seller (order updates,
    customer service…) (docs/escalation.md)."""
    case = escalation_actions.ask_for_help(
        request.auth, conversation_id, note=payload.note if payload is not None else ""
    )
    return Status(201, case_out(case))


# --- live chat ----------------------------------------------------------------------------------


class ChatAvailabilityOut(Schema):
    # An agent takes a chat now: "Start chat" is answered live.
    agent_available: bool
    # With nobody available, a chat becomes a request answered within about this long.
    expected_response_seconds: int


@router.get(
    "/customer-service/chat",
    response=ChatAvailabilityOut,
    summary="Whether an agent is available for chat",
)
def chat_availability(request: ApiRequest) -> ChatAvailabilityOut:
    """For buyers and sellers (403 `customers_only` for agents and admins), what the "Chat
    with us" page says: an agent available now, or how long an answer usually takes."""
    _customer(request)
    team = actions.team_for(CaseKind.REQUEST)
    return ChatAvailabilityOut(
        agent_available=queries.chat_agent(team) is not None,
        expected_response_seconds=int(queries.expected_response(team).total_seconds()),
    )


class ChatIn(Schema):
    # The first message of the chat.
    body: Text
    # One of your orders, when the chat is about one.
    order_number: Text | None = None


class ChatOut(Schema):
    case: CaseOut
    # An agent took the chat at once (their answers arrive live on the event stream, as
    # message.created in the case's conversation); false: nobody was available and it
    # became a request, answered by `case.respond_by`.
    with_agent: bool


@router.post(
    "/customer-service/chat",
    response={200: ChatOut, 201: ChatOut},
    summary="Start a chat with customer service",
)
def start_chat(
    request: ApiRequest, payload: ChatIn, idempotency_key: IdempotencyKey = None
) -> Status[ChatOut]:
    """An available agent takes the chat at once; with nobody available it becomes an
    ordinary request with the expected response time (docs/support.md#live-chat). 200
    when an earlier call with the same Idempotency-Key started it; 403 `customers_only`
    for agents and admins."""
    case = actions.start_chat(
        _customer(request),
        payload.body,
        order_number=payload.order_number,
        idempotency_key=idempotency_key.strip() if idempotency_key is not None else None,
    )
    return Status(
        200 if getattr(case, "found_by_idempotency_key", False) else 201,
        ChatOut(case=case_out(case), with_agent=case.assignee_id is not None),
    )


def _customer(request: ApiRequest) -> User:
    if queries.is_staff(request.auth):
        raise NotAllowed(
            "Customer service is for buyers and sellers; agents work cases in the console.",
            code="customers_only",
        )
    return request.auth


class AgentChatAvailabilityOut(Schema):
    # The agent's switch.
    is_available: bool
    # When the console (or this API) last saw them.
    seen_at: datetime | None
    # Available and seen within SUPPORT_CHAT_PRESENCE_MINUTES: new chats come to them.
    takes_chats: bool


class AgentChatAvailabilityIn(Schema):
    available: BodyBool


def agent_chat_availability_out(agent: User) -> AgentChatAvailabilityOut:
    availability = queries.chat_availability(agent)
    return AgentChatAvailabilityOut(
        is_available=availability is not None and availability.is_available,
        seen_at=availability.seen_at if availability is not None else None,
        takes_chats=queries.takes_chats(availability),
    )


@router.get(
    "/agent/chat-availability",
    response=AgentChatAvailabilityOut,
    summary="Your availability for chat (agents)",
)
def get_agent_chat_availability(request: ApiRequest) -> AgentChatAvailabilityOut:
    return agent_chat_availability_out(_agent(request))


@router.post(
    "/agent/chat-availability",
    response=AgentChatAvailabilityOut,
    summary="Switch your availability for chat (agents)",
)
def set_agent_chat_availability(
    request: ApiRequest, payload: AgentChatAvailabilityIn
) -> AgentChatAvailabilityOut:
    """The console's "Available for chat" / "Away" switch for a support app. Each call
    also counts as being seen: an app keeps an available agent taking chats by sending
    it again within SUPPORT_CHAT_PRESENCE_MINUTES. 403 `agents_only` for customers and
    for admins (only agents take chats)."""
    agent = _agent(request)
    actions.set_chat_availability(agent, payload.available)
    return agent_chat_availability_out(agent)


# --- agents ----------------------------------------------------------------------------------


def _agent(request: ApiRequest) -> User:
    if not queries.is_staff(request.auth):
        raise NotAllowed("This is for customer-service agents.", code="agents_only")
    return request.auth


class QueueCountsOut(Schema):
    unassigned: int
    mine: int
    team: int
    waiting: int
    solved: int


@router.get("/agent/queues", response=QueueCountsOut, summary="Every queue's count")
def queue_counts(request: ApiRequest) -> QueueCountsOut:
    return QueueCountsOut(**queries.queue_counts(_agent(request)))


class AgentCaseOut(Schema):
    id: int
    number: str
    kind: CaseKind
    status: CaseStatus
    priority: int
    subject: str
    team: str
    # The team whose queue it is in (GET /agent/teams lists them; POST …/transfer moves it).
    team_id: int
    customer_name: str
    # The agent's own name, as agents know each other; null when unassigned.
    assignee_id: int | None
    assignee_name: str | None
    conversation_id: int | None
    order_number: str | None
    created_at: datetime
    # Where it stands in its queue: waiting since (open, pending), solved at (solved).
    queued_at: datetime
    respond_by: datetime | None
    first_response_at: datetime | None
    # A merged duplicate: the case it was merged into (it is in no queue).
    merged_into_id: int | None


def agent_case_out(case: Case) -> AgentCaseOut:
    return AgentCaseOut(
        id=case.pk,
        number=case.number,
        kind=CaseKind(case.kind),
        status=CaseStatus(case.status),
        priority=case.priority,
        subject=case.subject,
        team=case.team.name,
        team_id=case.team_id,
        customer_name=case.customer.public_name,
        assignee_id=case.assignee_id,
        assignee_name=queries.internal_name(case.assignee) if case.assignee is not None else None,
        conversation_id=case.conversation_id,
        order_number=case.order.number if case.order is not None else None,
        created_at=case.created_at,
        queued_at=case.queued_at,
        respond_by=case.respond_by,
        first_response_at=case.first_response_at,
        merged_into_id=case.merged_into_id,
    )


class QueuePageOut(Schema):
    items: list[AgentCaseOut]
    next_cursor: str | None


@router.get("/agent/cases", response=QueuePageOut, summary="A queue of cases, oldest first")
def list_queue(
    request: ApiRequest,
    view: QueueView = "unassigned",
    kind: CaseKind | None = None,
    priority: Priority | None = None,
    order_number: Text | None = None,
    older_than_hours: Annotated[QueryNumber, pydantic.Field(ge=0, le=24 * 365)] | None = None,
    cursor: Text | None = None,
    limit: PageLimit = settings.SUPPORT_QUEUE_PAGE_SIZE,
) -> QueuePageOut:
    """Oldest waiting first (solved: most recently solved first); `cursor` from the last
    page continues it."""
    agent = _agent(request)
    page = queries.queue_page(
        agent,
        view,
        filters=queries.QueueFilters(
            kind=kind,
            priority=priority,
            order_number=order_number or None,
            older_than_hours=older_than_hours,
        ),
        cursor=cursor,
        limit=limit,
    )
    # Each item is validated as it is made; QueuePageOut(items=…) validated every item
    # again, attribute by attribute (a third of the route's time with 25 cases).
    return QueuePageOut.model_construct(
        items=[agent_case_out(case) for case in page.cases], next_cursor=page.next_cursor
    )


# Whose words a message of a case is (queries.author_part): the case's customer, the
# seller in a claim (a buyer who is not the case's customer, were one to write in it),
# an agent (or an admin), the marketplace itself.
CaseMessageAuthor = Literal["customer", "seller", "buyer", "agent", "marketplace"]


class CaseMessageSafetyOut(SafetyOut):
    """The safety check of a message the recipient was warned about, or whose contact
    details were masked, as the console shows it above the message."""

    # The rules' version that judged it.
    version: str


class CaseMessageReportedOut(Schema):
    """Someone in the conversation reported the message: it is hidden for them (the
    others still read it until customer service decides), as the console's *Reported*
    note says."""

    # Their part in the case and their name, as author and author_name name a message's.
    reporter: CaseMessageAuthor
    reporter_name: str
    reported_at: datetime


class CaseMessageOut(Schema):
    id: int
    author: CaseMessageAuthor
    # Agents' own names for agents; the customer's and the seller's public names (a
    # seller's is their shop's, as the buyer reads it).
    author_name: str
    is_official: bool
    body: str
    created_at: datetime
    # Whose conversation it is in: this case's, or a duplicate merged into it ("CS-12").
    case_number: str
    # Each with the case's own download address (GET /agent/cases/{id}/attachments/{id}):
    # the agent need not be in the conversation.
    attachments: list[AttachmentOut]
    # A message the check warned about or masked: its verdict and reasons; null otherwise.
    safety: CaseMessageSafetyOut | None
    # When customer service removed it after a report: only its sender still sees it
    # (the console marks it "Removed"); null otherwise.
    removed_at: datetime | None
    # Who reported it and when, first first (the console's "Reported"); empty otherwise.
    reported: list[CaseMessageReportedOut]


def case_message_safety_out(message: Message) -> CaseMessageSafetyOut | None:
    if not (message.is_warned or message.is_masked):
        return None
    return CaseMessageSafetyOut(
        verdict=message.safety_verdict,
        reasons=[SafetyReasonOut(**reason) for reason in message.safety_reasons],
        is_masked=message.is_masked,
        version=message.safety_version,
    )


def case_attachments_out(case_id: int, attachments: list[Attachment]) -> list[AttachmentOut]:
    """A message's attachments as a case's agents download them (the case detail, a
    report's messages)."""
    if not attachments:
        return []
    # Reversed once for the message: only the id changes.
    before, _, after = reverse("api:download_case_attachment", args=[case_id, MAX_ID]).rpartition(
        str(MAX_ID)
    )
    return [
        AttachmentOut.model_construct(
            id=attachment.pk,
            filename=attachment.download_name,
            content_type=attachment.content_type,
            size=attachment.size,
            download_url=f"{before}{attachment.pk}{after}",
        )
        for attachment in attachments
    ]


class NoteOut(Schema):
    id: int
    author_name: str
    body: str
    created_at: datetime


def note_out(note: CaseNote) -> NoteOut:
    return NoteOut(
        id=note.pk,
        author_name=queries.internal_name(note.author),
        body=note.body,
        created_at=note.created_at,
    )


class AgentCaseDetailOut(Schema):
    case: AgentCaseOut
    messages: list[CaseMessageOut]
    # Internal: never shown to the customer.
    notes: list[NoteOut]
    history: list[str]


@router.get("/agent/cases/{case_id}", response=AgentCaseDetailOut, summary="A case with its notes")
def get_agent_case(request: ApiRequest, case_id: Id) -> AgentCaseDetailOut:
    agent = _agent(request)
    case = queries.access_case(agent, case_id, for_agent=True)
    return AgentCaseDetailOut(
        case=agent_case_out(case),
        messages=[
            CaseMessageOut(
                id=message.pk,
                author=cast(CaseMessageAuthor, queries.author_part(message, case)),
                author_name=queries.author_name(message, case),
                is_official=message.is_official,
                body=message.body,
                created_at=message.created_at,
                case_number=f"CS-{message.from_case_id}",  # type: ignore[attr-defined]
                attachments=case_attachments_out(case.pk, message.listed_attachments),
                safety=case_message_safety_out(message),
                removed_at=message.removed_at,
                reported=[
                    CaseMessageReportedOut(
                        reporter=cast(CaseMessageAuthor, queries.part_in_case(hidden.user, case)),
                        reporter_name=queries.name_in_console(hidden.user, case),
                        reported_at=hidden.hidden_at,
                    )
                    for hidden in message.reporters  # type: ignore[attr-defined]
                ],
            )
            # Who reported which: one statement for the case, none when nobody did.
            for message in queries.with_reporters(queries.case_messages(case))
        ],
        notes=[note_out(note) for note in queries.case_notes(case)],
        history=[line for _, line in queries.case_history(case)],
    )


@router.get(
    "/agent/cases/{case_id}/attachments/{attachment_id}",
    response={200: None},
    summary="Download an attachment of a case's messages (agents)",
    openapi_extra=download_openapi(),
)
def download_case_attachment(request: ApiRequest, case_id: Id, attachment_id: Id) -> FileResponse:
    """A file attached to a message of the case (as `GET /agent/cases/{case_id}` lists
    them, a report's reported messages too), for the agents who may read the case — its
    team's and admins — whether or not they are in its conversation. Anything else is `404
    attachment_not_found`, as `GET /attachments/{id}` answers."""
    case = queries.access_case(_agent(request), case_id, for_agent=True)
    return attachment_response(queries.case_attachment(case, attachment_id))


@router.post("/agent/cases/{case_id}/take", response=AgentCaseOut, summary="Assign to me")
def take_case(request: ApiRequest, case_id: Id) -> AgentCaseOut:
    """Only a case nobody has: 409 case_already_assigned when a colleague was quicker;
    400 case_merged for a duplicate merged into another case."""
    return agent_case_out(actions.take_case(_agent(request), case_id))


class AssignIn(Schema):
    # A teammate (or yourself); null puts the case back in the team's queue.
    assignee_id: BodyId | None


@router.post("/agent/cases/{case_id}/assign", response=AgentCaseOut, summary="Assign")
def assign_case(request: ApiRequest, case_id: Id, payload: AssignIn) -> AgentCaseOut:
    agent = _agent(request)
    if payload.assignee_id is None:
        return agent_case_out(actions.unassign_case(agent, case_id))
    return agent_case_out(actions.assign_case(agent, case_id, payload.assignee_id))


class TeamOut(Schema):
    id: int
    name: str
    # You work its cases (an agent of it; an admin, every team): a case transferred to a
    # team that is not yours leaves your queues.
    is_yours: bool


class TeamListOut(Schema):
    items: list[TeamOut]


@router.get("/agent/teams", response=TeamListOut, summary="The teams a case can be transferred to")
def list_teams(request: ApiRequest) -> TeamListOut:
    agent = _agent(request)
    yours = set(queries.team_ids(agent))
    return TeamListOut(
        items=[
            TeamOut(id=team.pk, name=team.name, is_yours=team.pk in yours)
            for team in queries.every_team()
        ]
    )


class TransferIn(Schema):
    # Another team (GET /agent/teams).
    team_id: BodyId
    # Why, for the new team: an internal note (never shown to the customer).
    note: str | None = None


@router.post(
    "/agent/cases/{case_id}/transfer",
    response=AgentCaseOut,
    summary="Transfer to another team",
)
def transfer_case(request: ApiRequest, case_id: Id, payload: TransferIn) -> AgentCaseOut:
    """A customer-service request moved to another team's queue, waiting there as long as
    the customer has waited (docs/support.md#transfer-to-another-team): its assignee keeps
    it only if they are in that team, else it waits there unassigned; the note is an
    internal note; the customer is not told our teams. Returns the case as it now stands —
    which you may no longer open, if the team is not yours. 400 unknown_team,
    transfer_requests_only (a guarantee claim, a report or an appeal stays with its team),
    case_closed, note_too_long; 409 case_transferred (a colleague moved it meanwhile); the
    case's own team changes nothing."""
    case = actions.transfer_case(_agent(request), case_id, payload.team_id, payload.note)
    return agent_case_out(case)


class StatusIn(Schema):
    status: AgentStatus


@router.post("/agent/cases/{case_id}/status", response=AgentCaseOut, summary="Set the status")
def set_status(request: ApiRequest, case_id: Id, payload: StatusIn) -> AgentCaseOut:
    return agent_case_out(actions.set_case_status(_agent(request), case_id, payload.status))


class PriorityIn(Schema):
    # A JSON integer, 1–4: the query string's Priority read "2" (and 2.0, true) here too.
    priority: Annotated[WholeNumber, pydantic.Field(ge=1, le=4)]


@router.post("/agent/cases/{case_id}/priority", response=AgentCaseOut, summary="Set the priority")
def set_priority(request: ApiRequest, case_id: Id, payload: PriorityIn) -> AgentCaseOut:
    return agent_case_out(actions.set_case_priority(_agent(request), case_id, payload.priority))


class MergeIn(Schema):
    # The case to keep: this one's messages, notes and links show there from now on.
    into_case_id: BodyId


@router.post(
    "/agent/cases/{case_id}/merge", response=AgentCaseOut, summary="Merge into another case"
)
def merge_case(request: ApiRequest, case_id: Id, payload: MergeIn) -> AgentCaseOut:
    """This case is a duplicate of `into_case_id` (the same customer's): it leaves the
    queues and the kept case is returned. 400 merge_requests_only, merge_other_customer,
    merge_other_conversation (two requests about different conversations with sellers),
    merge_into_itself, merge_into_merged; 409 case_already_merged, case_transferred
    (either case moved to another team meanwhile)."""
    kept = actions.merge_cases(_agent(request), case_id, payload.into_case_id)
    return agent_case_out(kept)


class SplitIn(Schema):
    # One of the customer's messages in this case.
    message_id: BodyId
    # The new request's subject; by default this case's, "(from CS-n)".
    subject: str | None = None


@router.post(
    "/agent/cases/{case_id}/split",
    response={201: AgentCaseOut},
    summary="Split a message out into a new case",
)
def split_case(request: ApiRequest, case_id: Id, payload: SplitIn) -> Status[AgentCaseOut]:
    new = actions.split_case(_agent(request), case_id, payload.message_id, payload.subject)
    return Status(201, agent_case_out(new))


class NoteIn(Schema):
    body: Text


@router.post(
    "/agent/cases/{case_id}/notes", response={201: NoteOut}, summary="Add an internal note"
)
def add_note(request: ApiRequest, case_id: Id, payload: NoteIn) -> Status[NoteOut]:
    return Status(201, note_out(actions.add_note(_agent(request), case_id, payload.body)))


class ReplyIn(Schema):
    body: Text
    # What the case becomes once the answer is sent.
    status: AgentStatus = "pending"


class ReplyOut(Schema):
    message_id: int
    case: AgentCaseOut


@router.post(
    "/agent/cases/{case_id}/messages",
    response={200: ReplyOut, 201: ReplyOut},
    summary="Answer the customer",
)
def reply(
    request: ApiRequest, case_id: Id, payload: ReplyIn, idempotency_key: IdempotencyKey = None
) -> Status[ReplyOut]:
    """An Official message in the case's conversation (live and by e-mail for the
    customer), then the chosen status. An unassigned case becomes yours."""
    agent = _agent(request)
    message = actions.reply_to_case(
        agent,
        case_id,
        payload.body,
        status=payload.status,
        idempotency_key=idempotency_key.strip() if idempotency_key is not None else None,
    )
    case = queries.access_case(agent, case_id, for_agent=True)
    return Status(
        200 if message.found_by_idempotency_key else 201,
        ReplyOut(message_id=message.pk, case=agent_case_out(case)),
    )


class EscalatedMessageIn(Schema):
    body: Text


class EscalatedMessageOut(Schema):
    message_id: int
    conversation_id: int
    case: AgentCaseOut


@router.post(
    "/agent/cases/{case_id}/conversations/{conversation_id}/messages",
    response={200: EscalatedMessageOut, 201: EscalatedMessageOut},
    summary="Write to the buyer and the seller in the conversation a request for help is about",
)
def write_in_escalated_conversation(
    request: ApiRequest,
    case_id: Id,
    conversation_id: Id,
    payload: EscalatedMessageIn,
    idempotency_key: IdempotencyKey = None,
) -> Status[EscalatedMessageOut]:
    """The buyer asked customer service to step in on a conversation with a silent seller
    (docs/escalation.md): an Official message in that conversation, read by both sides as
    customer service's. Only the conversation the case is about (any other: 404
    conversation_not_found); a solved request opens again (409 newer_request_open while
    the buyer's newer request about the conversation is open), a closed one is 400
    case_closed. An unassigned case becomes yours."""
    agent = _agent(request)
    message = escalation_actions.write_in_conversation(
        agent,
        case_id,
        conversation_id,
        payload.body,
        idempotency_key=idempotency_key.strip() if idempotency_key is not None else None,
    )
    case = queries.access_case(agent, case_id, for_agent=True)
    return Status(
        200 if message.found_by_idempotency_key else 201,
        EscalatedMessageOut(
            message_id=message.pk,
            conversation_id=message.conversation_id,
            case=agent_case_out(case),
        ),
    )


class CannedResponseOut(Schema):
    id: int
    team_id: int
    title: str
    body: str
    # With ?case_id=: the body with that case's details filled in.
    filled: str | None


class CannedResponseListOut(Schema):
    items: list[CannedResponseOut]


def canned_out(canned: CannedResponse, filled: str | None = None) -> CannedResponseOut:
    return CannedResponseOut(
        id=canned.pk, team_id=canned.team_id, title=canned.title, body=canned.body, filled=filled
    )


@router.get("/agent/canned-responses", response=CannedResponseListOut, summary="Canned responses")
def list_canned_responses(
    request: ApiRequest, case_id: QueryId | None = None
) -> CannedResponseListOut:
    agent = _agent(request)
    if case_id is None:
        return CannedResponseListOut(
            items=[canned_out(canned) for canned in queries.canned_responses(agent)]
        )
    case = queries.access_case(agent, case_id, for_agent=True)
    return CannedResponseListOut(
        items=[
            canned_out(canned, actions.fill_placeholders(canned.body, case, agent))
            for canned in queries.canned_responses(agent, case.team_id)
        ]
    )


class CannedResponseIn(Schema):
    team_id: BodyId
    title: Text
    body: Text


@router.post(
    "/agent/canned-responses",
    response={201: CannedResponseOut},
    summary="Add a canned response",
)
def add_canned_response(
    request: ApiRequest, payload: CannedResponseIn
) -> Status[CannedResponseOut]:
    canned = actions.save_canned_response(
        _agent(request), payload.team_id, payload.title, payload.body
    )
    return Status(201, canned_out(canned))


@router.delete(
    "/agent/canned-responses/{canned_response_id}",
    response={204: None},
    summary="Delete a canned response",
)
def delete_canned_response(request: ApiRequest, canned_response_id: Id) -> Status[None]:
    actions.delete_canned_response(_agent(request), canned_response_id)
    return Status(204, None)
