"""How long Django took to answer, in a `Server-Timing: app;dur=<ms>` response header, so
benchmarks and browser developer tools see server-side time apart from the network and the
client (docs/benchmarks.md, docs/operations.md).

Outermost middleware: the figure covers every middleware, the view and its queries — and,
under `messagecenter serve`, the wait for a free thread of the pool (`asgi.py` notes when
the request reached the application) — not the HTTP parsing or sending the body. Two clock
reads and a header per request. Sync and async
capable, so it never makes Django hand an async view (the event stream) to a thread;
streaming responses are timed to the start of the stream."""

import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction
from django.http import HttpRequest
from django.http.response import HttpResponseBase

# The ASGI scope key (a2wsgi hands the scope on as environ["asgi.scope"]) holding the
# time.perf_counter() at which the request reached messagecenter.asgi.application.
RECEIVED_AT = "messagecenter.received_at"


class ServerTimingMiddleware:
    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self._timed_async(request)
        scope = request.META.get("asgi.scope")
        started = scope[RECEIVED_AT] if scope and RECEIVED_AT in scope else time.perf_counter()
        response: HttpResponseBase = self.get_response(request)
        return _stamped(response, started)

    async def _timed_async(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        awaitable: Awaitable[HttpResponseBase] = self.get_response(request)
        return _stamped(await awaitable, started)


def _stamped(response: HttpResponseBase, started: float) -> HttpResponseBase:
    response["Server-Timing"] = f"app;dur={(time.perf_counter() - started) * 1000:.2f}"
    return response
