"""bench/run.py's closed loop against a stand-in server on loopback: what it records when
the machine is busy (docs/benchmarks.md)."""

import asyncio
import socket
import time

from bench import run
from tests.asgi import run_in_own_loop

WARMUP, DURATION = 0.1, 0.3


async def _answer(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Any request: 200, "ok", keep-alive."""
    try:
        while await reader.readuntil(b"\r\n\r\n"):
            writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


async def _run_with_a_stall(stall: float) -> dict[str, object]:
    server = await asyncio.start_server(_answer, run.HOST, 0)
    port = server.sockets[0].getsockname()[1]
    stalled = []

    def make(client: int, number: int) -> run.Request:
        # The first request holds the whole event loop, as a machine busy elsewhere (a CI
        # run's browsers and test processes) can: the warm-up ends long after it was due.
        if not stalled:
            stalled.append(True)
            time.sleep(stall)
        return "GET", "/healthz", None, None, {}

    async with server:
        return await run.run_workload(port, run.Workload("stall", make, 4), DURATION, WARMUP, 10**9)


def test_a_warm_up_that_ends_late_still_records_the_whole_duration() -> None:
    """The smoke benchmark once measured 0 requests for a read on a busy CI machine: the
    loop woke after the deadline, which counted from the start of the warm-up. Now the
    duration counts from when recording starts, and each client records its requests."""
    result = run_in_own_loop(lambda: _run_with_a_stall(stall=WARMUP + DURATION + 0.2))

    assert result["errors"] == 0
    assert result["requests"] > 4  # more than the requests in flight when recording began
    assert result["seconds"] >= DURATION


def test_a_server_counts_as_started_once_each_of_its_processes_listens() -> None:
    # Each server process listens on a socket of its own once it has loaded what requests
    # need; a socket that is only bound (the supervisor's) takes no connections.
    with socket.socket() as bound, socket.socket() as first, socket.socket() as second:
        for sock in (bound, first, second):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
        bound.bind((run.HOST, 0))
        port = bound.getsockname()[1]
        first.bind((run.HOST, port))
        second.bind((run.HOST, port))
        assert run.listening(port) == 0
        first.listen()
        assert run.listening(port) == 1
        second.listen()
        assert run.listening(port) == 2
