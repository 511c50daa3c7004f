"""What the bulk bar and the API can do to selected notices and promotions, in one table."""

from collections.abc import Callable, Sequence
from typing import Any

from messagecenter.accounts.models import User
from messagecenter.notifications import actions

BROADCAST_ACTIONS: dict[str, Callable[[User, Sequence[Any]], int]] = {
    "read": actions.mark_broadcasts_read,
    "unread": actions.mark_broadcasts_unread,
    "archive": actions.archive_broadcasts,
    "inbox": actions.move_broadcasts_to_inbox,
    "trash": actions.trash_broadcasts,
    "restore": actions.restore_broadcasts,
    "delete": actions.delete_broadcasts,
}
