"""Each person's ordered, durable log of what changed in their Message Center.

Devices replay it from their last sequence number to converge (docs/realtime.md). Events
are written by the action that makes the change, in the same transaction, so a committed
change always has its event and a rolled-back one never does.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models


class EventKind(models.TextChoices):
    MESSAGE_CREATED = "message.created"
    CONVERSATION_READ = "conversation.read"
    CONVERSATION_UNREAD = "conversation.unread"
    CONVERSATION_ARCHIVED = "conversation.archived"
    CONVERSATION_MOVED_TO_INBOX = "conversation.moved_to_inbox"
    CONVERSATION_TRASHED = "conversation.trashed"
    CONVERSATION_RESTORED = "conversation.restored"
    CONVERSATION_DELETED = "conversation.deleted"
    CONVERSATION_MUTED = "conversation.muted"
    CONVERSATION_UNMUTED = "conversation.unmuted"
    CONVERSATION_NO_RESPONSE_NEEDED = "conversation.no_response_needed"
    # A wait set aside while an account was suspended came back when it was lifted.
    CONVERSATION_RESPONSE_NEEDED = "conversation.response_needed"
    MESSAGE_CENTER_SEEN = "message_center.seen"
    # One person's copy of a notice or promotion changed (notifications.actions): as for
    # conversations, so every device's lists and an open notice page follow it.
    BROADCAST_READ = "broadcast.read"
    BROADCAST_UNREAD = "broadcast.unread"
    BROADCAST_ARCHIVED = "broadcast.archived"
    BROADCAST_MOVED_TO_INBOX = "broadcast.moved_to_inbox"
    BROADCAST_TRASHED = "broadcast.trashed"
    BROADCAST_RESTORED = "broadcast.restored"
    BROADCAST_DELETED = "broadcast.deleted"
    # A customer-service case changed status or assignment (docs/support.md).
    CASE_UPDATED = "case.updated"


class EventStream(models.Model):
    """The last sequence number handed out to a person. Allocating with
    `UPDATE … SET last_sequence = last_sequence + 1 … RETURNING` holds the row lock until
    commit, so sequence order is commit order: a reader never sees 7 before 6 exists."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    last_sequence = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.user_id} at {self.last_sequence}"


class UserEvent(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    sequence = models.BigIntegerField()
    kind = models.CharField(max_length=40, choices=EventKind.choices)
    payload = models.JSONField()
    created_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "sequence"], name="user_event_sequence")
        ]
        # The retention purge's range scan (actions.purge_old_events): without it, every
        # run reads the whole table to find the old events.
        indexes: ClassVar = [models.Index(fields=["created_at"], name="user_event_created_at")]

    def __str__(self) -> str:
        return f"{self.user_id}#{self.sequence} {self.kind}"
