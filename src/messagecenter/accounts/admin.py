from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.http import HttpRequest

from messagecenter.accounts.models import ApiToken, Passkey, User


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ("username", "email", "display_name", "role", "country", "is_staff")
    list_filter = ("role", "is_staff", "is_active", "country")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Marketplace", {"fields": ("role", "display_name", "country")}),
    )


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin[ApiToken]):
    """Read-only: tokens are made and revoked by their owners through the API, and their
    secrets exist nowhere to show."""

    list_display = ("name", "user", "prefix", "created_at", "last_used_at", "revoked_at")
    list_filter = ("revoked_at",)
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "name",
        "prefix",
        "secret_hash",
        "created_at",
        "last_used_at",
        "revoked_at",
    )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False


@admin.register(Passkey)
class PasskeyAdmin(admin.ModelAdmin[Passkey]):
    """Listed, and removable for someone who lost theirs (docs/accounts.md#passkeys); only
    their owner adds one, in their own browser."""

    list_display = ("name", "user", "created_at", "last_used_at")
    search_fields = ("name", "user__username")
    list_select_related = ("user",)
    readonly_fields = ("user", "name", "credential_id", "sign_count", "created_at", "last_used_at")
    exclude = ("public_key", "user_handle", "transports")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Passkey | None = None) -> bool:
        return False
