"""Every change to a guarantee claim goes through a function here: the pages, the JSON API,
the console and the periodic sweep all call these (docs/support.md#guarantee-claims).

    filed → seller response (CLAIM_SELLER_RESPONSE_HOURS) → agent decision
          → appeal window (CLAIM_APPEAL_DAYS; one appeal goes back to a decision) → closed

(filed against a seller whose account is suspended or closed: straight to the decision;
the seller's account suspended or closed while the claim waits for them: to the decision
then.)

Each step moves the claim's stage, its case's queue status (CASE_STATUS_OF_STAGE) and the
case's `due_at` together, and is a message in the claim's conversation — so it reaches
the buyer's and the seller's Message Centers (Claims folder) live and by e-mail, with
their unread counts, in the same transaction. A deadline is passed at its very second:
`now >= due_at` refuses the late response or appeal and lets the sweep move the claim.

Locks: filing takes the claims team's row, then the order row (one filing per order at a
time; the partial unique index claim_one_open_per_order is the guarantee, the lock makes
the refusal clean), before the new conversation locks anyone's event stream; for a claim
that exists, support's order — the conversation's participants, the team, the case
(support.actions.lock_case) — then the claim row, and for a granted refund the order row
(returns' issue_order_refund) before anything locks event streams. So the team always
comes before the order and the streams: a filing and a decision against the same seller
at once queue on PostgreSQL instead of deadlocking (tests/support/test_claim_concurrency.py).
"""

from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts import closed_accounts
from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations.actions.checks import clean_idempotency_key, trimmed
from messagecenter.conversations.models import Conversation, Kind, Message, ParticipantRole
from messagecenter.delivery.links import absolute
from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.marketplace import queries as marketplace_queries
from messagecenter.marketplace import return_actions
from messagecenter.marketplace.models import Order, Refund, Storefront
from messagecenter.marketplace.presentation import money
from messagecenter.rows import unique_row
from messagecenter.safety import checks as safety_checks
from messagecenter.support import actions as support_actions
from messagecenter.support import claim_queries, queries
from messagecenter.support.claim_queries import when, when_for_both
from messagecenter.support.models import (
    CASE_STATUS_OF_STAGE,
    Case,
    CaseEventKind,
    CaseKind,
    Claim,
    ClaimOutcome,
    ClaimReason,
    ClaimStage,
)

DESCRIPTION_MAX_CHARS = 5_000
REASONS_MAX_CHARS = 5_000
# Claims the sweep moves per transaction-by-transaction pass.
SWEEP_BATCH = 200


# --- filing --------------------------------------------------------------------------------


def file_claim(
    buyer: User,
    order_number: str,
    reason: str,
    description: str,
    *,
    storefront_id: Any = None,
    attachments: Any = (),
    idempotency_key: str | None = None,
    about_conversation_id: Any = None,
    from_case_id: Any = None,
) -> Claim:
    """File a guarantee claim on one of the buyer's orders (from the order page, a
    conversation with the seller or a customer-service case): the claim's conversation
    with the buyer's account and evidence, the case in the claims team's queue (waiting
    on the seller), the seller's deadline, and the "filed" message to both — or a refusal
    that says why and until when (claim_queries.refusal). A retry with the same
    idempotency key returns the same claim."""
    if buyer.role != Role.BUYER:
        raise NotAllowed("Guarantee claims are filed by buyers.", code="buyers_only")
    order = marketplace_queries.access_order(buyer, str(order_number or ""))
    if reason not in ClaimReason.values:
        raise InvalidInput(
            "Choose a reason: item not received, not as described, or returned but not refunded.",
            code="invalid_claim_reason",
        )
    description = trimmed(description)
    if not description:
        raise InvalidInput(
            "Tell us what went wrong: the seller and the agent read it.", code="empty_description"
        )
    if len(description) > DESCRIPTION_MAX_CHARS:
        raise InvalidInput(
            f"Descriptions are limited to {DESCRIPTION_MAX_CHARS:,} characters.",
            code="description_too_long",
        )
    storefront = storefront_of(order, storefront_id)
    if idempotency_key:
        again = _claim_for_key(buyer, idempotency_key)
        if again is not None:
            return again
    safety_checks.refuse_if_held(buyer, Kind.CLAIM, description)
    about = _about_conversation(buyer, order, storefront, about_conversation_id)
    from_case = queries.access_case(buyer, from_case_id) if from_case_id not in (None, "") else None
    # A quick refusal before files are stored; the rules are checked again under the lock.
    refused = claim_queries.refusal(buyer, order, storefront, reason, now=timezone.now())
    if refused is not None:
        raise refused
    files = conversation_actions.store_attachments(list(attachments))
    try:
        return _file(
            buyer, order, storefront, reason, description, files, idempotency_key, about, from_case
        )
    except IntegrityError:
        # The partial unique index: another filing on this order committed first (the
        # lock makes this rare; the index makes it impossible to get two).
        if idempotency_key:
            again = _claim_for_key(buyer, idempotency_key)
            if again is not None:
                return again
        existing = claim_queries.open_claim_on(order)
        if existing is None:
            raise
        raise Conflict(
            f"There is already an open claim on this order: {existing.number}. "
            "Follow it in your Claims folder.",
            code="claim_already_open",
        ) from None


def _file(
    buyer: User,
    order: Order,
    storefront: Storefront,
    reason: str,
    description: str,
    files: list[conversation_actions.StoredFile],
    idempotency_key: str | None,
    about: Conversation | None,
    from_case: Case | None,
) -> Claim:
    team = support_actions.team_for(CaseKind.CLAIM)
    with transaction.atomic():
        # The team before the order and before the claim's conversation locks the buyer's
        # and the seller's event streams: a decision holds the team when it takes the
        # order and the streams (see the module's docstring).
        support_actions.lock_team(team.pk)
        # Filings on one order take turns here; the second sees the first's claim.
        list(Order.objects.select_for_update().filter(pk=order.pk).values_list("pk", flat=True))
        now = timezone.now()
        refused = claim_queries.refusal(buyer, order, storefront, reason, now=now)
        if refused is not None:
            raise refused
        label = ClaimReason(reason).label
        # Read again under the lock: a suspension a moment ago counts.
        storefront.seller.refresh_from_db(fields=["is_active"])
        closure = claim_queries.seller_closure(storefront)
        # A seller whose account is suspended or closed cannot respond: the claim skips
        # their window and goes to an agent at once (no deadline for the sweep, no wait
        # in their Response needed). Lifting a suspension later does not bring the window
        # back: the claim stays with customer service.
        stage = ClaimStage.SELLER_RESPONSE if closure is None else ClaimStage.DECISION
        message = conversation_actions.start_claim_conversation(
            buyer,
            order,
            storefront,
            f"Claim: {label.lower()} — order {order.number}",
            description,
            idempotency_key=idempotency_key,
            files=files,
        )
        due = (
            now + timedelta(hours=settings.CLAIM_SELLER_RESPONSE_HOURS)
            if stage == ClaimStage.SELLER_RESPONSE
            else None
        )
        # The history says why nobody waits for the seller, when nobody does.
        why_nobody_waits: dict[str, Any] = (
            {"seller_account": str(closure)} if closure is not None else {}
        )
        case = support_actions.open_case(
            CaseKind.CLAIM,
            buyer,
            f"{label}: order {order.number} ({storefront.name})",
            team=team,
            conversation_id=message.conversation_id,
            order=order,
            about_conversation=about,
            status=CASE_STATUS_OF_STAGE[stage],
            due_at=due,
            reason=reason,
            from_case=from_case.pk if from_case is not None else None,
            **why_nobody_waits,
        )
        claim = Claim.objects.create(
            case=case,
            order=order,
            storefront=storefront,
            reason=reason,
            stage=stage,
            filed_at=now,
        )
        filed = (
            f"Claim {claim.number} is filed: {label.lower()}, order {order.number}, "
            f"against {storefront.name}."
        )
        if due is None:
            conversation_actions.post_marketplace_message(
                message.conversation_id,
                f"{filed} The seller's account is {claim_queries.closed_as(closure)}, so they "
                "cannot respond to the claim: it goes straight to an agent of the claims team, "
                "who decides on what the buyer sent. The decision is posted here.",
            )
            return claim
        # The seller owes the claim's formal response from now on: the conversation stays
        # in their Response needed until it comes (or the deadline passes), whatever is
        # written in it meanwhile.
        conversation_actions.start_claim_wait(message.conversation_id, now)
        conversation_actions.post_marketplace_message(
            message.conversation_id,
            f"{filed} The seller has until "
            f"{when_for_both(due, buyer, storefront.seller)} to respond to the claim with "
            f"“Respond to the claim” on its page: {respond_url(claim)} — a reply in this "
            "conversation, or to its e-mails, is not a response to the claim. Then an agent "
            "of the claims team decides, and both of you hear the decision here.",
        )
        return claim


def respond_url(claim: Claim) -> str:
    """Where the seller responds to the claim (its page's form), as a full address: it is
    written into messages and e-mails."""
    return absolute(reverse("claim", args=[claim.pk]) + "#respond-title")


def storefront_of(order: Order, storefront_id: Any) -> Storefront:
    sellers = claim_queries.storefronts_of(order)
    if storefront_id in (None, ""):
        if len(sellers) == 1:
            return sellers[0]
        raise InvalidInput(
            "This order has items from several sellers: choose the seller the claim is about.",
            code="choose_seller",
        )
    chosen = next((one for one in sellers if str(one.pk) == str(storefront_id)), None)
    if chosen is None:
        raise InvalidInput("Choose one of the order's sellers.", code="seller_not_on_order")
    return chosen


def _about_conversation(
    buyer: User, order: Order, storefront: Storefront, conversation_id: Any
) -> Conversation | None:
    """The buyer↔seller conversation the claim is about: the one filed from, or the
    buyer's conversation with the seller about the order (agents read it beside the
    claim)."""
    if conversation_id not in (None, ""):
        conversation = conversation_queries.access_conversation(buyer, conversation_id).conversation
        if conversation.order_id != order.pk:
            raise InvalidInput(
                "That conversation is not about this order.", code="conversation_not_about_order"
            )
        return conversation
    return claim_queries.order_conversation(order, storefront)


def _claim_for_key(buyer: User, idempotency_key: str) -> Claim | None:
    message = unique_row(
        Message.objects.filter(sender=buyer, idempotency_key=idempotency_key).only(
            "conversation_id"
        )
    )
    if message is None:
        return None
    claim = claim_queries.claim_for_conversation(message.conversation_id)
    if claim is None:
        raise Conflict(
            "This idempotency key was already used for a different message.",
            code="idempotency_key_reused",
        )
    claim.found_by_idempotency_key = True
    return claim


# --- the seller's response -------------------------------------------------------------------


def respond_to_claim(
    seller: User,
    claim_id: Any,
    body: str,
    *,
    attachments: Any = (),
    idempotency_key: str | None = None,
) -> Claim:
    """The seller's side, within their window: a message in the claim's conversation (with
    evidence), and the claim goes to an agent's decision at once."""
    claim = claim_queries.access_claim(seller, claim_id)
    if seller.role != Role.SELLER or claim.storefront.seller_id != seller.pk:
        raise NotAllowed("Only the seller the claim is against responds.", code="sellers_only")
    safety_checks.refuse_if_held(seller, Kind.CLAIM, body)
    files = conversation_actions.store_attachments(list(attachments))
    idempotency_key = clean_idempotency_key(idempotency_key)
    with transaction.atomic():
        case, claim = _lock(claim)
        if claim.seller_responded_at is not None and _step_sent_with(
            seller, claim, idempotency_key
        ):
            return claim
        now = timezone.now()
        if claim.stage != ClaimStage.SELLER_RESPONSE:
            raise Conflict(_not_in_stage(claim, "respond to it"), code="claim_not_awaiting_seller")
        if case.due_at is not None and now >= case.due_at:
            raise Conflict(
                f"The response window closed on {when(case.due_at)}: an agent decides now. "
                "You can still write in the claim's conversation.",
                code="claim_response_window_closed",
            )
        assert case.conversation_id is not None
        conversation_actions.send_message(
            seller, case.conversation_id, body, idempotency_key=idempotency_key, files=files
        )
        claim.seller_responded_at = now
        conversation_actions.end_claim_wait(case.conversation_id, answered_at=now)
        _move(claim, case, ClaimStage.DECISION, actor=seller, now=now, moved_by="seller_response")
        conversation_actions.post_marketplace_message(
            case.conversation_id,
            f"The seller has responded to claim {claim.number}. An agent of the claims team "
            "now reads both sides and decides; you will both hear the decision here.",
        )
        return claim


# --- the agent's decision --------------------------------------------------------------------


def decide_claim(
    agent: User,
    claim_id: Any,
    outcome: str,
    reasons: str,
    *,
    refund_cents: int | None = None,
) -> Claim:
    """An agent grants (with a refund, at most what is left of the order's total after
    the refunds of its returns and claims) or denies (with reasons) a claim that waits for
    a decision. Granting records the refund (a marketplace Refund row, through returns'
    issue_order_refund) in the same transaction. Both parties read the decision in the claim's
    conversation; the buyer may then appeal once, unless this was the appeal's decision
    (then it closes)."""
    claim = claim_queries.access_claim(agent, claim_id)
    if not queries.is_staff(agent):
        raise NotFound("No such claim.", code="claim_not_found")
    if outcome not in ClaimOutcome.values:
        raise InvalidInput("Grant or deny the claim.", code="invalid_outcome")
    reasons = trimmed(reasons)
    if not reasons:
        raise InvalidInput(
            "Give the reasons for the decision: both parties read them.", code="reasons_required"
        )
    if len(reasons) > REASONS_MAX_CHARS:
        raise InvalidInput(
            f"Reasons are limited to {REASONS_MAX_CHARS:,} characters.", code="reasons_too_long"
        )
    given = _refund_amount(claim, outcome, refund_cents)
    with transaction.atomic():
        case, claim = _lock(claim)
        now = timezone.now()
        refund: Refund | None = None
        room: claim_queries.RefundRoom | None = None
        amount = claim.refunded_cents
        if outcome == ClaimOutcome.GRANTED:
            # What is left to refund, read under the order's row lock — where returns'
            # issue_order_refund takes it, before anything below locks event streams (a
            # return's refund locks the order first, then the streams of its messages).
            # A grant without an amount where one is needed is a form error, answered
            # before the stage, as the other amount errors are.
            order = Order.objects.select_for_update().get(pk=claim.order_id)
            room = claim_queries.refund_room(
                claim, order_refunded_cents=marketplace_queries.refunded_cents(order)
            )
            amount = _granted_amount(claim, given, room)
        if claim.stage != ClaimStage.DECISION:
            raise Conflict(_not_in_stage(claim, "decide it"), code="claim_not_awaiting_decision")
        if outcome == ClaimOutcome.GRANTED and amount < claim.refunded_cents:
            raise InvalidInput(
                f"The claim has refunded {_money(claim.refunded_cents, claim.order)} "
                "already: a new decision can grant more, never less.",
                code="refund_below_earlier",
            )
        if (
            outcome == ClaimOutcome.GRANTED
            and room is not None
            and claim.refunded_cents
            and amount > room.most_cents
        ):
            # After an appeal the claim's whole refund is what a grant names: say the most
            # it may reach. Returns' refusal below counts only what is left of the order
            # ("At most $0.00 … can still be refunded") where $10.00 could be granted.
            raise return_actions.RefundTooLarge(_too_much_after_appeal(claim, room))
        if outcome == ClaimOutcome.GRANTED and amount > claim.refunded_cents:
            # Returns' money rule (docs/returns.md): under the order's row lock, what
            # returns and claims refunded together never passes what the buyer paid —
            # RefundTooLarge otherwise, and the transaction leaves nothing behind.
            refund = return_actions.issue_order_refund(
                claim.order_id, amount - claim.refunded_cents, now=now
            )
            claim.refunded_cents = amount
        if case.assignee_id is None:
            support_actions.assign_locked_case(case, agent, actor=agent)
        else:
            assert case.conversation_id is not None
            conversation_actions.add_participants(
                case.conversation_id, [(agent, ParticipantRole.AGENT)]
            )
        claim.outcome, claim.decided_at, claim.decision_reasons = outcome, now, reasons
        appealable = claim.appealed_at is None
        assert case.conversation_id is not None
        conversation_actions.send_message(
            agent, case.conversation_id, _decision_text(claim, refund, room, appealable, now)
        )
        case.refresh_from_db(fields=["status", "assignee", "queued_at", "solved_at"])
        _move(
            claim,
            case,
            ClaimStage.APPEAL_WINDOW if appealable else ClaimStage.CLOSED,
            actor=agent,
            now=now,
            moved_by="decision",
            outcome=outcome,
            refund_cents=refund.amount_cents if refund is not None else 0,
            refund_id=refund.pk if refund is not None else None,
        )
        return claim


def _refund_amount(claim: Claim, outcome: str, refund_cents: int | None) -> int | None:
    """The claim's refund as the agent gave it, checked for its form (whole cents, not
    negative, not above the order's total); None when a grant gave none (0 or nothing:
    allowed only when nothing is left to refund, _granted_amount decides under the
    order's lock)."""
    if outcome == ClaimOutcome.DENIED:
        if refund_cents:
            raise InvalidInput("A denied claim refunds nothing.", code="refund_on_denial")
        return claim.refunded_cents
    if refund_cents is None:
        return None
    # Cents only, as the form's and the API's parsers give them: int() would read 12.99 as
    # 12 and "1_299" as 1299, a refund no one typed.
    if isinstance(refund_cents, bool) or not isinstance(refund_cents, int):
        raise InvalidInput(
            "Write the refund amount as a whole number of cents, e.g. 1299 for 12.99.",
            code="invalid_refund_amount",
        )
    if refund_cents < 0:
        raise InvalidInput(
            _amount_needed(claim_queries.refund_room(claim)), code="invalid_refund_amount"
        )
    if refund_cents == 0:
        return None
    if refund_cents > claim.order.total_cents:
        raise InvalidInput(
            f"Enter a refund amount of at most the order's total, "
            f"{_money(claim.order.total_cents, claim.order)}.",
            code="invalid_refund_amount",
        )
    return refund_cents


def _granted_amount(claim: Claim, amount: int | None, room: claim_queries.RefundRoom) -> int:
    """The claim's whole refund after this grant. With nothing left of the order to refund
    (refunded in full by its returns, the marketplace or this claim before an appeal), a
    grant without an amount stands on what was refunded: the agent can decide the claim,
    and the decision says so. Otherwise a grant names its refund."""
    if amount is None:
        if room.nothing_left:
            return claim.refunded_cents
        raise InvalidInput(_amount_needed(room), code="invalid_refund_amount")
    return amount


def _too_much_after_appeal(claim: Claim, room: claim_queries.RefundRoom) -> str:
    most = _cents(room.most_cents, room.currency)
    earlier = _cents(claim.refunded_cents, room.currency)
    if room.nothing_left:
        left = f"order {claim.order.number} was refunded in full"
    else:
        left = f"{_cents(room.left_cents, room.currency)} of order {claim.order.number} is left"
    return (
        f"This claim's refund can be at most {most}: it refunded {earlier} already, and "
        f"{left} ({_cents(room.order_refunded_cents, room.currency)} of its "
        f"{_cents(room.order_total_cents, room.currency)} refunded in all)."
    )


def _amount_needed(room: claim_queries.RefundRoom) -> str:
    # Said in the order's currency, as the agent's form asks for it (the API's cents are
    # the same amount), with the most that can still be refunded — not the order's total
    # when some of it was refunded already.
    zero, most = _cents(0, room.currency), _cents(room.most_cents, room.currency)
    if room.order_refunded_cents == 0:
        return (
            f"Enter a refund amount above {zero}, at most the order's total, {most}: "
            "a granted claim refunds the buyer."
        )
    return (
        f"Enter a refund amount above {zero}, at most {most}: what can still be refunded "
        f"({_cents(room.order_refunded_cents, room.currency)} of the order's "
        f"{_cents(room.order_total_cents, room.currency)} was refunded already)."
    )


def _decision_text(
    claim: Claim,
    refund: Refund | None,
    room: claim_queries.RefundRoom | None,
    appealable: bool,
    now: datetime,
) -> str:
    if claim.outcome == ClaimOutcome.GRANTED:
        lines = [f"Decision on claim {claim.number}: granted."]
        if refund is not None:
            lines.append(
                f"A refund of {_money(refund.amount_cents, claim.order)} to the buyer is "
                f"recorded on order {claim.order.number}"
                + (
                    f" (in all {_money(claim.refunded_cents, claim.order)} for this claim)."
                    if claim.refunded_cents != refund.amount_cents
                    else "."
                )
            )
        elif claim.refunded_cents:
            lines.append(
                f"The refund of {_money(claim.refunded_cents, claim.order)} recorded earlier "
                "stands."
            )
        else:
            # Granted on an order refunded in full already: nothing is left to refund.
            refunded = room.order_refunded_cents if room is not None else 0
            lines.append(
                f"Order {claim.order.number} was refunded in full already "
                f"({_money(refunded, claim.order)}): this decision records no new refund."
            )
    else:
        lines = [f"Decision on claim {claim.number}: denied."]
    lines.append(f"Reasons: {claim.decision_reasons}")
    if appealable:
        until = now + timedelta(days=settings.CLAIM_APPEAL_DAYS)
        lines.append(
            f"The buyer may appeal this decision once, until "
            f"{when_for_both(until, claim.case.customer, claim.storefront.seller)}; after "
            "that the claim closes."
        )
    else:
        lines.append("This was the decision on the appeal: the claim is closed.")
    return "\n\n".join(lines)


def _money(cents: int, order: Order) -> str:
    return _cents(cents, order.currency)


def _cents(cents: int, currency: str) -> str:
    # As the order's and the returns' messages write amounts ("$129.99"): one way to read
    # them in the conversation a claim is decided in.
    return money(cents, currency)


# --- the buyer's appeal ----------------------------------------------------------------------


def appeal_claim(
    buyer: User, claim_id: Any, body: str, *, idempotency_key: str | None = None
) -> Claim:
    """The buyer asks for the decision to be looked at again — once, within the appeal
    window: their reasons in the claim's conversation, and the claim waits for an agent's
    decision again."""
    claim = claim_queries.access_claim(buyer, claim_id)
    if claim.case.customer_id != buyer.pk:
        raise NotAllowed("Only the buyer who filed the claim can appeal.", code="buyers_only")
    safety_checks.refuse_if_held(buyer, Kind.CLAIM, body)
    idempotency_key = clean_idempotency_key(idempotency_key)
    with transaction.atomic():
        case, claim = _lock(claim)
        if claim.appealed_at is not None and _step_sent_with(buyer, claim, idempotency_key):
            return claim
        now = timezone.now()
        if claim.appealed_at is not None:
            raise Conflict(
                f"Claim {claim.number} was appealed already; a claim is appealed once.",
                code="claim_already_appealed",
            )
        if claim.stage != ClaimStage.APPEAL_WINDOW:
            raise Conflict(_not_in_stage(claim, "appeal"), code="claim_not_appealable")
        if case.due_at is not None and now >= case.due_at:
            raise Conflict(
                f"The appeal window closed on {when(case.due_at)}.",
                code="claim_appeal_window_closed",
            )
        assert case.conversation_id is not None
        conversation_actions.send_message(
            buyer, case.conversation_id, body, idempotency_key=idempotency_key
        )
        claim.appealed_at = now
        case.refresh_from_db(fields=["status", "assignee", "queued_at", "solved_at"])
        _move(claim, case, ClaimStage.DECISION, actor=buyer, now=now, moved_by="appeal")
        conversation_actions.post_marketplace_message(
            case.conversation_id,
            f"Claim {claim.number} is appealed. An agent looks at it again and decides; this "
            "decision is final.",
        )
        return claim


def _step_sent_with(person: User, claim: Claim, idempotency_key: str | None) -> bool:
    """Whether this person's step (the seller's response, the buyer's appeal) was taken
    with this key already: a double click or a retry after a lost answer then gets the
    claim as that step left it, as a request's or a reply's retry gets the first result,
    not the 409 of a step taken twice. Read under the claim's locks, so a retry at the same
    moment waits for the first and finds its message."""
    if idempotency_key is None or claim.case.conversation_id is None:
        return False
    found = Message.objects.filter(
        conversation_id=claim.case.conversation_id, sender=person, idempotency_key=idempotency_key
    ).exists()
    claim.found_by_idempotency_key = found
    return found


# --- deadlines -------------------------------------------------------------------------------


def sweep_claim_deadlines(*, now: datetime | None = None, batch_size: int = SWEEP_BATCH) -> int:
    """The periodic job: every claim whose deadline has come (`due_at <= now`) moves on —
    a silent seller's claim goes to an agent's decision, a decision past its appeal window
    closes. One transaction per claim, the deadline checked again under its locks (a
    seller who responded a moment before wins). Returns how many moved."""
    now = now or timezone.now()
    moved = 0
    while True:
        due = list(
            Case.objects.filter(kind=CaseKind.CLAIM, due_at__lte=now)
            .order_by("due_at", "pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        for case_id in due:
            moved += _sweep_one(case_id, now)
        if len(due) < batch_size:
            return moved


def _sweep_one(case_id: int, now: datetime) -> int:
    claim = unique_row(
        Claim.objects.select_related("case", "order", "storefront").filter(pk=case_id)
    )
    if claim is None:
        return 0
    with transaction.atomic():
        case, claim = _lock(claim)
        if case.due_at is None or case.due_at > now:
            return 0
        assert case.conversation_id is not None
        if claim.stage == ClaimStage.SELLER_RESPONSE:
            deadline = case.due_at
            # The claim no longer waits for the seller: an agent decides without them.
            conversation_actions.end_claim_wait(case.conversation_id, answered_at=None)
            _move(claim, case, ClaimStage.DECISION, actor=None, now=now, moved_by="seller_silent")
            conversation_actions.post_marketplace_message(
                case.conversation_id,
                f"The seller did not respond to claim {claim.number} by "
                f"{when_for_both(deadline, case.customer, claim.storefront.seller)}. An agent "
                "of the claims team now decides on what the buyer sent; you will both hear the "
                "decision here.",
            )
            return 1
        if claim.stage == ClaimStage.APPEAL_WINDOW:
            deadline = case.due_at
            _move(
                claim, case, ClaimStage.CLOSED, actor=None, now=now, moved_by="appeal_window_passed"
            )
            conversation_actions.post_marketplace_message(
                case.conversation_id,
                f"The appeal window of claim {claim.number} ended on "
                f"{when_for_both(deadline, case.customer, claim.storefront.seller)}: the "
                "decision stands and the claim is closed.",
            )
            return 1
        # A stage without a deadline never has one set; clear a stray one.
        case.due_at = None
        case.save(update_fields=["due_at"])
        return 0


# --- a seller who can no longer respond ------------------------------------------------------


def hand_claims_to_customer_service(
    seller: User, *, closure: closed_accounts.Closure | None = None
) -> None:
    """The seller's account was just suspended (customer service's decision, the admin's
    "active" box: accounts/suspensions.py) or closed: the claims still waiting for their
    response go to an agent now, as a claim filed against such a seller does, instead of
    keeping the buyer waiting out a deadline for someone who cannot sign in to meet it.
    Each moves in its own savepoint under the claim's locks, in the caller's transaction;
    a claim that moved meanwhile (the seller's response a moment before) is left as it
    is. A suspension lifted later does not bring the window back. `closure`: what the
    account is, when the caller knows it before the account says so (an erasure under
    way)."""
    closure = closure or closed_accounts.closure_of(seller)
    if closure is None:
        return
    waiting = list(
        Claim.objects.filter(storefront__seller=seller, stage=ClaimStage.SELLER_RESPONSE)
        .select_related("case", "order", "storefront")
        .order_by("pk")
    )
    for claim in waiting:
        _hand_over(claim, closure)


def _hand_over(claim: Claim, closure: closed_accounts.Closure) -> None:
    with transaction.atomic():
        case, claim = _lock(claim)
        if claim.stage != ClaimStage.SELLER_RESPONSE:
            return
        assert case.conversation_id is not None
        now = timezone.now()
        # The seller did not answer: nothing for their response times, only the wait ends.
        conversation_actions.end_claim_wait(case.conversation_id, answered_at=None)
        _move(
            claim,
            case,
            ClaimStage.DECISION,
            actor=None,
            now=now,
            moved_by="seller_account",
            seller_account=str(closure),
        )
        conversation_actions.post_marketplace_message(
            case.conversation_id,
            f"The seller's account is {claim_queries.closed_as(closure)}, so they cannot "
            f"respond to claim {claim.number}: it goes to an agent of the claims team now, "
            "without waiting for the deadline, and the agent decides on what the buyer sent. "
            "You will both hear the decision here.",
        )


# --- shared pieces ---------------------------------------------------------------------------


def _lock(claim: Claim) -> tuple[Case, Claim]:
    """Support's lock order (participants → team → case), then the claim row, read again."""
    case = support_actions.lock_case(claim.case)
    locked = unique_row(
        Claim.objects.select_for_update(of=("self",))
        .select_related("order", "storefront", "storefront__seller")
        .filter(pk=claim.pk)
    )
    if locked is None:
        raise NotFound("No such claim.", code="claim_not_found")
    locked.case = case
    return case, locked


def _move(
    claim: Claim,
    case: Case,
    stage: str,
    *,
    actor: User | None,
    now: datetime,
    **detail: Any,
) -> None:
    """The claim to its next stage, with its case's status (queue counters), deadline and
    history, and the customer's live update — all in the caller's transaction."""
    previous = claim.stage
    claim.stage = stage
    if stage == ClaimStage.CLOSED:
        claim.closed_at = now
    claim.save()
    if stage == ClaimStage.SELLER_RESPONSE:
        case.due_at = now + timedelta(hours=settings.CLAIM_SELLER_RESPONSE_HOURS)
    elif stage == ClaimStage.APPEAL_WINDOW:
        case.due_at = now + timedelta(days=settings.CLAIM_APPEAL_DAYS)
    else:
        case.due_at = None
    case.save(update_fields=["due_at"])
    support_actions.move_case(case, status=CASE_STATUS_OF_STAGE[stage], now=now)
    support_actions.record_case_event(
        case, actor, CaseEventKind.CLAIM_STAGE, now=now, previous=previous, stage=stage, **detail
    )
    support_actions.tell_customer_of(case)


def _not_in_stage(claim: Claim, what: str) -> str:
    return f"Claim {claim.number} is at “{ClaimStage(claim.stage).label}”: you cannot {what} now."
