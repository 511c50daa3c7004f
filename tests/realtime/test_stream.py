"""GET /api/v1/sync/stream against real `messagecenter serve` processes (tests/realtime/
servers.py): replay, resume, resync, heartbeats, authentication and its revocation."""

import random
import threading
import time
from collections.abc import Iterator

import pytest
from django.db import DatabaseError, connection, transaction
from django.test import Client

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from messagecenter.realtime.actions import PendingEvent, record_events
from messagecenter.realtime.models import UserEvent
from tests.realtime.servers import EventStreamClient, Server, running_server

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """Quick heartbeats and checks, so the tests wait fractions of a second. Events written
    by the tests' own process wake no stream here (in-process pub/sub): the server finds
    them on its periodic re-read, every REALTIME_AUTH_CHECK_SECONDS."""
    with running_server(
        tmp_path_factory.mktemp("server"),
        PUBSUB_URL="memory://",
        REALTIME_HEARTBEAT_SECONDS="0.5",
        REALTIME_AUTH_CHECK_SECONDS="0.2",
    ) as started:
        yield started


def write_events(user: User, count: int, kind: str = "conversation.read") -> None:
    with transaction.atomic():
        record_events([PendingEvent(user.pk, kind, {"n": n}) for n in range(count)])


def token_headers(user: User) -> dict[str, str]:
    _, secret = account_actions.create_api_token(user, "Test phone")
    return {"Authorization": f"Bearer {secret}"}


def test_stream_replays_the_log_after_the_position(server: Server, buyer: User) -> None:
    write_events(buyer, 3)
    stream = EventStreamClient(server, token_headers(buyer), "?after=1")
    try:
        first, second = stream.next(), stream.next()
    finally:
        stream.close()

    assert stream.response.status == 200
    assert stream.response.getheader("Content-Type") == "text/event-stream; charset=utf-8"
    assert stream.response.getheader("Cache-Control") == (
        "no-cache, max-age=0, no-store, must-revalidate, private"
    )
    assert stream.response.getheader("X-Accel-Buffering") == "no"
    assert stream.retry == 2000
    assert first is not None
    assert second is not None
    assert [(m.id, m.event, m.data) for m in (first, second)] == [
        (2, "conversation.read", {"n": 1}),
        (3, "conversation.read", {"n": 2}),
    ]


def test_last_event_id_takes_precedence_over_after(server: Server, buyer: User) -> None:
    write_events(buyer, 3)
    stream = EventStreamClient(server, {**token_headers(buyer), "Last-Event-ID": "2"}, "?after=0")
    try:
        message = stream.next()
    finally:
        stream.close()

    assert message is not None
    assert message.id == 3


def test_a_session_streams_its_own_events_only(
    server: Server, buyer: User, other_buyer: User
) -> None:
    write_events(other_buyer, 2)
    write_events(buyer, 1, kind="conversation.archived")
    browser = Client()
    browser.force_login(buyer)
    cookie = browser.cookies["sessionid"].value
    stream = EventStreamClient(server, {"Cookie": f"sessionid={cookie}"})
    try:
        message = stream.next()
        write_events(other_buyer, 1)
        write_events(buyer, 1)
        following = stream.next()
    finally:
        stream.close()

    assert message is not None
    assert following is not None
    assert [(message.id, message.event), (following.id, following.event)] == [
        (1, "conversation.archived"),
        (2, "conversation.read"),
    ]


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer mc_not-a-token"}, {"Cookie": "sessionid=unknown"}],
    ids=["anonymous", "wrong-token", "unknown-session"],
)
def test_stream_refuses_whoever_is_not_signed_in(server: Server, headers: dict[str, str]) -> None:
    status, body = server.request("GET", "/api/v1/sync/stream", headers=headers)

    assert status == 401
    assert body["error"]["code"] == "not_authenticated"


def test_stream_refuses_a_position_that_is_no_number(server: Server, buyer: User) -> None:
    status, body = server.request(
        "GET", "/api/v1/sync/stream", headers={**token_headers(buyer), "Last-Event-ID": "-3"}
    )

    assert (status, body["error"]["code"]) == (400, "invalid_input")


def test_a_gap_that_is_no_longer_kept_gets_a_resync_then_the_stream_goes_on(
    server: Server, buyer: User
) -> None:
    write_events(buyer, 5)
    UserEvent.objects.filter(user=buyer, sequence__lte=3).delete()
    stream = EventStreamClient(server, token_headers(buyer), "?after=1")
    try:
        resync = stream.next()
        write_events(buyer, 1)
        following = stream.next()
    finally:
        stream.close()

    assert resync is not None
    assert (resync.id, resync.event, resync.data) == (
        5,
        "resync",
        {"resync": True, "last_sequence": 5},
    )
    assert following is not None
    assert following.id == 6


def test_an_idle_stream_sends_heartbeats(server: Server, buyer: User) -> None:
    stream = EventStreamClient(server, token_headers(buyer))
    try:
        time.sleep(1.3)
        write_events(buyer, 1)
        message = stream.next()
    finally:
        stream.close()

    assert message is not None
    assert message.id == 1
    assert stream.comments >= 2


def test_revoking_the_token_ends_its_stream_within_seconds(server: Server, buyer: User) -> None:
    token, secret = account_actions.create_api_token(buyer, "Lost phone")
    stream = EventStreamClient(server, {"Authorization": f"Bearer {secret}"})
    try:
        account_actions.revoke_api_token(buyer, token.pk)
        revoked_at = time.monotonic()
        ended = stream.next()
        waited = time.monotonic() - revoked_at
    finally:
        stream.close()

    assert ended is None
    assert waited < 3


def test_signing_out_ends_the_sessions_stream_within_seconds(server: Server, buyer: User) -> None:
    browser = Client()
    browser.force_login(buyer)
    stream = EventStreamClient(
        server, {"Cookie": f"sessionid={browser.cookies['sessionid'].value}"}
    )
    try:
        browser.logout()
        signed_out_at = time.monotonic()
        ended = stream.next()
        waited = time.monotonic() - signed_out_at
    finally:
        stream.close()

    assert ended is None
    assert waited < 3


TOTAL_EVENTS = 10_000
BATCH = 100
DISCONNECTS = 1_000


def test_resume_after_random_disconnects_loses_nothing_and_repeats_nothing(
    server: Server, buyer: User
) -> None:
    """10,000 events written in batches while a client reads them and drops the connection
    after 1,000 randomly chosen events, reconnecting each time with Last-Event-ID."""
    rng = random.Random(5)
    disconnect_after = set(rng.sample(range(1, TOTAL_EVENTS), DISCONNECTS))
    headers = token_headers(buyer)
    failures: list[DatabaseError] = []

    def write_all() -> None:
        try:
            for _ in range(TOTAL_EVENTS // BATCH):
                write_events(buyer, BATCH)
                time.sleep(0.01)
        except DatabaseError as error:  # reported by the test below
            failures.append(error)
        finally:
            connection.close()

    writer = threading.Thread(target=write_all)
    started = time.monotonic()
    writer.start()
    received: list[int] = []
    connections = 0
    try:
        while len(received) < TOTAL_EVENTS and time.monotonic() - started < 90:
            position = received[-1] if received else 0
            stream = EventStreamClient(server, {**headers, "Last-Event-ID": str(position)})
            connections += 1
            try:
                while len(received) < TOTAL_EVENTS:
                    message = stream.next()
                    assert message is not None
                    assert message.id is not None
                    received.append(message.id)
                    if message.id in disconnect_after:
                        break
            finally:
                stream.close()
    finally:
        writer.join(timeout=60)
    elapsed = time.monotonic() - started
    print(f"resume: {len(received)} events, {connections} connections, {elapsed:.1f} s")

    assert failures == []
    assert received == list(range(1, TOTAL_EVENTS + 1))
    assert connections == DISCONNECTS + 1
