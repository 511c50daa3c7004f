"""Server-Timing on every response, and the ASGI entry point that hands requests to Django
on a thread pool (messagecenter/asgi.py, decision 0006)."""

import asyncio
import re
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from messagecenter.web.server_timing import RECEIVED_AT, ServerTimingMiddleware

TIMING = re.compile(r"^app;dur=(\d+\.\d\d)$")


def test_every_response_says_how_long_the_server_took() -> None:
    response = Client().get("/healthz")

    assert response.status_code == 200
    assert TIMING.match(response["Server-Timing"])


def test_the_wait_for_a_thread_counts_as_server_time() -> None:
    request = RequestFactory().get("/healthz")
    # What a2wsgi hands on: the ASGI scope, with when the request reached the application.
    request.META["asgi.scope"] = {RECEIVED_AT: time.perf_counter() - 0.25}

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    response = ServerTimingMiddleware(view)(request)

    found = TIMING.match(response["Server-Timing"])
    assert found is not None
    assert float(found.group(1)) >= 250


def test_the_asgi_application_answers_through_the_thread_pool() -> None:
    from messagecenter.asgi import application

    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/healthz",
        "raw_path": b"/healthz",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1")],
        "client": ("127.0.0.1", 50000),
        "server": ("127.0.0.1", 8000),
    }
    # A thread of its own: the browser tests leave an event loop running in this one.
    with ThreadPoolExecutor(1) as thread:
        thread.submit(asyncio.run, application(scope, receive, send)).result()

    start = sent[0]
    headers = dict(start["headers"])
    assert start["status"] == 200
    assert TIMING.match(headers[b"server-timing"].decode())
    assert b"".join(message.get("body", b"") for message in sent[1:]) == b"ok\n"
