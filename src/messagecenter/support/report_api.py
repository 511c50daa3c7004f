"""Reports in the JSON API (docs/safety.md#reports, docs/api.md): buyers and sellers report
a message or the other side of a conversation and follow their own reports; agents of
the trust-and-safety team read a report (with everyone who filed it) and decide it under
/agent/. Like the pages: parse, check access, call one action in support.report_actions."""

from datetime import datetime
from typing import Any, Literal

from ninja import Router, Schema, Status

from messagecenter.api_support import ApiRequest, Id, PageLimit, Text
from messagecenter.conversations.schemas import AttachmentOut
from messagecenter.errors import NotAllowed
from messagecenter.support import queries, report_actions, report_queries
from messagecenter.support.api import case_attachments_out
from messagecenter.support.models import (
    Report,
    ReportCategory,
    ReportFiling,
    ReportOutcome,
    SenderAction,
)
from messagecenter.support.report_queries import Stage

router = Router(tags=["reports"])


class ReportIn(Schema):
    category: ReportCategory


class ReportOut(Schema):
    """One of your reports. It never says who else reported the same thing."""

    id: int
    category: ReportCategory
    category_label: str
    conversation_id: int
    # The message reported; null for a report of the conversation.
    message_id: int | None
    status: ReportOutcome
    status_label: str
    # Where it is, as the "Your reports" page says: received, under_review (an agent has
    # taken it), action_taken (removed, or the sender warned), no_action (dismissed).
    stage: Stage
    stage_label: str
    created_at: datetime
    decided_at: datetime | None


def report_out(filing: ReportFiling) -> ReportOut:
    report = filing.report
    stage = report_queries.stage_of(filing)
    return ReportOut(
        id=filing.pk,
        category=ReportCategory(filing.category),
        category_label=ReportCategory(filing.category).label,
        conversation_id=filing.conversation_id,
        message_id=filing.message_id,
        status=ReportOutcome(report.outcome),
        status_label=ReportOutcome(report.outcome).label,
        stage=stage,
        stage_label=stage.label,
        created_at=filing.created_at,
        decided_at=report.decided_at,
    )


@router.post(
    "/messages/{message_id}/report",
    response={201: ReportOut},
    summary="Report a message (hidden for you at once; customer service reviews it)",
)
def report_message(request: ApiRequest, message_id: Id, payload: ReportIn) -> Status[ReportOut]:
    """400 `cannot_report_own`, `cannot_report_marketplace`; 403 `customers_only` for
    agents; 409 `already_reported`, `sender_erased` (erased at their request: their messages
    were removed); 404 for a message outside your conversations."""
    filing = report_actions.report_message(request.auth, message_id, payload.category)
    return Status(201, report_out(filing))


@router.post(
    "/conversations/{conversation_id}/report",
    response={201: ReportOut},
    summary="Report the other side of a conversation (their messages are hidden for you)",
)
def report_conversation(
    request: ApiRequest, conversation_id: Id, payload: ReportIn
) -> Status[ReportOut]:
    """400 `cannot_report_marketplace` for a conversation with the marketplace or customer
    service; 403 `customers_only` for agents; 409 `already_reported`, `sender_erased` (the
    other side was erased at their request: their messages were removed); 404 for a
    conversation that is not yours."""
    filing = report_actions.report_conversation(request.auth, conversation_id, payload.category)
    return Status(201, report_out(filing))


class ReportPageOut(Schema):
    items: list[ReportOut]
    # Pass it back as `cursor` for the next (older) page; null on the last.
    next_cursor: str | None


@router.get("/reports", response=ReportPageOut, summary="Your reports and how they ended")
def list_reports(
    request: ApiRequest,
    cursor: Text | None = None,
    limit: PageLimit = report_queries.OWN_REPORTS_PER_PAGE,
) -> ReportPageOut:
    """Newest first, a page at a time (docs/api.md#pagination): 400 `invalid_cursor` for
    a cursor this list did not give out."""
    page = report_queries.own_filings_page(request.auth, cursor=cursor, limit=limit)
    return ReportPageOut(
        items=[report_out(filing) for filing in page.filings], next_cursor=page.next_cursor
    )


# --- agents ----------------------------------------------------------------------------------


class ReporterOut(Schema):
    user_id: int
    name: str
    email: str
    category: ReportCategory
    conversation_id: int
    # Null: they reported the whole conversation.
    message_id: int | None
    created_at: datetime


class ReportedMessageOut(Schema):
    id: int
    conversation_id: int
    body: str
    created_at: datetime
    removed_at: datetime | None
    # Downloaded through the report's case (GET /agent/cases/{case_id}/attachments/{id}).
    attachments: list[AttachmentOut]


class AgentReportOut(Schema):
    # The report's case (the console's CS-12).
    case_id: int
    number: str
    status: ReportOutcome
    sender_action: SenderAction | None
    sender_id: int
    sender_name: str
    # Every message reported (or written in a conversation reported as a whole).
    messages: list[ReportedMessageOut]
    # The safety check's verdict stored with the reported message(s), and its reasons.
    verdict: str
    reasons: list[dict[str, str]]
    safety_version: str
    # The sender's record when the report was opened: earlier reports and their outcomes,
    # warned and held messages, blocks, restriction or suspension.
    sender_history: dict[str, Any]
    reporters: list[ReporterOut]
    decided_at: datetime | None


class DecisionIn(Schema):
    """Typed, so that the schema lists the values and any other is a 422 naming the field:
    free strings answered "restricted or suspended: choose which" to a misspelt action."""

    outcome: Literal["confirmed", "dismissed", "warned"]
    # For a confirmed report, and only then: restricted or suspended.
    sender_action: SenderAction | None = None


def _agent(request: ApiRequest) -> None:
    if not queries.is_staff(request.auth):
        raise NotAllowed("This is for customer-service agents.", code="agents_only")


def agent_report_out(report: Report) -> AgentReportOut:
    return AgentReportOut(
        case_id=report.pk,
        number=report.number,
        status=ReportOutcome(report.outcome),
        sender_action=SenderAction(report.sender_action) if report.sender_action else None,
        sender_id=report.sender_id,
        sender_name=report.sender.public_name,
        messages=[
            ReportedMessageOut(
                id=message.pk,
                conversation_id=message.conversation_id,
                body=message.body,
                created_at=message.created_at,
                removed_at=message.removed_at,
                attachments=case_attachments_out(report.pk, message.listed_attachments),
            )
            for message in report_queries.reported_messages(report)
        ],
        verdict=report.verdict,
        reasons=report.reasons,
        safety_version=report.safety_version,
        sender_history=report.sender_history,
        reporters=[
            ReporterOut(
                user_id=filing.reporter_id,
                name=filing.reporter.public_name,
                email=filing.reporter.email,
                category=ReportCategory(filing.category),
                conversation_id=filing.conversation_id,
                message_id=filing.message_id,
                created_at=filing.created_at,
            )
            for filing in report_queries.filings(report)
        ],
        decided_at=report.decided_at,
    )


# The path's id is the report's case (CS-12 → 12: `case_id` of the answer, the queue's
# case ids), named so: it was `report_id`, which read like the `id` GET /reports gives a
# reporter (their filing's). The URL is the same, so clients keep working.


@router.get(
    "/agent/reports/{case_id}",
    response=AgentReportOut,
    summary="A report, by its case's id, with everyone who filed it (agents of its team)",
)
def agent_report(request: ApiRequest, case_id: Id) -> AgentReportOut:
    """`case_id` is the report's case (CS-12 → 12), as the queue lists it; a reporter's
    filing id (GET /reports) is not one. 404 `report_not_found`."""
    _agent(request)
    return agent_report_out(report_queries.access_report(request.auth, case_id))


@router.post(
    "/agent/reports/{case_id}/decision",
    response=AgentReportOut,
    summary="Confirm (with restricted or suspended), dismiss, or warn",
)
def decide_report(request: ApiRequest, case_id: Id, payload: DecisionIn) -> AgentReportOut:
    """`outcome`: confirmed, dismissed or warned; `sender_action` with confirmed only. 422
    `invalid_input` for any other value; 400 `sender_action_required`,
    `sender_action_not_allowed`; 404 `report_not_found`; 409 `report_already_decided`."""
    _agent(request)
    report = report_actions.decide_report(
        request.auth, case_id, payload.outcome, payload.sender_action
    )
    return agent_report_out(report_queries.access_report(request.auth, report.pk))
