from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from messagecenter.accounts.models import User


@admin.register(User)
class UserAdmin(BaseUserAdmin[User]):
    list_display = ("username", "email", "display_name", "role", "country", "is_staff")
    list_filter = ("role", "is_staff", "is_active", "country")
    fieldsets = (
        *(BaseUserAdmin.fieldsets or ()),
        ("Marketplace", {"fields": ("role", "display_name", "country")}),
    )
