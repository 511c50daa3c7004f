"""The writes of a return's lifecycle (docs/returns.md), whichever way each step comes: the
buyer's "Return or replace items" on the order page, the seller's decision and "mark
received" on theirs, or the marketplace's signed return.* and refund.* events.

One ReturnRequest per return whatever the path: a return started here gets a reference
the marketplace's events name it by, and an event about it moves it on instead of making
another. Every step goes through one conditional UPDATE from the states it may leave
(RULES), so a step that is no longer possible — a second approval, a late event, a
double click — changes nothing. A return is refunded at most once: the database's
`refund_issued_once_per_return` index refuses a second issued Refund, and no refund
takes an order's issued refunds past what the buyer paid.
"""

import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations.actions.attachments import store_attachments
from messagecenter.conversations.actions.checks import clean_idempotency_key, trimmed
from messagecenter.conversations.models import Message
from messagecenter.errors import Conflict, InvalidInput, MessageCenterError, NotAllowed
from messagecenter.marketplace import events, messages, queries
from messagecenter.marketplace.events import UnknownSubject
from messagecenter.marketplace.models import (
    Order,
    OrderItem,
    Refund,
    RefundStatus,
    ReturnItem,
    ReturnPhoto,
    ReturnReason,
    ReturnRequest,
    ReturnResolution,
    ReturnStatus,
)
from messagecenter.marketplace.presentation import money
from messagecenter.safety import checks as safety_checks

NOTE_MAX_CHARS = 2000
DECLINE_REASON_MAX_CHARS = 1000
INSTRUCTIONS_MAX_CHARS = 2000

# The states each step may leave, for every path alike. An event may skip a step the
# marketplace did not announce (received before approved); nothing ever goes back.
OPEN = (ReturnStatus.REQUESTED, ReturnStatus.APPROVED, ReturnStatus.RECEIVED)
RULES: dict[str, tuple[str, ...]] = {
    ReturnStatus.APPROVED: (ReturnStatus.REQUESTED,),
    ReturnStatus.REJECTED: (ReturnStatus.REQUESTED,),
    ReturnStatus.RECEIVED: (ReturnStatus.REQUESTED, ReturnStatus.APPROVED),
    ReturnStatus.REFUNDED: OPEN,
    ReturnStatus.REPLACED: (ReturnStatus.APPROVED, ReturnStatus.RECEIVED),
    # The order refunded in full by other means: its refunds cover every unit.
    ReturnStatus.CLOSED: OPEN,
}
# What the seller's "mark received" may start from: their own approval, or the
# marketplace's word that the parcel arrived.
RECEIVABLE = (ReturnStatus.APPROVED, ReturnStatus.RECEIVED)

Sent = list[tuple[User, Message]]


class RefundTooLarge(InvalidInput):
    """A refund past what is left of the order's total: wrong input, shown beside the form
    that asked for it (a page's FORM_ERRORS), 422 in the API."""

    code = "refund_exceeds_order_total"
    status = 422


class ReturnItemsUnavailable(MessageCenterError):
    """An announced return naming more units than the order has left to return: the
    sender must fix the event, a retry as is would fail again."""

    code = "return_items_unavailable"
    status = 422


@dataclass(frozen=True)
class ReturnLine:
    """One item of the order (OrderItem id) and how many of it to send back."""

    order_item_id: int
    quantity: int


@dataclass(frozen=True)
class StartedReturn:
    return_request: ReturnRequest
    # False: the same form (idempotency key) sent again, answered with the first return.
    is_new: bool


# --- the buyer ---------------------------------------------------------------------------


def request_return(
    buyer: User,
    order_number: str,
    lines: Sequence[ReturnLine],
    *,
    resolution: str,
    reason_code: str,
    note: str = "",
    photos: Sequence[Any] = (),
    idempotency_key: str | None = None,
    now: datetime | None = None,
) -> StartedReturn:
    """ "Return or replace items": the buyer's own order, items of one seller that are
    still returnable, a reason from ReturnReason. Auto-approved at once when the
    reason and the value match the rules in settings (RETURNS_AUTO_APPROVE_*)."""
    order = queries.access_order(buyer, order_number)
    if resolution not in ReturnResolution.values:
        raise InvalidInput("Choose a refund or a replacement.", code="invalid_resolution")
    if reason_code not in ReturnReason.values:
        raise InvalidInput("Choose why you are returning the items.", code="invalid_reason")
    note = trimmed(note)
    if len(note) > NOTE_MAX_CHARS:
        raise InvalidInput(
            f"The note is at most {NOTE_MAX_CHARS} characters.", code="note_too_long"
        )
    if note:
        note = safety_checks.note_to_the_other_side(buyer, note)
    wanted = _clean_lines(lines)
    idempotency_key = clean_idempotency_key(idempotency_key)
    # Checked and stored before the transaction, as message attachments are.
    stored = store_attachments(photos)
    now = now or timezone.now()
    with transaction.atomic():
        # The order's row is the lock every return of the order takes: two requests for
        # the last item cannot both pass the count below.
        order = Order.objects.select_for_update().select_related("buyer").get(pk=order.pk)
        if idempotency_key is not None:
            earlier = ReturnRequest.objects.filter(
                order=order, idempotency_key=idempotency_key
            ).first()
            if earlier is not None:
                return StartedReturn(earlier, is_new=False)
        items = list(
            OrderItem.objects.filter(order=order)
            .select_related("storefront__seller")
            .order_by("id")
        )
        chosen = _check_lines(order, items, wanted, now)
        storefront = chosen[0][0].storefront
        return_request = ReturnRequest.objects.create(
            order=order,
            storefront=storefront,
            status=ReturnStatus.REQUESTED,
            reason=ReturnReason(reason_code).label,
            reason_code=reason_code,
            resolution=resolution,
            note=note,
            requested_at=now,
            reference=_new_reference(),
            idempotency_key=idempotency_key or "",
        )
        ReturnItem.objects.bulk_create(
            ReturnItem(return_request=return_request, order_item=item, quantity=quantity)
            for item, quantity in chosen
        )
        ReturnPhoto.objects.bulk_create(
            ReturnPhoto(
                return_request=return_request,
                file=photo.name,
                filename=photo.filename,
                content_type=photo.content_type,
                size=photo.size,
                sha256=photo.sha256,
            )
            for photo in stored
        )
        messages.return_requested(
            return_request,
            chosen,
            [item.title for item in items],
            has_note=bool(note),
            photos=len(stored),
            now=now,
        )
        value = sum(item.unit_price_cents * quantity for item, quantity in chosen)
        if (
            reason_code in settings.RETURNS_AUTO_APPROVE_REASONS
            and value <= settings.RETURNS_AUTO_APPROVE_MAX_CENTS
        ):
            _approve(return_request, now, instructions="", is_auto_approved=True)
    return StartedReturn(return_request, is_new=True)


def _clean_lines(lines: Sequence[ReturnLine]) -> dict[int, int]:
    wanted: dict[int, int] = {}
    for line in lines:
        if line.quantity < 0:
            raise InvalidInput("A quantity cannot be negative.", code="invalid_quantity")
        if line.quantity:
            wanted[line.order_item_id] = wanted.get(line.order_item_id, 0) + line.quantity
    if not wanted:
        raise InvalidInput("Choose at least one item to return.", code="no_items_chosen")
    return wanted


def _check_lines(
    order: Order, items: list[OrderItem], wanted: dict[int, int], now: datetime
) -> list[tuple[OrderItem, int]]:
    entries = {entry.item.pk: entry for entry in queries.returnability(order, items, now).items}
    chosen = []
    for item_id, quantity in wanted.items():
        entry = entries.get(item_id)
        if entry is None:
            raise InvalidInput("That item is not on this order.", code="unknown_item")
        if entry.refusal is not None:
            raise NotAllowed(f"{entry.item.title}: {entry.refusal}", code="not_returnable")
        if quantity > entry.quantity:
            raise InvalidInput(
                f"{entry.item.title}: at most {entry.quantity} can be returned.",
                code="too_many_returned",
            )
        chosen.append((entry.item, quantity))
    if len({item.storefront_id for item, _ in chosen}) > 1:
        raise InvalidInput(
            "Items from different sellers are returned separately: choose items of one seller.",
            code="several_sellers",
        )
    return chosen


def _new_reference() -> str:
    """Short enough to write on a parcel; unique per order by the database's index (a
    clash of 40 random bits on one order is an IntegrityError, not a merged return)."""
    return f"RET-{secrets.token_hex(5).upper()}"


def decide_return(
    seller: User,
    return_id: Any,
    *,
    approve: bool,
    reason: str = "",
    instructions: str = "",
    now: datetime | None = None,
) -> ReturnRequest:
    """The seller approves (with their own instructions, or the marketplace's) or
    declines (with a reason the buyer reads) a return of their items."""
    return_request = queries.sold_return(seller, return_id)
    reason = trimmed(reason)
    instructions = trimmed(instructions)
    if not approve and not reason:
        raise InvalidInput("Tell the buyer why you decline the return.", code="reason_required")
    if len(reason) > DECLINE_REASON_MAX_CHARS:
        raise InvalidInput(
            f"The reason is at most {DECLINE_REASON_MAX_CHARS} characters.",
            code="reason_too_long",
        )
    if len(instructions) > INSTRUCTIONS_MAX_CHARS:
        raise InvalidInput(
            f"The instructions are at most {INSTRUCTIONS_MAX_CHARS} characters.",
            code="instructions_too_long",
        )
    # Quoted to the buyer inside the marketplace's own message: checked, masked, links
    # written so nothing makes them clickable — or refused with the reasons.
    if approve and instructions:
        instructions = safety_checks.words_an_official_message_quotes(seller, instructions)
    if not approve:
        reason = safety_checks.words_an_official_message_quotes(seller, reason)
    now = now or timezone.now()
    with transaction.atomic():
        if approve:
            _approve(return_request, now, instructions=instructions, is_auto_approved=False)
        else:
            _decline(return_request, now, reason)
    return_request.refresh_from_db()
    return return_request


def mark_return_received(
    seller: User, return_id: Any, *, now: datetime | None = None
) -> ReturnRequest:
    """The items are back: the buyer is refunded what they paid for them (a Refund, at
    most one per return) or their replacement is on its way."""
    return_request = queries.sold_return(seller, return_id)
    now = now or timezone.now()
    with transaction.atomic():
        order = (
            Order.objects.select_for_update()
            .select_related("buyer")
            .get(pk=return_request.order_id)
        )
        return_request.order = order
        if _closed_as_covered(return_request, now):
            # The order was refunded in full before the parcel came back: nothing is left
            # to refund or replace (a return left open before returns were closed so).
            return_request.refresh_from_db()
            return return_request
        if return_request.resolution == ReturnResolution.REPLACEMENT:
            _move(return_request, ReturnStatus.REPLACED, RECEIVABLE, received_at=now)
            messages.replacement_on_its_way(return_request, now)
        else:
            _move(return_request, ReturnStatus.REFUNDED, RECEIVABLE, received_at=now)
            amount = min(_value(return_request), _refundable(order))
            if amount <= 0:
                raise Conflict(
                    f"Order #{order.number} has been refunded in full already.",
                    code="order_refunded",
                )
            if not _issue_refund(order, return_request, amount, order.currency, now):
                raise Conflict(
                    f"Return {return_request.reference} has been refunded already.",
                    code="return_state_changed",
                )
            messages.refunded_on_receipt(return_request, amount, now)
            close_returns_covered_by_refunds(order, now)
    return_request.refresh_from_db()
    return return_request


def _approve(
    return_request: ReturnRequest, now: datetime, *, instructions: str, is_auto_approved: bool
) -> None:
    written_by_seller = bool(instructions)
    if not instructions:
        instructions = settings.RETURNS_INSTRUCTIONS.format(
            reference=return_request.reference,
            order_number=return_request.order.number,
            storefront=messages.seller_name(return_request),
        )
    _move(
        return_request,
        ReturnStatus.APPROVED,
        RULES[ReturnStatus.APPROVED],
        decided_at=now,
        instructions=instructions,
        is_auto_approved=is_auto_approved,
    )
    messages.return_approved(
        return_request,
        instructions,
        written_by_seller=written_by_seller,
        is_auto_approved=is_auto_approved,
        now=now,
    )


def _decline(return_request: ReturnRequest, now: datetime, reason: str) -> None:
    _move(
        return_request,
        ReturnStatus.REJECTED,
        RULES[ReturnStatus.REJECTED],
        decided_at=now,
        decline_reason=reason,
    )
    messages.return_declined(return_request, reason, now)


# --- refunds decided elsewhere ------------------------------------------------------------


def issue_order_refund(order_id: int, amount_cents: int, *, now: datetime | None = None) -> Refund:
    """A refund on an order that no return asked for (a granted guarantee claim): under
    the order's row lock, never past what is left of what the buyer paid, whatever
    returns and claims refunded before (RefundTooLarge otherwise, nothing written). The
    caller tells the people, in its own conversation. A caller that locks other rows
    after this one must not hold event streams yet: a return's refund takes the order's
    lock before the streams its messages lock."""
    if amount_cents < 1:
        raise InvalidInput("A refund is at least one cent.", code="invalid_amount")
    now = now or timezone.now()
    with transaction.atomic():
        order = Order.objects.select_for_update().select_related("buyer").get(pk=order_id)
        left = _refundable(order)
        if amount_cents > left:
            refunded = order.total_cents - left
            raise RefundTooLarge(
                f"At most {money(left, order.currency)} of order {order.number} can still be "
                "refunded."
                + (
                    f" {money(refunded, order.currency)} of its "
                    f"{money(order.total_cents, order.currency)} was refunded already."
                    if refunded
                    else ""
                ),
            )
        refund = Refund.objects.create(
            order=order,
            amount_cents=amount_cents,
            currency=order.currency,
            status=RefundStatus.ISSUED,
            created_at=now,
        )
        close_returns_covered_by_refunds(order, now)
        return refund


def close_returns_covered_by_refunds(order: Order, now: datetime) -> Sent:
    """Once an order's issued refunds reach what the buyer paid they cover every unit
    (docs/returns.md): each of its returns still open is closed — nothing is left to
    refund or replace, and "mark received" could never finish it — and the buyer and the
    seller are told why. Called under the order's row lock, after the refund that reached
    the total."""
    if _refundable(order) > 0:
        return []
    sent: Sent = []
    for return_request in (
        ReturnRequest.objects.select_related("storefront__seller")
        .filter(order=order, status__in=OPEN)
        .order_by("id")
    ):
        return_request.order = order
        sent += _close(return_request, now)
    return sent


def _closed_as_covered(return_request: ReturnRequest, now: datetime) -> bool:
    """Closes this return if its order is refunded in full already (the order's row
    locked by the caller)."""
    if _refundable(return_request.order) > 0:
        return False
    return bool(_close(return_request, now))


def _close(return_request: ReturnRequest, now: datetime) -> Sent:
    if not _move_if(return_request, ReturnStatus.CLOSED):
        return []
    return messages.return_closed_order_refunded(return_request, now)


# --- the marketplace's events -------------------------------------------------------------


def return_requested_event(event: events.ReturnRequested) -> Sent:
    """A return announced by the marketplace. Already known (its own announcement of a
    return started here, or the same event under another id): nothing changes. Its items,
    when the event names them, are reserved as a buyer's return reserves them: under the
    order's row lock, never more units than were bought and are not in another return."""
    data = event.data
    order = _event_order(data.order_number)
    # The lock every return of the order takes (request_return's): the buyer returning
    # the same units at the same moment waits, then finds them taken.
    order = Order.objects.select_for_update().select_related("buyer").get(pk=order.pk)
    if ReturnRequest.objects.filter(order=order, reference=data.return_reference).exists():
        return []
    # Read once: their titles name the buyer's conversation, their shops get a note each.
    items = list(
        OrderItem.objects.filter(order=order)
        .select_related("storefront__seller", "product")
        .order_by("id")
    )
    chosen = _announced_lines(order, items, data.items) if data.items is not None else []
    try:
        with transaction.atomic():
            return_request = ReturnRequest.objects.create(
                order=order,
                reference=data.return_reference,
                reason=data.reason,
                requested_at=event.occurred_at,
            )
    except IntegrityError:
        # The same return, announced at the same moment by another delivery.
        return []
    ReturnItem.objects.bulk_create(
        ReturnItem(return_request=return_request, order_item=item, quantity=quantity)
        for item, quantity in chosen
    )
    sent = messages.return_announced(
        order,
        items,
        data.return_reference,
        data.reason,
        event.occurred_at,
        chosen=chosen or None,
    )
    # Announced on an order refunded in full: nothing is left to refund or replace.
    return_request.order = order
    return sent + close_returns_covered_by_refunds(order, event.occurred_at)


def _announced_lines(
    order: Order, items: list[OrderItem], wanted: Sequence[events.ReturnItemData]
) -> list[tuple[OrderItem, int]]:
    """The order's items an announced return names, by SKU (an SKU on two lines of the
    order fills the first line first), each at most what was bought and is not in a
    return that was not declined — or the event is refused as a whole."""
    taken = queries.units_in_returns(order)
    left = {item.pk: item.quantity - taken.get(item.pk, 0) for item in items}
    chosen: dict[int, int] = {}
    for line in wanted:
        lines = [item for item in items if item.product.sku == line.sku]
        if not lines:
            raise UnknownSubject(
                f"Order {order.number} has no item with SKU {line.sku}.",
                code="unknown_product",
            )
        quantity = line.quantity
        for item in lines:
            share = min(quantity, left[item.pk])
            if share > 0:
                chosen[item.pk] = chosen.get(item.pk, 0) + share
                left[item.pk] -= share
                quantity -= share
        if quantity:
            raise ReturnItemsUnavailable(
                f"Order {order.number}: {line.quantity} × {line.sku} is more than was bought "
                "and is not already in a return."
            )
    return [(item, chosen[item.pk]) for item in items if item.pk in chosen]


def return_approved_event(event: events.ReturnApproved) -> Sent:
    order = _event_order(event.data.order_number)
    return_request = _event_return(order, event.data.return_reference)
    moved = _move_if(
        return_request,
        ReturnStatus.APPROVED,
        decided_at=event.occurred_at,
        instructions=event.data.note or return_request.instructions,
    )
    if not moved:
        return []
    return messages.return_approved_by_marketplace(
        return_request, event.data.note, event.occurred_at
    )


def return_received_event(event: events.ReturnReceived) -> Sent:
    order = _event_order(event.data.order_number)
    return_request = _event_return(order, event.data.return_reference)
    if not _move_if(return_request, ReturnStatus.RECEIVED, received_at=event.occurred_at):
        return []
    return messages.return_received_by_marketplace(
        return_request, event.data.note, event.occurred_at
    )


def refund_event(event: events.RefundIssued | events.RefundFailed) -> Sent:
    """A refund the marketplace's payments made (or could not make). For a return that
    already has its refund — the seller marked it received here, or an earlier event —
    nothing changes: never a second refund."""
    data = event.data
    order = (
        Order.objects.select_for_update()
        .select_related("buyer")
        .filter(number=data.order_number)
        .first()
    )
    if order is None:
        order = _event_order(data.order_number)
    return_request = None
    if data.return_reference is not None:
        return_request = _event_return(order, data.return_reference)
        return_request.order = order
    amount = money(data.amount_cents, data.currency)
    if event.type == "refund.failed":
        Refund.objects.create(
            order=order,
            return_request=return_request,
            amount_cents=data.amount_cents,
            currency=data.currency,
            status=RefundStatus.FAILED,
            created_at=event.occurred_at,
        )
        return messages.refund_failed(order, amount, data.reason, event.occurred_at)
    if (
        return_request is not None
        and return_request.refunds.filter(status=RefundStatus.ISSUED).exists()
    ):
        return []
    if data.amount_cents > _refundable(order):
        raise RefundTooLarge(
            f"A refund of {amount} would take order {order.number}'s refunds past what was "
            f"paid ({money(order.total_cents, order.currency)}).",
        )
    if not _issue_refund(
        order, return_request, data.amount_cents, data.currency, event.occurred_at
    ):
        return []
    if return_request is not None:
        _move_if(return_request, ReturnStatus.REFUNDED)
    sent = messages.refund_issued(order, return_request, amount, data.reason, event.occurred_at)
    return sent + close_returns_covered_by_refunds(order, event.occurred_at)


# --- shared steps -------------------------------------------------------------------------


def _move(
    return_request: ReturnRequest, status: str, sources: Sequence[str], **fields: Any
) -> None:
    """One step, if the return is still in a state it may leave from; otherwise a
    Conflict saying where it is now (a double click, the other side first)."""
    if not _move_from(return_request, status, sources, **fields):
        current = ReturnRequest.objects.get(pk=return_request.pk)
        raise Conflict(
            _WHERE_IT_IS[current.status].format(reference=current.reference or f"#{current.pk}"),
            code="return_state_changed",
        )


# Why a step refused changed nothing, by where the return is now, in words: the statuses'
# labels ("Return requested") made "Return RET-… is return requested already", which also
# told a seller marking an unapproved return received nothing of what to do.
_WHERE_IT_IS: dict[str, str] = {
    # Only "mark received" fails from here: the seller has not decided yet.
    ReturnStatus.REQUESTED: (
        "Return {reference} must be approved first: approve it, then mark it received when "
        "the items are back. Nothing changed."
    ),
    ReturnStatus.APPROVED: "Return {reference} has been approved already: nothing changed.",
    ReturnStatus.REJECTED: "Return {reference} has been declined already: nothing changed.",
    ReturnStatus.RECEIVED: (
        "The items of return {reference} have been received already: nothing changed."
    ),
    ReturnStatus.REFUNDED: "Return {reference} has been refunded already: nothing changed.",
    ReturnStatus.REPLACED: (
        "The replacement for return {reference} has been shipped already: nothing changed."
    ),
    ReturnStatus.CLOSED: (
        "Return {reference} is closed: its order has been refunded in full, so there is "
        "nothing left to refund or replace. Nothing changed."
    ),
}


def _move_if(return_request: ReturnRequest, status: str, **fields: Any) -> bool:
    """An event's step: False (and nothing changed) when the return is past it already."""
    return _move_from(return_request, status, RULES[status], **fields)


def _move_from(
    return_request: ReturnRequest, status: str, sources: Sequence[str], **fields: Any
) -> bool:
    moved = ReturnRequest.objects.filter(pk=return_request.pk, status__in=sources).update(
        status=status, **fields
    )
    if moved:
        return_request.status = status
        for name, value in fields.items():
            setattr(return_request, name, value)
    return bool(moved)


def _issue_refund(
    order: Order,
    return_request: ReturnRequest | None,
    amount_cents: int,
    currency: str,
    now: datetime,
) -> bool:
    """False when the return has its issued refund already (the database says so)."""
    try:
        with transaction.atomic():
            Refund.objects.create(
                order=order,
                return_request=return_request,
                amount_cents=amount_cents,
                currency=currency,
                status=RefundStatus.ISSUED,
                created_at=now,
            )
    except IntegrityError:
        if return_request is None:
            raise
        if return_request.refunds.filter(status=RefundStatus.ISSUED).exists():
            return False
        raise
    return True


def _refundable(order: Order) -> int:
    """What is left of what the buyer paid, after the refunds issued so far. Read under
    the order's row lock (callers hold it), so two refunds cannot both take the rest."""
    return order.total_cents - queries.refunded_cents(order)


def _value(return_request: ReturnRequest) -> int:
    return sum(
        line.order_item.unit_price_cents * line.quantity
        for line in ReturnItem.objects.filter(return_request=return_request).select_related(
            "order_item"
        )
    )


def _event_order(number: str) -> Order:
    order = Order.objects.select_related("buyer").filter(number=number).first()
    if order is None:
        raise UnknownSubject(
            f"No order {number}: send its order.placed event first.", code="unknown_order"
        )
    return order


def _event_return(order: Order, reference: str) -> ReturnRequest:
    return_request = (
        ReturnRequest.objects.select_related("storefront__seller")
        .filter(order=order, reference=reference)
        .first()
    )
    if return_request is None:
        raise UnknownSubject(
            f"No return {reference} on order {order.number}: send return.requested first.",
            code="unknown_return",
        )
    return_request.order = order
    return return_request
