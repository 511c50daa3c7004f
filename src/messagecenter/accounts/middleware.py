"""Middleware of accounts: private answers are never cached; signed-in browsers' last use."""

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import add_never_cache_headers

from messagecenter.accounts.actions import record_browser_use


class PrivatePagesMiddleware:
    """`Cache-Control: no-store, private` on every answer to a signed-in person or to an
    API token: after signing out, the back button or a shared computer's cache must not show
    someone's messages again."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Judged before the view: the answer to a sign-out is still the person's.
        is_private = request.user.is_authenticated or "Authorization" in request.headers
        response = self.get_response(request)
        if is_private or request.user.is_authenticated:
            add_never_cache_headers(response)
        return response


class BrowserUseMiddleware:
    """Keeps "Your devices" up to date: a signed-in browser's last use and place, written
    at most every BROWSER_USE_RESOLUTION (accounts.actions.record_browser_use)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = request.user
        # After the view: a sign-out has already removed the browser, a sign-in recorded it.
        if user.is_authenticated and request.session.session_key is not None:
            record_browser_use(request, user)
        return response
