from django.contrib import admin
from django.http import HttpRequest

from messagecenter.realtime.models import UserEvent


@admin.register(UserEvent)
class UserEventAdmin(admin.ModelAdmin[UserEvent]):
    """Read-only: the log is written by actions only, so devices can trust it."""

    list_display = ("user", "sequence", "kind", "created_at")
    list_filter = ("kind",)
    search_fields = ("user__username",)
    raw_id_fields = ("user",)
    ordering = ("-id",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
