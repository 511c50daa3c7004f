"""Answers that belong to one person are never kept by a browser's or a proxy's cache."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers


class PrivatePagesMiddleware:
    """`Cache-Control: no-store, private` on every answer to a signed-in person or to an
    API token: after signing out, the back button or a shared computer's cache must not show
    someone's messages again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated or "Authorization" in request.headers:
            add_never_cache_headers(response)
        return response
