from collections.abc import Callable
from typing import Any

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from messagecenter.errors import MessageCenterError
from messagecenter.safety import actions, vocabulary_actions
from messagecenter.safety.models import Block, HeldMessage, VocabularyEntry, VocabularyRevision


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
        self._decide(
            request,
            queryset,
            actions.release_held_message,
            "Released 1 held message: it is delivered, with its warnings.",
            "Released {} held messages: they are delivered, with their warnings.",
        )

    @admin.action(description="Reject: never deliver the selected messages")
    def reject(self, request: HttpRequest, queryset: QuerySet[HeldMessage]) -> None:
        self._decide(
            request,
            queryset,
            actions.reject_held_message,
            "Rejected 1 held message: it will never be delivered.",
            "Rejected {} held messages: they will never be delivered.",
        )

    def _decide(
        self,
        request: HttpRequest,
        queryset: QuerySet[HeldMessage],
        decide: Callable[[Any, int], object],
        one: str,
        many: str,
    ) -> None:
        """Each selected message decided alone (one refused names itself), then how many
        were: said even when it worked, or a decision and a click that did nothing look the
        same to whoever reviews the queue."""
        done = 0
        for held in queryset:
            try:
                decide(request.user, held.pk)
            except MessageCenterError as error:
                self.message_user(
                    request, f"Held message {held.pk}: {error.message}", messages.ERROR
                )
            else:
                done += 1
        if done:
            self.message_user(request, one if done == 1 else many.format(done))


@admin.register(Block)
class BlockAdmin(admin.ModelAdmin[Block]):
    """Blocks are the customers' own (docs/safety.md#blocking): seen here, and removed as
    the blocker's unblock removes them — a block written or deleted as a bare row left the
    seller's waits between the two set aside, or back, against what the block says."""

    list_display = ("blocker", "blocked", "created_at")
    raw_id_fields = ("blocker", "blocked")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Block | None = None) -> bool:
        return False

    def delete_model(self, request: HttpRequest, obj: Block) -> None:
        actions.unblock(obj.blocker, obj.pk)

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[Block]) -> None:
        for made in queryset.select_related("blocker").order_by("id"):
            actions.unblock(made.blocker, made.pk)


@admin.register(VocabularyEntry)
class VocabularyEntryAdmin(admin.ModelAdmin[VocabularyEntry]):
    """The detector's vocabulary (docs/safety.md#vocabulary): each save is checked and
    normalised (a domain must be a domain) and publishes a new revision, which the next
    verdicts carry in their version; other processes follow within a minute."""

    list_display = ("value", "kind", "active", "updated_at")
    list_filter = ("kind", "active")
    search_fields = ("value",)
    fields = ("kind", "value", "active")

    def save_model(
        self, request: HttpRequest, obj: VocabularyEntry, form: Any, change: bool
    ) -> None:
        revision = vocabulary_actions.save_vocabulary_entry(request.user, obj)  # type: ignore[arg-type]
        if revision is not None:
            self.message_user(request, f"Published vocabulary revision {revision.number}.")

    def delete_model(self, request: HttpRequest, obj: VocabularyEntry) -> None:
        vocabulary_actions.remove_vocabulary_entries(request.user, [obj.pk])  # type: ignore[arg-type]

    def delete_queryset(self, request: HttpRequest, queryset: QuerySet[VocabularyEntry]) -> None:
        vocabulary_actions.remove_vocabulary_entries(
            request.user,  # type: ignore[arg-type]
            list(queryset.values_list("pk", flat=True)),
        )


@admin.register(VocabularyRevision)
class VocabularyRevisionAdmin(admin.ModelAdmin[VocabularyRevision]):
    """What the vocabulary was at each revision: a verdict's version "1.<revision>.<digest>"
    names the row that judged it. Written only by changes to the entries."""

    list_display = ("number", "created_at", "changed_by", "change")
    readonly_fields = ("number", "created_at", "changed_by", "change", "lists")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False
