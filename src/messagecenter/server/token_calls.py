"""A call to the JSON API with an `Authorization` header goes through the middleware that
can change its answer, not through the pages' whole stack (docs/architecture.md, "The
request path").

Such a call is judged by its header alone (accounts/authentication.py): the session never
authenticates it, so the session, its CSRF cookie, the messages of the next page, the
second factor pending on a session, a browser's last use, the static files, the pages' 404
and 403 pages, the clean-up of HTML and the sign-in limits' lockout page (nothing in the API
signs in with a password) cannot apply to it. Going through them cost ≈ 0.2 ms of CPU a
call (docs/benchmarks.md, "Token calls through their own middleware"), and each read the
session whenever a browser sent its cookie along.

`TokenCallsMiddleware`, right after ServerTimingMiddleware, sends such a call through
settings.TOKEN_CALL_MIDDLEWARE instead — the headers every answer carries (security headers,
Content-Security-Policy, X-Frame-Options), the host check and Content-Length, "private,
no-store" and the time zone's end — and from there to the same view-calling end as every
other request: Django's own, with URL resolution and the view and exception hooks of the
whole stack (CSRF's process_view passes the API's views, which are exempt; the API's errors
never reach ErrorPagesMiddleware). `ViewsMiddleware`, last in MIDDLEWARE, hands that end
over; it is not a step of its own.

A call without the header — the web pages' own scripts with the session and CSRF token,
and every page — goes through the whole stack as before.
"""

import threading
from collections.abc import Callable
from typing import cast

from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest
from django.http.response import HttpResponseBase
from django.utils.module_loading import import_string

API_PREFIX = "/api/v1/"

GetResponse = Callable[[HttpRequest], HttpResponseBase]

# Django builds a handler's middleware innermost first, in one thread: ViewsMiddleware
# leaves the view-calling end here and TokenCallsMiddleware, built after it, takes it.
_built = threading.local()


def is_token_call(request: HttpRequest) -> bool:
    return request.path_info.startswith(API_PREFIX) and "HTTP_AUTHORIZATION" in request.META


class TokenCallsMiddleware:
    def __init__(self, get_response: GetResponse) -> None:
        self.get_response = get_response
        views: GetResponse | None = getattr(_built, "views", None)
        _built.views = None
        if views is None:
            raise ImproperlyConfigured(
                "TokenCallsMiddleware needs messagecenter.server.token_calls.ViewsMiddleware "
                "last in MIDDLEWARE."
            )
        self.token_call = middleware_chain(settings.TOKEN_CALL_MIDDLEWARE, views)

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if is_token_call(request):
            # What AuthenticationMiddleware gives a request without a session: the API
            # knows the token's person as request.auth, never as request.user.
            request.user = AnonymousUser()
            return self.token_call(request)
        return self.get_response(request)


class ViewsMiddleware:
    """Last in MIDDLEWARE: hands Django's view-calling end to TokenCallsMiddleware and
    takes itself out of the stack."""

    def __init__(self, get_response: GetResponse) -> None:
        _built.views = get_response
        raise MiddlewareNotUsed


def middleware_chain(paths: list[str], views: GetResponse) -> GetResponse:
    """The middleware of `paths` around `views`, as Django builds MIDDLEWARE (each wrapped
    so that an exception becomes its error answer at that layer). Only a subsequence of
    MIDDLEWARE, in its order, and only middleware without view or exception hooks: those
    would need the handler's own lists, which this chain cannot join."""
    position = {path: index for index, path in enumerate(settings.MIDDLEWARE)}
    places = [position.get(path, -1) for path in paths]
    if -1 in places or places != sorted(places):
        raise ImproperlyConfigured("TOKEN_CALL_MIDDLEWARE must be part of MIDDLEWARE, in order.")
    handler = views
    for path in reversed(paths):
        middleware = import_string(path)(handler)
        hooks = ("process_view", "process_exception", "process_template_response")
        if any(hasattr(middleware, hook) for hook in hooks):
            raise ImproperlyConfigured(f"{path} has view or exception hooks: not for token calls.")
        # Synchronous middleware around a synchronous handler: the answer is no awaitable.
        handler = cast("GetResponse", convert_exception_to_response(middleware))
    return handler
