from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from messagecenter.errors import MessageCenterError
from messagecenter.safety import actions
from messagecenter.safety.models import Block, HeldMessage


@admin.register(HeldMessage)
class HeldMessageAdmin(admin.ModelAdmin[HeldMessage]):
    """Messages the safety check held: release delivers them through the send action, reject
    keeps them from ever arriving (docs/safety.md#hold)."""

    list_display = ("id", "sender", "status", "created_at", "reviewed_by")
    list_filter = ("status",)
    readonly_fields = (
        "sender",
        "held_as",
        "body",
        "reasons",
        "safety_version",
        "idempotency_key",
        "created_at",
        "status",
        "reviewed_by",
        "reviewed_at",
        "message",
    )
    actions = ("release", "reject")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Release: deliver the selected messages")
    def release(self, request: HttpRequest, queryset: QuerySet[HeldMessage]) -> None:
        for held in queryset:
            try:
                actions.release_held_message(request.user, held.pk)  # type: ignore[arg-type]
            except MessageCenterError as error:
                self.message_user(request, f"{held}: {error.message}", messages.ERROR)

    @admin.action(description="Reject: never deliver the selected messages")
    def reject(self, request: HttpRequest, queryset: QuerySet[HeldMessage]) -> None:
        for held in queryset:
            try:
                actions.reject_held_message(request.user, held.pk)  # type: ignore[arg-type]
            except MessageCenterError as error:
                self.message_user(request, f"{held}: {error.message}", messages.ERROR)


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin[Block]):
    list_display = ("blocker", "blocked", "created_at")
    raw_id_fields = ("blocker", "blocked")
