"""Reads for e-mail delivery: the reference checker and the development mailbox."""

from dataclasses import dataclass

from django.urls import reverse

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Box, Participant
from messagecenter.delivery import references
from messagecenter.delivery.models import MailboxEmail
from messagecenter.errors import NotFound
from messagecenter.notifications.queries import access_broadcast


@dataclass(frozen=True)
class CheckedReference:
    """A reference found among the person's own messages: where to see it."""

    reference: str
    subject: str
    url: str


def find_reference(user: User, text: str) -> CheckedReference | None:
    """The message or broadcast a reference names, if it is the person's: the same None
    for a made-up reference, someone else's, and one they deleted."""
    parsed = references.parse(text)
    if parsed is None:
        return None
    canonical = (
        references.for_message(parsed.object_id)
        if parsed.kind == references.MESSAGE
        else references.for_broadcast(parsed.object_id)
    )
    if parsed.kind == references.MESSAGE:
        # Through the person's own participation: someone else's message, or one from
        # before they deleted the conversation, is not found.
        participant = (
            Participant.objects.filter(user=user, conversation__messages__pk=parsed.object_id)
            .exclude(box=Box.DELETED)
            .select_related("conversation")
            .first()
        )
        if participant is None or parsed.object_id <= participant.history_after_message_id:
            return None
        return CheckedReference(
            canonical,
            participant.conversation.subject,
            reverse("conversation", args=[participant.conversation_id])
            + f"#message-{parsed.object_id}",
        )
    try:
        item = access_broadcast(user, parsed.object_id)
    except NotFound:
        return None
    return CheckedReference(canonical, item.broadcast.subject, reverse("broadcast", args=[item.pk]))


def mailbox_page(limit: int = 200) -> list[MailboxEmail]:
    return list(MailboxEmail.objects.defer("raw").order_by("-received_at", "-pk")[:limit])
