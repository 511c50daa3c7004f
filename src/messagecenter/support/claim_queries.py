"""Reads of guarantee claims, always from the person asking (docs/support.md#guarantee-claims):
who may see a claim, who may file one and when — each refusal in words a buyer can act
on ("you can file from …", "contact the seller first: they have until …").

A claim is seen by its buyer (the case's customer), the seller it is against, and the
agents of the claims team (admins: every team); anyone else gets the same NotFound as for
a claim that does not exist.
"""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.conf import settings
from django.db.models import Q
from django.utils import timezone

from messagecenter.accounts import closed_accounts
from messagecenter.accounts.models import Role, User
from messagecenter.accounts.time_zones import for_readers
from messagecenter.conversations import topics
from messagecenter.conversations.models import Conversation, Message
from messagecenter.errors import Conflict, MessageCenterError, NotAllowed, NotFound
from messagecenter.marketplace import queries as marketplace_queries
from messagecenter.marketplace.models import (
    Order,
    OrderItem,
    OrderStatus,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    Storefront,
)
from messagecenter.rows import parse_id, unique_row
from messagecenter.support.models import Claim, ClaimReason, ClaimStage
from messagecenter.support.queries import is_staff, team_ids
from messagecenter.web import dates

BUYER_VIEW = "buyer"
SELLER_VIEW = "seller"


def access_claim(user: User, claim_id: Any) -> Claim:
    """The claim, if the person may see it: its buyer, the seller it is against, an agent
    of the case's team, an admin."""
    value = (
        claim_id[3:]
        if isinstance(claim_id, str) and claim_id.upper().startswith("CS-")
        else claim_id
    )
    number = parse_id(value, code="claim_not_found")
    claims = Claim.objects.select_related(
        "case",
        "case__team",
        "case__assignee",
        "case__customer",
        "order",
        "storefront",
        "storefront__seller",
    ).filter(pk=number)
    if is_staff(user):
        if user.role != Role.ADMIN:
            claims = claims.filter(case__team_id__in=team_ids(user))
    elif user.role == Role.SELLER:
        claims = claims.filter(storefront__seller=user)
    else:
        claims = claims.filter(case__customer=user)
    claim = unique_row(claims)
    if claim is None:
        raise NotFound("No such claim.", code="claim_not_found")
    return claim


def claims_of(user: User, view: str = BUYER_VIEW, *, limit: int = 100) -> list[Claim]:
    """A buyer's claims, or the claims against a seller's storefront, newest first."""
    claims = Claim.objects.select_related("case", "order", "storefront")
    if view == SELLER_VIEW and user.role == Role.SELLER:
        claims = claims.filter(storefront__seller=user)
    elif view == BUYER_VIEW and user.role == Role.BUYER:
        claims = claims.filter(case__customer=user)
    else:
        return []
    return list(claims.order_by("-filed_at", "-pk")[:limit])


def claim_for_conversation(conversation_id: int) -> Claim | None:
    return unique_row(
        Claim.objects.select_related("case", "order", "storefront").filter(
            case__conversation_id=conversation_id
        )
    )


def already_open(claim: Claim) -> Conflict:
    return Conflict(
        f"There is already an open claim on this order: {claim.number}. "
        "Follow it in your Claims folder.",
        code="claim_already_open",
    )


def open_claim_on(order: Order) -> Claim | None:
    return unique_row(
        Claim.objects.select_related("case").filter(order=order).exclude(stage=ClaimStage.CLOSED)
    )


# --- who may file, and when ------------------------------------------------------------------


def when(moment: datetime) -> str:
    """A deadline as the person asking reads it (a page, a refusal): to the minute, in the
    active time zone (theirs: TimeZoneMiddleware), its abbreviation named — as e-mails and
    messages write a moment (web/dates.py email_time)."""
    return dates.email_time(moment)


def when_for_both(moment: datetime, buyer: User, seller: User) -> str:
    """A moment in a message of the claim's conversation, which the buyer and the seller
    both read: in each one's own time zone, the buyer's first (accounts/time_zones.py
    for_readers)."""
    return for_readers(moment, buyer, seller)


def storefronts_of(order: Order) -> list[Storefront]:
    """The sellers of an order's items, in the order they appear."""
    seen: dict[int, Storefront] = {}
    for item in OrderItem.objects.filter(order=order).select_related("storefront__seller"):
        seen.setdefault(item.storefront_id, item.storefront)
    return list(seen.values())


def order_conversation(order: Order, storefront: Storefront) -> Conversation | None:
    """The buyer's conversation with this seller about the order (one per order and
    seller: its topic key)."""
    return unique_row(
        Conversation.objects.filter(topic_key=topics.order_with_seller(order.pk, storefront.pk))
    )


@dataclass(frozen=True)
class Eligibility:
    """Whether the buyer may file for one reason now; if not, the refusal to show."""

    reason: str
    label: str
    refusal: MessageCenterError | None

    @property
    def may_file(self) -> bool:
        return self.refusal is None


def eligibility(
    buyer: User, order: Order, storefront: Storefront, *, now: datetime | None = None
) -> list[Eligibility]:
    """Every reason with its answer, for the filing page and the API."""
    now = now or timezone.now()
    facts = _facts(order, storefront)
    return [
        Eligibility(reason, label, refusal(buyer, order, storefront, reason, now=now, facts=facts))
        for reason, label in ClaimReason.choices
    ]


@dataclass(frozen=True)
class _Facts:
    open_claim: Claim | None
    earlier_claim: Claim | None
    first_asked_at: datetime | None
    delivered: bool
    latest_estimate: date | None
    returns: list[ReturnRequest]
    # The seller's account is suspended or closed (accounts/closed_accounts.py): they can
    # be neither written to nor answer, so the buyer is not asked to contact them first.
    seller_closed: bool
    # What the order's issued refunds add up to (returns, events, granted claims).
    refunded_cents: int


def _facts(order: Order, storefront: Storefront) -> _Facts:
    claims = list(
        Claim.objects.select_related("case").filter(order=order).order_by("-filed_at", "-pk")
    )
    conversation = order_conversation(order, storefront)
    first_asked_at = None
    if conversation is not None:
        first_asked_at = (
            Message.objects.filter(conversation=conversation, sender_id=order.buyer_id)
            .order_by("id")
            .values_list("created_at", flat=True)
            .first()
        )
    shipments = list(Shipment.objects.filter(order=order))
    return _Facts(
        open_claim=next((claim for claim in claims if claim.stage != ClaimStage.CLOSED), None),
        earlier_claim=next(
            (claim for claim in claims if claim.storefront_id == storefront.pk), None
        ),
        first_asked_at=first_asked_at,
        delivered=order.status == OrderStatus.DELIVERED
        or any(shipment.delivered_at is not None for shipment in shipments),
        latest_estimate=max(
            (s.estimated_delivery for s in shipments if s.estimated_delivery is not None),
            default=None,
        ),
        # This seller's returns: on an order from several shops, a return of another
        # shop's items is not this seller's to refund. A return the marketplace announced
        # by an event names no items, so no seller: it may be any of them.
        returns=list(
            ReturnRequest.objects.filter(order=order)
            .filter(Q(storefront=storefront) | Q(storefront__isnull=True))
            .order_by("requested_at")
        ),
        seller_closed=seller_closure(storefront) is not None,
        refunded_cents=marketplace_queries.refunded_cents(order),
    )


def seller_closure(storefront: Storefront) -> closed_accounts.Closure | None:
    """Whether the shop's seller can no longer read or answer (suspended, or closed for
    good): a claim against them is filed without contacting them first, and goes to an
    agent at once instead of waiting for a response they cannot give."""
    return closed_accounts.closure_of(storefront.seller)


def closed_as(closure: closed_accounts.Closure | None) -> str:
    """How a seller's closed account is named to the buyer: a suspension may be lifted on
    appeal, an erasure is for good."""
    return "suspended" if closure == closed_accounts.Closure.SUSPENDED else "closed"


def refusal(
    buyer: User,
    order: Order,
    storefront: Storefront,
    reason: str,
    *,
    now: datetime,
    facts: _Facts | None = None,
) -> MessageCenterError | None:
    """Why the buyer may not file this claim now (the first rule it fails), or None.
    The rules and their settings: docs/support.md#who-may-file-and-when."""
    facts = facts or _facts(order, storefront)
    shop = storefront.name
    # The order's own rules are the marketplace's, which its order page shows too.
    window_refusal = marketplace_queries.claim_window_refusal(order, now=now)
    if window_refusal is not None:
        return window_refusal
    if facts.open_claim is not None:
        return already_open(facts.open_claim)
    if facts.earlier_claim is not None:
        return Conflict(
            f"You already filed a claim against {shop} on this order "
            f"({facts.earlier_claim.number}); a claim is decided once, with one appeal.",
            code="claim_already_filed",
        )
    refunded_refusal = marketplace_queries.refunded_in_full_refusal(order, facts.refunded_cents)
    if refunded_refusal is not None:
        return refunded_refusal
    # What a reason needs of the order itself comes before "contact the seller first": a
    # buyer told to write and wait 48 hours for "not as described" on an order not
    # delivered, or "returned but not refunded" with no return, then heard the reason
    # could not apply at all — no wait for the seller changes either.
    waiting = [
        one
        for one in facts.returns
        if one.status in (ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.RECEIVED)
    ]
    if reason == ClaimReason.NOT_AS_DESCRIBED and not facts.delivered:
        return NotAllowed(
            "You can file “not as described” once the order is delivered; if it has not "
            "arrived, choose “item not received”.",
            code="claim_not_delivered",
        )
    if reason == ClaimReason.RETURNED_NOT_REFUNDED and not waiting:
        return NotAllowed(
            "There is no return on this order waiting for a refund: start a return first.",
            code="claim_no_return",
        )
    # A seller whose account is suspended or closed can neither read the buyer's message
    # nor put anything right: "contact them first" would be a rule no buyer can meet (the
    # message is refused, recipient_closed), so the guarantee takes over at once.
    if not facts.seller_closed:
        contact_refusal = _contact_seller_first(shop, facts, now)
        if contact_refusal is not None:
            return contact_refusal
    if reason == ClaimReason.NOT_RECEIVED:
        # Once the carrier says it was delivered there is nothing more to wait for: a
        # buyer who says a delivered order never reached them may file at once (as "not
        # as described" may), rather than be told it "may still arrive".
        file_from = _not_received_from(order, facts)
        if not facts.delivered and now < file_from:
            return NotAllowed(
                f"You can file from {when(file_from)}: the order may still arrive by then.",
                code="claim_too_early",
            )
    elif reason == ClaimReason.RETURNED_NOT_REFUNDED:
        file_from = waiting[0].requested_at + timedelta(days=settings.CLAIM_REFUND_WAIT_DAYS)
        if now < file_from:
            return NotAllowed(
                f"You can file from {when(file_from)}: the seller has until then to refund "
                "your return.",
                code="claim_too_early",
            )
    elif reason != ClaimReason.NOT_AS_DESCRIBED:  # delivered: checked above
        return NotAllowed("Choose why you are filing the claim.", code="invalid_claim_reason")
    return None


def _contact_seller_first(shop: str, facts: _Facts, now: datetime) -> NotAllowed | None:
    contact_hours = settings.CLAIM_CONTACT_SELLER_FIRST_HOURS
    if facts.first_asked_at is None:
        return NotAllowed(
            f"Contact the seller first: you have not written to {shop} about this order yet. "
            f"Once you have, they have {contact_hours} hours to put it right before you can "
            "file a claim.",
            code="contact_seller_first",
        )
    seller_until = facts.first_asked_at + timedelta(hours=contact_hours)
    if now < seller_until:
        return NotAllowed(
            f"Contact the seller first: {shop} has until {when(seller_until)} to answer and "
            f"put it right. You can file a claim from then.",
            code="contact_seller_first",
        )
    return None


def _not_received_from(order: Order, facts: _Facts) -> datetime:
    if facts.latest_estimate is not None:
        estimate_end = timezone.make_aware(
            datetime.combine(facts.latest_estimate + timedelta(days=1), time.min)
        )
        return estimate_end + timedelta(days=settings.CLAIM_NOT_RECEIVED_AFTER_DAYS)
    return order.placed_at + timedelta(days=settings.CLAIM_NOT_RECEIVED_WITHOUT_ESTIMATE_DAYS)


# --- what a decision may refund ----------------------------------------------------------------


@dataclass(frozen=True)
class RefundRoom:
    """What a grant of a claim may refund now: what is left of the order's total after its
    issued refunds (returns, the marketplace's refund events, claims — this one's
    included), on top of what this claim refunded already (a grant after an appeal sets
    the claim's whole refund). The console's decision form and decide_claim say the same
    amounts (docs/support.md#guarantee-claims)."""

    currency: str
    order_total_cents: int
    # Everything the order's issued refunds add up to.
    order_refunded_cents: int
    claim_refunded_cents: int

    @property
    def left_cents(self) -> int:
        return max(self.order_total_cents - self.order_refunded_cents, 0)

    @property
    def most_cents(self) -> int:
        """The most the claim's refund may reach with this decision."""
        return self.claim_refunded_cents + self.left_cents

    @property
    def nothing_left(self) -> bool:
        """The order was refunded in full: a grant adds no refund."""
        return self.left_cents == 0


def refund_room(claim: Claim, *, order_refunded_cents: int | None = None) -> RefundRoom:
    """`order_refunded_cents`: read by the caller under the order's row lock (decide_claim);
    read here for a page."""
    order = claim.order
    return RefundRoom(
        currency=order.currency,
        order_total_cents=order.total_cents,
        order_refunded_cents=marketplace_queries.refunded_cents(order)
        if order_refunded_cents is None
        else order_refunded_cents,
        claim_refunded_cents=claim.refunded_cents,
    )


# --- what people read -----------------------------------------------------------------------


def response_due(user: User, claim: Claim) -> datetime | None:
    """The deadline of the seller's formal response, when this person is the seller the
    claim waits for (and the deadline has not passed); else None."""
    due = claim.case.due_at
    if (
        claim.stage != ClaimStage.SELLER_RESPONSE
        or due is None
        or claim.storefront.seller_id != user.pk
        or timezone.now() >= due
    ):
        return None
    return due


def stage_detail(claim: Claim, reader: User | None = None) -> str:
    """The claim's next step, in words, with its deadline. Given the `reader`, the seller
    the claim waits for reads it addressed to them ("You have until …"), not about them,
    and so does the buyer their appeal window ("You may appeal once …"); everyone else
    (and the API) reads of "the seller" and "the buyer"."""
    due = claim.case.due_at
    if claim.stage == ClaimStage.SELLER_RESPONSE and due is not None:
        if reader is not None and claim.storefront.seller_id == reader.pk:
            return f"You have until {when(due)} to respond to the claim; then an agent decides."
        return (
            f"The seller has until {when(due)} to respond to the claim on its page; then an "
            "agent decides."
        )
    if claim.stage == ClaimStage.DECISION:
        return "An agent of the claims team is deciding."
    if claim.stage == ClaimStage.APPEAL_WINDOW and due is not None:
        # The buyer reads it above their Appeal form: of "the buyer", it read as if
        # someone else could appeal.
        if reader is not None and claim.case.customer_id == reader.pk:
            return f"You may appeal once, until {when(due)}; then the claim closes."
        return f"The buyer may appeal once, until {when(due)}; then the claim closes."
    return "This claim is closed."
