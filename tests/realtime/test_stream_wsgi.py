"""GET /api/v1/sync/stream under a WSGI server (pytest-django's live_server, `runserver`),
which cannot hold a stream open: it answers what is there after the position and ends, and
EventSource's reconnect after `retry` makes it a poll (docs/realtime.md, "Live pages")."""

from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest
from django.db import connections, transaction
from django.test import Client

from messagecenter.accounts.models import User
from messagecenter.realtime.actions import PendingEvent, record_events

# The stream reads in a thread pool, on its own connection: the events must be committed.
pytestmark = pytest.mark.django_db(transaction=True)

STREAM = "/api/v1/sync/stream"


def write_events(user: User, count: int) -> None:
    with transaction.atomic():
        record_events([PendingEvent(user.pk, "conversation.read", {"n": n}) for n in range(count)])


def get(client: Client, path: str, **headers: str) -> Any:
    """In a thread of its own: the view is async, and when browser tests ran first in this
    process, Playwright's event loop is running in this one (async_to_sync refuses it)."""

    def request() -> Any:
        try:
            return client.get(path, headers=headers)
        finally:
            # That thread's connection, which would outlive it.
            connections.close_all()

    with ThreadPoolExecutor(1) as pool:
        return pool.submit(request).result()


def body(client: Client, path: str, **headers: str) -> str:
    response = get(client, path, **headers)
    assert response.status_code == 200
    assert response["Content-Type"] == "text/event-stream; charset=utf-8"
    return b"".join(response.streaming_content).decode()  # type: ignore[attr-defined]


def test_under_wsgi_the_stream_answers_the_events_after_the_position_and_ends(
    client: Client, buyer: User, other_buyer: User
) -> None:
    write_events(buyer, 3)
    write_events(other_buyer, 1)
    client.force_login(buyer)

    assert body(client, STREAM, **{"Last-Event-ID": "1"}) == (
        "retry: 2000\n\n"
        'id: 2\nevent: conversation.read\ndata: {"n":1}\n\n'
        'id: 3\nevent: conversation.read\ndata: {"n":2}\n\n'
    )
    assert body(client, f"{STREAM}?after=3") == "retry: 2000\n\n"


def test_under_wsgi_a_position_beyond_the_log_gets_a_resync(client: Client, buyer: User) -> None:
    """What a live page opens with: it starts from the person's newest event."""
    write_events(buyer, 2)
    client.force_login(buyer)

    assert body(client, f"{STREAM}?after=999999999999999999") == (
        'retry: 2000\n\nid: 2\nevent: resync\ndata: {"resync":true,"last_sequence":2}\n\n'
    )


def test_under_wsgi_the_stream_still_refuses_whoever_is_not_signed_in(client: Client) -> None:
    assert get(client, STREAM).status_code == 401
