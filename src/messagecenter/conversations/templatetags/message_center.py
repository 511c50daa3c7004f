"""How conversations read on the pages: who one is with, when, whether it is muted, and
the Undo that follows a move to Trash."""

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from django import template
from django.conf import settings
from django.contrib.messages.storage.base import Message as Notice
from django.template import Context
from django.template.defaultfilters import filesizeformat
from django.urls import reverse
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import SafeString, mark_safe

from messagecenter.conversations import page_rows
from messagecenter.conversations.models import Attachment, Participant
from messagecenter.conversations.presentation import counterpart, message_url
from messagecenter.errors import AttachmentRefused
from messagecenter.rows import MAX_ID

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


# A notice that names a conversation to go to carries it in its tags, "conversation-link:5":
# a refused block in a guarantee claim links to the order's conversation where it works.
CONVERSATION_LINK_PREFIX = "conversation-link:"


def conversation_link_tags(conversation_id: int) -> str:
    return f"{CONVERSATION_LINK_PREFIX}{conversation_id}"


@register.filter
def notice_conversation(notice: Notice) -> int | None:
    """The conversation a notice links to (conversation_link_tags), or None."""
    tags = notice.extra_tags or ""
    if not tags.startswith(CONVERSATION_LINK_PREFIX):
        return None
    ids = _ids(tags.removeprefix(CONVERSATION_LINK_PREFIX))
    return ids[0] if ids else None


register.filter(counterpart)
# {% message_url conversation_id message_id %}: a link to one message.
register.simple_tag(message_url)


@register.inclusion_tag("conversations/_attachments.html")
def attachment_list(
    attachments: Sequence[Attachment], route: str = "attachment", *route_args: Any
) -> dict[str, Any]:
    """`{% attachment_list attachments %}`: a message's attachments as every page shows
    them (conversations/_attachments.html) — an image as a thumbnail that opens full size,
    each file as a download. `route` and its `route_args` before the attachment's id name
    the address that serves them: the Message Center's by default; the console's for a
    case (`"console-case-attachment" case.pk`), whose agents need not be in the
    conversation (docs/support.md#attachments-in-the-console)."""
    # Reversed once for the message: only the id changes.
    before, _, after = reverse(route, args=[*route_args, MAX_ID]).rpartition(str(MAX_ID))
    return {
        "attachment_links": [
            (attachment, f"{before}{attachment.pk}{after}") for attachment in attachments
        ]
    }


@register.filter
def muted_label(participant: Participant) -> str:
    """ "" when not muted now; else "Muted" or "Muted until <when>"."""
    return page_rows.muted_label(participant, timezone.now())


# Stand-ins for a report form's values while it is rendered once for a page: characters of
# Unicode's private use area, which no escaping changes and no template writes.
_REPORT_ACTION, _REPORT_PREFIX = "\ue000action\ue000", "\ue000prefix\ue000"


@register.simple_tag(takes_context=True)
def report_form(context: Context, action_url: str, prefix: str) -> SafeString:
    """support/_report_form.html, as `{% include … with action_url=… prefix=… %}` renders
    it, for each message of a conversation's page: rendered once per page with stand-ins,
    then copied with each message's values — an include per message was a tenth of the
    page's CPU (docs/benchmarks.md, "Pages beside their API calls")."""
    rendered = context.render_context.get(_REPORT_ACTION)
    if rendered is None:
        assert context.template is not None  # a tag renders inside a template
        template = context.template.engine.get_template("support/_report_form.html")
        with context.push(action_url=_REPORT_ACTION, prefix=_REPORT_PREFIX):
            rendered = template.render(context)
        context.render_context[_REPORT_ACTION] = rendered
    return mark_safe(  # the stand-ins are replaced by escaped values
        rendered.replace(_REPORT_ACTION, conditional_escape(action_url)).replace(
            _REPORT_PREFIX, conditional_escape(prefix)
        )
    )


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
        # Files under another field than the form's own (web/uploads.py).
        "unexpected_file",
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
