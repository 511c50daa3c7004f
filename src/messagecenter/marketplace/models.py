"""Just enough of the marketplace for messages to refer to: storefronts, products, orders,
shipments, returns and refunds. The operator's own systems stay the source of truth; these
rows are fed by them (order-event intake) and by the demo."""

from django.conf import settings
from django.db import models


class Storefront(models.Model):
    """A seller's shop: the name buyers see as "Sold by …"."""

    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="storefront"
    )
    name = models.CharField(max_length=120)
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
    REJECTED = "rejected", "Return rejected"


class ReturnRequest(models.Model):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="returns")
    status = models.CharField(max_length=16, choices=ReturnStatus.choices, default="requested")
    reason = models.CharField(max_length=200)
    requested_at = models.DateTimeField()
    # The marketplace's own name for the return (RMA number): how its later events
    # (approved, received, refunded) find this row. Blank for returns made here.
    reference = models.CharField(max_length=100, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["order", "reference"],
                condition=~models.Q(reference=""),
                name="return_order_reference",
            )
        ]

    def __str__(self) -> str:
        return f"Return for {self.order.number}: {self.get_status_display()}"


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
