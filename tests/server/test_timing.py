"""Server-Timing on every response, and the ASGI entry point that hands requests to Django
on a thread pool (messagecenter/asgi.py, decision 0006)."""

import re
import time

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import Client, RequestFactory

from messagecenter.server.timing import RECEIVED_AT, ServerTimingMiddleware
from tests.asgi import one_request, run_in_own_loop

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


# The pool's threads outlive a test: one that served a database test before still holds
# its connection, which Django's request_started handler checks (close_old_connections).
@pytest.mark.django_db
def test_the_asgi_application_answers_through_the_thread_pool() -> None:
    from messagecenter.asgi import application

    status, headers, body = run_in_own_loop(lambda: one_request(application, "GET", "/healthz"))

    assert (status, body) == (200, b"ok\n")
    assert TIMING.match(headers[b"server-timing"].decode())
