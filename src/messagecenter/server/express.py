"""The express lane: a reply with a JSON body and an API token — `POST
/api/v1/conversations/{id}/messages`, the API's busiest write — and the badges with a token
— `GET /api/v1/folders`, which an app asks for on every screen — answered outside Django's
request handler and ninja's operation (docs/architecture.md, "The request path"; measured
in docs/benchmarks.md, "Sends: the express lane" and "Reads: the badges on the express
lane…"; decisions 0014 and 0016).

A send's own work is the action; around it, Django's handler (URL resolution, the
handler's middleware stack) and ninja's operation (parameters parsed through pydantic
models, authentication callbacks, the answer validated against its schema) took ≈ 0.5 ms
of the ≈ 2.9 ms of CPU a lone send cost its server process. Here the lane keeps everything
that decides the answer and skips only the dispatch:

- the same request object (a2wsgi's environ, Django's WSGIRequest) and the handler's
  signals (request_started, and request_finished from the response's close: the database
  connections go back to the pool, as after any request);
- what the middleware every token call goes through does — ServerTimingMiddleware and
  settings.TOKEN_CALL_MIDDLEWARE: the headers they add to every answer (security headers,
  CSP, X-Frame-Options, Cache-Control) are learned from them on a process's first reply,
  for each scheme, and given to each answer with its own Expires, Content-Length and
  Server-Timing; what they would turn away before the view (a Host not allowed, http
  where https is required) goes the main road; the person's time zone ends with the
  request;
- the operation's authentication, action and answer, and the API's exception handlers
  (`conversations.api.send_message_express`, `conversations.api.folders_express`); an
  unexpected error becomes Django's 500, and a refusal is logged as Django's handler logs
  it.

A request the lane does not take goes the main road untouched, its body handed on as it was
read: another method or path, a query string, an Authorization that is not a bearer token,
a reply's body that is not JSON of a known length (a multipart reply with files), a badges
call with a body, a header the choice reads sent twice, or one whose answer is a refusal of
its form (the API words those, field by field). tests/server/test_express.py sends the same
requests both ways and compares the answers (decisions 0014 and 0016).
"""

import contextvars
import functools
import io
import re
import time
from collections.abc import Callable
from typing import Any

from a2wsgi.wsgi import build_environ
from django.conf import settings
from django.contrib.auth.models import AnonymousUser
from django.core import signals
from django.core.exceptions import DisallowedHost
from django.core.handlers.exception import response_for_exception
from django.core.handlers.wsgi import WSGIRequest, get_script_name
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.urls import set_script_prefix
from django.utils import timezone
from django.utils.http import http_date
from django.utils.log import log_response
from ninja import Status

from messagecenter.api import api
from messagecenter.conversations.api import folders_express, send_message_express
from messagecenter.rows import MAX_ID
from messagecenter.server.loop_threads import LoopThreads
from messagecenter.server.threads import PREREAD_BYTES, asgi_headers, read_whole_body
from messagecenter.server.timing import RECEIVED_AT
from messagecenter.server.token_calls import API_PREFIX, middleware_chain

# The main road: the ASGI application every other request goes to.
type Application = Callable[[Any, Any, Any], Any]
# What a lane's view gives: the rest of its operation, to run inside the middleware: a
# Status of a schema, or an exception for the API's handlers.
type Answer = Callable[[HttpRequest], Status[Any]]
# A lane's view, with its path's parameters: the request's form read, and its answer — or
# None, having read nothing from the database, for the main road.
type LaneView = Callable[[HttpRequest], Answer | None]

_REPLY = re.compile(API_PREFIX + r"conversations/([0-9]{1,19})/messages")
_FOLDERS = API_PREFIX + "folders"
_JSON = frozenset({b"application/json", b"application/json; charset=utf-8"})
# The headers the lane's choice reads.
_JUDGED_BY = frozenset({b"authorization", b"content-type", b"content-length", b"transfer-encoding"})


def route(scope: dict[str, Any], path: str) -> LaneView | None:
    """The lane's view for this request, with its path's id, or None for the main road.
    Judged in the event loop from the method, path and headers alone."""
    if scope.get("query_string"):
        return None
    if scope["method"] == "GET":
        return _read_route(scope, path)
    if scope["method"] != "POST":
        return None
    match = _REPLY.fullmatch(path)
    if match is None or not 1 <= int(match[1]) <= MAX_ID:
        return None
    found = _judged_headers(scope)
    if (
        found is None
        or found.get(b"content-type", b"").lower() not in _JSON
        or not found.get(b"content-length", b"").isdigit()
        or int(found[b"content-length"]) > PREREAD_BYTES
    ):
        return None
    return functools.partial(send_message_express, conversation_id=int(match[1]))


def _read_route(scope: dict[str, Any], path: str) -> LaneView | None:
    """A read the lane takes: GET /folders (the badges, which an app asks for on every
    screen) with a bearer token and no body."""
    if path != _FOLDERS:
        return None
    found = _judged_headers(scope)
    if found is None or found.get(b"content-length", b"0") != b"0":
        return None
    return folders_express


def _judged_headers(scope: dict[str, Any]) -> dict[bytes, bytes] | None:
    """The headers the lane's choice reads, or None for the main road: one of them sent
    twice, a chunked body, an Authorization that is not a bearer token."""
    found: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        if name in _JUDGED_BY:
            if name in found:
                # Sent twice: Django joins the values ("text/plain,application/json"), and
                # the main road answers what that means (415, 401…).
                return None
            found[name] = value
    if b"transfer-encoding" in found or found.get(b"authorization", b"")[:7].lower() != b"bearer ":
        return None
    return found


class ExpressLane:
    """The lane's ASGI end: the body read in the event loop, a send answered on
    `threads`, the sends' own pool (SEND_THREADS, asgi.py; server/loop_threads.py): a send
    spends most of its time waiting for its batch, and on the main road's pool those waits
    took the threads of pages and reads and capped a batch at WEB_THREADS sends. A read is
    answered on `read_threads`, the main road's pool (WEB_THREADS): it holds a database
    connection for all of its time, as any read there. A request the lane hands back goes
    the main road, on its pool."""

    def __init__(
        self, main_road: Application, threads: LoopThreads, read_threads: LoopThreads
    ) -> None:
        self.main_road = main_road
        self.threads = threads
        self.read_threads = read_threads
        # The token calls' middleware around an empty answer: the headers they add to
        # every answer, learned from them once per process and scheme (HSTS is https's).
        self._learning = middleware_chain(
            ["messagecenter.server.timing.ServerTimingMiddleware", *settings.TOKEN_CALL_MIDDLEWARE],
            _empty_answer,
        )
        self._learned: dict[bool, list[tuple[str, str]]] = {}
        # SecurityMiddleware's redirect to https, read as it reads it: when a process starts.
        self.https_only: bool = settings.SECURE_SSL_REDIRECT

    async def __call__(
        self, scope: dict[str, Any], receive: Any, send: Any, view: LaneView
    ) -> None:
        body = await read_whole_body(receive)
        context = contextvars.copy_context()
        threads = self.read_threads if scope["method"] == "GET" else self.threads
        answered = await threads.run(
            functools.partial(context.run, self._answer, scope, body, view)
        )
        if answered is None:
            await self.main_road(scope, _replay(body, receive), send)
            return
        for message in answered:
            await send(message)

    def _answer(
        self, scope: dict[str, Any], body: bytes, view: LaneView
    ) -> list[dict[str, Any]] | None:
        # As the main road builds it (server/threads.py).
        environ: Any = build_environ(scope, io.BytesIO(body))  # type: ignore[arg-type]
        request = WSGIRequest(environ)
        # What TokenCallsMiddleware gives a token call: the API knows its person as
        # request.auth, never as request.user.
        request.user = AnonymousUser()
        if not self._goes_through(request):
            return None
        answer = view(request)
        if answer is None:
            return None
        learned = self._headers_of_token_calls(request)
        if learned is None:
            return None
        # From here as Django's WSGIHandler.
        set_script_prefix(get_script_name(environ))
        signals.request_started.send(sender=self.__class__, environ=environ)
        response: HttpResponse | None = None
        try:
            response = _answered(request, answer)
            content = b"".join(response)
        finally:
            # ApiTokenAuth activated the person's time zone: TimeZoneMiddleware's end.
            timezone.deactivate()
            # request_finished, as the main road's server sends it by closing the response.
            if response is not None:
                response.close()
            else:
                signals.request_finished.send(sender=self.__class__)
        if response.status_code >= 400:
            # As Django's handler: a refusal is logged (a 500 was, where it was made).
            log_response(
                "%s: %s", response.reason_phrase, request.path, response=response, request=request
            )
        own = list(response.items())
        names = {name.lower() for name, _ in own}
        headers = [
            *own,
            *((name, value) for name, value in learned if name.lower() not in names),
            # PrivatePagesMiddleware's Expires: the moment of the answer.
            ("Expires", http_date()),
            ("Content-Length", str(len(content))),
            ("Server-Timing", _server_timing(scope)),
        ]
        return [
            {
                "type": "http.response.start",
                "status": response.status_code,
                "headers": asgi_headers(headers),
            },
            {"type": "http.response.body", "body": content},
        ]

    def _goes_through(self, request: HttpRequest) -> bool:
        """What the token calls' middleware would turn away before the view — a Host not
        allowed (CommonMiddleware's 400), http where https is required (SecurityMiddleware's
        redirect) — goes the main road, which answers it."""
        try:
            request.get_host()
        except DisallowedHost:
            return False
        return request.is_secure() or not self.https_only

    def _headers_of_token_calls(self, request: HttpRequest) -> list[tuple[str, str]] | None:
        """None where the middleware did not let the empty answer through (a redirect a
        setting asks for, such as PREPEND_WWW): the main road answers."""
        secure = request.is_secure()
        learned = self._learned.get(secure)
        if learned is None:
            response = self._learning(request)
            if response.status_code != 200:
                return None
            learned = [
                (name, value)
                for name, value in response.items()
                if name.lower() not in _OF_EACH_ANSWER
            ]
            self._learned[secure] = learned
        return learned


# What differs from one answer to the next: made for each answer, never learned.
_OF_EACH_ANSWER = frozenset({"content-type", "content-length", "expires", "server-timing"})


def _answered(request: HttpRequest, answer: Answer) -> HttpResponse:
    try:
        result = answer(request)
        # As ninja answers a Status of a schema: its fields as Python values, its renderer.
        return api.create_response(request, result.value.model_dump(), status=result.status_code)
    except Exception as error:  # noqa: BLE001 (answered as the API and Django answer it)
        try:
            # A MessageCenterError's status and shape, by the API's handlers.
            return api.on_exception(request, error)
        except Exception as unexpected:  # noqa: BLE001
            # Anything else: Django's 500, logged and signalled as from any view.
            return response_for_exception(request, unexpected)


def _empty_answer(request: HttpRequest) -> HttpResponseBase:
    return HttpResponse(b"", content_type="application/json")


def _server_timing(scope: dict[str, Any]) -> str:
    # As ServerTimingMiddleware: from when the request reached the application.
    started = scope.get(RECEIVED_AT, time.perf_counter())
    return f"app;dur={(time.perf_counter() - started) * 1000:.2f}"


def _replay(body: bytes, receive: Any) -> Callable[[], Any]:
    """`receive` for the main road: the body already read, then the connection's own
    messages (a disconnect)."""
    sent = False

    async def replayed() -> dict[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        message: dict[str, Any] = await receive()
        return message

    return replayed
