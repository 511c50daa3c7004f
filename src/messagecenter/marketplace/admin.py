from django.contrib import admin
from django.http import HttpRequest

from messagecenter.marketplace import models


class OrderItemInline(admin.TabularInline[models.OrderItem, models.Order]):
    model = models.OrderItem
    extra = 0
    raw_id_fields = ("product", "storefront")


class ShipmentInline(admin.TabularInline[models.Shipment, models.Order]):
    model = models.Shipment
    extra = 0


@admin.register(models.Order)
class OrderAdmin(admin.ModelAdmin[models.Order]):
    list_display = ("number", "buyer", "status", "placed_at", "total_cents")
    list_filter = ("status",)
    search_fields = ("number", "buyer__username", "buyer__email")
    raw_id_fields = ("buyer",)
    inlines = (OrderItemInline, ShipmentInline)


@admin.register(models.Storefront)
class StorefrontAdmin(admin.ModelAdmin[models.Storefront]):
    list_display = ("name", "slug", "seller")
    search_fields = ("name", "slug")
    raw_id_fields = ("seller",)


@admin.register(models.Product)
class ProductAdmin(admin.ModelAdmin[models.Product]):
    list_display = ("title", "sku", "storefront", "price_cents")
    search_fields = ("title", "sku")
    raw_id_fields = ("storefront",)


@admin.register(models.ReturnRequest)
class ReturnRequestAdmin(admin.ModelAdmin[models.ReturnRequest]):
    list_display = ("order", "reference", "status", "reason", "requested_at")
    list_filter = ("status",)
    raw_id_fields = ("order",)


@admin.register(models.Refund)
class RefundAdmin(admin.ModelAdmin[models.Refund]):
    list_display = ("order", "amount_cents", "status", "created_at")
    list_filter = ("status",)
    raw_id_fields = ("order", "return_request")


@admin.register(models.MarketplaceEvent)
class MarketplaceEventAdmin(admin.ModelAdmin[models.MarketplaceEvent]):
    """What the marketplace's systems sent, for support and debugging: a record, so
    nobody edits it (an edited event would no longer match its retries)."""

    list_display = ("event_id", "type", "occurred_at", "received_at")
    list_filter = ("type",)
    search_fields = ("event_id",)
    date_hierarchy = "received_at"

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
