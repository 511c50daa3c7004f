"""Wake-ups: published once per person after commit, never inside the transaction; an
open stream wakes on them and releases its waiter when the client goes away; over Redis a
change committed through one server process reaches a stream open on another."""

import os
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
import redis
from asgiref.sync import sync_to_async
from django.db import connection, transaction
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.marketplace.models import Product
from messagecenter.notifications.models import Audience
from messagecenter.realtime import pubsub
from messagecenter.realtime.actions import PendingEvent, announce_broadcast, record_events
from messagecenter.realtime.queries import last_sequence_of
from tests.asgi import run_in_own_loop
from tests.conftest import IN_CI
from tests.factories import BroadcastFactory
from tests.realtime.servers import EventStreamClient, Server, running_server
from tests.test_processes import free_port

pytestmark = pytest.mark.django_db(transaction=True)

REDIS_URL = "redis://127.0.0.1:6379/15"
# Pub/sub is one namespace for the whole Redis server, whatever database the URL names: each
# test process (each pass of `make test` — they run at the same time —, each xdist worker,
# another checkout's run) has channels of its own, or its wake-ups and broadcasts would
# reach the other's servers and listeners. No test here writes keys or flushes the database.
CHANNEL_PREFIX = f"messagecenter-test-{os.getpid()}"


def write_events(*users: User) -> None:
    with transaction.atomic():
        record_events([PendingEvent(user.pk, "conversation.read") for user in users])


def test_one_publish_per_person_after_commit(
    buyer: User, seller: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[tuple[list[int], bool]] = []

    def spy(self: pubsub.MemoryBackend, user_ids: Sequence[int]) -> None:
        published.append((list(user_ids), connection.in_atomic_block))

    monkeypatch.setattr(pubsub.MemoryBackend, "publish", spy)

    write_events(buyer, seller, buyer)

    assert published == [(sorted([buyer.pk, seller.pk]), False)]


def failing_action(user: User) -> None:
    with transaction.atomic():
        record_events([PendingEvent(user.pk, "conversation.read")])
        raise RuntimeError("the action failed after recording its event")


def test_a_rolled_back_change_publishes_nothing(
    buyer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    published: list[Sequence[int]] = []
    monkeypatch.setattr(
        pubsub.MemoryBackend, "publish", lambda self, user_ids: published.append(user_ids)
    )

    with pytest.raises(RuntimeError):
        failing_action(buyer)

    assert published == []


def test_a_commit_wakes_the_persons_streams_and_no_one_elses(
    buyer: User, other_buyer: User
) -> None:
    async def scenario() -> tuple[bool, bool]:
        async with (
            pubsub.subscribe(buyer.pk) as mine,
            pubsub.subscribe(other_buyer.pk) as theirs,
        ):
            await sync_to_async(write_events, thread_sensitive=False)(buyer)
            return await mine.wait(2), await theirs.wait(0.2)

    assert run_in_own_loop(scenario) == (True, False)


def receive_replies(
    stream: EventStreamClient, sender: Server, token: str, conversation_id: int, count: int
) -> tuple[list[int], list[int], float]:
    """Send `count` replies through `sender`; the message ids sent, those the stream
    received (message.created only), and the slowest delivery in seconds."""
    sent: list[int] = []
    received: list[int] = []
    slowest = 0.0
    for number in range(count):
        started = time.monotonic()
        status, body = sender.request(
            "POST",
            f"/api/v1/conversations/{conversation_id}/messages",
            {"body": f"Reply {number}"},
            {"Authorization": f"Bearer {token}"},
        )
        assert status == 201, body
        sent.append(body["id"])
        while True:
            message = stream.next()
            assert message is not None
            if message.event == "message.created":
                received.append(message.data["message_id"])
                break
        slowest = max(slowest, time.monotonic() - started)
    return sent, received, slowest


@pytest.fixture(scope="module")
def lone_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Checks and heartbeats so rare that only a wake-up can deliver within the test."""
    with running_server(
        tmp_path_factory.mktemp("lone"),
        PUBSUB_URL="memory://",
        REALTIME_HEARTBEAT_SECONDS="60",
        REALTIME_AUTH_CHECK_SECONDS="60",
    ) as started:
        yield started


def test_in_process_wake_up_delivers_a_reply_sent_through_the_same_server(
    lone_server: Server, buyer: User, seller: User, product: Product
) -> None:
    asked = conversation_actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    _, buyer_token = account_actions.create_api_token(buyer, "Phone")
    _, seller_token = account_actions.create_api_token(seller, "Laptop")
    stream = EventStreamClient(
        lone_server,
        {"Authorization": f"Bearer {buyer_token}"},
        f"?after={last_sequence_of(buyer.pk)}",
    )
    try:
        sent, received, slowest = receive_replies(
            stream, lone_server, seller_token, asked.conversation_id, 3
        )
    finally:
        stream.close()

    assert received == sent
    assert slowest < 5


@pytest.fixture
def redis_pubsub(settings: Settings) -> dict[str, str]:
    """Redis as this test process's pub/sub backend: its settings, also for the servers'
    environment."""
    try:
        redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        if IN_CI:
            raise
        pytest.skip("Redis is not running on 127.0.0.1:6379 (required under CI)")
    settings.PUBSUB_URL = REDIS_URL
    settings.PUBSUB_CHANNEL_PREFIX = CHANNEL_PREFIX
    return {"PUBSUB_URL": REDIS_URL, "PUBSUB_CHANNEL_PREFIX": CHANNEL_PREFIX}


def test_a_stream_on_one_process_receives_a_reply_sent_through_another(
    redis_pubsub: dict[str, str], tmp_path: Path, buyer: User, seller: User, product: Product
) -> None:
    asked = conversation_actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    _, buyer_token = account_actions.create_api_token(buyer, "Phone")
    _, seller_token = account_actions.create_api_token(seller, "Laptop")
    quiet = {
        **redis_pubsub,
        "REALTIME_HEARTBEAT_SECONDS": "60",
        "REALTIME_AUTH_CHECK_SECONDS": "60",
    }
    with (
        running_server(tmp_path / "a", **quiet) as process_a,
        running_server(tmp_path / "b", **quiet) as process_b,
    ):
        stream = EventStreamClient(
            process_b,
            {"Authorization": f"Bearer {buyer_token}"},
            f"?after={last_sequence_of(buyer.pk)}",
        )
        try:
            sent, received, slowest = receive_replies(
                stream, process_a, seller_token, asked.conversation_id, 5
            )
        finally:
            stream.close()

    assert received == sent
    assert slowest < 5


def test_publishing_while_redis_is_unreachable_does_not_fail_the_request() -> None:
    unreachable = pubsub.RedisBackend(f"redis://127.0.0.1:{free_port()}/0", CHANNEL_PREFIX)
    started = time.monotonic()

    unreachable.publish([1, 2])

    assert time.monotonic() - started < 2 * pubsub.PUBLISH_TIMEOUT_SECONDS


def test_a_broadcast_announced_in_one_process_reaches_its_audience_on_another(
    redis_pubsub: dict[str, str], tmp_path: Path, buyer: User, seller: User
) -> None:
    """This test's process announces (after commit, over Redis); a server process finds
    the audience among its streams: the buyer's gets the broadcast, without an id, the
    seller's does not."""
    broadcast = BroadcastFactory(audience=Audience.BUYERS)
    _, buyer_token = account_actions.create_api_token(buyer, "Phone")
    _, seller_token = account_actions.create_api_token(seller, "Laptop")
    quiet = {
        **redis_pubsub,
        "REALTIME_HEARTBEAT_SECONDS": "60",
        "REALTIME_AUTH_CHECK_SECONDS": "60",
    }
    with running_server(tmp_path / "b", **quiet) as server:
        buyer_stream = EventStreamClient(server, {"Authorization": f"Bearer {buyer_token}"})
        seller_stream = EventStreamClient(server, {"Authorization": f"Bearer {seller_token}"})
        try:
            # Each stream has delivered an event: both are open and subscribed.
            write_events(buyer, seller)
            opened = [buyer_stream.next(), seller_stream.next()]
            with transaction.atomic():
                announce_broadcast(broadcast.pk)
            to_buyer = buyer_stream.next()
            write_events(buyer, seller)
            after_buyer, after_seller = buyer_stream.next(), seller_stream.next()
        finally:
            buyer_stream.close()
            seller_stream.close()

    assert [(m.id, m.event) for m in opened if m is not None] == [
        (1, "conversation.read"),
        (1, "conversation.read"),
    ]
    assert to_buyer is not None
    assert (to_buyer.id, to_buyer.event, to_buyer.data) == (
        None,
        "broadcast",
        {"broadcast_id": broadcast.pk},
    )
    assert after_buyer is not None
    assert after_seller is not None
    assert [(after_buyer.id, after_buyer.event), (after_seller.id, after_seller.event)] == [
        (2, "conversation.read"),
        (2, "conversation.read"),
    ]


def test_one_publish_wakes_everyone_a_commit_reached(
    redis_pubsub: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> None:
    backend = pubsub.RedisBackend(REDIS_URL, CHANNEL_PREFIX)
    listener = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(f"{CHANNEL_PREFIX}:wake")
    listener.get_message(timeout=1)
    try:
        backend.publish([12, 40, 7])
        # However many people, a message stays small: split every WAKE_IDS_PER_PUBLISH.
        monkeypatch.setattr(pubsub, "WAKE_IDS_PER_PUBLISH", 2)
        backend.publish([1, 2, 3])

        received = []
        deadline = time.monotonic() + 5
        while len(received) < 3 and time.monotonic() < deadline:
            message = listener.get_message(timeout=1)
            if message is not None:
                received.append(message["data"])
    finally:
        listener.close()

    assert received == [b"12,40,7", b"1,2", b"3"]


def test_deployments_sharing_a_redis_hear_only_their_own_channels(
    redis_pubsub: dict[str, str],
) -> None:
    """Redis's pub/sub ignores the database a URL names: another deployment's wake-ups,
    broadcasts and nudges on the same server (here on another database, too) reach this
    one's subscription only if the channels' prefix is the same."""
    ours = pubsub.RedisBackend(REDIS_URL, CHANNEL_PREFIX)
    theirs = pubsub.RedisBackend(REDIS_URL.replace("/15", "/14"), f"{CHANNEL_PREFIX}-theirs")
    listener = redis.Redis.from_url(REDIS_URL).pubsub(ignore_subscribe_messages=True)
    listener.subscribe(ours.wake_channel, ours.broadcast_channel, ours.nudge_channel)
    listener.get_message(timeout=1)
    try:
        theirs.publish([1, 2])
        theirs.announce(3)
        theirs.nudge(pubsub.Nudge("typing", {"conversation_id": 4}, (1,)))
        ours.publish([5])

        received = []
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            message = listener.get_message(timeout=0.5)
            if message is not None:
                received.append((message["channel"], message["data"]))
            elif received:
                break
    finally:
        listener.close()

    assert received == [(f"{CHANNEL_PREFIX}:wake".encode(), b"5")]
