"""The stream's ASGI application and its per-process hub, driven in this process through
ASGI messages (realtime/streams.py): a disconnect frees everything; one check ends the
revoked streams and wakes those behind; a broadcast reaches its audience's streams, with
one question about the audience per announcement. Against real servers:
test_stream.py and test_pubsub.py."""

import asyncio
import sys
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

import pytest
from django.db import transaction
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from messagecenter.notifications.models import Audience
from messagecenter.realtime import pubsub, streams
from messagecenter.realtime.actions import PendingEvent, announce_broadcast, record_events
from tests.asgi import one_request, run_in_own_loop
from tests.factories import BroadcastFactory

pytestmark = pytest.mark.django_db(transaction=True)


def write_events(user: User, count: int = 1) -> None:
    with transaction.atomic():
        record_events([PendingEvent(user.pk, "conversation.read", {"n": n}) for n in range(count)])


def token_headers(user: User) -> dict[str, str]:
    _, secret = account_actions.create_api_token(user, "Test phone")
    return {"Authorization": f"Bearer {secret}"}


@dataclass
class InProcessStream:
    """One GET /api/v1/sync/stream served by `stream_application` in this event loop."""

    task: asyncio.Task[None]
    sent: asyncio.Queue[dict[str, Any]]
    gone: asyncio.Event

    @classmethod
    def open(cls, headers: dict[str, str], query: str = "") -> "InProcessStream":
        sent: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        gone = asyncio.Event()

        async def receive() -> dict[str, Any]:
            await gone.wait()
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            await sent.put(message)

        scope = {
            "type": "http",
            "asgi": {"version": "3.0"},
            "http_version": "1.1",
            "method": "GET",
            "scheme": "http",
            "path": streams.PATH,
            "raw_path": streams.PATH.encode(),
            "root_path": "",
            "query_string": query.encode(),
            "headers": [
                (b"host", b"127.0.0.1"),
                *((name.lower().encode(), value.encode()) for name, value in headers.items()),
            ],
            "client": ("127.0.0.1", 50000),
            "server": ("127.0.0.1", 8000),
        }
        task = asyncio.create_task(streams.stream_application(scope, receive, send))
        return cls(task, sent, gone)

    async def start(self) -> dict[str, Any]:
        return await asyncio.wait_for(self.sent.get(), 10)

    async def text(self, timeout: float = 10) -> str:
        """The next piece of the body that is not a heartbeat."""
        while True:
            message = await asyncio.wait_for(self.sent.get(), timeout)
            body = message.get("body", b"").decode()
            if body != streams.HEARTBEAT_MESSAGE:
                return body

    async def everything_within(self, seconds: float) -> str:
        """All the body sent until nothing more comes for `seconds`."""
        texts = []
        while True:
            try:
                texts.append(await self.text(seconds))
            except TimeoutError:
                return "".join(texts)

    async def nothing_within(self, seconds: float) -> bool:
        try:
            await self.text(seconds)
        except TimeoutError:
            return True
        return False

    async def disconnect(self) -> None:
        self.gone.set()
        await asyncio.wait_for(self.task, 10)


def test_a_disconnected_stream_releases_its_waiter_and_its_place_in_the_hub(
    buyer: User,
) -> None:
    write_events(buyer)
    headers = token_headers(buyer)
    backend = pubsub.backend()

    async def scenario() -> tuple[dict[str, Any], list[str], tuple[int, int], tuple[int, int]]:
        stream = InProcessStream.open(headers)
        start = await stream.start()
        texts = [await stream.text(), await stream.text()]
        hub = streams.hub()
        while_open = (backend.waiters.count(), len(hub.streams))
        await stream.disconnect()
        return start, texts, while_open, (backend.waiters.count(), len(hub.streams))

    start, texts, while_open, after = run_in_own_loop(scenario)

    assert start["status"] == 200
    assert dict(start["headers"])[b"Content-Type"] == b"text/event-stream; charset=utf-8"
    assert texts == ["retry: 2000\n\n", 'id: 1\nevent: conversation.read\ndata: {"n":0}\n\n']
    assert (while_open, after) == ((1, 1), (0, 0))


def test_a_nudge_sent_once_the_headers_arrived_reaches_the_stream(
    monkeypatch: pytest.MonkeyPatch, buyer: User
) -> None:
    """A device that has the stream's headers (EventSource's "open") gets every nudge sent
    after them — there is no log to catch up on a nudge from. Pub/sub here takes a moment
    to subscribe, as Redis's does for a process's first stream: headers sent before it
    (and before the hub has the stream) lost the nudge."""
    headers = token_headers(buyer)
    backend = pubsub.backend()

    async def slow_to_subscribe() -> None:
        await asyncio.sleep(0.2)

    monkeypatch.setattr(backend, "ready", slow_to_subscribe)

    async def scenario() -> str:
        stream = InProcessStream.open(headers)
        await stream.start()
        pubsub.nudge(pubsub.Nudge("conversation.typing", {"name": "Alice"}, (buyer.pk,)))
        received = await stream.everything_within(1)
        await stream.disconnect()
        return received

    received = run_in_own_loop(scenario)

    assert 'event: conversation.typing\ndata: {"name":"Alice"}\n\n' in received


@pytest.fixture
def lost_wakeups(monkeypatch: pytest.MonkeyPatch) -> None:
    """Commits wake no stream, as when a Redis message is lost."""
    monkeypatch.setattr(pubsub, "publish", lambda user_ids: None)


@pytest.mark.usefixtures("lost_wakeups")
def test_the_hubs_check_ends_revoked_streams_and_wakes_those_behind(
    settings: Settings, buyer: User, other_buyer: User
) -> None:
    """Periodic checks and heartbeats out of the way, so only the explicit check below
    acts: the revoked token's stream ends, the stream whose wake-up was lost catches up."""
    settings.REALTIME_AUTH_CHECK_SECONDS = 3600
    settings.REALTIME_HEARTBEAT_SECONDS = 3600
    token, secret = account_actions.create_api_token(buyer, "Lost phone")
    behind_headers = token_headers(other_buyer)

    async def scenario() -> tuple[str, str]:
        revoked = InProcessStream.open({"Authorization": f"Bearer {secret}"})
        behind = InProcessStream.open(behind_headers)
        await revoked.start()
        await behind.start()
        await revoked.text()
        await behind.text()
        await asyncio.to_thread(account_actions.revoke_api_token, buyer, token.pk)
        await asyncio.to_thread(write_events, other_buyer)
        await streams.hub().check()
        ended = await revoked.text()
        caught_up = await behind.text()
        await asyncio.wait_for(revoked.task, 10)
        await behind.disconnect()
        return ended, caught_up

    ended, caught_up = run_in_own_loop(scenario)

    assert ended == ""  # the end of the response
    assert caught_up == 'id: 1\nevent: conversation.read\ndata: {"n":0}\n\n'


def test_a_broadcast_reaches_the_streams_of_its_audience_with_one_audience_question(
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    buyer: User,
    seller: User,
) -> None:
    settings.REALTIME_AUTH_CHECK_SECONDS = 3600
    settings.REALTIME_HEARTBEAT_SECONDS = 3600
    broadcast = BroadcastFactory(audience=Audience.BUYERS)
    queries_module = sys.modules["messagecenter.notifications.queries"]
    real = queries_module.broadcast_recipients_among
    asked: list[tuple[int, set[int]]] = []

    def counted(broadcast_id: int, user_ids: Collection[int]) -> set[int]:
        asked.append((broadcast_id, set(user_ids)))
        return real(broadcast_id, user_ids)

    monkeypatch.setattr(queries_module, "broadcast_recipients_among", counted)
    phone, laptop, seller_headers = (
        token_headers(buyer),
        token_headers(buyer),
        token_headers(seller),
    )

    async def scenario() -> tuple[list[str], bool]:
        buyer_streams = [InProcessStream.open(phone), InProcessStream.open(laptop)]
        seller_stream = InProcessStream.open(seller_headers)
        for stream in [*buyer_streams, seller_stream]:
            await stream.start()
            await stream.text()  # retry
        await asyncio.to_thread(announce_in_transaction, broadcast.pk)
        received = [await stream.text() for stream in buyer_streams]
        seller_got_nothing = await seller_stream.nothing_within(0.5)
        for stream in [*buyer_streams, seller_stream]:
            await stream.disconnect()
        return received, seller_got_nothing

    received, seller_got_nothing = run_in_own_loop(scenario)

    message = f'event: broadcast\ndata: {{"broadcast_id":{broadcast.pk}}}\n\n'
    assert received == [message, message]
    assert seller_got_nothing
    assert asked == [(broadcast.pk, {buyer.pk, seller.pk})]


def test_a_broadcast_announced_where_pub_sub_does_not_reach_is_found_by_the_check(
    settings: Settings, buyer: User
) -> None:
    """Another process announced it on its own memory:// (the worker under `make run`),
    or the Redis message was lost: the hub's periodic check finds it, and nudges once."""
    settings.REALTIME_AUTH_CHECK_SECONDS = 3600
    settings.REALTIME_HEARTBEAT_SECONDS = 3600
    broadcast = BroadcastFactory(audience=Audience.BUYERS)
    headers = token_headers(buyer)

    async def scenario() -> tuple[str, bool]:
        stream = InProcessStream.open(headers)
        await stream.start()
        await stream.text()  # retry
        # Announced elsewhere: the row says so, no message came.
        await asyncio.to_thread(
            lambda: (
                type(broadcast).objects.filter(pk=broadcast.pk).update(announced_at=timezone.now())
            )
        )
        await streams.hub().check()
        nudged = await stream.text()
        await streams.hub().check()
        once = await stream.nothing_within(0.3)
        await stream.disconnect()
        return nudged, once

    nudged, once = run_in_own_loop(scenario)

    assert nudged == f'event: broadcast\ndata: {{"broadcast_id":{broadcast.pk}}}\n\n'
    assert once


def announce_in_transaction(broadcast_id: int) -> None:
    with transaction.atomic():
        announce_broadcast(broadcast_id)


def test_a_broadcast_keeps_the_position_of_the_stream(buyer: User) -> None:
    """After a broadcast, the next event has the next sequence number: the broadcast has
    no id, and the stream's position did not move."""
    write_events(buyer)
    broadcast = BroadcastFactory(audience=Audience.EVERYONE)
    headers = token_headers(buyer)

    async def scenario() -> list[str]:
        stream = InProcessStream.open(headers, "after=1")
        await stream.start()
        texts = [await stream.text()]
        await asyncio.to_thread(announce_in_transaction, broadcast.pk)
        texts.append(await stream.text())
        await asyncio.to_thread(write_events, buyer)
        texts.append(await stream.text())
        await stream.disconnect()
        return texts

    assert run_in_own_loop(scenario) == [
        "retry: 2000\n\n",
        f'event: broadcast\ndata: {{"broadcast_id":{broadcast.pk}}}\n\n',
        'id: 2\nevent: conversation.read\ndata: {"n":0}\n\n',
    ]


def test_a_signed_in_session_streams_with_the_pages_security_headers(buyer: User) -> None:
    browser = Client()
    browser.force_login(buyer)
    cookie = browser.cookies["sessionid"].value

    async def scenario() -> dict[bytes, bytes]:
        stream = InProcessStream.open({"Cookie": f"sessionid={cookie}"})
        start = await stream.start()
        await stream.disconnect()
        return dict(start["headers"])

    headers = run_in_own_loop(scenario)

    # The project's middleware ran (others may add headers of their own: not checked here).
    expected = {
        b"Content-Type": b"text/event-stream; charset=utf-8",
        b"Cache-Control": b"no-cache, max-age=0, no-store, must-revalidate, private",
        b"X-Accel-Buffering": b"no",
        b"Vary": b"Cookie",
        b"X-Content-Type-Options": b"nosniff",
        b"Referrer-Policy": b"same-origin",
        b"Cross-Origin-Opener-Policy": b"same-origin",
        b"X-Frame-Options": b"DENY",
    }
    assert {name: headers.get(name) for name in expected} == expected


def test_only_get_is_answered(buyer: User) -> None:
    status, headers, _ = run_in_own_loop(
        lambda: one_request(streams.stream_application, "POST", streams.PATH)
    )

    assert (status, headers[b"Allow"]) == (405, b"GET")
