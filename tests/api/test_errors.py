"""Hostile and broken requests get a 4xx in the one error shape, never a 5xx, and change
nothing: wrong types, missing fields, out-of-range numbers, bad cursors, bad ids,
malformed bodies, oversized bodies, unknown endpoints."""

import json
import re
from collections.abc import Iterator
from typing import Annotated, Any, get_args, get_origin
from urllib.parse import urlencode

import pydantic
import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.api import api
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message
from messagecenter.marketplace.models import Product
from tests import factories
from tests.api.helpers import API, Caller, error_of, with_session, with_token
from tests.conversations.helpers import snapshot
from tests.web.helpers import png

pytestmark = pytest.mark.django_db

HUGE = "99999999999999999999"

# Where with_id puts the id under test.
ID = object()


def with_id(body: dict[str, Any], value: Any) -> dict[str, Any]:
    """`body` with `value` wherever it has ID (in lists and nested objects too)."""

    def put(item: Any) -> Any:
        if item is ID:
            return value
        if isinstance(item, list):
            return [put(each) for each in item]
        if isinstance(item, dict):
            return {key: put(each) for key, each in item.items()}
        return item

    return put(body)


@pytest.fixture
def question(buyer: User, seller: User, product: Product) -> Message:
    return actions.ask_seller_about_product(buyer, product.pk, "Is it loud?")


@pytest.fixture
def device(buyer: User) -> Caller:
    return with_token(buyer)


@pytest.mark.parametrize(
    ("path", "params", "field"),
    [
        ("/conversations", {"limit": "ten"}, "limit"),
        ("/conversations", {"limit": 0}, "limit"),
        ("/conversations", {"limit": 101}, "limit"),
        ("/conversations", {"limit": HUGE}, "limit"),
        ("/conversations", {"box": "deleted"}, "box"),
        ("/conversations", {"folder": "secret"}, "folder"),
        ("/conversations", {"cursor": "a\x00b"}, "cursor"),
        ("/conversations/abc", {}, "conversation_id"),
        ("/conversations/1.5", {}, "conversation_id"),
        ("/conversations/0", {}, "conversation_id"),
        ("/conversations/-3", {}, "conversation_id"),
        (f"/conversations/{HUGE}", {}, "conversation_id"),
        (f"/conversations/{HUGE}/messages", {}, "conversation_id"),
        ("/conversations/1/messages", {"after": -1}, "after"),
        ("/conversations/1/messages", {"before": HUGE}, "before"),
        ("/conversations/1/messages", {"limit": 1000}, "limit"),
        # A number in a query string is digits only: pydantic's lax integers read "1_0" as
        # 10 and " 10" as 10.
        ("/conversations", {"limit": "1_0"}, "limit"),
        ("/conversations/1/messages", {"limit": " 10"}, "limit"),
        ("/conversations/1/messages", {"limit": "+5"}, "limit"),
        ("/search", {"q": "kettle", "limit": "1_0"}, "limit"),
        ("/broadcasts", {"limit": "٣"}, "limit"),
        ("/orders", {"limit": "1e1"}, "limit"),
        # Ids and positions in a query string too: before=1_0 was message 10.
        ("/conversations/1/messages", {"before": "1_0"}, "before"),
        ("/conversations/1/messages", {"after": "+5"}, "after"),
        ("/returns", {"before": "1_0"}, "before"),
        ("/orders/112/claim-eligibility", {"storefront_id": " 7"}, "storefront_id"),
        ("/agent/canned-responses", {"case_id": "+1"}, "case_id"),
        ("/sync/events", {"after": "1_0"}, "after"),
        ("/sync/events", {"after": HUGE}, "after"),
        ("/sync/events", {"limit": "+5"}, "limit"),
        ("/attachments/x", {}, "attachment_id"),
        (f"/attachments/{HUGE}", {}, "attachment_id"),
        ("/orders", {"limit": -1}, "limit"),
        ("/orders/112%00", {}, "number"),
        ("/products/B0%00", {}, "sku"),
        ("/search", {"q": "\x00"}, "q"),
        ("/search", {"q": "kettle\x00"}, "q"),
        ("/search", {"sender": "a\x00b"}, "sender"),
        ("/search", {"order_number": "112\x00"}, "order_number"),
        ("/search", {"q": "kettle", "cursor": "a\x00b"}, "cursor"),
    ],
)
def test_bad_query_and_path_values_are_422_with_the_field_named(
    device: Caller, path: str, params: dict[str, Any], field: str
) -> None:
    response = device.get(path, params)

    assert error_of(response) == (422, "invalid_input")
    assert [f["field"] for f in response.json()["error"]["fields"]] == [field]


# An id in the path is text, as a query string is: digits only. A lax integer read each of
# these as 17 (" 17" is %2017 in the address) and answered, or sent to, conversation 17.
NOT_DIGITS_ONLY = ["1_7", "+17", "17.0", "%2017"]


def id_paths() -> list[tuple[str, str, list[str]]]:
    """(method, path, its id parameters) of every operation with an id in its path."""
    document = api.get_openapi_schema(path_prefix=API + "/")
    return [
        (method, path.removeprefix(API), names)
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        if (
            names := [
                parameter["name"]
                for parameter in operation.get("parameters", [])
                if parameter["in"] == "path" and parameter["schema"]["type"] == "integer"
            ]
        )
    ]


def test_every_id_in_a_path_is_checked_below() -> None:
    assert len(id_paths()) > 40


@pytest.mark.parametrize("written", NOT_DIGITS_ONLY)
@pytest.mark.parametrize(("method", "path", "names"), id_paths())
def test_an_id_in_the_path_is_digits_only(
    method: str, path: str, names: list[str], written: str, question: Message
) -> None:
    before = snapshot()
    address = path
    for name in names:
        address = address.replace("{" + name + "}", written)

    response = with_session(question.sender).call(
        method, address, {"body": "Hello"} if method != "get" else None
    )

    assert error_of(response) == (422, "invalid_input"), response.content
    fields = response.json()["error"]["fields"]
    assert [f["field"] for f in fields if f["in"] == "path"] == names
    assert snapshot() == before


def test_a_reply_to_an_id_that_only_looks_like_a_number_is_not_sent(
    device: Caller, question: Message
) -> None:
    before = snapshot()
    digits = str(question.conversation_id)

    for written in (f"+{digits}", f"{digits}.0", f"%20{digits}", f"0_{digits}"):
        response = device.post(f"/conversations/{written}/messages", {"body": "Sent twice?"})
        assert error_of(response) == (422, "invalid_input")
        assert response.json()["error"]["fields"][0]["field"] == "conversation_id"

    assert snapshot() == before
    assert device.post(f"/conversations/{digits}/messages", {"body": "Once"}).status_code == 201


def boolean_query_parameters() -> list[tuple[str, str, str]]:
    """(method, path, name) of every yes-or-no parameter in a query string of the API."""
    document = api.get_openapi_schema(path_prefix=API + "/")
    return [
        (method, path.removeprefix(API), parameter["name"])
        for path, operations in document["paths"].items()
        for method, operation in operations.items()
        for parameter in operation.get("parameters", [])
        if parameter["in"] == "query" and "boolean" in json.dumps(parameter["schema"])
    ]


def test_every_boolean_in_a_query_string_is_checked_below() -> None:
    assert {path for _, path, _ in boolean_query_parameters()} >= {"/search"}
    assert len(boolean_query_parameters()) >= 2


def _with_path_ids(path: str) -> str:
    return re.sub(r"\{[^}]+\}", "1", path)


# pydantic's lax booleans read every one of these as true or false: unread_only=on was a
# filter, and unread_only=2 an error only by luck.
NOT_TRUE_OR_FALSE = [
    "maybe",
    "2",
    "yes",
    "no",
    "on",
    "off",
    "t",
    "f",
    "y",
    "True",
    "FALSE",
    " 1",
    "",
]


@pytest.mark.parametrize("written", NOT_TRUE_OR_FALSE)
@pytest.mark.parametrize(("method", "path", "name"), boolean_query_parameters())
def test_a_boolean_in_the_query_string_is_true_or_false(
    device: Caller, method: str, path: str, name: str, written: str
) -> None:
    before = snapshot()

    response = device.call(method, f"{_with_path_ids(path)}?{urlencode({name: written})}")

    assert error_of(response) == (422, "invalid_input"), response.content
    fields = response.json()["error"]["fields"]
    assert [(f["in"], f["field"]) for f in fields] == [("query", name)]
    assert snapshot() == before


@pytest.mark.parametrize("written", ["true", "false", "1", "0"])
@pytest.mark.parametrize(("method", "path", "name"), boolean_query_parameters())
def test_true_false_1_and_0_are_read_in_the_query_string(
    device: Caller, method: str, path: str, name: str, written: str
) -> None:
    response = device.call(method, f"{_with_path_ids(path)}?{urlencode({name: written})}")

    assert response.status_code != 422, response.content


def test_a_search_reads_1_and_0_as_the_search_page_sends_them(
    device: Caller, question: Message
) -> None:
    # The buyer's own question: found, and never unread for them (docs/search.md).
    def found(unread_only: str) -> int:
        return len(
            device.get("/search", {"q": "loud", "unread_only": unread_only}).json()["results"]
        )

    assert (found("0"), found("false"), found("1"), found("true")) == (1, 1, 0, 0)


@pytest.mark.parametrize(
    "cursor",
    [
        "zzz",
        "~",
        "2026-01-01T00:00:00~5",
        "2026-01-01T00:00:00+00:00~abc",
        f"2026-01-01T00:00:00+00:00~{HUGE}",
        "2026-01-01T00:00:00+00:00~0",
        "0001-01-01T00:00:00+01:00~1",
        "9999-12-31T23:59:59-01:00~1",
    ],
)
@pytest.mark.parametrize("path", ["/conversations", "/orders"])
def test_a_bad_cursor_is_400_invalid_cursor(device: Caller, path: str, cursor: str) -> None:
    assert error_of(device.get(path, {"cursor": cursor})) == (400, "invalid_cursor")


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, ["action", "conversation_ids"]),
        ([], ["action", "conversation_ids"]),
        ("read", ["action", "conversation_ids"]),
        (None, ["action", "conversation_ids"]),
        ({"action": "read", "conversation_ids": "1,2"}, ["conversation_ids"]),
        ({"action": "read", "conversation_ids": [1, "two"]}, ["conversation_ids.1"]),
        ({"action": "read", "conversation_ids": [int(HUGE)]}, ["conversation_ids.0"]),
        ({"action": "read", "conversation_ids": [0]}, ["conversation_ids.0"]),
        ({"action": 5, "conversation_ids": [1]}, ["action"]),
        ({"action": "mute", "conversation_ids": [1], "mute_until": "soon"}, ["mute_until"]),
    ],
)
def test_a_wrong_action_body_is_422_with_every_field_named(
    device: Caller, question: Message, body: Any, fields: list[str]
) -> None:
    before = snapshot()

    response = device.post("/conversations/actions", body)

    assert error_of(response) == (422, "invalid_input")
    assert [f["field"] for f in response.json()["error"]["fields"]] == fields
    assert {f["in"] for f in response.json()["error"]["fields"]} == {"body"}
    assert snapshot() == before


# Ids in a JSON body are JSON integers: pydantic's lax integers read "1_0" as 10, "+5" as
# 5, " 7 " and 7.0 as 7 and true as 1, and the action went on with the id it guessed.
NOT_JSON_INTEGERS = ["1_0", "+5", " 7 ", "7", 7.0, True]


@pytest.mark.parametrize("value", NOT_JSON_INTEGERS)
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        (
            "/conversations/actions",
            {"action": "read", "conversation_ids": [1, ID]},
            "conversation_ids.1",
        ),
        ("/broadcasts/actions", {"action": "read", "broadcast_ids": [ID]}, "broadcast_ids.0"),
        ("/orders/112/messages", {"storefront_id": ID, "body": "Hi"}, "storefront_id"),
        (
            "/orders/112/returns",
            {
                "items": [{"order_item_id": ID, "quantity": 1}],
                "resolution": "refund",
                "reason": "damaged",
            },
            "items.0.order_item_id",
        ),
        (
            "/claims",
            {
                "order_number": "112",
                "reason": "not_received",
                "description": "x",
                "storefront_id": ID,
            },
            "storefront_id",
        ),
        (
            "/claims",
            {
                "order_number": "112",
                "reason": "not_received",
                "description": "x",
                "conversation_id": ID,
            },
            "conversation_id",
        ),
        (
            "/claims",
            {"order_number": "112", "reason": "not_received", "description": "x", "case_id": ID},
            "case_id",
        ),
        (
            "/customer-service",
            {"subject": "Help", "body": "Hi", "conversation_id": ID},
            "conversation_id",
        ),
    ],
)
def test_an_id_in_a_json_body_is_a_json_integer(
    device: Caller, path: str, body: dict[str, Any], field: str, value: Any
) -> None:
    before = snapshot()

    response = device.post(path, with_id(body, value))

    assert error_of(response) == (422, "invalid_input")
    fields = response.json()["error"]["fields"]
    assert [(f["field"], f["in"], f["type"]) for f in fields] == [(field, "body", "int_type")]
    assert snapshot() == before


@pytest.mark.parametrize("value", [*NOT_JSON_INTEGERS, 2.0])
@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/agent/cases/1/assign", {"assignee_id": ID}, "assignee_id"),
        ("/agent/cases/1/merge", {"into_case_id": ID}, "into_case_id"),
        ("/agent/cases/1/split", {"message_id": ID}, "message_id"),
        ("/agent/canned-responses", {"team_id": ID, "title": "Hi", "body": "Hello"}, "team_id"),
        # Not an id, but a number in a body all the same: 1–4, "2" and 2.0 were read as 2.
        ("/agent/cases/1/priority", {"priority": ID}, "priority"),
    ],
)
def test_an_id_in_an_agents_json_body_is_a_json_integer(
    path: str, body: dict[str, Any], field: str, value: Any
) -> None:
    response = with_token(factories.agent_in_team()).post(path, with_id(body, value))

    assert error_of(response) == (422, "invalid_input")
    fields = response.json()["error"]["fields"]
    assert [(f["field"], f["type"]) for f in fields] == [(field, "int_type")]


def test_a_conversation_id_that_only_looks_like_a_number_changes_nothing(
    device: Caller, question: Message
) -> None:
    before = snapshot()

    for written in (str(question.conversation_id), float(question.conversation_id)):
        response = device.post(
            "/conversations/actions", {"action": "archive", "conversation_ids": [written]}
        )
        assert error_of(response) == (422, "invalid_input")

    assert snapshot() == before
    archived = device.post(
        "/conversations/actions",
        {"action": "archive", "conversation_ids": [question.conversation_id]},
    )
    assert archived.json() == {"changed": 1}


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "body"),
        ({"body": 5}, "body"),
        ({"body": ["a"]}, "body"),
        ({"body": None}, "body"),
        ({"body": "nul \x00 byte"}, "body"),
        ([], "body"),
        ("just a string", "body"),
    ],
)
def test_a_wrong_message_body_is_422_and_sends_nothing(
    device: Caller, question: Message, body: Any, field: str
) -> None:
    before = snapshot()

    response = device.post(f"/conversations/{question.conversation_id}/messages", body)

    assert error_of(response) == (422, "invalid_input")
    assert [f["field"] for f in response.json()["error"]["fields"]] == [field]
    assert snapshot() == before


def test_a_form_without_a_body_field_is_422(device: Caller, question: Message) -> None:
    response = device.post_form(f"/conversations/{question.conversation_id}/messages", {})

    assert error_of(response) == (422, "invalid_input")


@pytest.mark.parametrize(
    ("path", "body", "field"),
    [
        ("/orders/112/messages", {"storefront_id": "shop", "body": "Hi"}, "storefront_id"),
        ("/orders/112/messages", {"body": "Hi"}, "storefront_id"),
        ("/products/B0/questions", {"body": 1}, "body"),
        ("/customer-service", {"body": "Help"}, "subject"),
        ("/customer-service", {"subject": "Help", "body": "Hi", "order_number": 7}, "order_number"),
    ],
)
def test_other_send_endpoints_check_their_fields_first(
    device: Caller, path: str, body: dict[str, Any], field: str
) -> None:
    response = device.post(path, body)

    assert error_of(response) == (422, "invalid_input")
    assert [f["field"] for f in response.json()["error"]["fields"]] == [field]


def test_a_token_name_must_be_text(buyer: User) -> None:
    response = with_session(buyer).post("/tokens", {"name": ["phone"]})

    assert error_of(response) == (422, "invalid_input")


def test_an_idempotency_key_with_a_nul_byte_is_refused(device: Caller, question: Message) -> None:
    response = device.post(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Hi"},
        headers={"Idempotency-Key": "a\x00b"},
    )

    assert error_of(response) == (422, "invalid_input")
    assert response.json()["error"]["fields"][0]["in"] == "header"


@pytest.mark.parametrize(
    "path", ["/conversations/actions", "/conversations/1/messages", "/products/B0/questions"]
)
def test_malformed_json_is_400(device: Caller, question: Message, path: str) -> None:
    response = device.client.post(
        API + path, '{"action": "read", ', content_type="application/json", headers=device.headers
    )

    assert error_of(response) == (400, "malformed_json")


def test_a_send_in_an_unsupported_format_is_415(device: Caller, question: Message) -> None:
    response = device.client.post(
        f"{API}/conversations/{question.conversation_id}/messages",
        "body=Hi",
        content_type="text/plain",
        headers=device.headers,
    )

    assert error_of(response) == (415, "unsupported_media_type")


def test_a_multipart_body_without_its_boundary_is_400(device: Caller, question: Message) -> None:
    response = device.client.post(
        f"{API}/conversations/{question.conversation_id}/messages",
        "--x\r\nContent-Disposition: form-data; name=body\r\n\r\nHi\r\n--x--",
        content_type="multipart/form-data",
        headers=device.headers,
    )

    assert error_of(response) == (400, "malformed_request")


def test_a_body_over_the_api_limit_is_refused_unread(
    device: Caller, question: Message, settings: Settings
) -> None:
    settings.API_REQUEST_MAX_BYTES = 1000
    before = snapshot()

    response = device.post(
        f"/conversations/{question.conversation_id}/messages", {"body": "x" * 2000}
    )

    assert error_of(response) == (413, "request_too_large")
    assert snapshot() == before


def test_the_api_limit_allows_five_attachments_of_10_mb(settings: Settings) -> None:
    assert settings.API_REQUEST_MAX_BYTES > 5 * 10 * 2**20


@pytest.mark.parametrize("path", ["/conversations/actions", "/conversations/1/messages"])
def test_a_json_body_over_djangos_memory_limit_is_413(
    device: Caller, question: Message, settings: Settings, path: str
) -> None:
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    before = snapshot()

    response = device.post(path, {"action": "read", "body": "x" * 200, "conversation_ids": [1]})

    assert error_of(response) == (413, "request_too_large")
    assert snapshot() == before


def test_a_form_with_too_many_fields_is_400(
    device: Caller, question: Message, settings: Settings
) -> None:
    settings.DATA_UPLOAD_MAX_NUMBER_FIELDS = 3

    response = device.post_form(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Hi", **{f"extra{n}": "x" for n in range(5)}},
    )

    assert error_of(response) == (400, "request_refused")


@pytest.mark.parametrize("method", ["get", "post", "delete"])
@pytest.mark.parametrize("path", ["/nope", "/conversations/1/nope", "/v2/conversations"])
def test_an_unknown_endpoint_is_a_404_in_the_api_shape(method: str, path: str) -> None:
    response = getattr(Client(enforce_csrf_checks=True), method)(API + path)

    assert error_of(response) == (404, "unknown_endpoint")


def test_the_api_root_points_to_the_documentation() -> None:
    response = Client().get(f"{API}/")

    assert response.json() == {"docs": "/api/v1/docs", "openapi": "/api/v1/openapi.json"}


# --- text no database can store, and JSON nested without end ---------------------------------


def _text_requests(buyer: User, seller: User, product: Product) -> list[tuple[Caller, str, str]]:
    """Every endpoint that stores text a person sends, each with a request it would accept
    (who sends it, the path, and the field the text goes in)."""
    question = actions.ask_seller_about_product(buyer, product.pk, "Is it loud?")
    order = factories.order_with_item(buyer, product)
    reply = actions.save_reply(seller, "Thanks", "Thank you for your order.")
    as_buyer, as_seller = with_token(buyer), with_token(seller)
    return [
        (with_session(buyer), "/tokens", "name"),
        (as_buyer, f"/conversations/{question.conversation_id}/messages", "body"),
        (as_buyer, "/customer-service", "subject"),
        (as_buyer, f"/products/{product.sku}/questions", "body"),
        (as_buyer, f"/orders/{order.number}/messages", "body"),
        (as_seller, f"/orders/{order.number}/buyer-messages", "body"),
        (as_seller, "/seller/saved-replies", "title"),
        (as_seller, f"/seller/saved-replies/{reply.pk}", "body"),
    ]


def _valid_body(path: str, field: str, text: str, storefront_id: int) -> dict[str, Any]:
    body: dict[str, Any] = {"name": "Phone", "subject": "Help", "body": "Hi", "title": "Hi"}
    if path.endswith("/messages") and path.startswith("/orders"):
        body["storefront_id"] = storefront_id
    return {**body, field: text}


@pytest.mark.parametrize(
    "text", ["\ud800", "a\udfffb", "\udc00\ud800"], ids=["high", "low", "reversed-pair"]
)
def test_a_lone_surrogate_is_refused_by_every_endpoint_that_stores_text(
    buyer: User, seller: User, product: Product, text: str
) -> None:
    requests = _text_requests(buyer, seller, product)
    before = snapshot()

    answers = [
        caller.call(
            "put" if "saved-replies/" in path else "post",
            path,
            _valid_body(path, field, text, product.storefront_id),
        )
        for caller, path, field in requests
    ]

    assert [error_of(answer) for answer in answers] == [(400, "malformed_json")] * 8
    assert snapshot() == before


def test_a_surrogate_pair_is_one_character_and_is_stored(device: Caller, question: Message) -> None:
    response = device.post(
        f"/conversations/{question.conversation_id}/messages", {"body": "\ud83d\ude00 thanks"}
    )

    assert response.status_code == 201
    assert response.json()["body"] == "😀 thanks"


def _nested(depth: int) -> str:
    return '{"body": ' + "[" * depth + "]" * depth + "}"


@pytest.mark.parametrize("depth", [33, 5000, 200_000])
@pytest.mark.parametrize(
    "path", ["/conversations/{id}/messages", "/customer-service", "/conversations/actions"]
)
def test_json_nested_deeper_than_the_limit_is_400(
    device: Caller, question: Message, path: str, depth: int
) -> None:
    before = snapshot()

    response = device.client.post(
        API + path.format(id=question.conversation_id),
        _nested(depth),
        content_type="application/json",
        headers=device.headers,
    )

    assert error_of(response) == (400, "malformed_json")
    assert snapshot() == before


def test_json_nested_to_the_limit_is_read(device: Caller, question: Message) -> None:
    response = device.client.post(
        f"{API}/conversations/{question.conversation_id}/messages",
        _nested(31),
        content_type="application/json",
        headers=device.headers,
    )

    # Read, then refused for what it says: the body is a list, not text.
    assert error_of(response) == (422, "invalid_input")


# --- dates and times out of range -------------------------------------------------------------

# In UTC, the year 10000: PostgreSQL stored it, and no read of the row succeeded after.
END_OF_TIME = "9999-12-31T23:59:59-14:00"


@pytest.mark.parametrize(
    "until", [END_OF_TIME, "2200-01-01T00:00:00Z", "0001-01-01T00:00:00+14:00", "1969-12-31T23:59Z"]
)
def test_a_mute_until_a_time_out_of_range_is_422_and_the_conversation_keeps_working(
    buyer: User, seller: User, question: Message, until: str
) -> None:
    as_buyer, as_seller = with_token(buyer), with_token(seller)
    conversation = f"/conversations/{question.conversation_id}"
    before = snapshot()

    response = as_buyer.post(
        "/conversations/actions",
        {"action": "mute", "conversation_ids": [question.conversation_id], "mute_until": until},
    )

    assert error_of(response) == (422, "invalid_input")
    assert response.json()["error"]["fields"][0]["field"] == "mute_until"
    assert snapshot() == before
    assert as_buyer.get(conversation).status_code == 200
    assert as_seller.post(f"{conversation}/messages", {"body": "Quiet."}).status_code == 201
    assert as_buyer.post(f"{conversation}/messages", {"body": "Thanks."}).status_code == 201


def test_a_mute_until_a_time_far_ahead_within_the_range_is_kept(
    device: Caller, question: Message
) -> None:
    response = device.post(
        "/conversations/actions",
        {
            "action": "mute",
            "conversation_ids": [question.conversation_id],
            "mute_until": "2199-12-31T23:59:59Z",
        },
    )

    assert response.json() == {"changed": 1}
    [item] = device.get("/conversations").json()["items"]
    assert item["muted_until"].startswith("2199-12-31T23:59:59")


@pytest.mark.parametrize("day", ["0001-01-01", "1969-12-31", "2200-01-01", "9999-12-31"])
@pytest.mark.parametrize("field", ["date_from", "date_to"])
def test_a_search_date_out_of_range_is_422(device: Caller, field: str, day: str) -> None:
    response = device.get("/search", {"q": "loud", field: day})

    assert error_of(response) == (422, "invalid_input")
    assert response.json()["error"]["fields"][0]["field"] == field


@pytest.mark.parametrize("written", ["no", "yes", "true", 1, 0])
def test_an_agents_availability_is_json_true_or_false(written: object) -> None:
    agent = with_token(factories.agent_in_team())

    response = agent.post("/agent/chat-availability", {"available": written})

    assert error_of(response) == (422, "invalid_input")
    fields = response.json()["error"]["fields"]
    assert [(f["field"], f["type"]) for f in fields] == [("available", "bool_type")]
    assert agent.get("/agent/chat-availability").json()["is_available"] is False


def _lax_booleans(annotation: Any, metadata: list[Any], where: str) -> Iterator[str]:
    """Where a bool without Strict (a lax boolean) is in `annotation`, nested or not."""
    if get_origin(annotation) is Annotated:
        inner, *more = get_args(annotation)
        yield from _lax_booleans(inner, [*metadata, *more], where)
    elif annotation is bool:
        if not any(isinstance(each, pydantic.Strict) and each.strict for each in metadata):
            yield where
    elif isinstance(annotation, type) and issubclass(annotation, pydantic.BaseModel):
        for name, field in annotation.model_fields.items():
            yield from _lax_booleans(field.annotation, field.metadata, f"{where}.{name}")
    else:
        for argument in get_args(annotation):
            yield from _lax_booleans(argument, [], where)


def test_every_boolean_in_a_json_body_is_strict() -> None:
    """A new yes-or-no field in a body is written BodyBool (api_support), not bool."""
    lax = [
        where
        for _, router in api._routers
        for path, view in router.path_operations.items()
        for operation in view.operations
        for model in operation.models
        if model.__ninja_param_source__ == "body"
        for where in _lax_booleans(model, [], f"{'/'.join(operation.methods)} {path}")
    ]

    assert lax == []


# Files were read from their one field only: a reply with `files=` answered 201 with
# `attachments: []`, the files dropped unsaid.
@pytest.mark.parametrize("wrong", ["files", "attachment", "file"])
def test_files_under_another_field_than_attachments_are_refused(
    device: Caller, question: Message, wrong: str
) -> None:
    before = snapshot()

    response = device.post_form(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Here it is", wrong: [png("scratch.png")]},
    )

    assert error_of(response) == (422, "invalid_input")
    [field] = response.json()["error"]["fields"]
    assert (field["in"], field["field"], field["type"]) == ("body", wrong, "unexpected_file")
    assert "attachments" in field["message"]
    assert snapshot() == before


@pytest.mark.parametrize(
    ("path", "form", "expected"),
    [
        ("/products/B0/questions", {"body": "Like this?"}, "attachments"),
        ("/orders/112/messages", {"storefront_id": "1", "body": "Hi"}, "attachments"),
        ("/orders/112/buyer-messages", {"body": "Hi"}, "attachments"),
        ("/claims", {"order_number": "112", "reason": "not_received"}, "attachments"),
        ("/claims/1/response", {"body": "Here"}, "attachments"),
        ("/orders/112/returns", {"resolution": "refund", "reason": "damaged"}, "photos"),
    ],
)
def test_every_send_with_files_names_the_field_it_reads_them_from(
    device: Caller, path: str, form: dict[str, Any], expected: str
) -> None:
    wrong = "photos" if expected == "attachments" else "attachments"

    response = device.post_form(path, {**form, wrong: [png("proof.png")]})

    assert error_of(response) == (422, "invalid_input")
    [field] = response.json()["error"]["fields"]
    assert (field["field"], field["type"]) == (wrong, "unexpected_file")
    assert expected in field["message"]


def test_attachments_under_their_field_are_still_sent(device: Caller, question: Message) -> None:
    response = device.post_form(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Here it is", "attachments": [png("scratch.png")]},
    )

    assert response.status_code == 201
    assert [a["filename"] for a in response.json()["attachments"]] == ["scratch.png"]
