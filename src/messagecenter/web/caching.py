"""Signed-in pages are never kept by the browser: a page with state (a conversation's box,
the unread counts, the buttons that move it) must not come back from the cache after the
state changed, e.g. with the Back button after "Move to Trash"."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class NoStoreForSignedInPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = getattr(request, "user", None)
        if (
            user is not None
            and user.is_authenticated
            and not response.has_header("Cache-Control")
            and response.get("Content-Type", "").startswith("text/html")
        ):
            add_never_cache_headers(response)
        return response
