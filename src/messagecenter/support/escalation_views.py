"""The buyer's "Ask customer service to help" button on a buyer–seller conversation whose
seller did not answer in time (docs/escalation.md)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.views.decorators.http import require_POST

from messagecenter.errors import Conflict, InvalidInput
from messagecenter.support import escalation_actions
from messagecenter.web.shortcuts import AuthenticatedHttpRequest


@login_required
@require_POST
def ask_for_help(request: AuthenticatedHttpRequest, conversation_id: int) -> HttpResponse:
    """Opens the request and shows it; a refusal (too early, already asked, answered)
    comes back to the conversation with its reason. A conversation that is not the
    person's is the site's 404, and the seller's own the 403 page (web/errors.py)."""
    back = reverse("conversation", args=[conversation_id])
    try:
        case = escalation_actions.ask_for_help(
            request.user, conversation_id, note=request.POST.get("note", "")
        )
    except (InvalidInput, Conflict) as error:
        messages.error(request, error.message)
        return redirect(f"{back}#response-window")
    messages.success(
        request,
        f"We have your request {case.number}: customer service will read your conversation "
        "with the seller and answer here.",
    )
    return redirect("conversation", case.conversation_id)
