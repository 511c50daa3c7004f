from django.contrib import admin
from django.http import HttpRequest

from messagecenter.conversations import models


class ParticipantInline(admin.TabularInline[models.Participant, models.Conversation]):
    model = models.Participant
    extra = 0
    raw_id_fields = ("user", "last_read_message")
    readonly_fields = ("unread_count", "last_activity_at")


@admin.register(models.Conversation)
class ConversationAdmin(admin.ModelAdmin[models.Conversation]):
    """Staff can look; changes go through the actions so counters and event logs stay true."""

    list_display = ("subject", "kind", "buyer", "storefront", "order", "last_message_at")
    list_filter = ("kind",)
    search_fields = ("subject", "order__number", "topic_key")
    raw_id_fields = ("buyer", "storefront", "product", "order", "last_message")
    inlines = (ParticipantInline,)

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(models.Message)
class MessageAdmin(admin.ModelAdmin[models.Message]):
    list_display = ("id", "conversation", "sender", "created_at")
    search_fields = ("body",)
    raw_id_fields = ("conversation", "sender")

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False
