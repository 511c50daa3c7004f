"""The OpenAPI document and the interactive docs; and, walking every operation the document
lists, that none answers without authentication and no session write skips CSRF."""

import json
import re
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver
from openapi_spec_validator import validate

from messagecenter.accounts.models import User
from messagecenter.api import api
from tests.api.helpers import API, anonymous, error_of, with_session

pytestmark = pytest.mark.django_db

OUR_PATHS = {
    "/api/v1/me",
    "/api/v1/tokens",
    "/api/v1/tokens/{token_id}",
    "/api/v1/folders",
    "/api/v1/seen",
    "/api/v1/conversations",
    "/api/v1/conversations/actions",
    "/api/v1/conversations/{conversation_id}",
    "/api/v1/conversations/{conversation_id}/messages",
    "/api/v1/customer-service",
    "/api/v1/attachments/{attachment_id}",
    "/api/v1/products/{sku}",
    "/api/v1/products/{sku}/questions",
    "/api/v1/orders",
    "/api/v1/orders/{number}",
    "/api/v1/orders/{number}/messages",
    "/api/v1/orders/{number}/buyer-messages",
}
UNSAFE = {"post", "put", "patch", "delete"}
# Not for people: the marketplace's systems sign their events instead of signing in
# (docs/marketplace-events.md), so no token, session or CSRF token applies to them.
SIGNED = {("post", "/api/v1/marketplace-events")}


def openapi() -> dict[str, Any]:
    response = Client().get(f"{API}/openapi.json")
    assert response.status_code == 200
    document: dict[str, Any] = response.json()
    return document


def routed_paths() -> set[str]:
    """Every operation path Django routes under /api/v1/, in OpenAPI's {name} notation."""
    [api_resolver] = [
        entry
        for entry in get_resolver().url_patterns
        if isinstance(entry, URLResolver) and entry.namespace == "api"
    ]
    paths = set()
    for pattern in api_resolver.url_patterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        if pattern.name in {"openapi-json", "openapi-view", "api-root"}:
            continue
        paths.add("/api/v1/" + re.sub(r"<(?:\w+:)?(\w+)>", r"{\1}", route))
    return paths


def operations() -> list[tuple[str, str]]:
    """(method, path) of every operation in the document, as the docs page reads it."""
    document = api.get_openapi_schema(path_prefix=API + "/")
    return [
        (method, path)
        for path, methods in document["paths"].items()
        for method in methods
        if method in {"get", *UNSAFE}
    ]


def concrete(path: str) -> str:
    """A path with made-up values for its parameters (ids that exist nowhere)."""
    return re.sub(r"\{(\w+)\}", "987654", path).removeprefix(API)


def test_the_document_is_valid_json_listing_every_routed_path() -> None:
    document = openapi()

    assert document["openapi"] == "3.1.0"
    assert document["info"]["title"] == "Message Center API"
    assert document["info"]["version"] == "1"
    assert set(document["paths"]) == routed_paths()
    assert set(document["paths"]) >= OUR_PATHS
    assert document["components"]["securitySchemes"] == {
        "ApiTokenAuth": {"type": "http", "scheme": "bearer"},
        "SessionAuth": {"type": "apiKey", "in": "cookie", "name": "sessionid"},
    }


def refuse_duplicate_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    keys = [key for key, _ in pairs]
    duplicated = sorted({key for key in keys if keys.count(key) > 1})
    assert not duplicated, f"duplicated keys in the served document: {duplicated}"
    return dict(pairs)


def test_the_served_document_is_valid_openapi_without_duplicated_keys() -> None:
    """Swagger UI refuses a document with a key twice ("duplicated mapping key"), which
    json.loads would silently accept by keeping the last one."""
    response = Client().get(f"{API}/openapi.json")
    document = json.loads(response.content, object_pairs_hook=refuse_duplicate_keys)

    validate(document)


# From a signed-in browser session only: making a token (a leaked token cannot mint its
# successor), and registering or removing a passkey (made in the browser, for this site's
# origin; a second factor goes only after a recent sign-in, which a token is not).
SESSION_ONLY = (
    ("post", "/api/v1/tokens"),
    ("post", "/api/v1/passkeys/registration-options"),
    ("post", "/api/v1/passkeys"),
    ("delete", "/api/v1/passkeys/{passkey_id}"),
)


def test_every_operation_accepts_a_token_or_a_session_except_making_tokens() -> None:
    document = openapi()
    security = {
        (method, path): operation["security"]
        for path, methods in document["paths"].items()
        for method, operation in methods.items()
        if (method, path) not in SIGNED
    }

    for operation in SESSION_ONLY:
        assert security.pop(operation) == [{"SessionAuth": []}], operation
    assert {str(value) for value in security.values()} == {
        str([{"ApiTokenAuth": []}, {"SessionAuth": []}])
    }


def test_send_endpoints_document_json_and_multipart_bodies() -> None:
    paths = openapi()["paths"]

    for path in (
        "/api/v1/conversations/{conversation_id}/messages",
        "/api/v1/products/{sku}/questions",
        "/api/v1/orders/{number}/messages",
        "/api/v1/orders/{number}/buyer-messages",
    ):
        operation = paths[path]["post"]
        assert set(operation["requestBody"]["content"]) == {
            "application/json",
            "multipart/form-data",
        }
        assert {status for status in operation["responses"] if status < "300"} == {"200", "201"}
        assert {"400", "401", "404", "413", "415", "422"} <= set(operation["responses"])
        assert [p["name"] for p in operation["parameters"] if p["in"] == "header"] == [
            "Idempotency-Key"
        ]


def test_the_interactive_docs_are_served_with_their_own_static_files() -> None:
    response = Client().get(f"{API}/docs")

    assert response.status_code == 200
    html = response.content.decode()
    assert "/static/ninja/swagger-ui-bundle.js" in html
    # Every script and stylesheet comes from this server, none from a CDN (a bare "cdn"
    # search also matched the random CSRF token now and then).
    sources = re.findall(r'(?:src|href)="([^"]*)"', html)
    assert sources
    assert [source for source in sources if "//" in source] == []


@pytest.mark.parametrize(
    ("method", "path"), [operation for operation in operations() if operation not in SIGNED]
)
def test_no_operation_answers_without_authentication(method: str, path: str) -> None:
    response = anonymous().call(method, concrete(path), {})

    assert error_of(response) == (401, "not_authenticated")


@pytest.mark.parametrize(
    ("method", "path"),
    [
        (method, path)
        for method, path in operations()
        if method in UNSAFE and (method, path) not in SIGNED
    ],
)
def test_no_session_write_skips_the_csrf_check(buyer: User, method: str, path: str) -> None:
    response = with_session(buyer, csrf=False).call(method, concrete(path), {})

    assert error_of(response) == (403, "csrf_failed")


@pytest.mark.parametrize(("method", "path"), sorted(SIGNED))
def test_signed_operations_answer_no_one_without_a_signature(
    buyer: User, method: str, path: str
) -> None:
    for caller in (anonymous(), with_session(buyer), with_session(buyer, csrf=False)):
        response = caller.call(method, concrete(path), {})

        assert error_of(response) == (401, "events_not_configured")


def every_path_and_its_methods() -> list[tuple[str, list[str]]]:
    document = api.get_openapi_schema(path_prefix=API + "/")
    return [
        (path, sorted(method.upper() for method in operations))
        for path, operations in document["paths"].items()
    ]


def test_a_wrong_method_lists_the_paths_methods_in_alphabetical_order(buyer: User) -> None:
    """ninja gathered them in a set: the order of "Allow: GET, POST" followed each process's
    string hashing (PYTHONHASHSEED), and two server processes answered it differently."""
    browser = Client()
    browser.force_login(buyer)
    allowed = {}
    for path, methods in every_path_and_its_methods():
        response = browser.generic("TRACE", re.sub(r"\{[^}]+\}", "1", path))
        assert response.status_code == 405, path
        allowed[path] = (response["Allow"], ", ".join(methods))

    assert {path: answered for path, (answered, _) in allowed.items()} == {
        path: expected for path, (_, expected) in allowed.items()
    }
    # Paths with more than one method, whose order the set decided.
    assert sum(", " in expected for _, expected in allowed.values()) > 10
