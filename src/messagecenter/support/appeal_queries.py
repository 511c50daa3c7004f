"""Reads of appeals of a suspension (docs/safety.md#appeals), starting from the agent
asking: an appeal is reached through its case (the trust-and-safety team's agents,
admins); anyone else, and a case of another kind, get the same 404."""

from dataclasses import dataclass
from typing import Any

from messagecenter.accounts.models import User
from messagecenter.errors import NotFound
from messagecenter.support import queries, report_queries
from messagecenter.support.models import Case, CaseKind, Report, ReportOutcome, SenderAction


def access_appeal(agent: User, case_id: Any) -> Case:
    case = queries.access_case(agent, case_id, for_agent=True)
    if case.kind != CaseKind.APPEAL:
        raise NotFound("No such appeal.", code="appeal_not_found")
    return case


@dataclass(frozen=True)
class AppealPanel:
    """What the console shows agents on an appeal's case: whether the person is still
    suspended, and the report whose decision suspended them, as its own case shows it."""

    is_suspended: bool
    suspension: report_queries.ReportPanel | None


def suspending_report(person: User) -> Report | None:
    """The latest confirmed report that suspended the person."""
    return (
        Report.objects.select_related("case")
        .filter(
            sender=person,
            outcome=ReportOutcome.CONFIRMED,
            sender_action=SenderAction.SUSPENDED,
        )
        .order_by("-decided_at", "-pk")
        .first()
    )


def appeal_panel(case: Case) -> AppealPanel:
    """For the console's case page (the case already checked for the agent)."""
    report = suspending_report(case.customer)
    return AppealPanel(
        is_suspended=not case.customer.is_active,
        suspension=report_queries.report_panel(report.case) if report is not None else None,
    )
