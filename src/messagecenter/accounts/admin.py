from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm
from django.core.exceptions import ValidationError
from django.forms import ModelForm
from django.http import HttpRequest

from messagecenter.accounts import closed_accounts, suspensions
from messagecenter.accounts.models import ApiToken, Passkey, User


class UserChangeForm(BaseUserChangeForm[User]):
    def clean_is_active(self) -> bool:
        """An erased account is closed for good (docs/privacy.md#erasure): made active
        again, what is left of it would be back in its sellers' lists and on their pages
        as a buyer who can be written to, though nobody is there to read."""
        active: bool = self.cleaned_data["is_active"]
        account = self.instance
        if active and not account.is_active and closed_accounts.was_erased(account):
            raise ValidationError(
                "This account was erased at its owner's request: it is closed for good and "
                "cannot be made active again."
            )
        return active


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    form = UserChangeForm
    list_display = ("username", "email", "display_name", "role", "country", "is_staff")
    list_filter = ("role", "is_staff", "is_active", "country")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Marketplace", {"fields": ("role", "display_name", "country")}),
    )

    def save_model(
        self, request: HttpRequest, obj: User, form: ModelForm[User], change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        # Unticking "active" suspends the account, ticking it again lifts the suspension:
        # the same steps as customer service's, in the admin's transaction.
        if change and "is_active" in form.changed_data:
            suspensions.follow_active_change(obj)


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
