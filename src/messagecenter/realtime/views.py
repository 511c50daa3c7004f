"""GET /api/v1/sync/stream: a person's event log as Server-Sent Events (docs/realtime.md).

An async view, so an idle stream costs a coroutine rather than a thread. It authenticates
like the JSON API (an API token, else the session), replays the log after the device's
position, then waits for wake-ups and reads the log again after each: the log is the
truth, pub/sub only wakes. Every few seconds it checks that the token or session is still
valid, so revoking a token or signing out ends the stream.
"""

import json
import time
from collections.abc import AsyncGenerator, AsyncIterator, Callable, Iterable
from dataclasses import dataclass

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.core.handlers.asgi import ASGIRequest
from django.db import close_old_connections
from django.http import HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.views.decorators.http import require_GET

from messagecenter.accounts.authentication import ApiTokenAuth
from messagecenter.accounts.queries import api_token_for_secret
from messagecenter.api_support import error_response
from messagecenter.errors import InvalidInput, NotAuthenticated, NotFound
from messagecenter.realtime import pubsub, queries
from messagecenter.realtime.models import UserEvent

# Milliseconds a browser's EventSource waits before reconnecting.
RETRY_MILLISECONDS = 2000
# Events read and sent at a time while replaying: small enough that a device dropping
# off mid-replay wastes little, large enough that a long backlog takes few reads.
STREAM_PAGE_SIZE = 100


@dataclass(frozen=True)
class Identity:
    user_id: int
    # Re-run every REALTIME_AUTH_CHECK_SECONDS: False ends the stream.
    is_still_valid: Callable[[], bool]


def _read_events(user_id: int, after: int, limit: int) -> queries.EventsPage:
    close_old_connections()
    return queries.events_after(user_id, after, limit)


def _is_still_valid(identity: Identity) -> bool:
    close_old_connections()
    return identity.is_still_valid()


# Short reads off the event loop in a shared pool (thread_sensitive=False), so a thousand
# open streams do not hold a thousand threads or database connections.
read_events = sync_to_async(_read_events, thread_sensitive=False)
is_still_valid = sync_to_async(_is_still_valid, thread_sensitive=False)


def _authenticate(request: HttpRequest) -> Identity:
    """As the API does (accounts/authentication.py): a request with an Authorization header
    is judged by it alone; otherwise the session."""
    if request.headers.get("Authorization") is not None:
        user = ApiTokenAuth()(request)
        assert user is not None  # a header that is present either authenticates or raises
        secret = request.headers["Authorization"].partition(" ")[2].strip()
        token_id = request.api_token.pk  # type: ignore[attr-defined]

        def token_is_valid() -> bool:
            found = api_token_for_secret(secret)
            return found is not None and found.pk == token_id

        return Identity(user.pk, token_is_valid)
    person = get_user(request)
    session_key = request.session.session_key
    if not person.is_authenticated or session_key is None:
        raise NotAuthenticated("Sign in, or send an API token: 'Authorization: Bearer <token>'.")
    user_id = person.pk
    session_store = type(request.session)

    def session_is_valid() -> bool:
        # A fresh look at the stored session: gone after sign-out (here or everywhere),
        # and get_user refuses it after a password change.
        probe = HttpRequest()
        probe.session = session_store(session_key)
        return bool(get_user(probe).pk == user_id)

    return Identity(user_id, session_is_valid)


def _position(request: HttpRequest) -> int:
    """Where the device stands: Last-Event-ID (an EventSource reconnecting) over ?after=."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("Last-Event-ID and after must be a sequence number (0 or more).")
    return int(raw)


@require_GET
async def event_stream(request: HttpRequest) -> HttpResponseBase:
    try:
        # A real stream (ASGI) authenticates in the shared pool: a thread-sensitive call
        # would keep a database connection for as long as the stream stays open. A WSGI
        # request answers at once, in its caller's thread (and, in tests, its transaction).
        shared_pool = isinstance(request, ASGIRequest)
        identity = await sync_to_async(_authenticate, thread_sensitive=not shared_pool)(request)
        after = _position(request)
    except (NotAuthenticated, InvalidInput, NotFound) as error:
        return error_response(error)
    messages: Iterable[str] | AsyncIterator[str]
    if isinstance(request, ASGIRequest):
        messages = _events(identity, after)
    else:
        # A WSGI server (pytest-django's live_server, `runserver`) cannot hold a stream
        # open without blocking a thread for ever: answer what is there now and end.
        # EventSource reconnects after `retry` with Last-Event-ID, which makes it a poll.
        messages = [f"retry: {RETRY_MILLISECONDS}\n\n", *await _backlog(identity, after)]
    response = StreamingHttpResponse(messages, content_type="text/event-stream; charset=utf-8")
    response["Cache-Control"] = "no-cache"
    # nginx and similar proxies: pass each message on at once, do not buffer the response.
    response["X-Accel-Buffering"] = "no"
    return response


async def _backlog(identity: Identity, after: int) -> list[str]:
    # In the request's own thread (thread_sensitive), whose connection the server closes at
    # the end of the request: a shared-pool thread would keep one open after it.
    page = await sync_to_async(queries.events_after)(identity.user_id, after, STREAM_PAGE_SIZE)
    if page.resync:
        return [_resync_message(page.last_sequence)]
    return [_event_message(event) for event in page.events]


async def _events(identity: Identity, after: int) -> AsyncGenerator[str]:
    """The stream's messages. Ends when the token or session stops being valid; a client
    disconnect cancels it (asyncio.CancelledError), and `subscribe` releases its waiter."""
    heartbeat_every = settings.REALTIME_HEARTBEAT_SECONDS
    check_every = settings.REALTIME_AUTH_CHECK_SECONDS
    yield f"retry: {RETRY_MILLISECONDS}\n\n"
    async with pubsub.subscribe(identity.user_id) as wakeup:
        next_heartbeat = time.monotonic() + heartbeat_every
        next_check = time.monotonic() + check_every
        while True:
            # Cleared before reading: a commit during the read rings again.
            wakeup.clear()
            page = await read_events(identity.user_id, after, STREAM_PAGE_SIZE)
            if page.resync:
                yield _resync_message(page.last_sequence)
            elif page.events:
                yield "".join(_event_message(event) for event in page.events)
            after = page.last_sequence
            if page.has_more:
                continue
            now = time.monotonic()
            await wakeup.wait(max(0.0, min(next_heartbeat, next_check) - now))
            now = time.monotonic()
            if now >= next_check:
                if not await is_still_valid(identity):
                    return
                next_check = now + check_every
            if now >= next_heartbeat:
                yield ": heartbeat\n\n"
                next_heartbeat = now + heartbeat_every


def _resync_message(last_sequence: int) -> str:
    return _message("resync", {"resync": True, "last_sequence": last_sequence}, last_sequence)


def _event_message(event: UserEvent) -> str:
    return _message(event.kind, event.payload, event.sequence)


def _message(kind: str, payload: object, sequence: int) -> str:
    data = json.dumps(payload, separators=(",", ":"), default=str)
    return f"id: {sequence}\nevent: {kind}\ndata: {data}\n\n"
