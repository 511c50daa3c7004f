"""Wake-ups for open event streams (docs/realtime.md).

Pub/sub carries no events, only "this person's log has something new": a woken stream reads
the log, which is the truth. A lost wake-up therefore delays delivery (each process's hub
finds the streams behind their log every few seconds) but never loses or reorders anything.
The same channel carries broadcast announcements (an id each), for every process to find
the audience among its own streams (realtime/streams.py), and nudges: signals that are in
nobody's log (a team's queue changed, someone is typing), sent to the open streams of the
people they are for and lost for everyone else.

The backend is chosen by the PUBSUB_URL setting:
- `memory://` (default): waiters in this process only; enough for one server process.
- `redis://host:port/db`: every server process subscribes to the wake-up channels, so a
  change committed by any process wakes the streams open in all of them. The channels'
  names start with PUBSUB_CHANNEL_PREFIX: Redis's pub/sub is one namespace for the whole
  server, whatever database the URL names, so deployments (or test runs) sharing a Redis
  keep apart by their prefix.
"""

import asyncio
import contextlib
import json
import logging
import threading
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, Protocol

import redis
import redis.asyncio
from django.conf import settings

logger = logging.getLogger(__name__)

# The channels, each named `<PUBSUB_CHANNEL_PREFIX>:<name>` ("messagecenter:wake"):
# The people whose logs have something new, as their ids in ASCII separated by commas: one
# PUBLISH for everyone a batch of sends reached (a PUBLISH per person, pipelined, was a
# sixth of a batch's time in the sends' writer thread, docs/benchmarks.md).
WAKE_CHANNEL = "wake"
# Keeps a message to every process small (≈ 70 kB) however many people one commit wakes.
WAKE_IDS_PER_PUBLISH = 10_000
# A broadcast's id, for every process: each finds the audience among its own streams.
BROADCAST_CHANNEL = "broadcast"
# A nudge (JSON), for every process: each sends it to its own streams of the people it is for.
NUDGE_CHANNEL = "nudge"
# A publish happens after commit, inside a request: it must never hang that request.
PUBLISH_TIMEOUT_SECONDS = 1.0
RECONNECT_DELAY_SECONDS = 1.0


class Wakeup:
    """One open stream's doorbell. `has_news` says "the log may have something new": set by
    `ring` (from any thread), cleared by the stream before it reads the log, so a change
    committed during the read rings again. `nudge` only wakes the stream up, for whatever
    else its hub has set on it (a heartbeat, a broadcast, its end)."""

    def __init__(self, user_id: int, loop: asyncio.AbstractEventLoop) -> None:
        self.user_id = user_id
        self.loop = loop
        self.has_news = False
        self._event = asyncio.Event()

    def clear(self) -> None:
        self._event.clear()

    def ring(self) -> None:
        """From any thread."""
        try:
            running = asyncio.get_running_loop()
        except RuntimeError:
            running = None
        if running is self.loop:
            self.ring_here()
            return
        # A stream whose loop has just closed is being removed: nothing to wake.
        with contextlib.suppress(RuntimeError):
            self.loop.call_soon_threadsafe(self.ring_here)

    def ring_here(self) -> None:
        """From the stream's own event loop."""
        self.has_news = True
        self._event.set()

    def nudge(self) -> None:
        """From the stream's own event loop."""
        self._event.set()

    async def wait(self, timeout: float | None = None) -> bool:
        """True when rung or nudged, False when the timeout passed first."""
        try:
            await asyncio.wait_for(self._event.wait(), timeout)
        except TimeoutError:
            return False
        return True


@dataclass(frozen=True)
class Nudge:
    """A signal in nobody's log (docs/realtime.md, "Nudges"): sent to the open streams of
    `user_ids`, or, when that is None, of the people its kind's audience
    (realtime/audiences.py) finds among the streams open in a process."""

    kind: str
    payload: dict[str, Any]
    user_ids: tuple[int, ...] | None = None

    def encode(self) -> bytes:
        return json.dumps(
            {"kind": self.kind, "payload": self.payload, "user_ids": self.user_ids}
        ).encode()

    @classmethod
    def decode(cls, data: bytes | str) -> "Nudge":
        fields = json.loads(data)
        user_ids = fields["user_ids"]
        return cls(
            str(fields["kind"]),
            dict(fields["payload"]),
            None if user_ids is None else tuple(int(user_id) for user_id in user_ids),
        )


class Listeners[T]:
    """The hubs (one per event loop with open streams: realtime/streams.py) to call with
    each broadcast id, or each nudge; safe from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._listeners: list[Callable[[T], None]] = []

    def add(self, listener: Callable[[T], None]) -> None:
        with self._lock:
            self._listeners.append(listener)

    def remove(self, listener: Callable[[T], None]) -> None:
        with self._lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def call(self, value: T) -> None:
        with self._lock:
            listeners = list(self._listeners)
        for listener in listeners:
            listener(value)


class Waiters:
    """This process's open streams by person; safe to ring from any thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_user: dict[int, set[Wakeup]] = {}
        self.broadcast_listeners = Listeners[int]()
        self.nudge_listeners = Listeners[Nudge]()

    def add(self, wakeup: Wakeup) -> None:
        with self._lock:
            self._by_user.setdefault(wakeup.user_id, set()).add(wakeup)

    def remove(self, wakeup: Wakeup) -> None:
        with self._lock:
            waiting = self._by_user.get(wakeup.user_id)
            if waiting is None:
                return
            waiting.discard(wakeup)
            if not waiting:
                del self._by_user[wakeup.user_id]

    def ring(self, user_ids: Sequence[int]) -> None:
        with self._lock:
            targets = [w for user_id in user_ids for w in self._by_user.get(user_id, ())]
        for wakeup in targets:
            wakeup.ring()

    def ring_all(self) -> None:
        with self._lock:
            targets = [w for waiting in self._by_user.values() for w in waiting]
        for wakeup in targets:
            wakeup.ring()

    def count(self) -> int:
        with self._lock:
            return sum(len(waiting) for waiting in self._by_user.values())

    def user_ids(self) -> set[int]:
        with self._lock:
            return set(self._by_user)

    def announce(self, broadcast_id: int) -> None:
        self.broadcast_listeners.call(broadcast_id)

    def nudge(self, nudge: Nudge) -> None:
        self.nudge_listeners.call(nudge)


class Backend(Protocol):
    waiters: Waiters

    def publish(self, user_ids: Sequence[int]) -> None: ...

    def announce(self, broadcast_id: int) -> None: ...

    def nudge(self, nudge: Nudge) -> None: ...

    async def ready(self) -> None:
        """Return once wake-ups published from now on will reach this process."""


class MemoryBackend:
    def __init__(self) -> None:
        self.waiters = Waiters()

    def publish(self, user_ids: Sequence[int]) -> None:
        self.waiters.ring(user_ids)

    def announce(self, broadcast_id: int) -> None:
        self.waiters.announce(broadcast_id)

    def nudge(self, nudge: Nudge) -> None:
        self.waiters.nudge(nudge)

    async def ready(self) -> None:
        return None


class RedisBackend:
    """One subscription per server process, read by one task in its event loop; publishing
    is one PUBLISH from the committing thread for everyone it wakes."""

    def __init__(self, url: str, channel_prefix: str) -> None:
        self.url = url
        self.wake_channel = f"{channel_prefix}:{WAKE_CHANNEL}"
        self.broadcast_channel = f"{channel_prefix}:{BROADCAST_CHANNEL}"
        self.nudge_channel = f"{channel_prefix}:{NUDGE_CHANNEL}"
        self.waiters = Waiters()
        self._publisher = redis.Redis.from_url(
            url,
            socket_timeout=PUBLISH_TIMEOUT_SECONDS,
            socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS,
        )
        self._listener: asyncio.Task[None] | None = None
        self._listener_loop: asyncio.AbstractEventLoop | None = None
        self._subscribed = asyncio.Event()
        # While Redis is unreachable new streams do not wait for it: they poll the log.
        self._is_unreachable = False
        self._lock = threading.Lock()

    def publish(self, user_ids: Sequence[int]) -> None:
        try:
            for start in range(0, len(user_ids), WAKE_IDS_PER_PUBLISH):
                chunk = user_ids[start : start + WAKE_IDS_PER_PUBLISH]
                self._publisher.publish(self.wake_channel, ",".join(map(str, chunk)).encode())
        except redis.RedisError:
            # The events are committed; streams find them on their next periodic read.
            logger.warning("could not publish wake-ups for %d users", len(user_ids), exc_info=True)

    def announce(self, broadcast_id: int) -> None:
        try:
            self._publisher.publish(self.broadcast_channel, str(broadcast_id).encode())
        except redis.RedisError:
            # A nudge only: devices refetch their state whenever they reconnect.
            logger.warning("could not announce broadcast %d", broadcast_id, exc_info=True)

    def nudge(self, nudge: Nudge) -> None:
        try:
            self._publisher.publish(self.nudge_channel, nudge.encode())
        except redis.RedisError:
            # A nudge is in nobody's log: lost, as it is for a device that is offline.
            logger.warning("could not send a %s nudge", nudge.kind, exc_info=True)

    async def ready(self) -> None:
        loop = asyncio.get_running_loop()
        with self._lock:
            if self._listener is None or self._listener.done() or self._listener_loop is not loop:
                self._subscribed = asyncio.Event()
                self._listener_loop = loop
                self._listener = loop.create_task(self._listen(), name="pubsub-listener")
        if self._is_unreachable:
            return
        try:
            await asyncio.wait_for(self._subscribed.wait(), PUBLISH_TIMEOUT_SECONDS * 5)
        except TimeoutError:
            logger.warning("Redis pub/sub is not subscribed yet; streams fall back to polling")

    async def _listen(self) -> None:
        while True:
            client = redis.asyncio.Redis.from_url(
                self.url, socket_connect_timeout=PUBLISH_TIMEOUT_SECONDS
            )
            subscription = client.pubsub(ignore_subscribe_messages=True)
            try:
                await subscription.subscribe(
                    self.wake_channel, self.broadcast_channel, self.nudge_channel
                )
                self._subscribed.set()
                self._is_unreachable = False
                # Whatever was published while not subscribed was missed: everyone re-reads.
                self.waiters.ring_all()
                async for message in subscription.listen():
                    channel = message["channel"]
                    if isinstance(channel, bytes):
                        channel = channel.decode()
                    if message.get("type") != "message":
                        continue
                    if channel == self.wake_channel:
                        self.waiters.ring([int(user_id) for user_id in message["data"].split(b",")])
                    elif channel == self.nudge_channel:
                        self.waiters.nudge(Nudge.decode(message["data"]))
                    else:
                        self.waiters.announce(int(message["data"]))
            except (redis.RedisError, OSError):
                self._subscribed.clear()
                self._is_unreachable = True
                logger.warning("Redis pub/sub connection lost; reconnecting", exc_info=True)
                await asyncio.sleep(RECONNECT_DELAY_SECONDS)
            finally:
                await subscription.aclose()  # type: ignore[no-untyped-call]
                await client.aclose()


_backends: dict[tuple[str, str], MemoryBackend | RedisBackend] = {}
_backends_lock = threading.Lock()


def backend() -> MemoryBackend | RedisBackend:
    """The backend for the PUBSUB_URL and PUBSUB_CHANNEL_PREFIX settings, one per process."""
    url, prefix = settings.PUBSUB_URL, settings.PUBSUB_CHANNEL_PREFIX
    with _backends_lock:
        found = _backends.get((url, prefix))
        if found is None:
            if url.startswith("memory://"):
                found = MemoryBackend()
            elif url.startswith(("redis://", "rediss://", "unix://")):
                found = RedisBackend(url, prefix)
            else:
                raise ValueError(f"PUBSUB_URL must be memory:// or redis://…, not {url!r}")
            _backends[(url, prefix)] = found
        return found


def publish(user_ids: Sequence[int]) -> None:
    """Wake these people's open streams, wherever they are connected. Call after commit
    (record_events schedules it with transaction.on_commit)."""
    if user_ids:
        backend().publish(user_ids)


def announce(broadcast_id: int) -> None:
    """Tell every process's open streams that a broadcast was published. Call after commit
    (actions.announce_broadcast schedules it with transaction.on_commit)."""
    backend().announce(broadcast_id)


def nudge(nudge: Nudge) -> None:
    """Send a nudge to the open streams it is for, in every process. Call after commit
    (actions.nudge_after_commit schedules it with transaction.on_commit), or outside any
    transaction for what was never stored (someone typing)."""
    backend().nudge(nudge)


@asynccontextmanager
async def subscribe(user_id: int) -> AsyncIterator[Wakeup]:
    """A doorbell for one open stream, removed however the stream ends."""
    chosen = backend()
    wakeup = Wakeup(user_id, asyncio.get_running_loop())
    chosen.waiters.add(wakeup)
    try:
        await chosen.ready()
        yield wakeup
    finally:
        chosen.waiters.remove(wakeup)
