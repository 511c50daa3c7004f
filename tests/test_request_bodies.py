"""Bodies sent in chunks, without a Content-Length (messagecenter/request_bodies.py): read
within the size limit, refused with 413 beyond it, through both entry points."""

import io
import json
import time
from typing import Any

import pytest
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.marketplace.events import signature_header
from messagecenter.marketplace.models import MarketplaceEvent, Product
from tests import factories
from tests.asgi import one_request, run_in_own_loop
from tests.marketplace.helpers import SECRET, URL, event


@pytest.fixture(autouse=True)
def _signing_secret(settings: Settings) -> None:
    settings.MARKETPLACE_EVENTS_SECRETS = [SECRET]


def _signed_problem(order_number: str) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    body = json.dumps(
        event("order.problem", {"order_number": order_number, "description": "Lost."})
    ).encode()
    headers = [
        (b"content-type", b"application/json"),
        (b"transfer-encoding", b"chunked"),
        (b"marketplace-signature", signature_header(body, SECRET, int(time.time())).encode()),
    ]
    return body, headers


def _in_chunks(body: bytes, size: int = 7) -> list[bytes]:
    return [body[start : start + size] for start in range(0, len(body), size)]


@pytest.mark.django_db(transaction=True)
def test_a_signed_event_sent_in_chunks_is_received(buyer: User, product: Product) -> None:
    from messagecenter.asgi import application

    order = factories.order_with_item(buyer, product)
    body, headers = _signed_problem(order.number)

    status, _, answer = run_in_own_loop(
        lambda: one_request(application, "POST", URL, headers=headers, chunks=_in_chunks(body))
    )

    assert status == 201, answer
    assert json.loads(answer)["messages"][0]["recipient"] == buyer.username
    assert MarketplaceEvent.objects.count() == 1


def _wsgi_call(environ_extra: dict[str, Any], body: bytes) -> tuple[str, bytes]:
    from messagecenter.wsgi import application

    environ = {
        "REQUEST_METHOD": "POST",
        "PATH_INFO": URL,
        "SERVER_NAME": "127.0.0.1",
        "SERVER_PORT": "8000",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": io.StringIO(),
        "CONTENT_TYPE": "application/json",
        "HTTP_TRANSFER_ENCODING": "chunked",
        **environ_extra,
    }
    answer: list[str] = []
    content = b"".join(application(environ, lambda status, headers: answer.append(status)))
    return answer[0], content


# Django's handler closes the connection when the request finishes: real commits.
@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_reaches_django_through_the_wsgi_entry_point(
    buyer: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)
    body, headers = _signed_problem(order.number)
    signature = dict(headers)[b"marketplace-signature"].decode()

    status, _ = _wsgi_call({"HTTP_MARKETPLACE_SIGNATURE": signature}, body)

    assert status.startswith("201")


# Django's handler closes the connection when the request finishes: real commits.
@pytest.mark.django_db(transaction=True)
def test_a_chunked_body_over_the_limit_is_413_and_never_reaches_django(
    settings: Settings, buyer: User, product: Product
) -> None:
    settings.API_REQUEST_MAX_BYTES = 100
    order = factories.order_with_item(buyer, product)
    body, headers = _signed_problem(order.number)
    signature = dict(headers)[b"marketplace-signature"].decode()

    status, content = _wsgi_call({"HTTP_MARKETPLACE_SIGNATURE": signature}, body + b" " * 200)

    assert status == "413 Content Too Large"
    assert json.loads(content)["error"]["code"] == "request_too_large"
    assert MarketplaceEvent.objects.count() == 0
