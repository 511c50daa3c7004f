"""Reads of reports (docs/safety.md#reports), always starting from the person asking: a
reporter reaches only their own filings; agents reach a report through its case (their
teams', or every team's for an admin) and see every filing of it."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.paginator import Page, Paginator
from django.db.models import Count, Q, QuerySet, TextChoices

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations.models import HiddenMessage, Message, Participant
from messagecenter.errors import Conflict, NotFound
from messagecenter.hub.cursors import decode_cursor, encode_cursor
from messagecenter.rows import parse_id, unique_row
from messagecenter.safety import queries as safety_queries
from messagecenter.support import queries
from messagecenter.support.models import (
    CaseKind,
    ForwardedEmail,
    Report,
    ReportFiling,
    ReportOutcome,
)


def reportable_message(user: User, message_id: Any) -> tuple[Participant, Message]:
    """A message the person sees in one of their conversations. A message they reported
    before (hidden for them since) is a conflict with that report, not a missing one."""
    number = parse_id(message_id, code="message_not_found")
    message = unique_row(
        Message.objects.select_related("sender", "sender__storefront").filter(pk=number)
    )
    if message is None:
        raise NotFound("No such message.", code="message_not_found")
    try:
        participant = conversation_queries.access_conversation(user, message.conversation_id)
    except NotFound:
        raise NotFound("No such message.", code="message_not_found") from None
    if HiddenMessage.objects.filter(user=user, message=message).exists():
        raise Conflict(
            "You reported this message already: it is hidden for you and customer service "
            "reviews it.",
            code="already_reported",
        )
    visible = conversation_queries.conversation_messages(participant).filter(pk=message.pk)
    if not visible.exists():
        raise NotFound("No such message.", code="message_not_found")
    return participant, message


def conversation_of_message(user: User, message_id: Any) -> int:
    """The conversation of a message in one of the person's conversations (where a page
    goes back to), whether or not they still see the message."""
    number = parse_id(message_id, code="message_not_found")
    message = unique_row(Message.objects.filter(pk=number).only("conversation_id"))
    if message is None:
        raise NotFound("No such message.", code="message_not_found")
    conversation_id = message.conversation_id
    try:
        conversation_queries.access_conversation(user, conversation_id)
    except NotFound:
        raise NotFound("No such message.", code="message_not_found") from None
    return conversation_id


def sender_history(sender: User) -> dict[str, Any]:
    """The reported person's record when a report is opened: earlier reports of them and
    how they ended, and what the safety app knows (warned and held messages, blocks,
    restrictions)."""
    reports = Report.objects.filter(sender=sender).aggregate(
        reports=Count("pk"),
        confirmed=Count("pk", filter=Q(outcome=ReportOutcome.CONFIRMED)),
        warned=Count("pk", filter=Q(outcome=ReportOutcome.WARNED)),
        dismissed=Count("pk", filter=Q(outcome=ReportOutcome.DISMISSED)),
    )
    return {
        **reports,
        **safety_queries.sender_record(sender),
        "member_since": sender.date_joined.date().isoformat(),
        "role": sender.role,
    }


# "Your reports" (support.report_views.own_reports): a page of the person's own filings;
# also the API's page when it asks for no other (GET /reports).
OWN_REPORTS_PER_PAGE = 20


@dataclass(frozen=True)
class OwnFilingsPage:
    filings: list[ReportFiling]
    # Where the next (older) page starts; None on the last page.
    next_cursor: str | None


def own_filings_page(
    reporter: User, *, cursor: str | None = None, limit: int = OWN_REPORTS_PER_PAGE
) -> OwnFilingsPage:
    """The person's own reports, newest first, a page at a time from a keyset cursor
    (`created_at~id` of the last one shown, as the Message Center's lists: hub/cursors.py)
    — one query whatever the page (index report_filing_reporter). Never anyone else's
    filing of the same report (a reporter never learns who else reported it). Filings
    made in one instance share their time: the id breaks the tie, so a page boundary
    inside one neither repeats nor skips any."""
    filings = ReportFiling.objects.filter(reporter=reporter)
    if cursor:
        created_at, last_id = decode_cursor(cursor)
        filings = filings.filter(
            Q(created_at__lt=created_at) | Q(created_at=created_at, pk__lt=last_id)
        )
    rows = list(filings.select_related("report__case").order_by("-created_at", "-pk")[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].created_at, rows[-1].pk)
    return OwnFilingsPage(rows, next_cursor)


class Stage(TextChoices):
    """Where one of the person's reports is, in a reporter's words: the report's outcome,
    and while it waits, whether an agent has taken its case yet."""

    RECEIVED = "received", "Received"
    UNDER_REVIEW = "under_review", "Under review"
    ACTION_TAKEN = "action_taken", "Action taken"
    NO_ACTION = "no_action", "No action"


# What the decision meant for what they reported, told as the message of the outcome
# tells it (report_actions._reporter_text), never who decided or who else reported.
_OUTCOME_TEXT = {
    ReportOutcome.CONFIRMED: "Customer service removed it and acted on the sender's account.",
    ReportOutcome.WARNED: "Customer service warned the sender.",
    ReportOutcome.DISMISSED: (
        "Customer service found that it does not break the marketplace's rules."
    ),
}


def stage_of(filing: ReportFiling) -> Stage:
    report = filing.report
    if report.outcome == ReportOutcome.DISMISSED:
        return Stage.NO_ACTION
    if report.outcome in (ReportOutcome.CONFIRMED, ReportOutcome.WARNED):
        return Stage.ACTION_TAKEN
    return Stage.UNDER_REVIEW if report.case.assignee_id is not None else Stage.RECEIVED


@dataclass(frozen=True)
class OwnReport:
    """One row of "Your reports": what was reported, as the reporter will recognise it —
    a message by who sent it and when (its text is hidden for them, or removed), a
    conversation by whom it was with — and what became of it."""

    filing: ReportFiling
    sender_name: str
    # When the reported message was sent; None for a conversation reported as a whole.
    sent_at: datetime | None
    stage: Stage
    outcome_text: str


@dataclass(frozen=True)
class OwnReportsPage:
    # The pager's page of filings, and its rows as the page shows them.
    page: Page[ReportFiling]
    rows: list[OwnReport]


def own_reports_page(reporter: User, page_number: Any) -> OwnReportsPage:
    """The person's own reports, newest first, a page at a time: never anyone else's
    filing of the same report (a reporter never learns who else reported it). Two
    statements: the count and the page, everything it shows joined in."""
    filings = (
        ReportFiling.objects.filter(reporter=reporter)
        .select_related("report__case", "report__sender__storefront", "conversation", "message")
        .defer("message__body", "report__reasons", "report__sender_history")
        .order_by("-created_at", "-pk")
    )
    page = Paginator(filings, OWN_REPORTS_PER_PAGE).get_page(page_number)
    rows = [
        OwnReport(
            filing=filing,
            sender_name=filing.report.sender.public_name,
            sent_at=filing.message.created_at if filing.message is not None else None,
            stage=stage_of(filing),
            outcome_text=_OUTCOME_TEXT.get(ReportOutcome(filing.report.outcome), ""),
        )
        for filing in page.object_list
    ]
    return OwnReportsPage(page=page, rows=rows)


def access_report(agent: User, case_id: Any) -> Report:
    """A report for customer service: through its case (its team's agents, admins);
    anyone else, and a case of another kind or none at all, get the same 404 (it said
    case_not_found for a number no case has, report_not_found for another kind's)."""
    try:
        case = queries.access_case(agent, case_id, for_agent=True)
    except NotFound:
        raise NotFound("No such report.", code="report_not_found") from None
    if case.kind != CaseKind.REPORT:
        raise NotFound("No such report.", code="report_not_found")
    report = unique_row(
        Report.objects.select_related("sender", "sender__storefront", "decided_by").filter(
            case=case
        )
    )
    if report is None:
        raise NotFound("No such report.", code="report_not_found")
    report.case = case
    return report


def filings(report: Report) -> QuerySet[ReportFiling]:
    """Everyone who reported the sender, for agents only."""
    return (
        ReportFiling.objects.filter(report=report)
        .select_related("reporter", "reporter__storefront")
        .order_by("created_at", "pk")
    )


def reported_conversation_ids(report: Report) -> list[int]:
    return sorted(
        set(ReportFiling.objects.filter(report=report).values_list("conversation_id", flat=True))
    )


def reported_messages(report: Report) -> QuerySet[Message]:
    """What the report is about: the messages reported, and everything the sender wrote
    in a conversation reported as a whole; with their attachments (one statement more),
    which the report panel shows."""
    return (
        Message.objects.filter(queries.reported_messages_filter(report.pk, report.sender_id))
        .select_related("sender", "sender__storefront", "conversation")
        .prefetch_related(conversation_queries.attachments_in_order())
        .order_by("id")
    )


def is_customer(user: User) -> bool:
    return user.role in (Role.BUYER, Role.SELLER)


@dataclass(frozen=True)
class ReportPanel:
    """What the console shows agents on a report's case."""

    report: Report
    filings: list[ReportFiling]
    messages: list[Message]


def report_panel(case: Any) -> ReportPanel | None:
    """For the console's case page (the case already checked for the agent)."""
    report = unique_row(
        Report.objects.select_related("sender", "sender__storefront", "decided_by").filter(
            case=case
        )
    )
    if report is None:
        return None
    report.case = case
    return ReportPanel(
        report=report,
        filings=list(filings(report)),
        messages=list(reported_messages(report)),
    )


def forwarded_email(case: Any) -> ForwardedEmail | None:
    """For the console's case page (the case already checked for the agent): the
    suspicious e-mail a customer forwarded to the report address, if the case is one."""
    return unique_row(ForwardedEmail.objects.select_related("reporter").filter(case=case))
