"""Appeals of a suspension in the console (docs/safety.md#appeals): the agent's decision
in the appeal panel. Parse, check access, call one action in support.appeal_actions,
render."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from messagecenter.errors import FORM_ERRORS
from messagecenter.support import appeal_actions, appeal_queries, queries
from messagecenter.support import views as support_views
from messagecenter.web.shortcuts import AuthenticatedHttpRequest

DONE = {
    appeal_actions.LIFT: "suspension lifted: the account can sign in again",
    appeal_actions.KEEP: "suspension kept",
}


@login_required
@require_POST
def decide(request: AuthenticatedHttpRequest, appeal_id: int) -> HttpResponse:
    """Lift or keep (agents of the trust-and-safety team, admins)."""
    if not queries.is_staff(request.user):
        raise Http404("No such page.")
    case = appeal_queries.access_appeal(request.user, appeal_id)
    decision = request.POST.get("decision", "")
    try:
        appeal_actions.decide_appeal(request.user, case.pk, decision)
    except FORM_ERRORS as error:
        return support_views._case_page(
            request, request.user, case, error=error, status=error.status
        )
    messages.success(request, f"Appeal {case.number}: {DONE[decision]}. The person was told.")
    return redirect(f"{reverse('console-case', args=[case.pk])}#appeal")
