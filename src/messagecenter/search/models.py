"""The search document of each message (docs/search.md).

The full-text index over `tokens` is not part of the model: migration 0002 creates it for
the database in use — on SQLite an FTS5 table `search_index` reading this table (external
content) and kept in step by triggers on it; on PostgreSQL a generated tsvector column
`vector` with a GIN index. A later migration that makes SQLite rebuild this table drops
those triggers and must create them again.
"""

from typing import ClassVar

from django.conf import settings
from django.db import models

from messagecenter.conversations.models import Message


class SearchDocument(models.Model):
    """What a message is found by, written in the transaction that creates the message and
    deleted with it."""

    message = models.OneToOneField(
        Message, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # Subject, order number, sender's name and body: space-separated tokens (tokens.py).
    tokens = models.TextField()
    # The subject's and order number's tokens alone: a match there ranks higher.
    subject_tokens = models.TextField()
    # The sender's public name folded like tokens (shop or display name), one a line;
    # "marketplace" for the marketplace itself. The sender filter looks for a part of one.
    sender_names = models.TextField()

    def __str__(self) -> str:
        return f"Search document of message {self.message_id}"


class MailboxMessage(models.Model):
    """A message as it sits in one person's mailbox: one row per message and per person
    taking part in its conversation, with the time it was sent, so that a search can walk
    a person's messages newest first and stop at the first page of matches (docs/search.md).

    Written with the search document (in the sending transaction) for everyone in the
    conversation then; someone added to a conversation later gets its earlier messages
    with search.actions.add_to_mailboxes. Whether the person still sees a message (box,
    deleted history) is read from their Participant row at search time, so archiving,
    trashing and deleting write nothing here. Deleted with the message."""

    pk = models.CompositePrimaryKey("message_id", "user_id")
    message = models.ForeignKey(
        Message, on_delete=models.CASCADE, db_index=False, related_name="mailbox_entries"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, db_index=False, related_name="+"
    )
    # The message's created_at, copied so the walk needs only this table's index.
    created_at = models.DateTimeField()

    class Meta:
        indexes: ClassVar = [
            # A person's messages in search order: newest first, then the higher id.
            models.Index(fields=["user", "-created_at", "-message"], name="mailbox_newest_first")
        ]

    def __str__(self) -> str:
        return f"Message {self.message_id} in {self.user_id}'s mailbox"


class BroadcastDocument(models.Model):
    """What a broadcast (an important notice or a promotion) is found by: one document per
    broadcast, however many people its audience holds, written in the transaction that
    schedules it (broadcasts are never edited). Who may find it is decided when searching,
    from the audience rule and the person's own state (search/broadcasts.py), the way the
    Message Center lists broadcasts (fan-out on read).

    Its full-text index is migration 0004's: on SQLite the FTS5 table
    `broadcast_search_index` (external content, kept in step by triggers), on PostgreSQL a
    generated tsvector column `vector` with a GIN index, built like the messages' ones."""

    # By name: search never imports notifications (it sits below it), the table is theirs.
    broadcast = models.OneToOneField(
        "notifications.Broadcast", on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # Subject, "Marketplace" (the sender people see) and body: space-separated tokens.
    tokens = models.TextField()
    # The subject's tokens alone: a match there ranks higher.
    subject_tokens = models.TextField()

    def __str__(self) -> str:
        return f"Search document of broadcast {self.broadcast_id}"
