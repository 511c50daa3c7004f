"""Opening the Message Center: everything new is seen, so the header badge clears; each
conversation or broadcast stays unread until it is opened (docs/conversations.md)."""

from datetime import datetime

from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.hub.feeds import feeds
from messagecenter.hub.queries import MessageCenterCounts, message_center_counts


def mark_seen(
    user: User, *, now: datetime | None = None, counts: MessageCenterCounts | None = None
) -> int:
    """Every feed with something unseen marks it seen up to `now`. `counts`: the counts the
    page just read (else read now). Returns how many things were seen."""
    now = now or timezone.now()
    counts = counts or message_center_counts(user, now=now)
    return sum(
        feed.mark_seen(user, now, counts.unseen_by_feed[feed.name])
        for feed in feeds()
        if counts.unseen_by_feed.get(feed.name)
    )
