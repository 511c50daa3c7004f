"""The admin's side of erasure (docs/privacy.md#erasure): "Erase the selected people" on
the people's list (after a page that lists them), and each Erasure with what was removed
and what was kept, and why."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.db.models import QuerySet
from django.http import HttpRequest
from django.template.response import TemplateResponse
from django.utils.html import format_html_join

from messagecenter.accounts.admin import UserAdmin
from messagecenter.accounts.models import User
from messagecenter.errors import MessageCenterError
from messagecenter.privacy.erasure import erase_person, refusal
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
def erase_selected(
    model_admin: UserAdmin, request: HttpRequest, people: QuerySet[User]
) -> TemplateResponse | None:
    """Like the admin's own "Delete", in two steps: a page listing who would be erased (and
    who would not, and why) first, since an erasure cannot be undone; its button sends the
    same action back with `post`, and only then are they erased."""
    operator: User = request.user  # type: ignore[assignment]
    if not request.POST.get("post"):
        return _confirmation(model_admin, request, people, operator)
    for person in people:
        try:
            erasure = erase_person(operator, person)
        except MessageCenterError as refused:
            # By username, as the page listed them: an agent's or admin's str() is the
            # public "Customer Service".
            model_admin.message_user(
                request, f"{person.get_username()}: {refused.message}", messages.ERROR
            )
        else:
            model_admin.message_user(
                request, f"Erased, now {erasure.pseudonym}: see Privacy → Erasures."
            )
    return None


def _confirmation(
    model_admin: UserAdmin, request: HttpRequest, people: QuerySet[User], operator: User
) -> TemplateResponse:
    listed = [(person, refusal(operator, person)) for person in people.order_by("username")]
    request.current_app = model_admin.admin_site.name
    return TemplateResponse(
        request,
        "admin/privacy/erase_selected_confirmation.html",
        {
            **model_admin.admin_site.each_context(request),
            "opts": model_admin.opts,
            "title": "Erase these people?",
            "subtitle": None,
            # Only they are sent back with the button: the page erases whom it lists.
            "to_erase": [person for person, refused in listed if refused is None],
            "refused": [
                (person, refused.message) for person, refused in listed if refused is not None
            ],
            "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
            "media": model_admin.media,
        },
    )


# Accounts sits below privacy and cannot name this action: privacy adds it to the people's
# list when the admin loads.
UserAdmin.actions = (*(UserAdmin.actions or ()), erase_selected)  # type: ignore[misc]
