"""Reads of reports (docs/safety.md#reports), always starting from the person asking: a
reporter reaches only their own filings; agents reach a report through its case (their
teams', or every team's for an admin) and see every filing of it."""

from dataclasses import dataclass
from typing import Any

from django.db.models import Count, Q, QuerySet

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations.models import HiddenMessage, Message, Participant
from messagecenter.errors import Conflict, NotFound
from messagecenter.rows import parse_id, unique_row
from messagecenter.safety import queries as safety_queries
from messagecenter.support import queries
from messagecenter.support.models import CaseKind, Report, ReportFiling, ReportOutcome


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


def own_filings(reporter: User, *, limit: int = 100) -> list[ReportFiling]:
    """The person's own reports, newest first: never anyone else's filing of the same
    report (a reporter never learns who else reported it)."""
    return list(
        ReportFiling.objects.filter(reporter=reporter)
        .select_related("report")
        .order_by("-created_at", "-pk")[:limit]
    )


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
