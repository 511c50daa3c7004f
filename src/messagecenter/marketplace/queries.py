"""Reads of the marketplace's orders and products. Orders are always read from the person
asking: `access_order` (a buyer's own) and `sold_order` (a seller's sale) are the only ways
from an order number someone typed to an order."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple

from django.conf import settings
from django.db.models import Exists, Max, OuterRef, Prefetch, Q, QuerySet, Sum

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Participant
from messagecenter.conversations.queries import visible_conversations
from messagecenter.errors import NotAllowed, NotFound
from messagecenter.hub.cursors import decode_cursor, encode_cursor
from messagecenter.marketplace.messages import when
from messagecenter.marketplace.models import (
    Order,
    OrderItem,
    OrderStatus,
    Product,
    Refund,
    RefundStatus,
    ReturnItem,
    ReturnRequest,
    ReturnStatus,
    Shipment,
    Storefront,
)
from messagecenter.marketplace.presentation import money
from messagecenter.rows import parse_id
from messagecenter.web import dates

# Products a seller's account page lists; the rest are reached from orders and messages.
STOREFRONT_PRODUCTS_SHOWN = 50


def access_order(user: User, number: str) -> Order:
    """The person's own order with this number. Someone else's order and a missing one
    raise the same NotFound, so order numbers cannot be probed."""
    order = Order.objects.filter(buyer_id=user.pk, number=number).first()
    if order is None:
        raise NotFound("No such order.", code="order_not_found")
    return order


def sold_order(seller: User, number: str) -> Order:
    """An order the seller sold something on, by its number: how a seller reaches the
    buyer of an order. Any other order and a missing one raise the same NotFound."""
    order = (
        Order.objects.filter(number=number)
        .filter(
            Exists(
                OrderItem.objects.filter(order_id=OuterRef("pk"), storefront__seller_id=seller.pk)
            )
        )
        .first()
    )
    if order is None:
        raise NotFound("No such order.", code="order_not_found")
    return order


def product_by_sku(sku: str) -> Product:
    """A product of the public catalogue: anyone signed in may look at any product."""
    product = Product.objects.select_related("storefront").filter(sku=sku).first()
    if product is None:
        raise NotFound("No such product.", code="product_not_found")
    return product


def storefront_products(user: User) -> list[Product]:
    """The seller's own products, for their account page (nothing for other people)."""
    return list(
        Product.objects.filter(storefront__seller_id=user.pk).order_by("title", "id")[
            :STOREFRONT_PRODUCTS_SHOWN
        ]
    )


def buyer_orders(user: User) -> QuerySet[Order]:
    """Your Orders: newest first, each with its items and who sold them."""
    return (
        Order.objects.filter(buyer_id=user.pk)
        .prefetch_related(
            Prefetch(
                "items",
                queryset=OrderItem.objects.select_related("storefront", "product").order_by("id"),
            )
        )
        .order_by("-placed_at", "-id")
    )


@dataclass(frozen=True)
class OrderSummary:
    order: Order
    items: list[OrderItem]
    # Each seller on the order once, in the order of the items: one "Contact seller" each.
    storefronts: list[Storefront]


def summarize_orders(orders: Iterable[Order]) -> list[OrderSummary]:
    """Orders from buyer_orders (items prefetched) with the sellers on each."""
    summaries = []
    for order in orders:
        items = list(order.items.all())
        summaries.append(OrderSummary(order, items, _distinct_storefronts(items)))
    return summaries


@dataclass(frozen=True)
class OrdersPage:
    orders: list[OrderSummary]
    next_cursor: str | None


def buyer_orders_page(user: User, *, cursor: str | None = None, limit: int) -> OrdersPage:
    """One page of Your Orders, newest first, continuing from a keyset cursor
    (`placed_at~id`, index order_buyer_recent): two queries whatever the page. The cursor
    is the Message Center's lists' own (hub/cursors.py): its time in UTC with a Z, so it
    needs no escaping in a query string — it was written "+00:00", which became a space
    for a client that did not encode it. A cursor in that old form is still read, for a
    client paging through when the form changed."""
    orders = buyer_orders(user)
    if cursor:
        placed_at, last_id = decode_cursor(cursor)
        orders = orders.filter(Q(placed_at__lt=placed_at) | Q(placed_at=placed_at, id__lt=last_id))
    rows = list(orders[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = encode_cursor(rows[-1].placed_at, rows[-1].pk)
    return OrdersPage(summarize_orders(rows), next_cursor)


@dataclass(frozen=True)
class OrderDetails:
    order: Order
    items: list[OrderItem]
    storefronts: list[Storefront]
    shipments: list[Shipment]
    returns: list[ReturnRequest]
    refunds: list[Refund]
    # The person's own view of each conversation about the order that they take part in.
    conversations: list[Participant]

    @property
    def refunded_cents(self) -> int:
        """What the order's issued refunds add up to (every refund of the order, the
        seller's page included: any of them leaves less to refund on a return)."""
        return sum(
            refund.amount_cents for refund in self.refunds if refund.status == RefundStatus.ISSUED
        )


class ReceiptRefund(NamedTuple):
    cents: int
    # What was paid for the return's items: more than `cents` when the order's earlier
    # refunds left less.
    items_cents: int

    @property
    def is_capped(self) -> bool:
        return self.cents < self.items_cents


def refund_on_receipt(return_request: ReturnRequest, details: OrderDetails) -> ReceiptRefund:
    """What marking the return received would refund, by the money rule the action
    follows (return_actions.mark_return_received): what was paid for its items, at most
    what is left of the order's total after its issued refunds. Its items come prefetched
    (with_details)."""
    value = sum(
        line.order_item.unit_price_cents * line.quantity for line in return_request.items.all()
    )
    left = max(0, details.order.total_cents - details.refunded_cents)
    return ReceiptRefund(min(value, left), value)


def order_details(
    user: User, order: Order, *, storefront: Storefront | None = None
) -> OrderDetails:
    """Everything the order page shows, for an order from access_order; or, with the
    seller's `storefront`, for one from sold_order: that storefront's items only."""
    items_of = OrderItem.objects.filter(order=order)
    if storefront is not None:
        items_of = items_of.filter(storefront=storefront)
    # The shops' sellers: whether each can still be written to (a closed account's shop
    # shows why not instead of "Contact seller").
    items = list(items_of.select_related("storefront__seller", "product").order_by("id"))
    return OrderDetails(
        order=order,
        items=items,
        storefronts=_distinct_storefronts(items),
        shipments=list(order.shipments.order_by("shipped_at", "id")),
        # A seller sees the returns of their own items (started here); the buyer all.
        returns=with_details(
            (
                order.returns.filter(storefront=storefront)
                if storefront is not None
                else order.returns.all()
            ).order_by("requested_at", "id")
        ),
        refunds=list(order.refunds.order_by("created_at", "id")),
        conversations=list(
            visible_conversations(user)
            .filter(conversation__order=order)
            .select_related("conversation", "conversation__storefront")
            .order_by("-last_activity_at", "-id")
        ),
    )


def _distinct_storefronts(items: Iterable[OrderItem]) -> list[Storefront]:
    seen: dict[int, Storefront] = {}
    for item in items:
        seen.setdefault(item.storefront_id, item.storefront)
    return list(seen.values())


def recent_orders(user: User, limit: int) -> list[Order]:
    """The person's latest orders, for choosing one to ask customer service about."""
    return list(Order.objects.filter(buyer_id=user.pk).order_by("-placed_at", "-id")[:limit])


# --- returns ------------------------------------------------------------------------------


def access_return(user: User, return_id: Any) -> ReturnRequest:
    """A return the person may see: on their own order (the buyer), or one started with
    their shop's items (its seller). Anyone else's and a missing one raise the same
    NotFound."""
    return_request = (
        ReturnRequest.objects.select_related("order__buyer", "storefront__seller")
        .filter(
            Q(order__buyer_id=user.pk) | Q(storefront__seller_id=user.pk),
            pk=_parse_return_id(return_id),
        )
        .first()
    )
    if return_request is None:
        raise NotFound("No such return.", code="return_not_found")
    return return_request


def sold_return(seller: User, return_id: Any) -> ReturnRequest:
    """A return of the seller's own items: the only ones they decide and mark received."""
    return_request = (
        ReturnRequest.objects.select_related("order__buyer", "storefront__seller")
        .filter(storefront__seller_id=seller.pk, pk=_parse_return_id(return_id))
        .first()
    )
    if return_request is None:
        raise NotFound("No such return.", code="return_not_found")
    return return_request


def _parse_return_id(value: Any) -> int:
    return parse_id(value, code="return_not_found", message="No such return.")


def user_returns(user: User, *, limit: int, before_id: int | None = None) -> list[ReturnRequest]:
    """The person's returns, newest first: as a buyer, those on their orders; as a
    seller, those of their shop's items."""
    if user.is_seller:
        returns = ReturnRequest.objects.filter(storefront__seller_id=user.pk)
    else:
        returns = ReturnRequest.objects.filter(order__buyer_id=user.pk)
    if before_id is not None:
        returns = returns.filter(pk__lt=before_id)
    return list(
        returns.select_related("order__buyer", "storefront")
        .prefetch_related(_return_items(), "photos", "refunds")
        .order_by("-id")[:limit]
    )


def _return_items() -> Prefetch[Any]:
    return Prefetch(
        "items", queryset=ReturnItem.objects.select_related("order_item").order_by("id")
    )


def with_details(returns: QuerySet[ReturnRequest]) -> list[ReturnRequest]:
    return list(
        returns.select_related("storefront").prefetch_related(_return_items(), "photos", "refunds")
    )


def delivered_at(order: Order) -> datetime | None:
    """When the order arrived, which starts its return window: its last shipment's
    delivery; for an order delivered without a shipment on record, when it was marked
    delivered. None: not delivered yet."""
    latest: datetime | None = Shipment.objects.filter(
        order=order, delivered_at__isnull=False
    ).aggregate(latest=Max("delivered_at"))["latest"]
    if latest is None and order.status == OrderStatus.DELIVERED:
        return order.status_changed_at or order.placed_at
    return latest


def return_window_closes_at(delivered: datetime | None) -> datetime | None:
    if delivered is None:
        return None
    return delivered + timedelta(days=settings.RETURNS_WINDOW_DAYS)


@dataclass(frozen=True)
class ReturnableItem:
    item: OrderItem
    # How many of it can still be sent back (those in returns not declined are taken).
    quantity: int
    # Why it cannot be returned, in words; None when it can.
    refusal: str | None


@dataclass(frozen=True)
class Returnability:
    items: list[ReturnableItem]
    closes_at: datetime | None

    @property
    def is_open(self) -> bool:
        return any(entry.refusal is None for entry in self.items)


# --- what the order alone says about a guarantee claim -----------------------------------
# The rules of support/claim_queries.refusal that need nothing but the order and its issued
# refunds: the claim page applies them (in its order of rules), and the order page, which
# has read the refunds already, shows the refusal in place of "File a guarantee claim"
# rather than a link to a page that only says why not.


def claim_window_refusal(order: Order, *, now: datetime) -> NotAllowed | None:
    """A cancelled order, or one placed longer ago than the filing window."""
    if order.status == OrderStatus.CANCELLED:
        return NotAllowed(
            "This order was cancelled: there is nothing to claim.", code="claim_order_cancelled"
        )
    window_end = order.placed_at + timedelta(days=settings.CLAIM_FILING_WINDOW_DAYS)
    if now >= window_end:
        return NotAllowed(
            f"Claims on this order could be filed until {dates.email_time(window_end)} "
            f"({settings.CLAIM_FILING_WINDOW_DAYS} days after it was placed).",
            code="claim_window_closed",
        )
    return None


def refunded_in_full_refusal(order: Order, refunded: int) -> NotAllowed | None:
    """An order whose issued refunds (`refunded` cents) cover its total."""
    if order.total_cents > 0 and refunded >= order.total_cents:
        return NotAllowed(
            f"Order {order.number} was refunded in full already "
            f"({money(refunded, order.currency)}): there is nothing left to claim.",
            code="claim_order_refunded",
        )
    return None


def order_claim_refusal(order: Order, refunded: int, *, now: datetime) -> NotAllowed | None:
    """Why no guarantee claim can be filed on the order whatever its shop or reason, from
    the order alone (no query); None when the claim page has the rest to say."""
    return claim_window_refusal(order, now=now) or refunded_in_full_refusal(order, refunded)


def refunded_cents(order: Order) -> int:
    """What the order's issued refunds add up to, whatever asked for them: returns, the
    marketplace's refund.issued events, granted claims."""
    issued = Refund.objects.filter(order=order, status=RefundStatus.ISSUED).aggregate(
        total=Sum("amount_cents")
    )["total"]
    return issued or 0


def units_in_returns(order: Order) -> dict[int, int]:
    """How many units of each of the order's items (by OrderItem id) are in a return that
    was not declined: no longer returnable, whoever started the return."""
    return dict(
        ReturnItem.objects.filter(order_item__order=order)
        .exclude(return_request__status=ReturnStatus.REJECTED)
        .values("order_item_id")
        .annotate(quantity=Sum("quantity"))
        .values_list("order_item_id", "quantity")
    )


def returnability(order: Order, items: list[OrderItem], now: datetime) -> Returnability:
    """Which of the order's items can be returned at `now`, and why not for the others
    (docs/returns.md): after delivery, before the window closes (to the second), not
    more of an item than was bought and not yet returned, and nothing of an order refunded
    in full. A refund that names no items (a return the marketplace announced, a claim)
    covers no unit in particular; once the order's refunds reach what was paid, it covers
    every unit: the buyer has their money back, and a return could never be refunded
    (nor a replacement be owed)."""
    closes_at = return_window_closes_at(delivered_at(order))
    is_refunded_in_full = refunded_cents(order) >= order.total_cents
    taken = units_in_returns(order)
    entries = []
    for item in items:
        left = item.quantity - taken.get(item.pk, 0)
        refusal = None
        if order.status == OrderStatus.CANCELLED:
            refusal = "This order was cancelled."
        elif is_refunded_in_full:
            refusal = "This order was refunded in full."
        elif closes_at is None:
            refusal = "You can return items once they are delivered."
        elif now >= closes_at:
            refusal = f"The return window closed on {when(closes_at)}."
        elif left <= 0:
            refusal = "Already returned."
        entries.append(ReturnableItem(item, 0 if refusal else max(left, 0), refusal))
    return Returnability(entries, closes_at)
