"""Calling ASGI applications from tests: in an event loop of their own, one request at a
time."""

import asyncio
from collections.abc import Awaitable, Callable, Coroutine
from concurrent.futures import ThreadPoolExecutor
from typing import Any

AsgiApplication = Callable[[dict[str, Any], Any, Any], Awaitable[None]]


def run_in_own_loop[T](scenario: Callable[[], Coroutine[Any, Any, T]], timeout: float = 60) -> T:
    """asyncio.run in a thread of its own: a test run may already have an event loop in
    this thread (Playwright's sync API leaves one)."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(lambda: asyncio.run(scenario())).result(timeout=timeout)


async def one_request(
    application: AsgiApplication, method: str, path: str, **options: Any
) -> tuple[int, dict[bytes, bytes], bytes]:
    """A request from a loopback client (`exchange`, with its `headers` and `chunks`):
    (status, headers, body)."""
    sent = await exchange(application, method, path, **options)
    body = b"".join(message.get("body", b"") for message in sent[1:])
    return sent[0]["status"], dict(sent[0]["headers"]), body


async def exchange(
    application: AsgiApplication,
    method: str,
    path: str,
    *,
    headers: list[tuple[bytes, bytes]] = (),  # type: ignore[assignment]
    chunks: list[bytes] = (),  # type: ignore[assignment]
    on_send: Callable[[dict[str, Any]], None] | None = None,
    host: bytes = b"127.0.0.1",
    scheme: str = "http",
    query_string: bytes = b"",
) -> list[dict[str, Any]]:
    """A request from a loopback client, its body in `chunks` as the server receives them:
    the ASGI messages the application sends, each also handed to `on_send` as it goes."""
    sent: list[dict[str, Any]] = []
    pending = list(chunks) or [b""]

    async def receive() -> dict[str, Any]:
        if not pending:
            return {"type": "http.disconnect"}
        return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending)}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)
        if on_send is not None:
            on_send(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": scheme,
        "path": path,
        "raw_path": path.encode(),
        "query_string": query_string,
        "root_path": "",
        "headers": [(b"host", host), *headers],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    await application(scope, receive, send)
    return sent
