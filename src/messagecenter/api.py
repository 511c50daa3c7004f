"""The JSON API at /api/v1/, for mobile apps and scripts (docs/api.md).

One NinjaAPI; each app adds its Router from its own api.py. Authentication is an API token
or the browser session; every error, whoever raises it, leaves here in one shape:
{"error": {"code", "message"}} with a stable code.
"""

import functools
from collections.abc import Callable
from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    HttpResponseBase,
    JsonResponse,
    UnreadablePostError,
)
from django.http.multipartparser import MultiPartParserError
from django.urls import URLPattern, URLResolver, reverse
from django.views.decorators.csrf import csrf_exempt
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError

from messagecenter.accounts.api import router as accounts_router
from messagecenter.accounts.authentication import ApiTokenAuth, SessionAuth
from messagecenter.api_support import JsonParser, error_response, request_body_limit
from messagecenter.conversations.api import router as conversations_router
from messagecenter.delivery.api import router as delivery_router
from messagecenter.errors import (
    InvalidInput,
    MessageCenterError,
    NotAuthenticated,
    NotFound,
    TooLarge,
)
from messagecenter.marketplace.api import router as marketplace_router
from messagecenter.notifications.api import router as notifications_router
from messagecenter.privacy.api import router as privacy_router
from messagecenter.realtime.api import router as realtime_router
from messagecenter.safety.api import router as safety_router
from messagecenter.search.api import router as search_router
from messagecenter.support.api import router as support_router
from messagecenter.support.claim_api import router as claims_router
from messagecenter.support.report_api import router as reports_router

# The one error shape, as the document names it for every error response.
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "description": "Stable: what went wrong."},
                "message": {"type": "string", "description": "For people: what to do."},
                "field": {
                    "type": "string",
                    "description": "The request field a refusal is about, where its code is "
                    "shared by several (the away message's dates).",
                },
                "fields": {
                    "type": "array",
                    "description": "422 only: each value that did not match the schema.",
                    "items": {"type": "object"},
                },
            },
        }
    },
}
ERRORS = {
    400: "Refused by a rule (the code says which), or a body that is not JSON",
    401: "No valid credentials (for order events: no valid signature)",
    403: "Not for this person's role, or a session's write without its CSRF token",
    404: "Not found — or not yours, which looks the same",
    409: "Conflicts with the current state",
    413: "The request body is too large",
    415: "Send application/json, or multipart/form-data for attachments",
    422: "A value does not match the schema (`fields` lists each), or an attachment's content "
    "was refused (a PDF with scripts, an image that cannot be read, a virus)",
    429: "A sending limit (or another limit in time, the code says which) was reached: "
    "`Retry-After` says in how many seconds to try again",
}
# The operations that send a buyer's or seller's message, counted against the sending
# limits (docs/safety.md#sending-limits).
SENDING_PATHS = (
    "/conversations/{conversation_id}/messages",
    "/products/{sku}/questions",
    "/orders/{number}/messages",
    "/orders/{number}/buyer-messages",
    "/customer-service",
)
# The other operations with a limit per person in time, answered 429 with Retry-After: a
# link to a new e-mail address, at most one a minute (docs/accounts.md#e-mail-address).
RATE_LIMITED_PATHS = ("/me/email",)


class MessageCenterApi(NinjaAPI):
    def _get_urls(self) -> list[URLResolver | URLPattern]:
        """ninja's routes, each answering a wrong method with its Allow header sorted."""
        urls = super()._get_urls()
        for url in urls:
            if isinstance(url, URLPattern):
                url.callback = _allow_sorted(url.callback)
        return urls

    def get_openapi_schema(
        self, *, path_prefix: str | None = None, path_params: dict[str, Any] | None = None
    ) -> Any:
        """ninja's document plus every error response each operation can give, so that the
        document describes every answer (tests/api/test_fuzz.py checks it does)."""
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
        for path, operations in schema["paths"].items():
            for method, operation in operations.items():
                for status in _error_statuses(path, method, operation):
                    response: dict[str, Any] = {
                        "description": ERRORS[status],
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Error"}}
                        },
                    }
                    if status == 429:
                        response["headers"] = {
                            "Retry-After": {
                                "description": "Seconds until the limit's window ends",
                                "schema": {"type": "integer", "minimum": 1},
                            }
                        }
                    operation["responses"].setdefault(status, response)
        return schema


def _allow_sorted(view: Callable[..., HttpResponseBase]) -> Callable[..., HttpResponseBase]:
    """A 405's Allow header in alphabetical order. ninja gathers a path's methods in a set,
    whose order follows each process's string hashing: the same request was answered
    "Allow: GET, POST" by one server process and "Allow: POST, GET" by the next. Every view
    of the API is synchronous (none is `async def`)."""

    @functools.wraps(view)
    def answer(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        response = view(request, *args, **kwargs)
        if response.status_code == 405 and response.has_header("Allow"):
            response["Allow"] = _sorted_methods(response["Allow"])
        return response

    return answer


def _sorted_methods(allow: str) -> str:
    """An Allow header's methods, in alphabetical order."""
    return ", ".join(sorted(method.strip() for method in allow.split(",") if method.strip()))


def _error_statuses(path: str, method: str, operation: dict[str, Any]) -> list[int]:
    statuses = [400, 401, 403, 404, 413]
    if method == "post" and path.endswith(SENDING_PATHS + RATE_LIMITED_PATHS):
        statuses.append(429)
    if operation.get("parameters") or operation.get("requestBody"):
        statuses.append(422)
    if method != "get":
        statuses.append(409)
    if "multipart/form-data" in operation.get("requestBody", {}).get("content", {}):
        statuses.append(415)
    return sorted(statuses)


api = MessageCenterApi(
    title="Message Center API",
    version="1",
    description=(
        "Everything the Message Center's pages do, for mobile apps: folders, conversations, "
        "messages with attachments, orders. Authenticate with `Authorization: Bearer <token>` "
        "(POST /tokens from a signed-in browser) or the browser session plus its CSRF token. "
        'Errors: `{"error": {"code", "message"}}`. See docs/api.md.'
    ),
    urls_namespace="api",
    docs_url="/docs",
    openapi_url="/openapi.json",
    auth=[ApiTokenAuth(), SessionAuth()],
    parser=JsonParser(),
)
# Before authentication and parsing: an oversized body is refused unread.
api.add_decorator(request_body_limit, mode="view")

api.add_router("", accounts_router)
api.add_router("", conversations_router)
api.add_router("", marketplace_router)
api.add_router("/search", search_router)
api.add_router("/sync", realtime_router)
api.add_router("", delivery_router)
api.add_router("", notifications_router)
api.add_router("", safety_router)
api.add_router("", support_router)
api.add_router("", claims_router)
api.add_router("", privacy_router)
api.add_router("", reports_router)


class SchemaMismatch(MessageCenterError):
    """The request does not match the endpoint's schema (a wrong type, a missing field, a
    number out of range): 422, with every offending field listed."""

    code = "invalid_input"
    status = 422


@api.exception_handler(MessageCenterError)
def message_center_error(request: HttpRequest, error: MessageCenterError) -> HttpResponse:
    return error_response(error)


@api.exception_handler(ValidationError)
def schema_mismatch(request: HttpRequest, error: ValidationError) -> HttpResponse:
    fields = [_field(detail) for detail in error.errors]
    names = ", ".join(field["field"] or field["in"] for field in fields)
    return error_response(SchemaMismatch(f"Check these fields: {names}."), fields=fields)


def _field(detail: dict[str, Any]) -> dict[str, str]:
    """{"in": "body", "field": "conversation_ids.0", "message": …, "type": …}: where the
    value was (path, query, header, body) and its dotted path there."""
    source, *path = (str(part) for part in detail.get("loc", ()))
    # A body read by ninja is named after the view's parameter: not the client's business.
    if source == "body" and path[:1] == ["payload"]:
        path = path[1:]
    return {
        "in": source,
        "field": ".".join(path),
        "message": str(detail.get("msg", "")),
        "type": str(detail.get("type", "")),
    }


@api.exception_handler(HttpError)
def http_error(request: HttpRequest, error: HttpError) -> HttpResponse:
    """ninja's own refusals: no credentials, or a body that is not JSON."""
    if isinstance(error, AuthenticationError):
        return error_response(
            NotAuthenticated("Sign in, or send an API token: 'Authorization: Bearer <token>'.")
        )
    if isinstance(error.__cause__, RequestDataTooBig):
        return error_response(TooLarge("The request body is too large."))
    # A body that parse_json refused, with its reason.
    if isinstance(error.__cause__, MessageCenterError):
        return error_response(error.__cause__)
    if error.status_code == 400:
        return error_response(
            InvalidInput("The request body is not valid JSON.", code="malformed_json")
        )
    generic = MessageCenterError(str(error), code=f"http_{error.status_code}")
    generic.status = error.status_code
    return error_response(generic)


@api.exception_handler(Http404)
def not_found(request: HttpRequest, error: Http404) -> HttpResponse:
    return error_response(NotFound("Not found."))


@api.exception_handler(SuspiciousOperation)
def refused_request(request: HttpRequest, error: SuspiciousOperation) -> HttpResponse:
    """Django's limits on what it parses: body size, number of fields and files."""
    if isinstance(error, RequestDataTooBig):
        return error_response(TooLarge("The request body is too large."))
    return error_response(InvalidInput(str(error), code="request_refused"))


@api.exception_handler(MultiPartParserError)
@api.exception_handler(UnreadablePostError)
def unreadable_request(request: HttpRequest, error: Exception) -> HttpResponse:
    return error_response(
        InvalidInput("The request body could not be read.", code="malformed_request")
    )


def index(request: HttpRequest) -> HttpResponse:
    """/api/v1/ itself: where the documentation is."""
    return JsonResponse(
        {"docs": reverse("api:openapi-view"), "openapi": reverse("api:openapi-json")}
    )


@csrf_exempt
def unknown_endpoint(request: HttpRequest, path: str) -> HttpResponse:
    """Anything under /api/v1/ that is no endpoint: a 404 in the API's shape."""
    return error_response(NotFound("No such endpoint.", code="unknown_endpoint"))
