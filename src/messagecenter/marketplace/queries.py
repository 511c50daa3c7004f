"""Reads of the marketplace's orders and products. Orders are always read from the person
asking: `access_order` (a buyer's own) and `sold_order` (a seller's sale) are the only ways
from an order number someone typed to an order."""

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

from django.db.models import Exists, OuterRef, Prefetch, Q, QuerySet

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Participant
from messagecenter.errors import InvalidInput, NotFound
from messagecenter.hub.boxes import VISIBLE_BOXES
from messagecenter.marketplace.models import (
    Order,
    OrderItem,
    Product,
    Refund,
    ReturnRequest,
    Shipment,
    Storefront,
)
from messagecenter.rows import MAX_ID

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
    (`placed_at~id`, index order_buyer_recent): two queries whatever the page."""
    orders = buyer_orders(user)
    if cursor:
        placed_at, last_id = _decode_order_cursor(cursor)
        orders = orders.filter(Q(placed_at__lt=placed_at) | Q(placed_at=placed_at, id__lt=last_id))
    rows = list(orders[: limit + 1])
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = f"{rows[-1].placed_at.isoformat()}~{rows[-1].pk}"
    return OrdersPage(summarize_orders(rows), next_cursor)


def _decode_order_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        timestamp, _, identifier = cursor.rpartition("~")
        placed_at, last_id = datetime.fromisoformat(timestamp), int(identifier)
        if placed_at.tzinfo is None or not 0 < last_id <= MAX_ID:
            raise ValueError(cursor)
        return placed_at.astimezone(UTC), last_id
    except (ValueError, OverflowError):
        raise InvalidInput("The page cursor is not valid.", code="invalid_cursor") from None


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


def order_details(
    user: User, order: Order, *, storefront: Storefront | None = None
) -> OrderDetails:
    """Everything the order page shows, for an order from access_order; or, with the
    seller's `storefront`, for one from sold_order: that storefront's items only."""
    items_of = OrderItem.objects.filter(order=order)
    if storefront is not None:
        items_of = items_of.filter(storefront=storefront)
    items = list(items_of.select_related("storefront", "product").order_by("id"))
    return OrderDetails(
        order=order,
        items=items,
        storefronts=_distinct_storefronts(items),
        shipments=list(order.shipments.order_by("shipped_at", "id")),
        returns=list(order.returns.order_by("requested_at", "id")),
        refunds=list(order.refunds.order_by("created_at", "id")),
        conversations=list(
            Participant.objects.filter(
                user_id=user.pk, conversation__order=order, box__in=VISIBLE_BOXES
            )
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
