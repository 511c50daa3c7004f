"""Reports on the web (docs/safety.md#reports): "Report" on a message or a conversation,
the reporter's own list of them ("Your reports"), and the agent's decision in the
console's report panel. Parse, check access, call one action in support.report_actions
(or one read in support.report_queries), render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from messagecenter.errors import FORM_ERRORS
from messagecenter.support import queries, report_actions, report_queries
from messagecenter.support import views as support_views
from messagecenter.support.models import ReportOutcome
from messagecenter.web.shortcuts import AuthenticatedHttpRequest

# The notice after a report carries a link to "Your reports" (web/base.html), where the
# reporter follows it to its outcome.
OWN_REPORTS_LINK = "own-reports-link"

# Said first, "Report sent": the reported message leaves the page at once, and the notice
# is what tells the reporter it went through and where the answer will come.
THANKS = (
    "Report sent — {what} hidden for you and customer service will review it. The sender is "
    "not told who reported it; the decision comes to your Customer service folder."
)


@login_required
@require_POST
def report_message(request: AuthenticatedHttpRequest, message_id: int) -> HttpResponse:
    try:
        conversation_id = report_queries.conversation_of_message(request.user, message_id)
        report_actions.report_message(request.user, message_id, request.POST.get("category"))
    except FORM_ERRORS as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, THANKS.format(what="this message is"), extra_tags=OWN_REPORTS_LINK
        )
    return redirect("conversation", conversation_id)


@login_required
@require_POST
def report_conversation(request: AuthenticatedHttpRequest, conversation_id: int) -> HttpResponse:
    try:
        report_actions.report_conversation(
            request.user, conversation_id, request.POST.get("category")
        )
    except FORM_ERRORS as error:
        messages.error(request, error.message)
    else:
        messages.success(
            request, THANKS.format(what="their messages are"), extra_tags=OWN_REPORTS_LINK
        )
    return redirect("conversation", conversation_id)


@login_required
@require_safe
def own_reports(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Your reports: each message or conversation the person reported and what became of
    it, newest first, a page at a time — their own only (report_queries.own_reports_page)."""
    found = report_queries.own_reports_page(request.user, request.GET.get("page"))
    return render(request, "support/own_reports.html", {"page": found.page, "rows": found.rows})


@login_required
@require_POST
def decide(request: AuthenticatedHttpRequest, report_id: int) -> HttpResponse:
    """The console's report panel (agents of the trust-and-safety team, admins)."""
    if not queries.is_staff(request.user):
        raise Http404("No such page.")
    report = report_queries.access_report(request.user, report_id)
    outcome = request.POST.get("outcome", "")
    try:
        report_actions.decide_report(
            request.user, report.pk, outcome, request.POST.get("sender_action") or None
        )
    except FORM_ERRORS as error:
        return support_views._case_page(
            request,
            request.user,
            queries.access_case(request.user, report.pk, for_agent=True),
            error=error,
            status=error.status,
        )
    messages.success(request, f"Report {report.number}: {ReportOutcome(outcome).label.lower()}.")
    return redirect(f"{reverse('console-case', args=[report.pk])}#report")
