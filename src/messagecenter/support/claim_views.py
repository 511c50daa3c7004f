"""Guarantee claims on the web (docs/support.md#guarantee-claims): the buyer files from an
order (or from a conversation with the seller, or a customer-service case), the claim's
page for the buyer and the seller (respond, appeal), and the agent's decision in the
console. Parse, check access, call one action in support.claim_actions, render.
"""

from collections.abc import Callable

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from messagecenter.accounts.models import Role
from messagecenter.errors import FORM_ERRORS, MessageCenterError
from messagecenter.marketplace import queries as marketplace_queries
from messagecenter.marketplace.models import Order
from messagecenter.marketplace.presentation import typed_cents
from messagecenter.support import claim_actions, claim_queries, queries
from messagecenter.support import views as support_views
from messagecenter.support.models import Claim, ClaimOutcome, ClaimStage
from messagecenter.web.shortcuts import AuthenticatedHttpRequest, new_idempotency_key
from messagecenter.web.uploads import form_files, takes_files


@takes_files("attachments")
@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def file_claim(request: AuthenticatedHttpRequest, number: str) -> HttpResponse:
    """ "File a guarantee claim" on one of the buyer's orders: every reason with whether
    it may be filed now, and why not (with the date it may)."""
    buyer = request.user
    if buyer.role != Role.BUYER:
        raise Http404("No such page.")
    order = marketplace_queries.access_order(buyer, number)
    source = request.POST if request.method == "POST" else request.GET
    fields = {
        "reason": source.get("reason", ""),
        "description": source.get("description", ""),
        "storefront_id": source.get("seller", ""),
        "conversation_id": source.get("conversation", ""),
        "case_id": source.get("case", ""),
    }
    if request.method != "POST":
        return _file_page(request, order, fields)
    try:
        claim = claim_actions.file_claim(
            buyer,
            order.number,
            fields["reason"],
            fields["description"],
            storefront_id=fields["storefront_id"] or None,
            attachments=form_files(request, "attachments"),
            idempotency_key=request.POST.get("idempotency_key") or None,
            about_conversation_id=fields["conversation_id"] or None,
            from_case_id=fields["case_id"] or None,
        )
    except FORM_ERRORS as error:
        return _file_page(request, order, fields, error=error, status=error.status)
    messages.success(
        request,
        f"Claim {claim.number} is filed. You and the seller will hear every step here."
        if claim.stage == ClaimStage.SELLER_RESPONSE
        # The seller's account is suspended or closed: nobody waits for them.
        else f"Claim {claim.number} is filed and goes straight to an agent of the claims "
        "team. You will hear every step here.",
    )
    return redirect("conversation", claim.case.conversation_id)


def _file_page(
    request: AuthenticatedHttpRequest,
    order: Order,
    fields: dict[str, str],
    *,
    error: MessageCenterError | None = None,
    status: int = 200,
) -> HttpResponse:
    sellers = claim_queries.storefronts_of(order)
    chosen = next((one for one in sellers if str(one.pk) == fields["storefront_id"]), None)
    if chosen is None and len(sellers) == 1:
        chosen = sellers[0]
    reasons = claim_queries.eligibility(request.user, order, chosen) if chosen is not None else []
    # A seller who cannot respond gets no window: the form says the claim goes to an agent.
    closure = claim_queries.seller_closure(chosen) if chosen is not None else None
    return render(
        request,
        "support/claim_file.html",
        {
            "order": order,
            "sellers": sellers,
            "seller": chosen,
            "reasons": reasons,
            # With no reason open (a cancelled order), only why: no form to fill in.
            "may_file": any(option.may_file for option in reasons),
            "open_claim": claim_queries.open_claim_on(order),
            "seller_hours": settings.CLAIM_SELLER_RESPONSE_HOURS,
            "seller_closed_as": claim_queries.closed_as(closure) if closure is not None else "",
            "idempotency_key": new_idempotency_key(),
            "error": error,
            **fields,
        },
        status=status,
    )


@login_required
@require_safe
def claim(request: AuthenticatedHttpRequest, claim_id: int) -> HttpResponse:
    """A claim's page for its buyer, its seller and the claims team's agents: where it is,
    the deadline, the seller's response form and the buyer's appeal form when they
    apply."""
    found = claim_queries.access_claim(request.user, claim_id)
    return _claim_page(request, found)


def _claim_page(
    request: AuthenticatedHttpRequest,
    found: Claim,
    *,
    error: MessageCenterError | None = None,
    body: str = "",
    status: int = 200,
) -> HttpResponse:
    user = request.user
    case = found.case
    is_buyer = case.customer_id == user.pk
    is_seller = found.storefront.seller_id == user.pk
    return render(
        request,
        "support/claim.html",
        {
            "claim": found,
            "case": case,
            "stage_label": ClaimStage(found.stage).label,
            "detail": claim_queries.stage_detail(found, user),
            "is_buyer": is_buyer,
            "is_seller": is_seller,
            "is_staff": queries.is_staff(user),
            "can_respond": is_seller and found.stage == ClaimStage.SELLER_RESPONSE,
            "can_appeal": is_buyer
            and found.stage == ClaimStage.APPEAL_WINDOW
            and found.appealed_at is None,
            "idempotency_key": new_idempotency_key(),
            "error": error,
            "body": body,
        },
        status=status,
    )


@takes_files("attachments")
@login_required
@require_POST
def respond(request: AuthenticatedHttpRequest, claim_id: int) -> HttpResponse:
    return _claim_step(
        request,
        claim_id,
        lambda claim_id, body, key: claim_actions.respond_to_claim(
            request.user,
            claim_id,
            body,
            attachments=form_files(request, "attachments"),
            idempotency_key=key,
        ),
        done="Your response is sent. An agent now decides.",
    )


@login_required
@require_POST
def appeal(request: AuthenticatedHttpRequest, claim_id: int) -> HttpResponse:
    return _claim_step(
        request,
        claim_id,
        lambda claim_id, body, key: claim_actions.appeal_claim(
            request.user, claim_id, body, idempotency_key=key
        ),
        done="Your appeal is sent. An agent looks at the claim again.",
    )


def _claim_step(
    request: AuthenticatedHttpRequest,
    claim_id: int,
    act: Callable[[int, str, str | None], object],
    *,
    done: str,
) -> HttpResponse:
    """A party's step on their claim's page (the seller's response, the buyer's appeal):
    refused, the page again with the reason and what they wrote; done, back to it."""
    found = claim_queries.access_claim(request.user, claim_id)
    body = request.POST.get("body", "")
    try:
        act(found.pk, body, request.POST.get("idempotency_key") or None)
    except FORM_ERRORS as error:
        return _claim_page(
            request,
            claim_queries.access_claim(request.user, found.pk),
            error=error,
            body=body,
            status=error.status,
        )
    messages.success(request, done)
    return redirect("claim", found.pk)


@login_required
@require_POST
def decide(request: AuthenticatedHttpRequest, claim_id: int) -> HttpResponse:
    """The console's decision form on a claim's case (agents of its team, admins)."""
    if not queries.is_staff(request.user):
        raise Http404("No such page.")
    found = claim_queries.access_claim(request.user, claim_id)
    outcome = request.POST.get("outcome", "")
    try:
        claim_actions.decide_claim(
            request.user,
            found.pk,
            outcome,
            request.POST.get("reasons", ""),
            # Read whatever the outcome: an amount typed beside "Deny" is refused by the
            # action (refund_on_denial), not dropped — the agent may have meant to grant.
            refund_cents=typed_cents(request.POST.get("refund", ""), code="invalid_refund_amount"),
        )
    except FORM_ERRORS as error:
        return support_views._case_page(
            request,
            request.user,
            queries.access_case(request.user, found.pk, for_agent=True),
            error=error,
            claim_decision={
                name: request.POST.get(name, "") for name in ("outcome", "refund", "reasons")
            },
            status=error.status,
        )
    messages.success(request, f"Claim {found.number}: {ClaimOutcome(outcome).label.lower()}.")
    return redirect(f"{reverse('console-case', args=[found.pk])}#claim")
