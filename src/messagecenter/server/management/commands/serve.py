import socket
import sys
from argparse import ArgumentParser
from typing import Any

import uvicorn
from django.core.management.base import BaseCommand, CommandError
from uvicorn.supervisors import Multiprocess

APPLICATION = "messagecenter.asgi:application"


class Command(BaseCommand):
    help = "Serve the Message Center (web pages and API) over HTTP with uvicorn."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="server processes")
        # httptools and uvloop (C) are installed and chosen by "auto"; h11 and asyncio (pure
        # Python) are there to compare with: GET /healthz 429 vs 379 requests/s in one run
        # (docs/benchmarks.md, "How it got here").
        parser.add_argument("--http", choices=("auto", "httptools", "h11"), default="auto")
        parser.add_argument("--loop", choices=("auto", "uvloop", "asyncio"), default="auto")

    def handle(
        self, *args: Any, host: str, port: int, workers: int, http: str, loop: str, **options: Any
    ) -> None:
        server: dict[str, Any] = {
            "host": host,
            "port": port,
            "http": http,
            "loop": loop,
            "lifespan": "off",
            "log_level": "warning",
            # At "warning" uvicorn writes no access log, but with it on it still works out
            # each request's client address and path for the line its logger then drops.
            "access_log": False,
            # Behind a proxy, trust X-Forwarded-* only from loopback.
            "proxy_headers": True,
            "forwarded_allow_ips": "127.0.0.1",
            # Open event streams never end by themselves: on shutdown, close them after a
            # few seconds (clients reconnect elsewhere) instead of waiting for ever.
            "timeout_graceful_shutdown": 5,
        }
        if workers == 1:
            uvicorn.run(APPLICATION, **server)
            return
        # What uvicorn.run does with several workers — its supervisor starts them and starts
        # a new one in place of one that dies —, with a listening socket per process where
        # the system can spread connections over them (Linux).
        config = uvicorn.Config(APPLICATION, workers=workers, **server)
        if sys.platform == "linux" and hasattr(socket, "SO_REUSEPORT"):
            listening: socket.socket = _SocketPerProcess.on(host, port)
        else:
            listening = config.bind_socket()
        Multiprocess(config, sockets=[listening]).run()


class _SocketPerProcess(socket.socket):
    """The server processes' listening address, given to each process as a socket of its
    own (SO_REUSEPORT): the kernel hands each new connection to one of them by a hash of
    its addresses, so the processes get about as many connections each.

    One socket shared by every process (uvicorn's way) goes to whichever process wakes
    first, and it accepts every connection waiting: of 32 clients connecting at once, one
    of two processes got all 32 in some runs, 28 or 22 in others, and its one group-commit
    writer was busy all the time while the other's idled (docs/benchmarks.md, "Sends: a
    listening socket per process").

    What it costs, as with nginx's `reuseport`: connections waiting in a process's queue
    when it dies are reset (none was answered: the clients try again, and reach another),
    and while no process listens (all restarting at once) connections are refused instead
    of waiting. This socket stays in the supervisor bound, not listening — it keeps the
    port from anyone else —; what uvicorn hands each process it starts (pickled) opens there
    as a new socket bound to the same address, which that process listens on."""

    @classmethod
    def on(cls, host: str, port: int) -> "_SocketPerProcess":
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        # A listener already there (another Message Center too): a socket without
        # SO_REUSEPORT cannot bind beside it, so it is refused here as uvicorn would.
        with socket.socket(family, socket.SOCK_STREAM) as probe:
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                probe.bind((host, port))
            except OSError as error:
                raise CommandError(f"Cannot listen on {host}:{port}: {error}") from error
        sock = _shared_address_socket(family, (host, port), cls)
        assert isinstance(sock, cls)
        return sock

    def __reduce_ex__(self, protocol: object) -> tuple[Any, tuple[Any, ...]]:
        return _shared_address_socket, (self.family, self.getsockname()[:2])


def _shared_address_socket(
    family: int, address: tuple[str, int], kind: type[socket.socket] = socket.socket
) -> socket.socket:
    """A socket bound to `address` beside the others of this server (SO_REUSEPORT): the
    supervisor's, and in each server process its own, which uvicorn listens on."""
    sock = kind(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(address)
    return sock
