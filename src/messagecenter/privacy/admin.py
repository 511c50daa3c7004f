"""The admin's side of erasure (docs/privacy.md#erasure): "Erase the selected people" on
the people's list, and each Erasure with what was removed and what was kept, and why."""

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils.html import format_html_join

from messagecenter.accounts.admin import UserAdmin
from messagecenter.accounts.models import User
from messagecenter.errors import MessageCenterError
from messagecenter.privacy.erasure import erase_person
from messagecenter.privacy.models import Erasure


@admin.register(Erasure)
class ErasureAdmin(admin.ModelAdmin[Erasure]):
    list_display = ("pseudonym", "erased_at", "erased_by")
    readonly_fields = ("pseudonym", "erased_at", "erased_by", "removed_list", "kept_list")
    fields = readonly_fields

    @admin.display(description="Removed")
    def removed_list(self, erasure: Erasure) -> str:
        return (
            format_html_join("\n", "<div>{}: {}</div>", sorted(erasure.removed.items()))
            or "Nothing"
        )

    @admin.display(description="Kept, and why")
    def kept_list(self, erasure: Erasure) -> str:
        return format_html_join(
            "\n",
            "<div><strong>{} ({})</strong>: {}</div>",
            ((kept["what"], kept["count"], kept["why"]) for kept in erasure.kept),
        )

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Erasure | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Erasure | None = None) -> bool:
        return False


@admin.action(description="Erase the selected people (at their request; cannot be undone)")
def erase_selected(model_admin: UserAdmin, request: HttpRequest, people: QuerySet[User]) -> None:
    for person in people:
        try:
            erasure = erase_person(request.user, person)  # type: ignore[arg-type]
        except MessageCenterError as refused:
            model_admin.message_user(request, f"{person}: {refused.message}", messages.ERROR)
        else:
            model_admin.message_user(
                request, f"Erased, now {erasure.pseudonym}: see Privacy → Erasures."
            )


# Accounts sits below privacy and cannot name this action: privacy adds it to the people's
# list when the admin loads.
UserAdmin.actions = (*(UserAdmin.actions or ()), erase_selected)  # type: ignore[misc]
