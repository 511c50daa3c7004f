"""The conversations' API types that other apps' routes answer with too (a message sent
from a product page or an order is the same MessageOut as a reply)."""

from collections.abc import Callable
from datetime import datetime

from django.urls import reverse
from ninja import Schema, Status

from messagecenter.accounts.models import User
from messagecenter.api_support import Text
from messagecenter.conversations.models import Attachment, Message


class AttachmentOut(Schema):
    id: int
    filename: str
    # Decided by the file's content when it was uploaded.
    content_type: str
    size: int
    download_url: str


class SafetyReasonOut(Schema):
    category: str
    code: str
    text: str


class SafetyOut(Schema):
    """The safety check of a message people sent each other (docs/safety.md): show a warning
    with the reasons for "warn" and never make its links clickable; `is_masked`: contact
    details in `body` were replaced by "[contact details removed]"."""

    verdict: str
    reasons: list[SafetyReasonOut]
    is_masked: bool


class MessageOut(Schema):
    id: int
    conversation_id: int
    sender_name: str
    is_official: bool
    is_mine: bool
    # Arrived as a reply by e-mail (shown as "sent by e-mail").
    sent_by_email: bool
    # The seller's away message, posted for them while they are away: not their answer.
    is_automatic_reply: bool
    body: str
    created_at: datetime
    # When customer service removed it after a report (docs/safety.md#reports): only its
    # sender still reads it — the page says so beside it —, so only they see it set.
    removed_at: datetime | None
    attachments: list[AttachmentOut]
    safety: SafetyOut


# The hot outputs are built with model_construct: their values come typed from the models,
# and validating them again (ninja's attribute getter per field) was a fifth of a
# 25-message page's CPU time (docs/benchmarks.md, "The request path for reads").
def attachment_out(attachment: Attachment) -> AttachmentOut:
    return AttachmentOut.model_construct(
        id=attachment.pk,
        filename=attachment.download_name,
        content_type=attachment.content_type,
        size=attachment.size,
        download_url=reverse("api:download_attachment", args=[attachment.pk]),
    )


def message_out(message: Message, user: User) -> MessageOut:
    reasons = message.safety_reasons
    if reasons and message.sender_id == user.pk:
        # "You blocked <shop>. This message still reached you…" is its recipient's note:
        # the shop read it on its own message (the page never showed it them).
        reasons = [reason for reason in reasons if reason.get("category") != "blocked"]
    return MessageOut.model_construct(
        id=message.pk,
        conversation_id=message.conversation_id,
        sender_name=message.sender_name,
        is_official=message.is_official,
        is_mine=message.sender_id == user.pk,
        sent_by_email=message.sent_by_email,
        is_automatic_reply=message.is_automatic_reply,
        body=message.body,
        created_at=message.created_at,
        removed_at=message.removed_at,
        attachments=[attachment_out(attachment) for attachment in message.listed_attachments],
        safety=SafetyOut(
            verdict=message.safety_verdict,
            reasons=[SafetyReasonOut(**reason) for reason in reasons],
            is_masked=message.is_masked,
        ),
    )


class MessageIn(Schema):
    # 1–10,000 characters after trimming.
    body: Text


def sent(
    user: User, idempotency_key: str | None, send: Callable[[str | None], Message]
) -> Status[MessageOut]:
    """Send through `send` (one action, given the key), answering 201 for a new message and
    200 for a retry that found the message an earlier request with the key sent."""
    key = idempotency_key.strip() if idempotency_key is not None else None
    message = send(key)
    return Status(200 if message.found_by_idempotency_key else 201, message_out(message, user))
