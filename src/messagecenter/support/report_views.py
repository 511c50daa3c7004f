"""Reports on the web (docs/safety.md#reports): "Report" on a message or a conversation,
and the agent's decision in the console's report panel. Parse, check access, call one
action in support.report_actions, render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from messagecenter.errors import FORM_ERRORS
from messagecenter.support import queries, report_actions, report_queries
from messagecenter.support import views as support_views
from messagecenter.support.models import ReportOutcome
from messagecenter.web.shortcuts import AuthenticatedHttpRequest

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
        messages.success(request, THANKS.format(what="this message is"))
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
        messages.success(request, THANKS.format(what="their messages are"))
    return redirect("conversation", conversation_id)


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
