"""The API's marketplace routes: a product and "Ask a question", Your Orders with shipments,
returns and refunds, and writing about an order — to its seller, or (for sellers) to its
buyer (docs/api.md). Every send is one conversation action. Beside them, not for people:
the signed intake of order events from the marketplace's own systems
(docs/marketplace-events.md)."""

from datetime import date, datetime
from typing import Any

from django.http import HttpRequest
from ninja import Router, Schema, Status

from messagecenter.api_support import (
    ApiRequest,
    Id,
    IdempotencyKey,
    PageLimit,
    StorefrontOut,
    Text,
    message_input_openapi,
    parse_json,
    parse_message_input,
)
from messagecenter.conversations import actions
from messagecenter.conversations.models import Participant
from messagecenter.conversations.presentation import counterpart
from messagecenter.conversations.schemas import MessageIn, MessageOut, sent
from messagecenter.errors import TooLarge
from messagecenter.hub.boxes import Box
from messagecenter.marketplace import actions as marketplace_actions
from messagecenter.marketplace import events, queries
from messagecenter.marketplace.models import Order, OrderItem, Storefront

router = Router(tags=["marketplace"])


def storefront_out(storefront: Storefront) -> StorefrontOut:
    return StorefrontOut(id=storefront.pk, name=storefront.name)


# --- products ---------------------------------------------------------------------------------


class ProductOut(Schema):
    sku: str
    title: str
    description: str
    price_cents: int
    currency: str
    sold_by: StorefrontOut


@router.get("/products/{sku}", response=ProductOut, summary="A product, with who sells it")
def get_product(request: ApiRequest, sku: Text) -> ProductOut:
    product = queries.product_by_sku(sku)
    return ProductOut(
        sku=product.sku,
        title=product.title,
        description=product.description,
        price_cents=product.price_cents,
        currency=product.currency,
        sold_by=storefront_out(product.storefront),
    )


@router.post(
    "/products/{sku}/questions",
    response={200: MessageOut, 201: MessageOut},
    summary="Ask the seller a question about a product",
    openapi_extra=message_input_openapi(MessageIn, with_attachments=True),
)
def ask_seller(
    request: ApiRequest, sku: Text, idempotency_key: IdempotencyKey = None
) -> Status[MessageOut]:
    """Buyers only. A buyer's questions about one product share one conversation with its
    seller. JSON or multipart, with Idempotency-Key, as for replies."""
    user = request.auth
    payload, files = parse_message_input(request, MessageIn)
    product = queries.product_by_sku(sku)
    return sent(
        user,
        idempotency_key,
        lambda key: actions.ask_seller_about_product(
            user, product.pk, payload.body, idempotency_key=key, attachments=files
        ),
    )


# --- orders -----------------------------------------------------------------------------------


class OrderItemOut(Schema):
    title: str
    quantity: int
    unit_price_cents: int
    product_sku: str
    sold_by: StorefrontOut


class OrderOut(Schema):
    number: str
    status: str
    status_label: str
    placed_at: datetime
    total_cents: int
    currency: str
    items: list[OrderItemOut]
    # Each seller on the order once: whom "Contact seller" can reach (storefront_id).
    sellers: list[StorefrontOut]


class OrderPageOut(Schema):
    items: list[OrderOut]
    next_cursor: str | None


def order_out(order: Order, items: list[OrderItem], sellers: list[Storefront]) -> OrderOut:
    return OrderOut(
        number=order.number,
        status=order.status,
        status_label=order.get_status_display(),
        placed_at=order.placed_at,
        total_cents=order.total_cents,
        currency=order.currency,
        items=[
            OrderItemOut(
                title=item.title,
                quantity=item.quantity,
                unit_price_cents=item.unit_price_cents,
                product_sku=item.product.sku,
                sold_by=storefront_out(item.storefront),
            )
            for item in items
        ],
        sellers=[storefront_out(storefront) for storefront in sellers],
    )


@router.get("/orders", response=OrderPageOut, summary="Your Orders, newest first")
def list_orders(
    request: ApiRequest, cursor: Text | None = None, limit: PageLimit = 10
) -> OrderPageOut:
    """The person's own orders (seller, agent and admin accounts have none)."""
    page = queries.buyer_orders_page(request.auth, cursor=cursor, limit=limit)
    return OrderPageOut(
        items=[
            order_out(summary.order, summary.items, summary.storefronts) for summary in page.orders
        ],
        next_cursor=page.next_cursor,
    )


class ShipmentOut(Schema):
    carrier: str
    tracking_number: str
    shipped_at: datetime
    estimated_delivery: date | None
    delivered_at: datetime | None


class ReturnOut(Schema):
    id: int
    status: str
    status_label: str
    reason: str
    requested_at: datetime


class RefundOut(Schema):
    amount_cents: int
    currency: str
    status: str
    status_label: str
    created_at: datetime
    return_id: int | None


class OrderConversationOut(Schema):
    id: int
    subject: str
    counterpart: str
    unread_count: int
    box: str


class OrderDetailOut(OrderOut):
    shipments: list[ShipmentOut]
    returns: list[ReturnOut]
    refunds: list[RefundOut]
    # The person's own conversations about this order.
    conversations: list[OrderConversationOut]


def _order_conversation_out(participant: Participant) -> OrderConversationOut:
    return OrderConversationOut(
        id=participant.conversation_id,
        subject=participant.conversation.subject,
        counterpart=counterpart(participant),
        unread_count=participant.unread_count,
        box=participant.box if participant.box != Box.DELETED else Box.INBOX,
    )


@router.get(
    "/orders/{number}",
    response=OrderDetailOut,
    summary="One of your orders, with shipments, returns and refunds",
)
def get_order(request: ApiRequest, number: Text) -> OrderDetailOut:
    user = request.auth
    details = queries.order_details(user, queries.access_order(user, number))
    return OrderDetailOut(
        **order_out(details.order, details.items, details.storefronts).model_dump(),
        shipments=[
            ShipmentOut(
                carrier=shipment.carrier,
                tracking_number=shipment.tracking_number,
                shipped_at=shipment.shipped_at,
                estimated_delivery=shipment.estimated_delivery,
                delivered_at=shipment.delivered_at,
            )
            for shipment in details.shipments
        ],
        returns=[
            ReturnOut(
                id=return_request.pk,
                status=return_request.status,
                status_label=return_request.get_status_display(),
                reason=return_request.reason,
                requested_at=return_request.requested_at,
            )
            for return_request in details.returns
        ],
        refunds=[
            RefundOut(
                amount_cents=refund.amount_cents,
                currency=refund.currency,
                status=refund.status,
                status_label=refund.get_status_display(),
                created_at=refund.created_at,
                return_id=refund.return_request_id,
            )
            for refund in details.refunds
        ],
        conversations=[_order_conversation_out(p) for p in details.conversations],
    )


class ContactSellerIn(Schema):
    # One of the order's sellers (OrderOut.sellers).
    storefront_id: Id
    body: Text


@router.post(
    "/orders/{number}/messages",
    response={200: MessageOut, 201: MessageOut},
    summary="Contact a seller about your order",
    openapi_extra=message_input_openapi(ContactSellerIn, with_attachments=True),
)
def contact_seller(
    request: ApiRequest, number: Text, idempotency_key: IdempotencyKey = None
) -> Status[MessageOut]:
    """The order's buyer writes to one of its sellers: one conversation per order and
    seller, shared with the seller's own messages about the order."""
    user = request.auth
    payload, files = parse_message_input(request, ContactSellerIn)
    order = queries.access_order(user, number)
    return sent(
        user,
        idempotency_key,
        lambda key: actions.contact_seller_about_order(
            user,
            order.pk,
            payload.storefront_id,
            payload.body,
            idempotency_key=key,
            attachments=files,
        ),
    )


@router.post(
    "/orders/{number}/buyer-messages",
    response={200: MessageOut, 201: MessageOut},
    summary="Sellers: write to the buyer of an order you sold on",
    openapi_extra=message_input_openapi(MessageIn, with_attachments=True),
)
def contact_buyer(
    request: ApiRequest, number: Text, idempotency_key: IdempotencyKey = None
) -> Status[MessageOut]:
    """Only about an order the seller sold something on; never to buyers at large."""
    user = request.auth
    payload, files = parse_message_input(request, MessageIn)
    order = queries.sold_order(user, number)
    return sent(
        user,
        idempotency_key,
        lambda key: actions.contact_buyer_about_order(
            user, order.pk, payload.body, idempotency_key=key, attachments=files
        ),
    )


# --- order events from the marketplace's systems --------------------------------------------


class EventMessageOut(Schema):
    # The Message Center username the message went to.
    recipient: str
    message_id: int
    conversation_id: int


class EventResultOut(Schema):
    id: str
    type: str
    received_at: datetime
    messages: list[EventMessageOut]


EVENT_BODY_OPENAPI: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "object",
                    "required": ["id", "type", "occurred_at", "data"],
                    "properties": {
                        "id": {"type": "string", "minLength": 1, "maxLength": 100},
                        "type": {"type": "string", "enum": list(events.EVENT_TYPES)},
                        "occurred_at": {"type": "string", "format": "date-time"},
                        "data": {
                            "type": "object",
                            "description": "Per type: see docs/marketplace-events.md.",
                        },
                    },
                }
            }
        },
    },
    "parameters": [
        {
            "in": "header",
            "name": events.SIGNATURE_HEADER,
            "required": True,
            "schema": {"type": "string"},
            "description": "t=<unix seconds>,v1=<hex HMAC-SHA256 of f'{t}.' + body>",
        }
    ],
}


@router.post(
    "/marketplace-events",
    auth=None,
    response={200: EventResultOut, 201: EventResultOut},
    summary="The marketplace's systems: deliver an order event (signed, not signed in)",
    openapi_extra=EVENT_BODY_OPENAPI,
)
def receive_marketplace_event(request: HttpRequest) -> Status[dict[str, Any]]:
    """For the operator's backend, not for people: the signature is the authentication, and
    nothing in the body is read before it is verified (docs/marketplace-events.md). 201
    with the messages the event became; 200 with the first answer for a retry of the same
    event id."""
    too_large = TooLarge(f"An event is at most {events.EVENT_MAX_BYTES // 1024} KB.")
    length = request.META.get("CONTENT_LENGTH") or "0"
    if not length.isdigit() or int(length) > events.EVENT_MAX_BYTES:
        raise too_large
    body = request.body
    # A body sent without a Content-Length (chunked) is measured once read.
    if len(body) > events.EVENT_MAX_BYTES:
        raise too_large
    events.verify_signature(request.headers.get(events.SIGNATURE_HEADER), body)
    payload = parse_json(body)
    event = events.parse_event(payload)
    received = marketplace_actions.receive_marketplace_event(event, payload)
    return Status(201 if received.is_new else 200, received.record.result)
