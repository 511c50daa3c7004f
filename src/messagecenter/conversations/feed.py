"""The conversations' feed of the Message Center (hub/feeds.py): their rows in its lists,
their maintained counters in its counts, and what opening it marks seen."""

from datetime import datetime

from messagecenter.accounts.models import User
from messagecenter.conversations import actions, queries
from messagecenter.hub.feeds import Feed


def _mark_seen(user: User, now: datetime, unseen: int) -> int:
    return actions.mark_seen(user)


CONVERSATIONS = Feed(
    name="conversation",
    rank=queries.CONVERSATION_RANK,
    # Conversation cursors stay `time~id`, the same as the API's conversation-only list.
    cursor_marker="",
    rows=queries.conversation_rows,
    count_sql=queries.counter_sql,
    fold_counts=queries.fold_counter_rows,
    mark_seen=_mark_seen,
)
