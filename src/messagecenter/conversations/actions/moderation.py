"""Messages taken out of sight after a report (docs/safety.md#reports): hidden for the
person who reported them at once, removed for every recipient when customer service
confirms the report. Called by support's report actions inside their transaction; the
rows stay (the sender still sees their own message, marked, and agents review it)."""

from collections.abc import Sequence
from datetime import datetime

from django.utils import timezone

from messagecenter.conversations.models import HiddenMessage, Message
from messagecenter.search.actions import remove_messages_from_mailboxes


def hide_messages_for(user_id: int, message_ids: Sequence[int]) -> None:
    """The person no longer sees or finds these messages (hiding twice is hiding once)."""
    if not message_ids:
        return
    now = timezone.now()
    HiddenMessage.objects.bulk_create(
        [HiddenMessage(user_id=user_id, message_id=pk, hidden_at=now) for pk in message_ids],
        ignore_conflicts=True,
    )
    remove_messages_from_mailboxes(message_ids, user_id=user_id)


def remove_messages(sender_id: int, message_ids: Sequence[int], *, now: datetime) -> int:
    """Nobody but their sender sees or finds these messages any more; returns how many
    were removed now (a message removed before keeps its first date)."""
    removed = Message.objects.filter(
        pk__in=message_ids, sender_id=sender_id, removed_at__isnull=True
    ).update(removed_at=now)
    remove_messages_from_mailboxes(message_ids, keep_user_id=sender_id)
    return removed
