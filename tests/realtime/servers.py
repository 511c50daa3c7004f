"""Real server processes for the stream tests, and a small Server-Sent Events client.

The servers are `messagecenter serve` (uvicorn) on a free loopback port, against the test
database, as operators run them."""

import http.client
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings

from tests.test_processes import LIFTED_SEND_LIMITS, database_url, free_port


@dataclass(frozen=True)
class Server:
    port: int

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def connection(self, timeout: float = 10) -> http.client.HTTPConnection:
        return http.client.HTTPConnection("127.0.0.1", self.port, timeout=timeout)

    def request(
        self, method: str, path: str, body: Any = None, headers: dict[str, str] | None = None
    ) -> tuple[int, Any]:
        connection = self.connection()
        try:
            connection.request(
                method,
                path,
                json.dumps(body) if body is not None else None,
                {"Content-Type": "application/json", **(headers or {})},
            )
            response = connection.getresponse()
            return response.status, json.loads(response.read() or b"null")
        finally:
            connection.close()


@contextmanager
def running_server(var_dir: Path, **environment: str) -> Iterator[Server]:
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "messagecenter", "serve", "--port", str(port)],
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "MESSAGECENTER_VAR_DIR": str(var_dir),
            # Sessions and token hashes are signed with it: the same as the tests'.
            "SECRET_KEY": settings.SECRET_KEY,
            **LIFTED_SEND_LIMITS,
            **environment,
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    server = Server(port)
    try:
        # Django alone takes 20 s to start on a shared machine at load 8.
        deadline = time.monotonic() + 120
        while True:
            try:
                status, _ = server.request("GET", "/api/v1/")
                if status == 200:
                    break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start: {process.stderr!r}")
            time.sleep(0.1)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@dataclass
class Message:
    id: int | None
    event: str
    data: Any


class EventStreamClient:
    """One open GET /api/v1/sync/stream, read message by message."""

    def __init__(
        self, server: Server, headers: dict[str, str], query: str = "", timeout: float = 10
    ) -> None:
        self.connection = server.connection(timeout)
        self.connection.request("GET", f"/api/v1/sync/stream{query}", headers=headers)
        self.response = self.connection.getresponse()
        self.comments = 0
        self.retry: int | None = None

    def next(self) -> Message | None:
        """The next message with an event; None when the server ended the stream. Comment
        lines (heartbeats) and the retry hint are counted, not returned."""
        fields: dict[str, str] = {}
        while True:
            line = self.response.readline()
            if not line:
                return None
            text = line.decode().rstrip("\n")
            if text.startswith(":"):
                self.comments += 1
            elif text:
                name, _, value = text.partition(":")
                fields[name] = value.removeprefix(" ")
            elif "event" in fields:
                return Message(
                    int(fields["id"]) if "id" in fields else None,
                    fields["event"],
                    json.loads(fields["data"]),
                )
            elif "retry" in fields:
                self.retry = int(fields.pop("retry"))

    def close(self) -> None:
        self.response.close()
        self.connection.close()
