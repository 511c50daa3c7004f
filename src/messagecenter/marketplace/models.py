"""Just enough of the marketplace for messages to refer to: storefronts, products, orders,
shipments, returns and refunds. The operator's own systems stay the source of truth; these
rows are fed by them (order-event intake) and by the demo."""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from messagecenter.bidi import neutralise
from messagecenter.visible import has_visible_text


def validate_storefront_name(value: str) -> None:
    """A shop's name shows something: it is the seller's name on every message they send
    and "Sold by …" beside their products, and one of zero-width spaces or direction marks
    only was shown as nothing at all (as a display name was, accounts.models)."""
    if not has_visible_text(value):
        raise ValidationError(
            "A shop name needs at least one visible character: zero-width spaces, "
            "direction marks and spaces alone show nothing.",
            code="storefront_name_invisible",
        )


class Storefront(models.Model):
    """A seller's shop: the name buyers see as "Sold by …"."""

    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="storefront"
    )
    # Set in the admin (Marketplace → Storefronts); sellers do not rename their shop here.
    name = models.CharField(max_length=120, validators=[validate_storefront_name])
    slug = models.SlugField(max_length=120, unique=True)

    def __str__(self) -> str:
        return self.name


class Product(models.Model):
    storefront = models.ForeignKey(Storefront, on_delete=models.CASCADE, related_name="products")
    title = models.CharField(max_length=300)
    # The marketplace's catalogue number (ASIN-style), shown on product pages.
    sku = models.CharField(max_length=32, unique=True)
    description = models.TextField(blank=True)
    price_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="USD")

    def __str__(self) -> str:
        return self.title


class OrderStatus(models.TextChoices):
    PLACED = "placed", "Order placed"
    SHIPPED = "shipped", "Shipped"
    OUT_FOR_DELIVERY = "out_for_delivery", "Out for delivery"
    DELIVERED = "delivered", "Delivered"
    DELAYED = "delayed", "Delayed"
    PROBLEM = "problem", "Problem with order"
    CANCELLED = "cancelled", "Cancelled"


class Order(models.Model):
    # The number people quote to sellers and agents, e.g. 112-4839201-5521937.
    number = models.CharField(max_length=32, unique=True)
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="orders"
    )
    status = models.CharField(max_length=20, choices=OrderStatus.choices, default="placed")
    # When what the status says happened (the order event's occurred_at): a late event
    # about an earlier moment (a "shipped" arriving after "delivered") leaves it as it is.
    status_changed_at = models.DateTimeField(null=True, blank=True)
    placed_at = models.DateTimeField()
    total_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="USD")

    class Meta:
        indexes = [models.Index(fields=["buyer", "-placed_at"], name="order_buyer_recent")]

    def __str__(self) -> str:
        return self.number


class OrderItem(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="items")
    product = models.ForeignKey(Product, on_delete=models.PROTECT, related_name="+")
    # Kept at purchase time: who sold it and what it was called then.
    storefront = models.ForeignKey(Storefront, on_delete=models.PROTECT, related_name="+")
    title = models.CharField(max_length=300)
    quantity = models.PositiveIntegerField(default=1)
    unit_price_cents = models.PositiveIntegerField()

    def __str__(self) -> str:
        return f"{self.quantity} x {self.title}"


class Shipment(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="shipments")
    carrier = models.CharField(max_length=60)
    tracking_number = models.CharField(max_length=60)
    shipped_at = models.DateTimeField()
    estimated_delivery = models.DateField(null=True, blank=True)
    delivered_at = models.DateTimeField(null=True, blank=True)
    # The carrier's tracking page, when the marketplace's order events give one.
    tracking_url = models.URLField(max_length=500, blank=True)

    def __str__(self) -> str:
        return f"{self.carrier} {self.tracking_number}"


class ReturnStatus(models.TextChoices):
    REQUESTED = "requested", "Return requested"
    APPROVED = "approved", "Return approved"
    RECEIVED = "received", "Return received"
    REFUNDED = "refunded", "Refunded"
    # Shown to people as "declined": the seller declines a request, with a reason.
    REJECTED = "rejected", "Return declined"
    REPLACED = "replaced", "Replacement shipped"
    # Still open when the order's refunds reached what was paid (a guarantee claim's, the
    # marketplace's, another return's): they cover its items, nothing is left to refund
    # or replace (docs/returns.md).
    CLOSED = "closed", "Closed: order refunded in full"


class ReturnResolution(models.TextChoices):
    """What the buyer asks for in exchange for the items sent back."""

    REFUND = "refund", "Refund"
    REPLACEMENT = "replacement", "Replacement"


class ReturnReason(models.TextChoices):
    """The reasons a buyer chooses from on the order page (docs/returns.md). A return
    announced by the marketplace's events carries its own words instead (`reason`)."""

    DAMAGED = "damaged", "Arrived damaged"
    DEFECTIVE = "defective", "Doesn't work or is defective"
    WRONG_ITEM = "wrong_item", "Wrong item was sent"
    NOT_AS_DESCRIBED = "not_as_described", "Not as described"
    NO_LONGER_NEEDED = "no_longer_needed", "No longer needed"
    OTHER = "other", "Another reason"


class ReturnRequest(models.Model):
    """One return, whichever way it started: from the buyer's order page here (with its
    items, seller and reference made here) or announced by the marketplace's
    `return.requested` event. Later steps from either side find it by its reference
    (docs/returns.md)."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    status = models.CharField(max_length=16, choices=ReturnStatus.choices, default="requested")
    # In words, as the buyer chose it or as the marketplace's event said it.
    reason = models.CharField(max_length=200)
    # The buyer's choice on the order page; blank for a return announced by an event.
    reason_code = models.CharField(max_length=20, choices=ReturnReason.choices, blank=True)
    requested_at = models.DateTimeField()
    # The marketplace's name for the return (RMA number): how its later events (approved,
    # received, refunded) find this row. A return started here gets one made here.
    reference = models.CharField(max_length=100, blank=True)
    # The seller who decides, for a return started here (its items are all theirs); an
    # event's return names no items, so none.
    storefront = models.ForeignKey(
        Storefront, on_delete=models.PROTECT, null=True, blank=True, related_name="returns"
    )
    resolution = models.CharField(
        max_length=16, choices=ReturnResolution.choices, default=ReturnResolution.REFUND
    )
    # The buyer's own words to the seller: shown as theirs on the order page, never inside
    # an Official message.
    note = models.TextField(blank=True)
    # Why the seller declined; what the buyer is told to do with the parcel once approved.
    decline_reason = models.TextField(blank=True)
    instructions = models.TextField(blank=True)
    is_auto_approved = models.BooleanField(default=False)
    decided_at = models.DateTimeField(null=True, blank=True)
    received_at = models.DateTimeField(null=True, blank=True)
    # The form's key: a double click or a retry of the same request makes one return.
    idempotency_key = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "reference"],
                condition=~models.Q(reference=""),
                name="return_order_reference",
            ),
            models.UniqueConstraint(
                fields=["order", "idempotency_key"],
                condition=~models.Q(idempotency_key=""),
                name="return_order_idempotency_key",
            ),
        ]
        indexes = [
            models.Index(fields=["storefront", "-requested_at"], name="return_storefront_recent")
        ]

    def __str__(self) -> str:
        return f"Return for {self.order.number}: {self.get_status_display()}"


class ReturnItem(models.Model):
    """How many of one item of the order a return sends back."""

    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="items"
    )
    order_item = models.ForeignKey(OrderItem, on_delete=models.CASCADE, related_name="returned")
    quantity = models.PositiveIntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["return_request", "order_item"], name="return_item_once"
            ),
            models.CheckConstraint(
                condition=models.Q(quantity__gte=1), name="return_item_quantity"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.quantity} x {self.order_item.title}"


class ReturnPhoto(models.Model):
    """A photo (or PDF) the buyer gave with the return, checked and stored as message
    attachments are (settings.ATTACHMENT_TYPES, ATTACHMENT_MAX_BYTES)."""

    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.CASCADE, related_name="photos"
    )
    file = models.FileField(max_length=255)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.filename

    @property
    def download_name(self) -> str:
        """The name it is served under: as stored (store_attachments named it for its type
        and took the bidirectional controls off), without the controls a photo stored
        before that keeps."""
        return neutralise(self.filename) or "photo"

    @property
    def is_image(self) -> bool:
        return self.content_type.startswith("image/")


class RefundStatus(models.TextChoices):
    ISSUED = "issued", "Refund issued"
    FAILED = "failed", "Refund failed"


class Refund(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="refunds")
    return_request = models.ForeignKey(
        ReturnRequest, on_delete=models.SET_NULL, null=True, blank=True, related_name="refunds"
    )
    amount_cents = models.PositiveIntegerField()
    currency = models.CharField(max_length=3, default="USD")
    status = models.CharField(max_length=16, choices=RefundStatus.choices)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [
            # Never a double refund: the seller marking a return received here and the
            # marketplace's refund.issued event for it meet at this index, whichever
            # comes first and however close (docs/returns.md).
            models.UniqueConstraint(
                fields=["return_request"],
                condition=models.Q(status="issued", return_request__isnull=False),
                name="refund_issued_once_per_return",
            )
        ]

    def __str__(self) -> str:
        return f"Refund {self.amount_cents / 100:.2f} {self.currency} for {self.order.number}"


class MarketplaceEvent(models.Model):
    """One order event received from the marketplace's systems (docs/marketplace-events.md),
    kept so that a retry of the same event id returns the first result and changes nothing.
    Written in the same transaction as the state and the messages it produced."""

    # The sender's id for the event: unique, so concurrent deliveries of one event make
    # one row, and the loser of the race answers with the winner's result.
    event_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=40)
    occurred_at = models.DateTimeField()
    received_at = models.DateTimeField()
    # The event's JSON as it was sent: a retry must carry the same.
    payload = models.JSONField()
    # What the endpoint answered: the messages (and their conversations) it produced.
    result = models.JSONField(default=dict)

    class Meta:
        indexes = [models.Index(fields=["-received_at"], name="marketplace_event_recent")]

    def __str__(self) -> str:
        return f"{self.type} {self.event_id}"
