"""The search document of each message (docs/search.md).

The full-text index over `tokens` is not part of the model: migration 0002 creates it for
the database in use — on SQLite an FTS5 table `search_index` reading this table (external
content) and kept in step by triggers on it; on PostgreSQL a generated tsvector column
`vector` with a GIN index. A later migration that makes SQLite rebuild this table drops
those triggers and must create them again.
"""

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
