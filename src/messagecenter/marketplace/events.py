"""Order events from the marketplace's own systems: how they are signed, and what each one
carries (docs/marketplace-events.md).

The sender signs `f"{t}.".encode() + raw_body` with HMAC-SHA256 under a shared secret and
sends `Marketplace-Signature: t=<unix seconds>,v1=<hex>`. The timestamp inside the signed
text is what makes a captured request useless after the tolerance: it cannot be re-sent
with a fresh `t` without the secret.
"""

import hashlib
import hmac
import time
from collections.abc import Sequence
from typing import Annotated, Any, Literal

import pydantic
from django.conf import settings
from ninja.errors import ValidationError
from pydantic import BaseModel, ConfigDict, Field, TypeAdapter

from messagecenter.api_support import STORABLE, Day, Moment, WholeNumber
from messagecenter.errors import MessageCenterError

SIGNATURE_HEADER = "Marketplace-Signature"
# An event is a few hundred bytes; a much larger body is no event and is refused unread.
EVENT_MAX_BYTES = 64 * 1024


class SignatureRefused(MessageCenterError):
    """The request is not provably from the marketplace's systems: nothing in it is read."""

    code = "signature_invalid"
    status = 401


class UnknownSubject(MessageCenterError):
    """The event names an order, user, product or return the Message Center does not know:
    the sender must fix it (or send the order first), so a retry as is would fail again."""

    code = "unknown_order"
    status = 422


def signature_header(body: bytes, secret: str, timestamp: int | None = None) -> str:
    """The Marketplace-Signature header for a body: what the operator's backend (and the
    send_marketplace_event command) computes."""
    timestamp = int(time.time()) if timestamp is None else timestamp
    return f"t={timestamp},v1={_digest(secret, timestamp, body)}"


def verify_signature(header: str | None, body: bytes, *, now: float | None = None) -> None:
    """Raise SignatureRefused unless one of the header's v1 signatures is the body's under
    one of the configured secrets (several during a rotation), within the tolerance."""
    secrets: Sequence[str] = settings.MARKETPLACE_EVENTS_SECRETS
    if not secrets:
        raise SignatureRefused(
            "Marketplace events are switched off: no signing secret is configured "
            "(MARKETPLACE_EVENTS_SECRETS).",
            code="events_not_configured",
        )
    if not header:
        raise SignatureRefused(
            f"Sign the request: '{SIGNATURE_HEADER}: t=<unix seconds>,v1=<hex HMAC-SHA256>'.",
            code="signature_missing",
        )
    timestamp, signatures = _parse_header(header)
    tolerance = settings.MARKETPLACE_EVENTS_TOLERANCE_SECONDS
    now = time.time() if now is None else now
    if abs(now - timestamp) > tolerance:
        raise SignatureRefused(
            f"The signature's timestamp is more than {tolerance} seconds from now: check the "
            "sender's clock, and sign each delivery when it is sent.",
            code="signature_expired",
        )
    expected = [_digest(secret, timestamp, body) for secret in secrets]
    # Every pair is compared, in constant time, so the time taken tells nothing about
    # which secret or which prefix came close.
    matches = [
        hmac.compare_digest(digest, signature) for digest in expected for signature in signatures
    ]
    if not any(matches):
        raise SignatureRefused(
            "The signature does not match the body under any configured secret.",
            code="signature_mismatch",
        )


def _digest(secret: str, timestamp: int, body: bytes) -> str:
    signed = f"{timestamp}.".encode() + body
    return hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()


# Unix seconds have 10 digits until the year 2286. A longer number is no time: compared with
# the clock as a float, ≥ 309 digits overflowed into a 500 for anyone without a secret.
TIMESTAMP_MAX_DIGITS = 12


def _parse_header(header: str) -> tuple[int, list[str]]:
    timestamp: int | None = None
    signatures: list[str] = []
    for part in header.split(","):
        name, _, value = part.strip().partition("=")
        if (
            name == "t"
            and value.isascii()
            and value.isdigit()
            and len(value) <= TIMESTAMP_MAX_DIGITS
        ):
            timestamp = int(value)
        elif name == "v1" and value:
            signatures.append(value.lower())
    if timestamp is None or not signatures:
        raise SignatureRefused(
            f"The {SIGNATURE_HEADER} header needs 't=<unix seconds>' and at least one 'v1=<hex>'.",
            code="signature_malformed",
        )
    return timestamp, signatures


# --- what the events carry -----------------------------------------------------------------


OrderNumber = Annotated[str, Field(min_length=1, max_length=32), STORABLE]
Sku = Annotated[str, Field(min_length=1, max_length=32), STORABLE]
Username = Annotated[str, Field(min_length=1, max_length=150), STORABLE]
Reference = Annotated[str, Field(min_length=1, max_length=100), STORABLE]
Carrier = Annotated[str, Field(min_length=1, max_length=60), STORABLE]
TrackingNumber = Annotated[str, Field(min_length=1, max_length=60), STORABLE]
Reason = Annotated[str, Field(min_length=1, max_length=200), STORABLE]
Subject = Annotated[str, Field(min_length=1, max_length=200), STORABLE]
Description = Annotated[str, Field(min_length=1, max_length=2000), STORABLE]
# Leaves room in a message (MESSAGE_BODY_MAX_CHARS) for the line with the event's time.
NoticeBody = Annotated[str, Field(min_length=1, max_length=8000), STORABLE]
Currency = Annotated[str, Field(pattern=r"^[A-Z]{3}$")]
# PositiveIntegerField's range on every database.
Cents = Annotated[WholeNumber, Field(ge=1, le=2_147_483_647)]
Quantity = Annotated[WholeNumber, Field(ge=1, le=10_000)]


class Strict(BaseModel):
    # A misspelt optional field would otherwise vanish silently; a blank carrier or
    # reason would make a message with a hole in it.
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrderItemData(Strict):
    sku: Sku
    quantity: Quantity = 1
    unit_price_cents: Cents


class OrderPlacedData(Strict):
    order_number: OrderNumber
    # The buyer's username in the Message Center.
    buyer: Username
    total_cents: Cents
    currency: Currency = "USD"
    items: Annotated[list[OrderItemData], Field(min_length=1, max_length=100)]


class OrderData(Strict):
    order_number: OrderNumber


class OrderShippedData(OrderData):
    carrier: Carrier
    tracking_number: TrackingNumber
    tracking_url: Annotated[pydantic.HttpUrl, Field(max_length=500)] | None = None
    estimated_delivery: Day | None = None


class OrderTrackingData(OrderData):
    # Which shipment, when an order travels in several; all of them otherwise.
    tracking_number: TrackingNumber | None = None


class OrderDelayedData(OrderData):
    new_estimate: Day
    reason: Reason


class OrderProblemData(OrderData):
    description: Description


class ReturnItemData(Strict):
    sku: Sku
    quantity: Quantity = 1


class ReturnRequestedData(OrderData):
    return_reference: Reference
    reason: Reason
    # What is being sent back (products by SKU, of this order): reserved as a return
    # started on the order page reserves them. None: the return covers no unit in
    # particular (docs/returns.md).
    items: Annotated[list[ReturnItemData], Field(min_length=1, max_length=100)] | None = None


class ReturnData(OrderData):
    return_reference: Reference
    # Optional words for the buyer: how to send it back, what happens next.
    note: Description | None = None


class RefundData(OrderData):
    amount_cents: Cents
    currency: Currency = "USD"
    reason: Reason
    return_reference: Reference | None = None


class MembershipData(Strict):
    user: Username
    until: Moment


class AccountNoticeData(Strict):
    user: Username
    subject: Subject
    body: NoticeBody


class EventEnvelope(Strict):
    id: Reference
    occurred_at: Moment


class OrderPlaced(EventEnvelope):
    type: Literal["order.placed"]
    data: OrderPlacedData


class OrderShipped(EventEnvelope):
    type: Literal["order.shipped"]
    data: OrderShippedData


class OrderOutForDelivery(EventEnvelope):
    type: Literal["order.out_for_delivery"]
    data: OrderTrackingData


class OrderDelivered(EventEnvelope):
    type: Literal["order.delivered"]
    data: OrderTrackingData


class OrderDelayed(EventEnvelope):
    type: Literal["order.delayed"]
    data: OrderDelayedData


class OrderProblem(EventEnvelope):
    type: Literal["order.problem"]
    data: OrderProblemData


class ReturnRequested(EventEnvelope):
    type: Literal["return.requested"]
    data: ReturnRequestedData


class ReturnApproved(EventEnvelope):
    type: Literal["return.approved"]
    data: ReturnData


class ReturnReceived(EventEnvelope):
    type: Literal["return.received"]
    data: ReturnData


class RefundIssued(EventEnvelope):
    type: Literal["refund.issued"]
    data: RefundData


class RefundFailed(EventEnvelope):
    type: Literal["refund.failed"]
    data: RefundData


class MembershipRenewed(EventEnvelope):
    type: Literal["membership.renewed"]
    data: MembershipData


class MembershipExpiring(EventEnvelope):
    type: Literal["membership.expiring"]
    data: MembershipData


class AccountNotice(EventEnvelope):
    type: Literal["account.notice"]
    data: AccountNoticeData


MarketplaceEventIn = Annotated[
    OrderPlaced
    | OrderShipped
    | OrderOutForDelivery
    | OrderDelivered
    | OrderDelayed
    | OrderProblem
    | ReturnRequested
    | ReturnApproved
    | ReturnReceived
    | RefundIssued
    | RefundFailed
    | MembershipRenewed
    | MembershipExpiring
    | AccountNotice,
    Field(discriminator="type"),
]
EVENT_SCHEMA: TypeAdapter[MarketplaceEventIn] = TypeAdapter(MarketplaceEventIn)
EVENT_TYPES: tuple[str, ...] = tuple(
    model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
    for model in EventEnvelope.__subclasses__()
)


def parse_event(payload: Any) -> MarketplaceEventIn:
    """The typed event, or the API's ValidationError (422 invalid_input) with each field's
    place in the body — without the union's tag: "data.carrier", not
    "order.shipped.data.carrier"."""
    try:
        return EVENT_SCHEMA.validate_python(payload)
    except pydantic.ValidationError as error:
        raise ValidationError(
            [
                {**detail, "loc": _location(detail)}
                for detail in error.errors(include_url=False, include_context=False)
            ]
        ) from None


def _location(detail: Any) -> tuple[Any, ...]:
    path = list(detail.get("loc", ()))
    if path and path[0] in EVENT_TYPES:
        path = path[1:]
    if not path and detail.get("type") in {"union_tag_invalid", "union_tag_not_found"}:
        path = ["type"]
    return ("body", *path)
