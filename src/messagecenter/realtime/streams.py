"""GET /api/v1/sync/stream: a person's event log as Server-Sent Events (docs/realtime.md).

Under ASGI the stream is served by `stream_application`, a raw ASGI app that
`messagecenter/asgi.py` routes this one path to, outside Django's request handler: that
handler keeps a thread per open response for its middleware, which is what a stream must
not cost. The request still passes through the project's middleware (run once, in the
shared thread pool, around the authentication), so it is judged and answered with the same
headers as any other request; then the stream holds a coroutine and a socket — no thread,
no database connection — until something happens.

One `Hub` per event loop (per server process) does the periodic work for all of its open
streams at once: every REALTIME_AUTH_CHECK_SECONDS one database call checks every
stream's token or session (ending the revoked ones) and every stream's position against its
person's newest sequence number (waking only those behind: the fallback for a lost
pub/sub wake-up); it has every stream send a heartbeat every REALTIME_HEARTBEAT_SECONDS,
a fifteenth of them at a time; and on a broadcast's announcement, or a nudge for an
audience, it asks once which of its people it is for.

Under WSGI (`runserver`, pytest-django's live_server) `views.event_stream` answers instead.
"""

import asyncio
import io
import json
import logging
import time
from collections.abc import Callable, Collection, Coroutine, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from functools import cache, wraps
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.conf import settings
from django.contrib.auth import get_user
from django.core.exceptions import MiddlewareNotUsed
from django.core.handlers.asgi import ASGIRequest
from django.core.handlers.exception import convert_exception_to_response
from django.db import DatabaseError, close_old_connections
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.http.response import HttpResponseBase
from django.utils import timezone
from django.utils.module_loading import import_string
from django.views.decorators.http import require_GET

from messagecenter.accounts.authentication import ApiTokenAuth
from messagecenter.api_support import error_response
from messagecenter.errors import InvalidInput, NotAuthenticated, NotFound
from messagecenter.realtime import pubsub, queries
from messagecenter.realtime.audiences import broadcast_audiences, nudge_audience
from messagecenter.realtime.models import UserEvent
from messagecenter.realtime.queries import StreamCredential

logger = logging.getLogger(__name__)

PATH = "/api/v1/sync/stream"
# Milliseconds a browser's EventSource waits before reconnecting.
RETRY_MILLISECONDS = 2000
# Events read and sent at a time while replaying: small enough that a device dropping
# off mid-replay wastes little, large enough that a long backlog takes few reads.
STREAM_PAGE_SIZE = 100
CONTENT_TYPE = "text/event-stream; charset=utf-8"
# After a failed read of the log, the stream tries again this much later.
READ_RETRY_SECONDS = 1.0
RETRY_MESSAGE = f"retry: {RETRY_MILLISECONDS}\n\n"
HEARTBEAT_MESSAGE = ": heartbeat\n\n"


# --- what both servers share: who is asking, from where, and the messages ---------------


def authenticate(request: HttpRequest) -> StreamCredential:
    """As the API does (accounts/authentication.py): a request with an Authorization header
    is judged by it alone; otherwise the session."""
    if request.headers.get("Authorization") is not None:
        user = ApiTokenAuth()(request)
        assert user is not None  # a header that is present either authenticates or raises
        token_id: int = request.api_token.pk  # type: ignore[attr-defined]
        return StreamCredential(user_id=user.pk, token_id=token_id)
    person = get_user(request)
    # Read after get_user, which may have given the session a new key.
    session_key = request.session.session_key
    if not person.is_authenticated or session_key is None:
        raise NotAuthenticated("Sign in, or send an API token: 'Authorization: Bearer <token>'.")
    return StreamCredential(user_id=person.pk, session_key=session_key)


def position_of(request: HttpRequest) -> int:
    """Where the device stands: Last-Event-ID (an EventSource reconnecting) over ?after=."""
    raw = request.headers.get("Last-Event-ID") or request.GET.get("after") or "0"
    if not raw.isascii() or not raw.isdigit() or len(raw) > 18:
        raise InvalidInput("Last-Event-ID and after must be a sequence number (0 or more).")
    return int(raw)


def stream_headers(response: HttpResponseBase) -> None:
    response["Cache-Control"] = "no-cache"
    # nginx and similar proxies: pass each message on at once, do not buffer the response.
    response["X-Accel-Buffering"] = "no"


def page_messages(page: queries.EventsPage) -> str:
    if page.resync:
        return resync_message(page.last_sequence)
    return "".join(event_message(event) for event in page.events)


def resync_message(last_sequence: int) -> str:
    return _message("resync", {"resync": True, "last_sequence": last_sequence}, last_sequence)


def event_message(event: UserEvent) -> str:
    return _message(event.kind, event.payload, event.sequence)


def broadcast_message(broadcast_id: int) -> str:
    # No `id:`: a broadcast is not in the person's log, and an id would move the position
    # an EventSource sends back as Last-Event-ID.
    return f"event: broadcast\ndata: {_json({'broadcast_id': broadcast_id})}\n\n"


def nudge_message(nudge: pubsub.Nudge) -> str:
    # No `id:` either: a nudge is in nobody's log.
    return f"event: {nudge.kind}\ndata: {_json(nudge.payload)}\n\n"


def _message(kind: str, payload: object, sequence: int) -> str:
    return f"id: {sequence}\nevent: {kind}\ndata: {_json(payload)}\n\n"


def _json(payload: object) -> str:
    return json.dumps(payload, separators=(",", ":"), default=str)


# --- opening a stream: the middleware, authentication, position (in the shared pool) ----


@dataclass(frozen=True)
class Opening:
    """The answer to a stream request: `response` carries the status and headers (with
    any cookie the middleware set); `credential` is None when it is a refusal."""

    response: HttpResponseBase
    credential: StreamCredential | None = None
    position: int = 0


@require_GET
def _open(request: HttpRequest) -> HttpResponseBase:
    try:
        credential = authenticate(request)
        position = position_of(request)
    except (NotAuthenticated, InvalidInput, NotFound) as error:
        return error_response(error)
    response = StreamingHttpResponse((), content_type=CONTENT_TYPE)
    stream_headers(response)
    # Picked up by `open_stream` once the middleware has seen the response.
    response.stream_opening = (credential, position)  # type: ignore[attr-defined]
    return response


@cache
def _through_middleware() -> Callable[[HttpRequest], HttpResponseBase]:
    """`_open` wrapped in settings.MIDDLEWARE, in synchronous mode, built once a process:
    the same checks (allowed hosts, …), session handling and security headers as every
    other request."""
    # As BaseHandler.load_middleware does: an exception in any layer becomes its response
    # (400 for a disallowed host, 500 …) rather than escaping.
    handler = convert_exception_to_response(_open)
    for path in reversed(settings.MIDDLEWARE):
        try:
            middleware = import_string(path)(handler)
        except MiddlewareNotUsed:
            # As Django: a middleware may take itself out (server/token_calls.py's end, which
            # hands `_open` to TokenCallsMiddleware, so a stream opened with a token skips
            # the session as the API's other calls do).
            continue
        handler = convert_exception_to_response(middleware)
    return cast(Callable[[HttpRequest], HttpResponseBase], handler)


def _open_stream(scope: dict[str, Any]) -> Opening:
    # What Django's request_started and request_finished signals do: a pool thread must
    # not keep a connection past its lifetime setting (PostgreSQL's goes back to the pool;
    # SQLite's is kept, CONN_MAX_AGE 600, one per thread of asyncio's small pool).
    close_old_connections()
    try:
        request = ASGIRequest(scope, io.BytesIO())
        response = _through_middleware()(request)
    finally:
        close_old_connections()
    opening = getattr(response, "stream_opening", None)
    if opening is None:
        return Opening(response)
    credential, position = opening
    return Opening(response, credential, position)


# Short calls off the event loop in the shared pool (thread_sensitive=False): a thousand
# open streams hold no thread and no database connection between them.
open_stream = sync_to_async(_open_stream, thread_sensitive=False)


def _released[**P, R](call: Callable[P, R]) -> Callable[P, R]:
    """A short database call from the shared thread pool: it gives its connection back
    (to PostgreSQL's pool, or closes SQLite's) when done, so idle pool threads hold none."""

    @wraps(call)
    def released(*args: P.args, **kwargs: P.kwargs) -> R:
        close_old_connections()
        try:
            return call(*args, **kwargs)
        finally:
            close_old_connections()

    return released


@_released
def _read_events(user_id: int, after: int) -> queries.EventsPage:
    return queries.events_after(user_id, after, STREAM_PAGE_SIZE)


read_events = sync_to_async(_read_events, thread_sensitive=False)


# --- open streams and their hub -----------------------------------------------------------


@dataclass(eq=False)
class OpenStream:
    """One open stream's state, shared with its hub. Everything is changed from the event
    loop only (pub/sub rings from other threads through `Wakeup.ring`)."""

    credential: StreamCredential
    position: int
    wakeup: pubsub.Wakeup
    heartbeat_due: bool = False
    is_ended: bool = False
    broadcasts: list[int] = field(default_factory=list)
    nudges: list[str] = field(default_factory=list)

    @property
    def user_id(self) -> int:
        return self.credential.user_id


@_released
def _check(
    credentials: Collection[StreamCredential], user_ids: Collection[int], since: datetime
) -> tuple[set[StreamCredential], dict[int, int], list[int]]:
    return (
        queries.signed_in(credentials),
        queries.newest_sequences(user_ids),
        broadcast_audiences().announced_since(since),
    )


@_released
def _recipients(broadcast_id: int, user_ids: Collection[int]) -> set[int]:
    return broadcast_audiences().recipients_among(broadcast_id, user_ids)


@_released
def _nudge_recipients(nudge: pubsub.Nudge, user_ids: Collection[int]) -> set[int]:
    return nudge_audience(nudge.kind)(nudge.payload, user_ids)


check = sync_to_async(_check, thread_sensitive=False)
recipients = sync_to_async(_recipients, thread_sensitive=False)
nudge_recipients = sync_to_async(_nudge_recipients, thread_sensitive=False)


# Heartbeats are spread over this many ticks of each interval, so 10,000 streams do not all
# wake and write in the same millisecond (which delays whatever arrives then).
HEARTBEAT_SLICES = 15


class Hub:
    """A process's (an event loop's) open streams and their periodic work."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self.loop = loop
        self.streams: set[OpenStream] = set()
        self._slices: list[set[OpenStream]] = [set() for _ in range(HEARTBEAT_SLICES)]
        self._next_slice = 0
        self._timer: asyncio.Task[None] | None = None
        self._backend: pubsub.Backend | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        # Broadcasts this hub has nudged its streams about, and since when it looks for
        # announcements pub/sub did not bring (see check).
        self._announced: dict[int, float] = {}
        self._announcements_since = timezone.now()

    def add(self, stream: OpenStream) -> None:
        self.streams.add(stream)
        self._slices[self._next_slice].add(stream)
        self._next_slice = (self._next_slice + 1) % HEARTBEAT_SLICES
        if self._backend is None:
            self._backend = pubsub.backend()
            self._backend.waiters.broadcast_listeners.add(self._on_announcement)
            self._backend.waiters.nudge_listeners.add(self._on_nudge)
        if self._timer is None or self._timer.done():
            self._timer = self.loop.create_task(self._tick(), name="realtime-hub")

    def remove(self, stream: OpenStream) -> None:
        self.streams.discard(stream)
        for heartbeat_slice in self._slices:
            heartbeat_slice.discard(stream)

    async def _tick(self) -> None:
        """Heartbeats and checks for every open stream; ends when the last one closes.
        Each tick sends the heartbeats of one slice of the streams: every stream gets one
        every REALTIME_HEARTBEAT_SECONDS."""
        tick_every = settings.REALTIME_HEARTBEAT_SECONDS / HEARTBEAT_SLICES
        check_every = settings.REALTIME_AUTH_CHECK_SECONDS
        next_tick = time.monotonic() + tick_every
        next_check = time.monotonic() + check_every
        current = 0
        try:
            while self.streams:
                await asyncio.sleep(max(0.0, min(next_tick, next_check) - time.monotonic()))
                if time.monotonic() >= next_tick:
                    for stream in self._slices[current]:
                        stream.heartbeat_due = True
                        stream.wakeup.nudge()
                    current = (current + 1) % HEARTBEAT_SLICES
                    next_tick += tick_every
                if time.monotonic() >= next_check:
                    try:
                        await self.check()
                    except DatabaseError:
                        # The next check comes soon; heartbeats must go on meanwhile.
                        logger.warning("could not check the open streams", exc_info=True)
                    next_check = time.monotonic() + check_every
        finally:
            if self._backend is not None and not self.streams:
                self._backend.waiters.broadcast_listeners.remove(self._on_announcement)
                self._backend.waiters.nudge_listeners.remove(self._on_nudge)
                self._backend = None

    async def check(self) -> None:
        """End the streams whose token or session is no longer valid; wake those whose
        person's log is ahead of them (a wake-up that was lost)."""
        streams = list(self.streams)
        if not streams:
            return
        # Clocks of other processes may be a little behind: look back a while, and let
        # `_announced` drop what was already nudged.
        since = self._announcements_since - ANNOUNCEMENT_OVERLAP
        self._announcements_since = timezone.now()
        valid, newest, announced = await check(
            {stream.credential for stream in streams},
            {stream.user_id for stream in streams},
            since,
        )
        for broadcast_id in announced:
            if broadcast_id not in self._announced:
                await self.announce(broadcast_id)
        for stream in streams:
            if stream.credential not in valid:
                stream.is_ended = True
                stream.wakeup.nudge()
            elif newest.get(stream.user_id, 0) > stream.position:
                stream.wakeup.ring_here()

    def _on_announcement(self, broadcast_id: int) -> None:
        """From any thread (pub/sub)."""
        self.loop.call_soon_threadsafe(self._announce, broadcast_id)

    def _announce(self, broadcast_id: int) -> None:
        self._spawn(self.announce(broadcast_id))

    def _on_nudge(self, nudge: pubsub.Nudge) -> None:
        """From any thread (pub/sub)."""
        self.loop.call_soon_threadsafe(self._spawn, self.deliver(nudge))

    def _spawn(self, work: Coroutine[Any, Any, None]) -> None:
        task = self.loop.create_task(work)
        # Held until done: the loop keeps only weak references to tasks.
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def deliver(self, nudge: pubsub.Nudge) -> None:
        """Send a nudge on the open streams of the people it is for: those it names, or
        those its kind's audience finds among them (one question, whatever the number of
        streams)."""
        here = {stream.user_id for stream in self.streams}
        if not here:
            return
        if nudge.user_ids is not None:
            targets = here.intersection(nudge.user_ids)
        else:
            try:
                targets = await nudge_recipients(nudge, here)
            except Exception:
                # A nudge only (see announce): the hub goes on serving the other streams.
                logger.exception("could not find the audience of a %s nudge", nudge.kind)
                return
        message = nudge_message(nudge)
        for stream in list(self.streams):
            if stream.user_id in targets:
                stream.nudges.append(message)
                stream.wakeup.nudge()

    async def announce(self, broadcast_id: int) -> None:
        """Nudge the open streams of the people in the broadcast's audience: one question
        to the notifications app, whatever the number of streams."""
        self._remember(broadcast_id)
        user_ids = {stream.user_id for stream in self.streams}
        if not user_ids:
            return
        try:
            audience = await recipients(broadcast_id, user_ids)
        except Exception:
            # A nudge only: devices refetch on reconnect, so the failure loses nothing,
            # and the hub must go on serving the other streams.
            logger.exception("could not find the audience of broadcast %d", broadcast_id)
            return
        for stream in list(self.streams):
            if stream.user_id in audience:
                stream.broadcasts.append(broadcast_id)
                stream.wakeup.nudge()

    def _remember(self, broadcast_id: int) -> None:
        now = time.monotonic()
        self._announced[broadcast_id] = now
        for old in [key for key, at in self._announced.items() if now - at > 600]:
            del self._announced[old]


# How far back each check looks for announcements (other processes' clocks).
ANNOUNCEMENT_OVERLAP = timedelta(seconds=30)

_hubs: dict[asyncio.AbstractEventLoop, Hub] = {}


def hub() -> Hub:
    """The running event loop's hub."""
    loop = asyncio.get_running_loop()
    found = _hubs.get(loop)
    if found is None:
        for closed in [other for other in _hubs if other.is_closed()]:
            del _hubs[closed]
        found = _hubs[loop] = Hub(loop)
    return found


# --- the ASGI application -------------------------------------------------------------------

Scope = dict[str, Any]
Receive = Callable[[], Any]
Send = Callable[[dict[str, Any]], Any]


async def stream_application(scope: Scope, receive: Receive, send: Send) -> None:
    opening = await open_stream(scope)
    start = {
        "type": "http.response.start",
        "status": opening.response.status_code,
        "headers": list(_asgi_headers(opening.response)),
    }
    if opening.credential is None:
        assert isinstance(opening.response, HttpResponse)
        await send(start)
        await send({"type": "http.response.body", "body": opening.response.content})
        return
    async with pubsub.subscribe(opening.credential.user_id) as wakeup:
        stream = OpenStream(opening.credential, opening.position, wakeup)
        # The first read happens at once, without waiting for a ring.
        wakeup.ring_here()
        watcher = asyncio.create_task(_watch_disconnect(receive, stream))
        the_hub = hub()
        the_hub.add(stream)
        try:
            # The headers only now that the stream is subscribed and in the hub: a device
            # that has them (EventSource's "open") gets every nudge sent after — someone
            # typing, a queue changing — which are in nobody's log to catch up on.
            await send(start)
            await _serve(stream, send)
        finally:
            the_hub.remove(stream)
            watcher.cancel()
    # The server ended it (revoked, signed out): a normal end of the response. After a
    # disconnect the server drops it.
    await send({"type": "http.response.body", "body": b""})


def _asgi_headers(response: HttpResponseBase) -> Iterator[tuple[bytes, bytes]]:
    """As Django's ASGIHandler.send_response sends them."""
    for header, value in response.items():
        yield header.encode("ascii"), value.encode("latin1")
    for cookie in response.cookies.values():
        yield b"Set-Cookie", cookie.OutputString().encode("ascii")


async def _watch_disconnect(receive: Receive, stream: OpenStream) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    stream.is_ended = True
    stream.wakeup.nudge()


async def _serve(stream: OpenStream, send: Send) -> None:
    """Send what is due each time the stream is woken, until it ends. Every flag is
    checked before the doorbell is cleared, with no await in between, so nothing that
    rang meanwhile is missed."""
    wakeup = stream.wakeup

    async def write(text: str) -> None:
        await send({"type": "http.response.body", "body": text.encode(), "more_body": True})

    await write(RETRY_MESSAGE)
    while not stream.is_ended:
        if wakeup.has_news:
            wakeup.has_news = False
            try:
                page = await read_events(stream.user_id, stream.position)
            except DatabaseError:
                # The database refused (restarting, out of connections): the stream stays
                # open and reads again shortly, rather than sending every device of the
                # process back to reconnect at once.
                logger.warning("could not read the event log; retrying", exc_info=True)
                wakeup.has_news = True
                await asyncio.sleep(READ_RETRY_SECONDS)
                continue
            if page.events or page.resync:
                await write(page_messages(page))
            stream.position = page.last_sequence
            if page.has_more:
                wakeup.has_news = True
            continue
        if stream.broadcasts or stream.nudges:
            messages = "".join(broadcast_message(number) for number in stream.broadcasts)
            messages += "".join(stream.nudges)
            stream.broadcasts.clear()
            stream.nudges.clear()
            await write(messages)
            continue
        if stream.heartbeat_due:
            stream.heartbeat_due = False
            await write(HEARTBEAT_MESSAGE)
            continue
        wakeup.clear()
        await wakeup.wait()
