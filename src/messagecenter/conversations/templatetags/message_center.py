"""How conversations read on the pages: who one is with, when, whether it is muted, and
the Undo that follows a move to Trash."""

from collections.abc import Iterable
from dataclasses import dataclass

from django import template
from django.conf import settings
from django.contrib.messages.storage.base import Message as Notice
from django.template.defaultfilters import filesizeformat
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from messagecenter.conversations.models import (
    MUTED_INDEFINITELY,
    Participant,
    ParticipantRole,
)
from messagecenter.conversations.presentation import counterpart, last_message_preview
from messagecenter.errors import AttachmentRefused
from messagecenter.web.dates import full_time

register = template.Library()

# A confirmation that can be undone carries what to restore in its tags — conversations
# and notices or promotions, "undo-restore:3,4|7" — so the Undo button belongs to exactly
# that confirmation (two tabs trashing at once each undo their own) and restores all that
# its action moved.
UNDO_RESTORE_PREFIX = "undo-restore:"


@dataclass(frozen=True)
class UndoRestore:
    conversation_ids: list[int]
    broadcast_ids: list[int]

    def __bool__(self) -> bool:
        return bool(self.conversation_ids or self.broadcast_ids)


def undo_restore_tags(conversation_ids: Iterable[int], broadcast_ids: Iterable[int] = ()) -> str:
    return (
        UNDO_RESTORE_PREFIX
        + ",".join(str(value) for value in conversation_ids)
        + "|"
        + ",".join(str(value) for value in broadcast_ids)
    )


@register.filter
def undo_restore(notice: Notice) -> UndoRestore:
    tags = notice.extra_tags or ""
    if not tags.startswith(UNDO_RESTORE_PREFIX):
        return UndoRestore([], [])
    conversations, _, broadcasts = tags.removeprefix(UNDO_RESTORE_PREFIX).partition("|")
    return UndoRestore(_ids(conversations), _ids(broadcasts))


def _ids(values: str) -> list[int]:
    return [int(value) for value in values.split(",") if value.isdigit()]


register.filter(counterpart)
register.filter(last_message_preview)


@register.filter
def counterpart_is_official(participant: Participant) -> bool:
    """Whether the name `counterpart` shows gets the Official badge: a buyer, as a seller
    or an agent sees them, never does, even when the last message was the agent's own
    official reply."""
    last_message = participant.conversation.last_message
    if last_message is None or not last_message.is_official:
        return False
    is_serving_buyer = participant.role in (ParticipantRole.SELLER, ParticipantRole.AGENT)
    return not (is_serving_buyer and participant.conversation.buyer is not None)


@register.filter
def muted_label(participant: Participant) -> str:
    """ "" when not muted now; else "Muted" or "Muted until <when>"."""
    if not participant.is_muted(timezone.now()) or participant.muted_until is None:
        return ""
    if participant.muted_until >= MUTED_INDEFINITELY:
        return "Muted"
    return f"Muted until {full_time(participant.muted_until)}"


@register.simple_tag
def attachment_accept() -> str:
    """The file input's `accept`: a hint to the browser; the server decides by content."""
    return ",".join(settings.ATTACHMENT_TYPES)


@register.simple_tag
def attachment_limits() -> SafeString:
    """The file input's limits for the browser's own check before upload (site.js): the
    same numbers the server enforces, so a refused file is never sent."""
    return format_html(
        'data-max-bytes="{}" data-max-files="{}" data-max-megabytes="{}"',
        settings.ATTACHMENT_MAX_BYTES,
        settings.ATTACHMENTS_PER_MESSAGE,
        settings.ATTACHMENT_MAX_BYTES // 2**20,
    )


ATTACHMENT_ERRORS = frozenset(
    {
        "too_many_attachments",
        "attachment_too_large",
        "attachment_empty",
        "attachment_type_not_allowed",
    }
)


@register.filter
def is_attachment_error(error: object) -> bool:
    """A refusal that belongs on the file field rather than on the message: the limits
    above, and any file the safety checks refused (errors.AttachmentRefused)."""
    return isinstance(error, AttachmentRefused) or getattr(error, "code", None) in ATTACHMENT_ERRORS


@register.simple_tag
def attachment_help() -> str:
    return (
        f"Up to {settings.ATTACHMENTS_PER_MESSAGE} files, "
        f"{filesizeformat(settings.ATTACHMENT_MAX_BYTES)} each: "
        "JPEG, PNG, GIF or WebP images, or PDF documents."
    )
