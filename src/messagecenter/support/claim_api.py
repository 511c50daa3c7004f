"""Guarantee claims in the JSON API (docs/api.md#guarantee-claims, docs/support.md):
the buyer files and appeals, the seller responds, both follow their claims; agents decide
under /agent/. Like the pages: parse, check access, call one action in
support.claim_actions.

The claim's conversation is an ordinary conversation in both Claims folders: read it and
write in it with /conversations/{conversation_id}/messages.
"""

from datetime import datetime
from typing import Literal

from ninja import Router, Schema, Status

from messagecenter.accounts.models import User
from messagecenter.api_support import (
    ApiRequest,
    BodyId,
    Id,
    IdempotencyKey,
    QueryId,
    Text,
    WholeNumber,
    message_input_openapi,
    parse_message_input,
)
from messagecenter.errors import NotAllowed
from messagecenter.marketplace import queries as marketplace_queries
from messagecenter.support import claim_actions, claim_queries, queries
from messagecenter.support.models import Claim, ClaimOutcome, ClaimReason, ClaimStage

router = Router(tags=["claims"])


class ClaimOut(Schema):
    # The claim's case: the same number ("CS-12") in the console and in messages.
    id: int
    number: str
    order_number: str
    storefront_id: int
    storefront_name: str
    reason: ClaimReason
    stage: ClaimStage
    stage_label: str
    # The next step and its deadline, in words.
    detail: str
    # The stage's deadline (the seller's window, the appeal window); null when an agent
    # decides or the claim is closed.
    due_at: datetime | None
    # The claim's conversation in both Claims folders.
    conversation_id: int | None
    filed_at: datetime
    seller_responded_at: datetime | None
    outcome: ClaimOutcome | None
    decided_at: datetime | None
    decision_reasons: str
    # What the claim has refunded, in cents of the order's currency.
    refunded_cents: int
    currency: str
    appealed_at: datetime | None
    closed_at: datetime | None


def claim_out(claim: Claim) -> ClaimOut:
    case = claim.case
    return ClaimOut(
        id=claim.pk,
        number=claim.number,
        order_number=claim.order.number,
        storefront_id=claim.storefront_id,
        storefront_name=claim.storefront.name,
        reason=ClaimReason(claim.reason),
        stage=ClaimStage(claim.stage),
        stage_label=ClaimStage(claim.stage).label,
        detail=claim_queries.stage_detail(claim),
        due_at=case.due_at,
        conversation_id=case.conversation_id,
        filed_at=claim.filed_at,
        seller_responded_at=claim.seller_responded_at,
        outcome=ClaimOutcome(claim.outcome) if claim.outcome else None,
        decided_at=claim.decided_at,
        decision_reasons=claim.decision_reasons,
        refunded_cents=claim.refunded_cents,
        currency=claim.order.currency,
        appealed_at=claim.appealed_at,
        closed_at=claim.closed_at,
    )


def _fresh(claim: Claim, user: User) -> ClaimOut:
    """The claim as it is after an action (the case's deadline and status moved too)."""
    return claim_out(claim_queries.access_claim(user, claim.pk))


class ClaimIn(Schema):
    # One of your orders.
    order_number: Text
    reason: ClaimReason
    # What went wrong: the first message of the claim's conversation.
    description: Text
    # The seller the claim is about; needed only when the order has several.
    storefront_id: BodyId | None = None
    # Filed from your conversation with the seller about the order.
    conversation_id: BodyId | None = None
    # Filed from one of your customer-service requests.
    case_id: BodyId | None = None


@router.post(
    "/claims",
    response={200: ClaimOut, 201: ClaimOut},
    summary="File a guarantee claim",
    openapi_extra=message_input_openapi(ClaimIn, with_attachments=True),
)
def file_claim(request: ApiRequest, idempotency_key: IdempotencyKey = None) -> Status[ClaimOut]:
    """JSON, or a multipart form with the same fields and up to 5 evidence files named
    `attachments` (photos, PDFs). 201 with the claim; 200 for a retry with the same
    Idempotency-Key. A refusal says why and until when in its message: 403
    `contact_seller_first`, `claim_too_early`, `claim_not_delivered`, `claim_no_return`,
    `claim_window_closed`, `claim_order_cancelled`; 409 `claim_already_open`,
    `claim_already_filed`. GET /orders/{number}/claim-eligibility answers the same
    beforehand."""
    payload, files = parse_message_input(request, ClaimIn)
    claim = claim_actions.file_claim(
        request.auth,
        payload.order_number,
        payload.reason,
        payload.description,
        storefront_id=payload.storefront_id,
        attachments=files,
        idempotency_key=idempotency_key.strip() if idempotency_key is not None else None,
        about_conversation_id=payload.conversation_id,
        from_case_id=payload.case_id,
    )
    return Status(200 if claim.found_by_idempotency_key else 201, _fresh(claim, request.auth))


class EligibilityOut(Schema):
    reason: ClaimReason
    label: str
    may_file: bool
    # Why not, when not: a stable code and the sentence to show ("You can file from …").
    code: str | None
    message: str | None


class EligibilityListOut(Schema):
    storefront_id: int
    items: list[EligibilityOut]


@router.get(
    "/orders/{number}/claim-eligibility",
    response=EligibilityListOut,
    summary="Whether you can file a claim on an order, per reason",
)
def claim_eligibility(
    request: ApiRequest, number: Text, storefront_id: QueryId | None = None
) -> EligibilityListOut:
    """For each reason: may it be filed now, and if not, why and from when."""
    buyer = request.auth
    order = marketplace_queries.access_order(buyer, number)
    storefront = claim_actions.storefront_of(order, storefront_id)
    return EligibilityListOut(
        storefront_id=storefront.pk,
        items=[
            EligibilityOut(
                reason=ClaimReason(answer.reason),
                label=answer.label,
                may_file=answer.may_file,
                code=answer.refusal.code if answer.refusal is not None else None,
                message=answer.refusal.message if answer.refusal is not None else None,
            )
            for answer in claim_queries.eligibility(buyer, order, storefront)
        ],
    )


class ClaimListOut(Schema):
    items: list[ClaimOut]


@router.get("/claims", response=ClaimListOut, summary="Your claims (as a buyer or a seller)")
def list_claims(request: ApiRequest, view: Literal["buyer", "seller"] = "buyer") -> ClaimListOut:
    """`view=buyer`: the claims you filed; `view=seller`: the claims against your shop.
    Newest first, the latest 100."""
    return ClaimListOut(
        items=[claim_out(claim) for claim in claim_queries.claims_of(request.auth, view)]
    )


@router.get("/claims/{claim_id}", response=ClaimOut, summary="One claim")
def get_claim(request: ApiRequest, claim_id: Id) -> ClaimOut:
    """For its buyer, its seller and the claims team's agents."""
    return claim_out(claim_queries.access_claim(request.auth, claim_id))


class ClaimMessageIn(Schema):
    body: Text


@router.post(
    "/claims/{claim_id}/response",
    response=ClaimOut,
    summary="Respond to a claim against your shop",
    openapi_extra=message_input_openapi(ClaimMessageIn, with_attachments=True),
)
def respond_to_claim(
    request: ApiRequest, claim_id: Id, idempotency_key: IdempotencyKey = None
) -> ClaimOut:
    """The seller, within the response window: the body (and evidence files, as a
    multipart form) go to the buyer and the agents, and the claim goes to a decision.
    409 `claim_response_window_closed` at or after the deadline."""
    payload, files = parse_message_input(request, ClaimMessageIn)
    claim = claim_actions.respond_to_claim(
        request.auth, claim_id, payload.body, attachments=files, idempotency_key=idempotency_key
    )
    return _fresh(claim, request.auth)


@router.post("/claims/{claim_id}/appeal", response=ClaimOut, summary="Appeal a claim's decision")
def appeal_claim(
    request: ApiRequest,
    claim_id: Id,
    payload: ClaimMessageIn,
    idempotency_key: IdempotencyKey = None,
) -> ClaimOut:
    """The buyer, once, within the appeal window: the claim goes back to a decision.
    409 `claim_already_appealed`, `claim_appeal_window_closed`, `claim_not_appealable`."""
    claim = claim_actions.appeal_claim(
        request.auth, claim_id, payload.body, idempotency_key=idempotency_key
    )
    return _fresh(claim, request.auth)


class DecisionIn(Schema):
    outcome: ClaimOutcome
    # Both parties read them.
    reasons: Text
    # Granted only: the claim's refund in cents, more than 0 and at most what can still
    # be refunded (after an appeal: at least what the claim refunded already); null or 0
    # on an order refunded in full already, which a grant then refunds nothing more.
    refund_cents: WholeNumber | None = None


@router.post(
    "/agent/claims/{claim_id}/decision", response=ClaimOut, summary="Decide a claim (agents)"
)
def decide_claim(request: ApiRequest, claim_id: Id, payload: DecisionIn) -> ClaimOut:
    """Grant (recording the refund on the order) or deny, with reasons, a claim waiting
    for a decision. 403 `agents_only` for customers; 404 for another team's claim; 409
    `claim_not_awaiting_decision`."""
    agent = request.auth
    if not queries.is_staff(agent):
        raise NotAllowed("This is for customer-service agents.", code="agents_only")
    claim = claim_actions.decide_claim(
        agent, claim_id, payload.outcome, payload.reasons, refund_cents=payload.refund_cents
    )
    return _fresh(claim, agent)
