"""Writes to the marketplace's rows: what an order event from the marketplace's systems
changes (order status, shipments, returns, refunds, membership), and the message from the
marketplace it becomes (worded in messages.py) — in one transaction with the
MarketplaceEvent that makes a retry harmless (docs/marketplace-events.md)."""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Message
from messagecenter.errors import Conflict
from messagecenter.marketplace import events, messages, return_actions
from messagecenter.marketplace.events import UnknownSubject
from messagecenter.marketplace.models import (
    MarketplaceEvent,
    Order,
    OrderItem,
    OrderStatus,
    Product,
    Shipment,
)

# A retry after losing a race to start the same conversation (two events about one new
# order at once) finds it; more attempts than that mean something else is wrong.
ATTEMPTS = 3


@dataclass(frozen=True)
class ReceivedEvent:
    record: MarketplaceEvent
    # False: a retry of an event already received, answered with the first result.
    is_new: bool


def receive_marketplace_event(
    event: events.MarketplaceEventIn, payload: dict[str, Any]
) -> ReceivedEvent:
    """Apply one verified, parsed event, once per event id.

    A retry with the same id and the same JSON returns the first result and changes
    nothing; the same id with other JSON is a Conflict (event_id_reused). Concurrent
    deliveries of one event meet at MarketplaceEvent's unique event id: on PostgreSQL the
    second insert waits for the first transaction and then fails, on SQLite the write lock
    orders them; either way the second answers with the first's result.
    """
    for attempt in range(ATTEMPTS):
        existing = MarketplaceEvent.objects.filter(event_id=event.id).first()
        if existing is not None:
            return ReceivedEvent(_same_event(existing, payload), is_new=False)
        try:
            with transaction.atomic():
                return ReceivedEvent(_apply(event, payload), is_new=True)
        except IntegrityError:
            if attempt == ATTEMPTS - 1:
                raise
    raise AssertionError("unreachable")


def _same_event(existing: MarketplaceEvent, payload: dict[str, Any]) -> MarketplaceEvent:
    # Compared as JSON values, so a sender that serialises the same event with other
    # spacing or key order is still retrying, not reusing the id.
    if existing.payload != payload:
        raise Conflict(
            f"Event id {existing.event_id!r} was already used for a different event.",
            code="event_id_reused",
        )
    return existing


def _apply(event: events.MarketplaceEventIn, payload: dict[str, Any]) -> MarketplaceEvent:
    now = timezone.now()
    # Inserted first: a concurrent delivery of the same id stops here, before touching
    # orders or conversations.
    record = MarketplaceEvent.objects.create(
        event_id=event.id,
        type=event.type,
        occurred_at=event.occurred_at,
        received_at=now,
        payload=payload,
    )
    handler: Callable[[Any], list[tuple[User, Message]]] = HANDLERS[event.type]
    sent = handler(event)
    record.result = {
        "id": event.id,
        "type": event.type,
        "received_at": now.isoformat(),
        "messages": [
            {
                "recipient": recipient.username,
                "message_id": message.pk,
                "conversation_id": message.conversation_id,
            }
            for recipient, message in sent
        ],
    }
    record.save(update_fields=["result"])
    return record


# --- orders --------------------------------------------------------------------------------


def _order_placed(event: events.OrderPlaced) -> list[tuple[User, Message]]:
    """The order as the marketplace recorded it (made here if it is new: the first we hear
    of most orders), its confirmation to the buyer, and a note to each of its sellers."""
    data = event.data
    buyer = _user(data.buyer)
    order = Order.objects.filter(number=data.order_number).first()
    if order is None:
        order = _create_order(event, buyer)
    elif order.buyer_id != buyer.pk:
        raise UnknownSubject(
            f"Order {data.order_number} belongs to another buyer.", code="order_buyer_mismatch"
        )
    order.buyer = buyer
    items = list(
        OrderItem.objects.filter(order=order).select_related("storefront__seller").order_by("id")
    )
    return messages.order_placed(order, items, event.occurred_at)


def _create_order(event: events.OrderPlaced, buyer: User) -> Order:
    data = event.data
    skus = {item.sku for item in data.items}
    products = {p.sku: p for p in Product.objects.filter(sku__in=skus)}
    missing = sorted(skus - set(products))
    if missing:
        raise UnknownSubject(f"No product with SKU {', '.join(missing)}.", code="unknown_product")
    order = Order.objects.create(
        number=data.order_number,
        buyer=buyer,
        status=OrderStatus.PLACED,
        status_changed_at=event.occurred_at,
        placed_at=event.occurred_at,
        total_cents=data.total_cents,
        currency=data.currency,
    )
    OrderItem.objects.bulk_create(
        OrderItem(
            order=order,
            product=products[item.sku],
            storefront_id=products[item.sku].storefront_id,
            title=products[item.sku].title,
            quantity=item.quantity,
            unit_price_cents=item.unit_price_cents,
        )
        for item in data.items
    )
    return order


def _order_shipped(event: events.OrderShipped) -> list[tuple[User, Message]]:
    data = event.data
    order = _order(data.order_number)
    tracking_url = str(data.tracking_url) if data.tracking_url is not None else ""
    # One shipment per tracking number: a corrected "shipped" updates it. (Not
    # update_or_create: its savepoints cost four statements more.)
    shipment = {
        "carrier": data.carrier,
        "tracking_url": tracking_url,
        "shipped_at": event.occurred_at,
        "estimated_delivery": data.estimated_delivery,
    }
    shipments = Shipment.objects.filter(order=order, tracking_number=data.tracking_number)
    if not shipments.update(**shipment):
        Shipment.objects.create(order=order, tracking_number=data.tracking_number, **shipment)
    _set_status(order, OrderStatus.SHIPPED, event.occurred_at)
    return messages.order_shipped(
        order,
        carrier=data.carrier,
        tracking_number=data.tracking_number,
        tracking_url=tracking_url,
        estimated_delivery=data.estimated_delivery,
        occurred_at=event.occurred_at,
    )


def _order_out_for_delivery(event: events.OrderOutForDelivery) -> list[tuple[User, Message]]:
    order = _order(event.data.order_number)
    _set_status(order, OrderStatus.OUT_FOR_DELIVERY, event.occurred_at)
    return messages.order_out_for_delivery(order, event.data.tracking_number, event.occurred_at)


def _order_delivered(event: events.OrderDelivered) -> list[tuple[User, Message]]:
    order = _order(event.data.order_number)
    shipments = Shipment.objects.filter(order=order, delivered_at__isnull=True)
    if event.data.tracking_number is not None:
        shipments = shipments.filter(tracking_number=event.data.tracking_number)
    shipments.update(delivered_at=event.occurred_at)
    _set_status(order, OrderStatus.DELIVERED, event.occurred_at)
    return messages.order_delivered(order, event.data.tracking_number, event.occurred_at)


def _order_delayed(event: events.OrderDelayed) -> list[tuple[User, Message]]:
    data = event.data
    order = _order(data.order_number)
    Shipment.objects.filter(order=order, delivered_at__isnull=True).update(
        estimated_delivery=data.new_estimate
    )
    _set_status(order, OrderStatus.DELAYED, event.occurred_at)
    return messages.order_delayed(order, data.reason, data.new_estimate, event.occurred_at)


def _order_problem(event: events.OrderProblem) -> list[tuple[User, Message]]:
    order = _order(event.data.order_number)
    _set_status(order, OrderStatus.PROBLEM, event.occurred_at)
    return messages.order_problem(order, event.data.description, event.occurred_at)


# --- membership and notices ----------------------------------------------------------------


def _membership_renewed(event: events.MembershipRenewed) -> list[tuple[User, Message]]:
    user = _user(event.data.user)
    User.objects.filter(pk=user.pk).update(member_until=event.data.until)
    return messages.membership_renewed(user, event.data.until, event.occurred_at)


def _membership_expiring(event: events.MembershipExpiring) -> list[tuple[User, Message]]:
    user = _user(event.data.user)
    User.objects.filter(pk=user.pk).update(member_until=event.data.until)
    return messages.membership_expiring(user, event.data.until, event.occurred_at)


def _account_notice(event: events.AccountNotice) -> list[tuple[User, Message]]:
    user = _user(event.data.user)
    return messages.account_notice(user, event.data.subject, event.data.body, event.occurred_at)


HANDLERS: dict[str, Callable[[Any], list[tuple[User, Message]]]] = {
    "order.placed": _order_placed,
    "order.shipped": _order_shipped,
    "order.out_for_delivery": _order_out_for_delivery,
    "order.delivered": _order_delivered,
    "order.delayed": _order_delayed,
    "order.problem": _order_problem,
    # Returns and refunds share their steps with returns started here.
    "return.requested": return_actions.return_requested_event,
    "return.approved": return_actions.return_approved_event,
    "return.received": return_actions.return_received_event,
    "refund.issued": return_actions.refund_event,
    "refund.failed": return_actions.refund_event,
    "membership.renewed": _membership_renewed,
    "membership.expiring": _membership_expiring,
    "account.notice": _account_notice,
}


# --- lookups -------------------------------------------------------------------------


def _order(number: str) -> Order:
    order = Order.objects.select_related("buyer").filter(number=number).first()
    if order is None:
        raise UnknownSubject(
            f"No order {number}: send its order.placed event first.", code="unknown_order"
        )
    return order


def _user(username: str) -> User:
    user = User.objects.filter(username=username).first()
    if user is None:
        raise UnknownSubject(f"No user {username!r}.", code="unknown_user")
    return user


def _set_status(order: Order, status: str, occurred_at: datetime) -> None:
    """The order's status, unless it already tells of something later: events can arrive
    out of order (a slow carrier feed), the status must not go back in time. The message
    about the event is sent either way."""
    Order.objects.filter(pk=order.pk).filter(
        Q(status_changed_at__isnull=True) | Q(status_changed_at__lte=occurred_at)
    ).update(status=status, status_changed_at=occurred_at)
