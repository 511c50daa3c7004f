"""`messagecenter serve --workers N`: each server process listens on a socket of its own
(server/management/commands/serve.py), so connections that arrive together are spread over
the processes instead of all going to the one that woke first; a second server on the same
port is refused."""

import socket
import subprocess
import sys
from pathlib import Path

import pytest

from tests.delivery.test_crash import wait_until
from tests.test_durability import Server

pytestmark = pytest.mark.django_db(transaction=True)

CONNECTIONS = 64


def get_healthz(connection: socket.socket) -> bytes:
    connection.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
    return connection.recv(4096)


@pytest.mark.skipif(sys.platform != "linux", reason="SO_REUSEPORT spreads connections on Linux")
def test_connections_made_at_once_are_spread_over_the_server_processes(tmp_path: Path) -> None:
    server = Server(tmp_path, workers=2)
    server.start()
    connections: list[socket.socket] = []
    try:
        wait_until(lambda: len(server.listening()) == 2, 90, "two server processes listening")
        # All at once, as a benchmark's or a proxy's pool opens them: they wait together in
        # the accept queue (one shared socket gave them all to one process).
        connections = [
            socket.create_connection(("127.0.0.1", server.port)) for _ in range(CONNECTIONS)
        ]
        for connection in connections:
            assert get_healthz(connection).startswith(b"HTTP/1.1 200")
        held = server.sockets("01")  # established
        # Sockets that share a port admit only sockets that also ask to (SO_REUSEPORT): a
        # second Message Center started on the port is refused, not served beside this one.
        second = subprocess.run(
            [*server.command(), "--port", str(server.port), "--workers", "2"],
            env=server.environment(),
            capture_output=True,
            text=True,
            timeout=120,
        )
    finally:
        for connection in connections:
            connection.close()
        server.kill()
    assert sum(held.values()) == CONNECTIONS, server.log()
    # Spread by a hash of each connection's addresses: fewer than 16 of 64 in one of two
    # processes happens about once in 30,000 runs (a binomial tail).
    assert min(held.values()) >= CONNECTIONS // 4, held
    assert second.returncode != 0
    assert f"Cannot listen on 127.0.0.1:{server.port}" in second.stderr
