"""Pages of the safety app (docs/safety.md): block the other side of a conversation, and the
list of people and shops the person blocked."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_POST, require_safe

from messagecenter.conversations.queries import access_conversation
from messagecenter.conversations.templatetags.message_center import conversation_link_tags
from messagecenter.errors import FORM_ERRORS
from messagecenter.safety import actions, queries
from messagecenter.web.shortcuts import AuthenticatedHttpRequest


@login_required
@require_POST
def block_in_conversation(request: AuthenticatedHttpRequest, conversation_id: int) -> HttpResponse:
    try:
        blocked = actions.block_counterpart(request.user, conversation_id)
    except FORM_ERRORS as error:
        # Refused in a guarantee claim: the notice links to where a block works, the
        # conversation about the order with the same buyer or shop, when there is one.
        where = (
            queries.where_blocking_works(request.user, conversation_id)
            if error.code == "cannot_block_in_claim"
            else None
        )
        messages.error(
            request,
            error.message,
            extra_tags=conversation_link_tags(where) if where is not None else "",
        )
    else:
        messages.success(
            request,
            f"You blocked {blocked.blocked.public_name}. They can no longer message you; "
            "messages about your orders still arrive, marked.",
        )
    return HttpResponseRedirect(reverse("conversation", args=[conversation_id]))


@login_required
@require_POST
def unblock_in_conversation(
    request: AuthenticatedHttpRequest, conversation_id: int
) -> HttpResponse:
    """ "Unblock" on the conversation page where the block shows: back to the page."""
    participant = access_conversation(request.user, conversation_id)
    block = queries.blocked_in_conversation(request.user, participant)
    if block is not None:
        actions.unblock(request.user, block.pk)
        messages.success(request, "Unblocked: they can message you again.")
    return HttpResponseRedirect(reverse("conversation", args=[conversation_id]))


@login_required
@require_safe
def blocked_list(request: AuthenticatedHttpRequest) -> HttpResponse:
    return render(request, "safety/blocked.html", {"blocks": queries.blocks_of(request.user)})


@login_required
@require_POST
def unblock(request: AuthenticatedHttpRequest, block_id: int) -> HttpResponse:
    actions.unblock(request.user, block_id)
    messages.success(request, "Unblocked: they can message you again.")
    return HttpResponseRedirect(reverse("blocked-list"))
