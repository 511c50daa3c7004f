"""The intake's gate: signatures, bodies that are not events, and retries. Every refused
request is answered before anything is created."""

import json
import time
from typing import Any

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.marketplace.events import SignatureRefused, signature_header, verify_signature
from messagecenter.marketplace.models import Order, Product
from tests import factories
from tests.marketplace.helpers import SECRET, deliver, event, row_counts

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(buyer: User, product: Product) -> Order:
    return factories.order_with_item(buyer, product, number="112-0000001-0000001")


@pytest.fixture
def problem(order: Order) -> dict[str, Any]:
    return event("order.problem", {"order_number": order.number, "description": "Lost."})


def refused(response: Any, status: int, code: str) -> dict[str, Any]:
    assert (response.status_code, response.json()["error"]["code"]) == (status, code), (
        response.content
    )
    error: dict[str, Any] = response.json()["error"]
    return error


# --- signatures ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("header", "code"),
    [
        ("", "signature_missing"),
        ("v1=abc", "signature_malformed"),
        ("t=12x,v1=abc", "signature_malformed"),
        # {now} is the time of the request, not of collection: a slow run would otherwise
        # see "signature_expired".
        ("t={now}", "signature_malformed"),
        ("t={now},v1=" + "0" * 64, "signature_mismatch"),
        # Compared with the clock as a float, such a number overflowed: a 500 for anyone.
        (f"t={'9' * 400},v1={'0' * 64}", "signature_malformed"),
        (f"t={'1' * 5000},v1={'0' * 64}", "signature_malformed"),
    ],
    # Named without the time in them: the same names in every process (pytest-xdist).
    ids=[
        "missing",
        "no-time",
        "bad-time",
        "no-signature",
        "wrong-signature",
        "400-digit-time",
        "5000-digit-time",
    ],
)
def test_a_missing_or_bad_signature_is_refused_and_creates_nothing(
    problem: dict[str, Any], header: str, code: str
) -> None:
    before = row_counts()

    refused(deliver(problem, header=header.replace("{now}", str(int(time.time())))), 401, code)

    assert row_counts() == before


# Well past the tolerance either way: a slow machine may take seconds between signing and
# checking, which moves a future timestamp towards now (the boundary is tested below).
@pytest.mark.parametrize("seconds_off", [-301, 360])
def test_a_stale_or_future_signature_is_refused(problem: dict[str, Any], seconds_off: int) -> None:
    before = row_counts()

    refused(deliver(problem, timestamp=int(time.time()) + seconds_off), 401, "signature_expired")

    assert row_counts() == before


@pytest.mark.parametrize(
    ("seconds_off", "is_accepted"), [(-301, False), (-300, True), (300, True), (301, False)]
)
def test_the_tolerance_holds_to_the_second(
    settings: Settings, seconds_off: int, is_accepted: bool
) -> None:
    settings.MARKETPLACE_EVENTS_SECRETS = [SECRET]
    body = b"{}"
    header = signature_header(body, SECRET, timestamp=1_800_000_000 + seconds_off)

    if is_accepted:
        verify_signature(header, body, now=1_800_000_000)
    else:
        with pytest.raises(SignatureRefused) as refusal:
            verify_signature(header, body, now=1_800_000_000)
        assert refusal.value.code == "signature_expired"


def test_a_signature_within_the_tolerance_is_accepted(problem: dict[str, Any]) -> None:
    assert deliver(problem, timestamp=int(time.time()) - 290).status_code == 201


def test_a_signature_with_another_secret_is_refused(problem: dict[str, Any]) -> None:
    before = row_counts()

    refused(deliver(problem, secret="not-the-secret"), 401, "signature_mismatch")

    assert row_counts() == before


def test_a_signature_over_another_body_is_refused(problem: dict[str, Any]) -> None:
    header = signature_header(json.dumps({**problem, "id": "other"}).encode(), SECRET)

    refused(deliver(problem, header=header), 401, "signature_mismatch")


def test_during_a_rotation_the_old_and_the_new_secret_both_verify(
    order: Order, settings: Settings
) -> None:
    settings.MARKETPLACE_EVENTS_SECRETS = ["new-secret", SECRET]
    data = {"order_number": order.number, "description": "Lost."}

    assert deliver(event("order.problem", data, "evt-old"), secret=SECRET).status_code == 201
    assert deliver(event("order.problem", data, "evt-new"), secret="new-secret").status_code == 201


def test_any_of_several_v1_signatures_may_match(problem: dict[str, Any]) -> None:
    body = json.dumps(problem).encode()
    now = int(time.time())
    good = signature_header(body, SECRET, now).split("v1=")[1]

    response = deliver(body, header=f"t={now},v1={'f' * 64},v1={good}")

    assert response.status_code == 201


def test_without_a_configured_secret_every_event_is_refused(
    problem: dict[str, Any], settings: Settings
) -> None:
    settings.MARKETPLACE_EVENTS_SECRETS = []
    before = row_counts()

    error = refused(deliver(problem), 401, "events_not_configured")

    assert "MARKETPLACE_EVENTS_SECRETS" in error["message"]
    assert row_counts() == before


def test_an_unsigned_body_is_never_parsed(db: None) -> None:
    """Not JSON, and unsigned: the answer is about the signature, not the body."""
    refused(deliver(b"{not json", header=""), 401, "signature_missing")


def test_a_signed_in_person_cannot_deliver_events(problem: dict[str, Any], buyer: User) -> None:
    client = Client()
    client.force_login(buyer)
    before = row_counts()

    refused(deliver(problem, header="", client=client), 401, "signature_missing")

    assert row_counts() == before


def test_an_oversized_body_is_refused_unread(db: None) -> None:
    refused(deliver(b"{" + b" " * 70_000 + b"}", header=""), 413, "request_too_large")


# --- bodies that are not events ------------------------------------------------------------


def test_malformed_json_is_400_and_creates_nothing(db: None) -> None:
    before = row_counts()

    refused(deliver(b'{"id": "evt-1", "type": '), 400, "malformed_json")

    assert row_counts() == before


@pytest.mark.parametrize("depth", [40, 30_000])
def test_a_signed_event_nested_without_end_is_400(problem: dict[str, Any], depth: int) -> None:
    before = row_counts()
    body = json.dumps(problem).encode()[:-1] + b', "extra": ' + b"[" * depth + b"]" * depth + b"}"

    refused(deliver(body), 400, "malformed_json")

    assert row_counts() == before


def test_a_signed_event_with_a_lone_surrogate_anywhere_is_400(problem: dict[str, Any]) -> None:
    before = row_counts()
    problem["data"]["notes"] = {"\ud800": ["\udfff"]}

    refused(deliver(problem), 400, "malformed_json")

    assert row_counts() == before


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("occurred_at", "9999-12-31T23:59:59-14:00"),
        ("occurred_at", "0001-01-01T00:00:00+14:00"),
        ("data.until", "9999-12-31T23:59:59-14:00"),
        ("data.until", "2200-01-01T00:00:00Z"),
        ("data.new_estimate", "9999-12-31"),
        ("data.estimated_delivery", "0001-01-01"),
    ],
)
def test_an_event_time_out_of_range_is_422_and_creates_nothing(
    buyer: User, order: Order, field: str, value: str
) -> None:
    payloads = {
        "occurred_at": event("order.problem", {"order_number": order.number, "description": "x"}),
        "data.until": event("membership.renewed", {"user": buyer.username, "until": ""}),
        "data.new_estimate": event(
            "order.delayed",
            {"order_number": order.number, "new_estimate": "", "reason": "Weather."},
        ),
        "data.estimated_delivery": event(
            "order.shipped",
            {
                "order_number": order.number,
                "carrier": "DHL",
                "tracking_number": "1Z",
                "estimated_delivery": "",
            },
        ),
    }
    payload = payloads[field]
    *parents, name = field.split(".")
    target = payload["data"] if parents else payload
    target[name] = value
    before = row_counts()

    error = refused(deliver(payload), 422, "invalid_input")

    assert [item["field"] for item in error["fields"]] == [field]
    assert row_counts() == before


@pytest.mark.parametrize(
    ("payload", "fields"),
    [
        ([1, 2], [("", "model_attributes_type")]),
        (
            {"id": "e", "occurred_at": "2026-11-20T14:05:00Z", "data": {}},
            [("type", "union_tag_not_found")],
        ),
        (
            {"id": "e", "type": "order.lost", "occurred_at": "2026-11-20T14:05:00Z", "data": {}},
            [("type", "union_tag_invalid")],
        ),
        (
            event("order.shipped", {"order_number": "1", "carrier": "DHL"}),
            [("data.tracking_number", "missing")],
        ),
        (
            {**event("order.problem", {"order_number": "1", "description": "x"}), "id": "e" * 101},
            [("id", "string_too_long")],
        ),
        (
            {
                **event("order.problem", {"order_number": "1", "description": "x"}),
                "occurred_at": "2026-11-20T14:05:00",
            },
            [("occurred_at", "timezone_aware")],
        ),
        (
            event(
                "order.shipped",
                {
                    "order_number": "1",
                    "carrier": "DHL",
                    "tracking_number": "1",
                    "tracking_url": "javascript:alert(1)",
                },
            ),
            [("data.tracking_url", "url_scheme")],
        ),
        (
            event(
                "refund.issued",
                {"order_number": "1", "amount_cents": -5, "currency": "usd", "reason": "r"},
            ),
            [
                ("data.amount_cents", "greater_than_equal"),
                ("data.currency", "string_pattern_mismatch"),
            ],
        ),
        (
            event("order.problem", {"order_number": "1", "description": "x", "extra": 1}),
            [("data.extra", "extra_forbidden")],
        ),
        (
            event("order.problem", {"order_number": "1", "description": "  \n "}),
            [("data.description", "string_too_short")],
        ),
    ],
)
def test_a_body_that_is_not_an_event_is_422_with_its_fields(
    db: None, payload: Any, fields: list[tuple[str, str]]
) -> None:
    before = row_counts()

    error = refused(deliver(payload), 422, "invalid_input")

    assert [(field["field"], field["type"]) for field in error["fields"]] == fields
    assert row_counts() == before


# pydantic's lax integers read each of these as a number: "1_299" as 1299, true as 1.
NOT_JSON_INTEGERS = ["1_299", "1299", " 1299 ", 1299.0, True]


@pytest.mark.parametrize("amount", NOT_JSON_INTEGERS, ids=repr)
def test_an_amount_or_a_count_that_is_not_a_json_integer_is_422_and_creates_nothing(
    buyer: User, product: Product, order: Order, amount: object
) -> None:
    payloads = {
        "data.amount_cents": event(
            "refund.issued",
            {"order_number": order.number, "amount_cents": amount, "reason": "Lost."},
        ),
        "data.total_cents": event(
            "order.placed",
            {
                "order_number": "112-0000002-0000002",
                "buyer": buyer.username,
                "total_cents": amount,
                "items": [{"sku": product.sku, "unit_price_cents": 1299}],
            },
        ),
        "data.items.0.unit_price_cents": event(
            "order.placed",
            {
                "order_number": "112-0000002-0000002",
                "buyer": buyer.username,
                "total_cents": 1299,
                "items": [{"sku": product.sku, "unit_price_cents": amount}],
            },
        ),
        "data.items.0.quantity": event(
            "return.requested",
            {
                "order_number": order.number,
                "return_reference": "RMA-1",
                "reason": "Too loud",
                "items": [{"sku": product.sku, "quantity": amount}],
            },
        ),
    }
    before = row_counts()

    for field, payload in payloads.items():
        error = refused(deliver(payload), 422, "invalid_input")

        assert [(item["field"], item["type"]) for item in error["fields"]] == [(field, "int_type")]
    assert row_counts() == before


def test_an_event_about_an_unknown_order_is_422_and_creates_nothing(db: None) -> None:
    before = row_counts()

    error = refused(
        deliver(event("order.problem", {"order_number": "112-404", "description": "Lost."})),
        422,
        "unknown_order",
    )

    assert error["message"] == "No order 112-404: send its order.placed event first."
    assert row_counts() == before


# --- retries -------------------------------------------------------------------------------


def test_a_retry_returns_the_first_result_and_creates_nothing(problem: dict[str, Any]) -> None:
    first = deliver(problem)
    after_first = row_counts()

    retry = deliver(problem)

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert row_counts() == after_first


def test_a_retry_with_other_spacing_and_key_order_is_still_a_retry(
    problem: dict[str, Any],
) -> None:
    first = deliver(problem)
    reordered = json.dumps(dict(reversed(list(problem.items()))), indent=2).encode()

    retry = deliver(reordered)

    assert retry.status_code == 200
    assert retry.json() == first.json()


def test_the_same_id_with_another_body_is_a_conflict(problem: dict[str, Any]) -> None:
    deliver(problem)
    after_first = row_counts()
    changed = {**problem, "data": {**problem["data"], "description": "Found."}}

    error = refused(deliver(changed), 409, "event_id_reused")

    assert error["message"] == "Event id 'evt-1' was already used for a different event."
    assert row_counts() == after_first
