"""Conversations, their messages and each person's view of them.

The inbox never reads Conversation or Message to decide what to list: every person has a
Participant row per conversation carrying what the list needs, so listing is one ordered
index range scan whatever the person's size. See docs/conversations.md.
"""

from datetime import UTC, datetime
from typing import Any, ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.db.models.functions import Lower

from messagecenter.accounts.models import Role
from messagecenter.bidi import neutralise
from messagecenter.hub.boxes import Box, Folder, counter_key


class Kind(models.TextChoices):
    BUYER_SELLER = "buyer_seller", "Buyer–seller messages"
    ORDER_UPDATES = "order_updates", "Order updates"
    RETURNS = "returns", "Returns and refunds"
    CUSTOMER_SERVICE = "customer_service", "Customer service"
    CLAIM = "claim", "Guarantee claim"
    MEMBERSHIP = "membership", "Membership"
    PROMOTION = "promotion", "Promotion"
    NOTICE = "notice", "Important notice"


FOLDER_OF_KIND: dict[str, str] = {
    Kind.BUYER_SELLER: Folder.BUYER_SELLER,
    Kind.ORDER_UPDATES: Folder.ORDERS,
    Kind.RETURNS: Folder.RETURNS,
    Kind.CUSTOMER_SERVICE: Folder.CUSTOMER_SERVICE,
    Kind.CLAIM: Folder.CLAIMS,
    Kind.MEMBERSHIP: Folder.NOTICES,
    Kind.PROMOTION: Folder.PROMOTIONS,
    Kind.NOTICE: Folder.NOTICES,
}


# "Mute until I unmute": a date no one reaches, so "is it muted now" stays one comparison.
MUTED_INDEFINITELY = datetime(9999, 12, 31, tzinfo=UTC)


class Conversation(models.Model):
    kind = models.CharField(max_length=20, choices=Kind.choices)
    subject = models.CharField(max_length=200)
    # What it is about and between whom; the inbox shows these as the counterpart and card.
    buyer = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    storefront = models.ForeignKey(
        "marketplace.Storefront", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    product = models.ForeignKey(
        "marketplace.Product", on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    order = models.ForeignKey(
        "marketplace.Order",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="conversations",
    )
    # One conversation per topic ("questions from buyer 7 about product 12"): a unique key
    # makes "find or start" race-free.
    topic_key = models.CharField(max_length=120, unique=True, null=True, blank=True)
    created_at = models.DateTimeField()
    last_message = models.ForeignKey(
        "Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    last_message_at = models.DateTimeField(null=True, blank=True)
    message_count = models.PositiveIntegerField(default=0)

    class Meta:
        indexes: ClassVar = [
            # A person's conversations as a buyer, and a shop's, in id order: the jobs that
            # tell the other side of a suspended or erased account go through them a chunk
            # at a time (actions.tell_the_other_sides), each chunk an index range.
            models.Index(fields=["buyer", "id"], name="conversation_buyer_order"),
            models.Index(fields=["storefront", "id"], name="conversation_storefront_order"),
        ]

    def __str__(self) -> str:
        return self.subject

    @property
    def folder(self) -> str:
        return FOLDER_OF_KIND[self.kind]


class _JoinedOnConversation(models.ForeignObject):  # type: ignore[type-arg]
    """A relation to the rows that share the message's conversation: Django checks that
    a relation's target columns are unique (one row), which these are not, by design."""

    requires_unique_target = False


class Message(models.Model):
    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="messages"
    )
    # None: the marketplace itself (order updates, notices). Only system code sends those.
    sender = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    body = models.TextField()
    created_at = models.DateTimeField()
    # The client's key for "send once": a retry with the same key returns this message.
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 (NULL: no key)
    # The safety check's verdict on a message people sent each other (docs/safety.md):
    # "ok" or "warn" (a banner with the reasons; its links are never clickable), the
    # reasons as [{"category", "code", "text"}], whether contact details were masked in
    # `body`, and the rules' and settings' version that judged it. The marketplace's own
    # messages are "ok" with no version.
    safety_verdict = models.CharField(max_length=8, default="ok")
    safety_reasons = models.JSONField(default=list, blank=True)
    is_masked = models.BooleanField(default=False)
    safety_version = models.CharField(max_length=24, blank=True)
    # Arrived as a reply by e-mail (delivery/inbound): the conversation says "sent by e-mail".
    sent_by_email = models.BooleanField(default=False)
    # The seller's away message, posted for them when a buyer wrote while they are away
    # (actions/away.py): labelled "Automatic reply" wherever it is shown, never a response.
    is_automatic_reply = models.BooleanField(default=False)
    # Removed by customer service after a confirmed report (docs/safety.md#reports): no
    # recipient sees it any more; its sender still does, marked.
    removed_at = models.DateTimeField(null=True, blank=True)
    # Not a column: the Participant rows of the message's conversation, joined on its
    # conversation_id without the conversation's own row on the way (what
    # `conversation__participants` joins): one table fewer in the statements that filter
    # on the person's row (queries.visible_messages), for PostgreSQL's planner to order —
    # a fifth of a search's planning (docs/benchmarks.md). A join only: many rows match,
    # so it is never read as an attribute.
    conversation_participants = _JoinedOnConversation(
        "Participant",
        on_delete=models.DO_NOTHING,
        from_fields=["conversation"],
        to_fields=["conversation"],
        related_name="+",
    )
    # Not a column: set on the message a send with an idempotency key returns when an
    # earlier request with that key had sent it (actions._send_once); the API answers 200.
    found_by_idempotency_key = False

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="message_sender_idempotency_key",
            )
        ]
        indexes: ClassVar = [
            models.Index(fields=["conversation", "id"], name="message_conversation_order")
        ]

    def __str__(self) -> str:
        return f"Message {self.pk} in {self.conversation_id}"

    @property
    def is_official(self) -> bool:
        """From the marketplace or its staff. Sellers and buyers can never send as official,
        whatever their display name says: that is the anti-spoofing line users can trust."""
        return self.sender is None or self.sender.role in (Role.AGENT, Role.ADMIN)

    @property
    def is_warned(self) -> bool:
        return self.safety_verdict == "warn"

    @property
    def sender_name(self) -> str:
        if self.sender is None:
            return "Marketplace"
        return self.sender.public_name

    @property
    def listed_attachments(self) -> list["Attachment"]:
        """Its attachments in the order they were added: the list conversation_messages
        fetched for a whole page at once, else read now."""
        fetched: list[Attachment] | None = getattr(self, "fetched_attachments", None)
        if fetched is not None:
            return fetched
        return list(self.attachments.order_by("id"))


def attachment_path(instance: "Attachment", filename: str) -> str:
    # Never the uploader's name on disk: it is kept in `filename` for display only.
    return f"attachments/{instance.message.conversation_id}/{instance.sha256}"


# The extensions of the attachment types (settings.ATTACHMENT_TYPES), the usual one first.
EXTENSIONS = {
    "image/jpeg": (".jpg", ".jpeg"),
    "image/png": (".png",),
    "image/gif": (".gif",),
    "image/webp": (".webp",),
    "application/pdf": (".pdf",),
}


def filename_for_type(filename: str, content_type: str) -> str:
    """The uploader's name with the extension of the type found in the content: a GIF that
    is also JScript named "lib.js" becomes "lib.gif", a PNG named "photo.html"
    "photo.png" — a saved download is never opened as what its name pretends."""
    extensions = EXTENSIONS.get(content_type)
    if extensions is None:
        return filename
    stem, dot, extension = filename.rpartition(".")
    if dot and stem and f".{extension.lower()}" in extensions:
        return filename
    stem = stem if dot and stem else filename
    return stem[: 255 - len(extensions[0])] + extensions[0]


class Attachment(models.Model):
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="attachments")
    file = models.FileField(upload_to=attachment_path, max_length=255)
    filename = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveIntegerField()
    sha256 = models.CharField(max_length=64)

    def __str__(self) -> str:
        return self.filename

    @property
    def download_name(self) -> str:
        """The name it is served under — on pages, in the API, as the download's name —
        also for rows stored before names were fixed: with the extension of its type, and
        without bidirectional controls (store_attachments takes them off an upload's name;
        a row stored before it did keeps them)."""
        return filename_for_type(neutralise(self.filename) or "attachment", self.content_type)

    @property
    def is_image(self) -> bool:
        """Shown as a thumbnail: the type was decided by the content at upload, and only
        raster images are accepted (settings.ATTACHMENT_TYPES; never SVG, which can carry
        script)."""
        return self.content_type.startswith("image/")


class ParticipantRole(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"
    AGENT = "agent", "Agent"
    RECIPIENT = "recipient", "Recipient"


class Participant(models.Model):
    """One person's view of one conversation: which box and folder it is in, what they have
    read, and when it last moved. Every inbox query reads only this table's index."""

    conversation = models.ForeignKey(
        Conversation, on_delete=models.CASCADE, related_name="participants"
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="participations"
    )
    role = models.CharField(max_length=16, choices=ParticipantRole.choices)
    folder = models.CharField(max_length=20, choices=Folder.choices)
    box = models.CharField(max_length=10, choices=Box.choices, default=Box.INBOX)
    last_activity_at = models.DateTimeField()
    last_read_message = models.ForeignKey(
        Message, on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )
    unread_count = models.PositiveIntegerField(default=0)
    # False from a new message until the person opens the Message Center (or acts on it).
    is_seen = models.BooleanField(default=True)
    # Sellers: when the oldest buyer message still waiting for an answer arrived. Cleared
    # by replying (which records a ResponseTime) or by "No response needed".
    awaiting_response_since = models.DateTimeField(null=True, blank=True)
    # Sellers: when that wait is due — SELLER_RESPONSE_BUSINESS_DAYS business days of the
    # seller's calendar after it began (docs/escalation.md). Written and cleared with
    # awaiting_response_since, in the same statements.
    response_due_at = models.DateTimeField(null=True, blank=True)
    # The periodic sweep has seen the deadline pass and told the buyer (once per wait).
    is_response_overdue = models.BooleanField(default=False)
    # Buyer–seller conversations: a block between the two sides (docs/safety.md#blocking),
    # on each one's own row so the page and the lists read it without a query. Blocked by
    # the other side: their reply is refused (`blocked`), so none is offered — except a
    # seller's about the buyer's order, which still arrives. Either way a seller's wait in
    # the conversation is set aside (actions.set_aside_waits_between) until the unblock.
    is_blocked_by_other_side = models.BooleanField(default=False)
    has_blocked_other_side = models.BooleanField(default=False)
    trashed_at = models.DateTimeField(null=True, blank=True)
    muted_until = models.DateTimeField(null=True, blank=True)
    # Messages up to this id were deleted by this person (purged from Trash); a conversation
    # that comes back with a new message shows only what came after.
    history_after_message_id = models.BigIntegerField(default=0)
    # Has this person ever written in this conversation? Set by the send's own update of the
    # sender's row: a message to someone who never wrote back is a "first contact" for the
    # sending limits (docs/safety.md#sending-limits), told without reading any message.
    has_written = models.BooleanField(default=False)
    # Sellers: when their away message was last posted here as an automatic reply —
    # once per conversation per away period (User.away_from starts a period).
    away_replied_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(
                fields=["conversation", "user"], name="participant_one_per_user"
            ),
            # A later time cannot be read back into Python: one such row made the whole
            # conversation fail for everyone in it (messagecenter/moments.py).
            models.CheckConstraint(
                condition=Q(muted_until__lte=MUTED_INDEFINITELY),
                name="participant_muted_until_readable",
            ),
        ]
        indexes: ClassVar = [
            # All / Archive / Trash, newest first, keyset-paginated on (last_activity_at, id).
            models.Index(
                fields=["user", "box", "-last_activity_at", "-id"], name="participant_box_recent"
            ),
            # One topical folder of the inbox.
            models.Index(
                fields=["user", "folder", "box", "-last_activity_at", "-id"],
                name="participant_folder_recent",
            ),
            # The periodic purge of old Trash, across all users.
            models.Index(fields=["box", "trashed_at"], name="participant_trash_age"),
            # A seller's "Response needed" list, oldest first.
            models.Index(
                fields=["user", "awaiting_response_since"],
                condition=Q(awaiting_response_since__isnull=False),
                name="participant_response_needed",
            ),
            # The sweep of response deadlines that passed without an answer, across sellers.
            models.Index(
                fields=["response_due_at"],
                condition=Q(response_due_at__isnull=False, is_response_overdue=False),
                name="participant_response_due",
            ),
            # Opening the Message Center marks what is new as seen.
            models.Index(fields=["user"], condition=Q(is_seen=False), name="participant_unseen"),
        ]

    # Not a column: a list row's short status from conversations.hooks.row_statuses (a
    # customer-service conversation's case: "Waiting for us", "Answered", "Solved").
    row_status: Any = None

    def __str__(self) -> str:
        return f"{self.user_id} in {self.conversation_id}"

    def is_muted(self, now: datetime) -> bool:
        return self.muted_until is not None and self.muted_until > now

    @property
    def counter_key(self) -> str | None:
        return counter_key(self.box, self.folder)


class UnreadCounter(models.Model):
    """Conversations with unread messages, per person and folder (or Archive/Trash).
    Maintained by the actions in the same transaction as the change; never counted on read."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    key = models.CharField(max_length=20)
    conversations = models.IntegerField(default=0)

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "key"], name="unread_counter_one_per_key"),
            models.CheckConstraint(
                condition=Q(conversations__gte=0), name="unread_counter_not_negative"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.key}: {self.conversations}"


class ResponseTime(models.Model):
    """How long a seller took to answer a buyer: one row per answered wait, from the
    oldest unanswered buyer message to the seller's reply. Waits marked "No response
    needed" leave no row and do not count (docs/conversations.md)."""

    seller = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    conversation = models.ForeignKey(Conversation, on_delete=models.CASCADE, related_name="+")
    asked_at = models.DateTimeField()
    answered_at = models.DateTimeField()
    # The wait's deadline (None for answers recorded before deadlines existed): answered
    # after it counts as a late response (docs/escalation.md).
    due_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes: ClassVar = [
            models.Index(fields=["seller", "asked_at"], name="response_time_recent")
        ]

    def __str__(self) -> str:
        return f"{self.seller_id} answered in {self.answered_at - self.asked_at}"


SAVED_REPLY_TITLE_UNIQUE = "saved_reply_unique_title_without_case"


class SavedReply(models.Model):
    """A seller's reusable answer ("Shipping times", "Returns policy")."""

    seller = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="saved_replies"
    )
    title = models.CharField(max_length=80)
    body = models.TextField()
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            # "Shipping" and "shipping" are one title to the seller choosing from the list:
            # compared as LOWER(), as actions.seller_tools.save_reply's check compares
            # (Unicode case on PostgreSQL, ASCII-only on SQLite, like its lower()).
            # Surrounding white space never reaches the table: the action trims titles.
            models.UniqueConstraint(
                "seller",
                Lower("title"),
                name=SAVED_REPLY_TITLE_UNIQUE,
                violation_error_code="title_taken",
                violation_error_message="You already have a saved reply with that title.",
            )
        ]

    def __str__(self) -> str:
        return self.title


class AwayMessage(models.Model):
    """A seller's away message ("Back on the 14th…"): what the automatic reply says while
    they are away. When is on the seller's user row (User.away_from, away_until), which the
    send reads anyway; this row is read only when the seller is away. Checked as a message
    to a buyer is when saved (actions/away.py), its verdict kept for every reply posted."""

    seller = models.OneToOneField(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="away_message",
    )
    body = models.TextField()
    # The safety check's verdict on the text, as Message keeps it (the reply carries it).
    safety_verdict = models.CharField(max_length=8, default="ok")
    safety_reasons = models.JSONField(default=list, blank=True)
    is_masked = models.BooleanField(default=False)
    safety_version = models.CharField(max_length=24, blank=True)
    updated_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"Away message of {self.seller_id}"


class HiddenMessage(models.Model):
    """A message one person no longer sees: the person reported it (docs/safety.md#reports).
    The others in the conversation still see it until customer service removes it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    message = models.ForeignKey(Message, on_delete=models.CASCADE, related_name="+")
    hidden_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "message"], name="hidden_message_once")
        ]

    def __str__(self) -> str:
        return f"Message {self.message_id} hidden for {self.user_id}"
