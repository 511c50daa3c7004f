"""server/threads.py: a WSGI application on the thread pool, as `messagecenter serve` runs
Django (decision 0006) — an ordinary request crosses between the event loop and its thread
once each way; large bodies and streaming responses still go piece by piece."""

import asyncio
import hashlib
import sys
import threading
from collections.abc import Iterator
from typing import Any

import pytest
from django.http import HttpResponse

from messagecenter.server import threads
from tests.asgi import exchange, run_in_own_loop

Environ = dict[str, Any]


class Client:
    """Calls the application as uvicorn does, recording what it sends and how often the
    request's thread waited on the event loop."""

    def __init__(self, app: Any, monkeypatch: pytest.MonkeyPatch) -> None:
        self.application = threads.DjangoInThreads(app, workers=2)
        self.sent: list[dict[str, Any]] = []
        self.hand_offs = 0
        self.on_send: Any = None
        handing_off = asyncio.run_coroutine_threadsafe

        def counted(coroutine: Any, loop: Any) -> Any:
            self.hand_offs += 1
            return handing_off(coroutine, loop)

        # Both ways a thread hands something to the loop: the responses, a2wsgi's Body.
        monkeypatch.setattr(threads.asyncio, "run_coroutine_threadsafe", counted)

    def request(
        self, method: str, chunks: list[bytes], headers: list[tuple[bytes, bytes]] = ()
    ) -> None:  # type: ignore[assignment]
        self.sent = run_in_own_loop(
            lambda: exchange(
                self.application,
                method,
                "/",
                headers=list(headers),
                chunks=chunks,
                on_send=self.on_send,
            ),
            timeout=20,
        )

    @property
    def body(self) -> bytes:
        return b"".join(message.get("body", b"") for message in self.sent[1:])


def echo(environ: Environ, start_response: Any) -> list[bytes]:
    """Answers the body's length and digest, as read through wsgi.input."""
    data = environ["wsgi.input"].read(int(environ.get("CONTENT_LENGTH") or 0))
    start_response("201 Created", [("Content-Type", "text/plain")])
    return [f"{len(data)} {hashlib.sha256(data).hexdigest()}".encode()]


def _answer_for(data: bytes) -> bytes:
    return f"{len(data)} {hashlib.sha256(data).hexdigest()}".encode()


def test_a_small_body_and_a_whole_answer_cross_once_each_way(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A JSON call: the body, in two pieces as the server received it, is read in the event
    loop; the answer is sent from it. The thread never waits on the loop (a2wsgi's own
    responder waited five times: the body's read, the start, the chunk, the end)."""
    client = Client(echo, monkeypatch)
    body = b'{"body": "Is it still available?"}'
    client.request("POST", [body[:10], body[10:]], [(b"content-length", str(len(body)).encode())])

    assert client.hand_offs == 0
    assert client.sent[0] == {
        "type": "http.response.start",
        "status": 201,
        "headers": [(b"content-type", b"text/plain")],
    }
    assert client.sent[1:] == [{"type": "http.response.body", "body": _answer_for(body)}]


def test_a_large_body_is_read_from_the_thread_as_it_comes(monkeypatch: pytest.MonkeyPatch) -> None:
    """Above PREREAD_BYTES (an attachment), the body is not held in the loop first: the
    application reads it through a2wsgi's Body, piece by piece."""
    client = Client(echo, monkeypatch)
    pieces = [bytes([n]) * 100_000 for n in range(4)]
    length = sum(map(len, pieces))
    assert length > threads.PREREAD_BYTES
    client.request("POST", pieces, [(b"content-length", str(length).encode())])

    assert client.sent[0]["status"] == 201
    assert client.body == _answer_for(b"".join(pieces))
    assert client.hand_offs == len(pieces)


def test_a_chunked_body_is_read_from_the_thread(monkeypatch: pytest.MonkeyPatch) -> None:
    """No Content-Length: not read ahead (ChunkedBodies reads it whole for Django)."""

    def reads_to_the_end(environ: Environ, start_response: Any) -> list[bytes]:
        data = b"".join(iter(lambda: environ["wsgi.input"].read(3), b""))
        start_response("200 OK", [])
        return [data]

    client = Client(reads_to_the_end, monkeypatch)
    client.request("POST", [b"abc", b"def"], [(b"transfer-encoding", b"chunked")])

    assert client.body == b"abcdef"


def test_a_streaming_answer_goes_out_chunk_by_chunk(monkeypatch: pytest.MonkeyPatch) -> None:
    """An export or an attachment: each chunk is sent before the next is made (here the
    second is made only once the client has the first)."""
    first_arrived = threading.Event()

    def streams(environ: Environ, start_response: Any) -> Iterator[bytes]:
        start_response("200 OK", [("Content-Type", "text/csv")])
        yield b"first,"
        if not first_arrived.wait(timeout=10):
            raise AssertionError("the first chunk was held back")
        yield b"second"

    client = Client(streams, monkeypatch)
    client.on_send = lambda message: (
        first_arrived.set() if message.get("body") == b"first," else None
    )
    client.request("GET", [])

    assert [message.get("body") for message in client.sent] == [None, b"first,", b"second", b""]
    assert client.sent[-1].get("more_body", False) is False


def test_a_django_response_that_does_not_stream_is_sent_whole(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def django_view(environ: Environ, start_response: Any) -> HttpResponse:
        response = HttpResponse(b"whole", content_type="text/plain")
        start_response("200 OK", list(response.items()))
        return response

    client = Client(django_view, monkeypatch)
    client.request("GET", [])

    assert client.hand_offs == 0
    assert client.sent[1:] == [{"type": "http.response.body", "body": b"whole"}]


def test_an_error_before_the_answer_is_sent_replaces_its_start(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """PEP 3333: start_response called again with the error's exc_info, while the first
    start is still held, replaces it."""

    def fails_late(environ: Environ, start_response: Any) -> list[bytes]:
        start_response("200 OK", [])
        try:
            raise ValueError("broken")
        except ValueError:
            start_response("500 Internal Server Error", [], sys.exc_info())
        return [b"sorry"]

    client = Client(fails_late, monkeypatch)
    client.request("GET", [])

    assert [message["type"] for message in client.sent] == [
        "http.response.start",
        "http.response.body",
    ]
    assert (client.sent[0]["status"], client.body) == (500, b"sorry")
