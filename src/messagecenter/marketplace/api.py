"""The API's marketplace routes: a product and "Ask a question", Your Orders with shipments,
returns and refunds, and writing about an order — to its seller, or (for sellers) to its
buyer (docs/api.md). Every send is one conversation action. Beside them, not for people:
the signed intake of order events from the marketplace's own systems
(docs/marketplace-events.md)."""

from datetime import date, datetime
from typing import Annotated, Any, Literal

import pydantic
from django.conf import settings
from django.http import FileResponse, HttpRequest
from django.utils import timezone
from ninja import Router, Schema, Status
from ninja.errors import ValidationError
from pydantic import Field

from messagecenter.api_support import (
    STORABLE,
    ApiRequest,
    BodyId,
    Id,
    IdempotencyKey,
    PageLimit,
    QueryId,
    StorefrontOut,
    Text,
    WholeNumber,
    message_input_openapi,
    parse_json,
    parse_message_input,
    uploaded_files,
)
from messagecenter.conversations import actions
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations.downloads import attachment_response, download_openapi
from messagecenter.conversations.models import Participant
from messagecenter.conversations.presentation import counterpart
from messagecenter.conversations.schemas import MessageIn, MessageOut, sent
from messagecenter.errors import NotFound, TooLarge
from messagecenter.hub.boxes import Box
from messagecenter.marketplace import actions as marketplace_actions
from messagecenter.marketplace import events, queries, return_actions
from messagecenter.marketplace import messages as marketplace_messages
from messagecenter.marketplace.models import (
    Order,
    OrderItem,
    Refund,
    ReturnReason,
    ReturnRequest,
    ReturnResolution,
    ReturnStatus,
    Storefront,
)

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
    reference: str
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


def refund_out(refund: Refund) -> RefundOut:
    return RefundOut(
        amount_cents=refund.amount_cents,
        currency=refund.currency,
        status=refund.status,
        status_label=refund.get_status_display(),
        created_at=refund.created_at,
        return_id=refund.return_request_id,
    )


class OrderConversationOut(Schema):
    id: int
    subject: str
    counterpart: str
    unread_count: int
    box: str


class OrderSellerOut(StorefrontOut):
    # Whether "Contact seller" (POST /orders/{number}/messages) can reach this shop: false
    # when its seller's account is closed (erased) or suspended, as the order page shows
    # that sentence instead of the form (docs/conversations.md#a-closed-account).
    can_contact: bool
    # Why not, in words for the buyer; null while they can be contacted.
    cannot_contact_reason: str | None


def _order_seller_out(storefront: Storefront) -> OrderSellerOut:
    # The shop's seller comes with order_details' items: no query while they are active.
    closed = conversation_queries.closed_account(storefront.seller, is_shop=True)
    return OrderSellerOut(
        id=storefront.pk,
        name=storefront.name,
        can_contact=closed is None,
        cannot_contact_reason=closed,
    )


class OrderDetailOut(OrderOut):
    # Each seller on the order once, with whether "Contact seller" can reach them.
    sellers: list[OrderSellerOut]  # type: ignore[assignment]
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
    summary = order_out(details.order, details.items, details.storefronts).model_dump()
    return OrderDetailOut(
        **{**summary, "sellers": [_order_seller_out(shop) for shop in details.storefronts]},
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
                reference=return_request.reference,
                status=return_request.status,
                status_label=return_request.get_status_display(),
                reason=return_request.reason,
                requested_at=return_request.requested_at,
            )
            for return_request in details.returns
        ],
        refunds=[refund_out(refund) for refund in details.refunds],
        conversations=[_order_conversation_out(p) for p in details.conversations],
    )


class ContactSellerIn(Schema):
    # One of the order's sellers (OrderOut.sellers).
    storefront_id: BodyId
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


# --- returns (docs/returns.md) --------------------------------------------------------------


class ReturnableItemOut(Schema):
    order_item_id: int
    title: str
    # How many can still be returned (0 when none).
    quantity: int
    sold_by: StorefrontOut
    # Why it cannot be returned, in words ("The return window closed on …"); null: it can.
    refusal: str | None


class ReturnabilityOut(Schema):
    # When the return window closes (null: not delivered yet).
    closes_at: datetime | None
    items: list[ReturnableItemOut]


@router.get(
    "/orders/{number}/returnable",
    response=ReturnabilityOut,
    summary="Which items of your order can be returned, and why not the others",
)
def get_returnable(request: ApiRequest, number: Text) -> ReturnabilityOut:
    user = request.auth
    order = queries.access_order(user, number)
    details = queries.order_details(user, order)
    returnability = queries.returnability(order, details.items, timezone.now())
    return ReturnabilityOut(
        closes_at=returnability.closes_at,
        items=[
            ReturnableItemOut(
                order_item_id=entry.item.pk,
                title=entry.item.title,
                quantity=entry.quantity,
                sold_by=storefront_out(entry.item.storefront),
                refusal=entry.refusal,
            )
            for entry in returnability.items
        ],
    )


class ReturnLineIn(Schema):
    order_item_id: BodyId
    quantity: Annotated[WholeNumber, Field(ge=1, le=10_000)]


class ReturnIn(Schema):
    # Items of one seller (ReturnabilityOut.items).
    items: Annotated[list[ReturnLineIn], Field(min_length=1, max_length=100)]
    resolution: ReturnResolution
    reason: ReturnReason
    note: Annotated[str, Field(max_length=return_actions.NOTE_MAX_CHARS), STORABLE] = ""


class ReturnLineOut(Schema):
    order_item_id: int
    title: str
    quantity: int


class ReturnPhotoOut(Schema):
    id: int
    filename: str
    content_type: str
    size: int


class ReturnDetailOut(Schema):
    id: int
    # The marketplace's name for the return (its events use it); blank only for returns
    # announced without one.
    reference: str
    order_number: str
    status: str
    status_label: str
    resolution: str
    # In words; `reason_code` is a ReturnReason value for a return started here.
    reason: str
    reason_code: str
    note: str
    requested_at: datetime
    sold_by: StorefrontOut | None
    buyer: str
    items: list[ReturnLineOut]
    photos: list[ReturnPhotoOut]
    is_auto_approved: bool
    decided_at: datetime | None
    decline_reason: str
    # What to do with the parcel, once approved, and the label to put on it.
    instructions: str
    label: str
    received_at: datetime | None
    refunds: list[RefundOut]


class ReturnPageOut(Schema):
    items: list[ReturnDetailOut]
    # Pass as `before` for the next page; null: no more.
    next_before: int | None


def return_out(return_request: ReturnRequest) -> ReturnDetailOut:
    storefront = return_request.storefront
    return ReturnDetailOut(
        id=return_request.pk,
        reference=return_request.reference,
        order_number=return_request.order.number,
        status=return_request.status,
        status_label=return_request.get_status_display(),
        resolution=return_request.resolution,
        reason=return_request.reason,
        reason_code=return_request.reason_code,
        note=return_request.note,
        requested_at=return_request.requested_at,
        sold_by=storefront_out(storefront) if storefront is not None else None,
        buyer=return_request.order.buyer.public_name,
        items=[
            ReturnLineOut(
                order_item_id=line.order_item_id,
                title=line.order_item.title,
                quantity=line.quantity,
            )
            for line in return_request.items.all()
        ],
        photos=[
            ReturnPhotoOut(
                id=photo.pk,
                filename=photo.download_name,
                content_type=photo.content_type,
                size=photo.size,
            )
            for photo in return_request.photos.all()
        ],
        is_auto_approved=return_request.is_auto_approved,
        decided_at=return_request.decided_at,
        decline_reason=return_request.decline_reason,
        instructions=return_request.instructions,
        label=(
            marketplace_messages.return_label(return_request)
            if return_request.status == ReturnStatus.APPROVED
            else ""
        ),
        received_at=return_request.received_at,
        refunds=[refund_out(refund) for refund in return_request.refunds.all()],
    )


def _detailed(return_id: int) -> ReturnDetailOut:
    [return_request] = queries.with_details(
        ReturnRequest.objects.select_related("order__buyer").filter(pk=return_id)
    )
    return return_out(return_request)


RETURN_PHOTOS_OPENAPI = {
    "type": "array",
    "items": {"type": "string", "format": "binary"},
    "maxItems": settings.ATTACHMENTS_PER_MESSAGE,
    "description": "Photos (JPEG, PNG, GIF, WebP) or PDFs, as message attachments.",
}
RETURN_INPUT_OPENAPI = message_input_openapi(ReturnIn, with_attachments=False)
RETURN_INPUT_OPENAPI["requestBody"]["content"]["multipart/form-data"]["schema"][
    "properties"
].update(
    {
        "items": {"type": "string", "description": "The `items` list as JSON text."},
        "photos": RETURN_PHOTOS_OPENAPI,
    }
)


@router.post(
    "/orders/{number}/returns",
    response={200: ReturnDetailOut, 201: ReturnDetailOut},
    summary="Return or replace items of your order",
    openapi_extra=RETURN_INPUT_OPENAPI,
)
def start_return(
    request: ApiRequest, number: Text, idempotency_key: IdempotencyKey = None
) -> Status[ReturnDetailOut]:
    """Items of one seller, still returnable (GET …/returnable says which and why not);
    JSON, or a multipart form with `photos` (and `items` as JSON text). 201 with the new
    return; 200 with the first one for a retry with the same Idempotency-Key."""
    user = request.auth
    payload, photos = _return_input(request)
    started = return_actions.request_return(
        user,
        number,
        [return_actions.ReturnLine(line.order_item_id, line.quantity) for line in payload.items],
        resolution=payload.resolution,
        reason_code=payload.reason,
        note=payload.note,
        photos=photos,
        idempotency_key=idempotency_key,
    )
    return Status(201 if started.is_new else 200, _detailed(started.return_request.pk))


def _return_input(request: ApiRequest) -> tuple[ReturnIn, list[Any]]:
    if request.content_type in ("multipart/form-data", "application/x-www-form-urlencoded"):
        data: Any = {
            name: request.POST[name] for name in ReturnIn.model_fields if name in request.POST
        }
        if "items" in data:
            data["items"] = parse_json(data["items"].encode())
        photos = uploaded_files(request, "photos")
    else:
        data, photos = parse_json(request.body) if request.body else {}, []
    try:
        return ReturnIn.model_validate(data), photos
    except pydantic.ValidationError as error:
        raise ValidationError(
            [
                {**detail, "loc": ("body", *detail["loc"])}
                for detail in error.errors(include_url=False, include_context=False)
            ]
        ) from None


@router.get("/returns", response=ReturnPageOut, summary="Your returns, newest first")
def list_returns(
    request: ApiRequest, before: QueryId | None = None, limit: PageLimit = 20
) -> ReturnPageOut:
    """A buyer's returns on their orders; a seller's, the returns of their shop's items."""
    rows = queries.user_returns(request.auth, limit=limit + 1, before_id=before)
    more = len(rows) > limit
    rows = rows[:limit]
    return ReturnPageOut(
        items=[return_out(row) for row in rows], next_before=rows[-1].pk if more else None
    )


@router.get("/returns/{return_id}", response=ReturnDetailOut, summary="One of your returns")
def get_return(request: ApiRequest, return_id: Id) -> ReturnDetailOut:
    return _detailed(queries.access_return(request.auth, return_id).pk)


class ReturnDecisionIn(Schema):
    decision: Literal["approve", "decline"]
    # Required to decline: the buyer reads it.
    reason: Annotated[str, Field(max_length=return_actions.DECLINE_REASON_MAX_CHARS), STORABLE] = ""
    # Optional when approving: otherwise the marketplace's own (RETURNS_INSTRUCTIONS).
    instructions: Annotated[
        str, Field(max_length=return_actions.INSTRUCTIONS_MAX_CHARS), STORABLE
    ] = ""


@router.post(
    "/returns/{return_id}/decision",
    response=ReturnDetailOut,
    summary="Sellers: approve or decline a return of your items",
)
def decide_return(request: ApiRequest, return_id: Id, payload: ReturnDecisionIn) -> ReturnDetailOut:
    """409 return_state_changed when it was decided already (by you, or by the
    marketplace's events)."""
    return_request = return_actions.decide_return(
        request.auth,
        return_id,
        approve=payload.decision == "approve",
        reason=payload.reason,
        instructions=payload.instructions,
    )
    return _detailed(return_request.pk)


@router.post(
    "/returns/{return_id}/received",
    response=ReturnDetailOut,
    summary="Sellers: the items are back — refund the buyer or ship the replacement",
)
def mark_return_received(request: ApiRequest, return_id: Id) -> ReturnDetailOut:
    """A refund of what the buyer paid for the items (at most once per return, never past
    the order's total), or the replacement marked shipped."""
    return_request = return_actions.mark_return_received(request.auth, return_id)
    return _detailed(return_request.pk)


@router.get(
    "/returns/{return_id}/photos/{photo_id}",
    response={200: None},
    summary="A photo given with a return",
    openapi_extra=download_openapi(),
)
def download_return_photo(request: ApiRequest, return_id: Id, photo_id: Id) -> FileResponse:
    return_request = queries.access_return(request.auth, return_id)
    photo = return_request.photos.filter(pk=photo_id).first()
    if photo is None:
        raise NotFound("No such photo.", code="photo_not_found")
    return attachment_response(photo)


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
