from functools import cache
from typing import Any

from django.http import HttpRequest

from messagecenter.hub.queries import unread_counts


def message_center_badge(request: HttpRequest) -> dict[str, Any]:
    """The counters behind the header badge of every page (the "unseen" count) and any
    unread count a page shows: one read of maintained counters, done only when a template
    asks for it, and at most once per page however many places ask."""
    # Absent when a page is rendered before authentication ran (the 400 page for a
    # disallowed Host).
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"unread_counts": cache(lambda: unread_counts(user))}
