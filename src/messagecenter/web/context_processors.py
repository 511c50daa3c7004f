from typing import Any

from django.http import HttpRequest

from messagecenter.conversations.queries import unread_counts


def message_center_badge(request: HttpRequest) -> dict[str, Any]:
    """The unread badge in the header of every page: one read of maintained counters,
    done only when a template asks for it."""
    user = request.user
    if not user.is_authenticated:
        return {}
    return {"unread_counts": lambda: unread_counts(user)}
