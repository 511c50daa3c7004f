"""What the Message Center's bulk bar and the API's "act on selected conversations" can
do, in one table (docs/conversations.md): each action with the words of its confirmation.
The page's mute buttons and the API's mute_for are the same mute periods."""

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions


@dataclass(frozen=True)
class BulkAction:
    run: Callable[[User, Sequence[Any]], int]
    # Completes "2 conversations …" in the confirmation.
    done: str
    # Anyone else gets the 404 of an action that does not exist for them (pages), or the
    # action's own sellers_only (API).
    is_for_sellers: bool = False


@dataclass(frozen=True)
class MutePeriod:
    length: timedelta | None
    done: str

    def until(self) -> datetime | None:
        return None if self.length is None else timezone.now() + self.length


# "forever": until the person unmutes.
MUTE_PERIODS: dict[str, MutePeriod] = {
    "1d": MutePeriod(timedelta(days=1), "muted for 1 day"),
    "7d": MutePeriod(timedelta(days=7), "muted for 7 days"),
    "forever": MutePeriod(None, "muted until you unmute them"),
}


def _mute_for(period: MutePeriod) -> Callable[[User, Sequence[Any]], int]:
    def mute(user: User, conversation_ids: Sequence[Any]) -> int:
        return actions.mute_conversations(user, conversation_ids, until=period.until())

    return mute


BULK_ACTIONS: dict[str, BulkAction] = {
    "read": BulkAction(actions.mark_read, "marked as read"),
    "unread": BulkAction(actions.mark_unread, "marked as unread"),
    "archive": BulkAction(actions.archive_conversations, "archived"),
    "inbox": BulkAction(actions.move_to_inbox, "moved to the inbox"),
    "trash": BulkAction(actions.trash_conversations, "moved to Trash"),
    "restore": BulkAction(actions.restore_conversations, "restored"),
    "delete": BulkAction(actions.delete_conversations, "deleted for ever"),
    # The page's buttons for a mute of a set length; the API says mute_for instead.
    "mute-day": BulkAction(_mute_for(MUTE_PERIODS["1d"]), MUTE_PERIODS["1d"].done),
    "mute-week": BulkAction(_mute_for(MUTE_PERIODS["7d"]), MUTE_PERIODS["7d"].done),
    "mute": BulkAction(_mute_for(MUTE_PERIODS["forever"]), MUTE_PERIODS["forever"].done),
    "unmute": BulkAction(actions.unmute_conversations, "unmuted"),
    "no_response_needed": BulkAction(
        actions.mark_no_response_needed, "marked “No response needed”", is_for_sellers=True
    ),
}
