"""What every router of the JSON API shares (docs/api.md): the signed-in person, ids,
the Idempotency-Key header, and message input that comes as JSON or as a multipart form."""

import json
import re
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Annotated, Any

import pydantic
from django.conf import settings
from django.core.files.uploadedfile import UploadedFile
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from ninja import Schema
from ninja.errors import ValidationError
from ninja.params import HeaderEx, P
from ninja.parser import Parser

from messagecenter import moments
from messagecenter.errors import (
    InvalidInput,
    MessageCenterError,
    NotAuthenticated,
    TooLarge,
    TooManyRequests,
)
from messagecenter.rows import MAX_ID

if TYPE_CHECKING:
    # A type only: the foundation does not depend on accounts at run time.
    from messagecenter.accounts.models import User


# An amount or a count in a JSON body: a JSON integer, as the API documents it. pydantic's
# lax integers also took "1000", "1_000", " 1000 ", 1000.0 and true (1) and went on with
# the number they guessed — a refund of 1000 cents from "1_000". Refused: 422 naming the
# field (`int_type`). Give the range beside it: Annotated[WholeNumber, Field(ge=…, le=…)].
WholeNumber = Annotated[int, pydantic.Strict()]

# A yes or no in a JSON body: JSON true or false. pydantic's lax booleans also took "no",
# "off", "0", 0 and "f" as false (and "yes", 1, … as true): a typo'd or stringly value
# turned an e-mail preference off. Refused: 422 naming the field (`bool_type`).
BodyBool = Annotated[bool, pydantic.Strict()]


def _true_or_false(value: object) -> object:
    """A yes or no in a query string is text: pydantic's lax booleans also read "yes",
    "on", "t", "y" and "True" as true (and "no", "off", "f", … as false), so
    `unread_only=maybe` was an error but `unread_only=on` a filter, and a typo could read
    as either. Only `true` and `false` — and `1` and `0`, which the search page's
    checkboxes send (docs/search.md: a search's address works for both) — are read."""
    if isinstance(value, str):
        if value in QUERY_TRUE:
            return True
        if value in QUERY_FALSE:
            return False
        raise ValueError("Give true or false (or 1 or 0).")
    return value


# Also what the search page reads (search/views.py): one address, one meaning.
QUERY_TRUE = frozenset({"true", "1"})
QUERY_FALSE = frozenset({"false", "0"})

# A yes or no in a query string: `true` or `false` (or `1` or `0`); anything else is 422
# invalid_input naming the parameter (`value_error`).
QueryBool = Annotated[
    bool,
    pydantic.BeforeValidator(_true_or_false),
    pydantic.Field(description="`true` or `false` (or `1` or `0`); nothing else is read."),
]

# What parse_message_input passes to a schema read from a form (validation context).
FORM_INPUT = "form"


def _form_text_as_number(value: object, info: pydantic.ValidationInfo) -> object:
    """A number in a form is text, as in a query string: ASCII digits only (_digits_only).
    In JSON it stays what it was, for the strict integer to take or refuse."""
    if isinstance(value, str) and info.context and info.context.get(FORM_INPUT):
        _digits_only(value)
        return int(value)
    return value


# An id in a body: a JSON integer, as for amounts (WholeNumber). pydantic's lax integers
# took conversation_ids ["1_0"], ["+5"], [" 7 "], [7.0] or [true] as conversation 10, 5,
# 7, 7 and 1 and acted on it. Refused: 422 naming the field (`int_type`). A send that
# comes as a multipart form (parse_message_input) has its ids as text: digits only there.
BodyId = Annotated[
    int,
    pydantic.Strict(),
    pydantic.Field(ge=1, le=MAX_ID),
    pydantic.BeforeValidator(_form_text_as_number),
]


# A lone UTF-16 surrogate (JSON's "\\ud800" without its pair) is no character: no database
# can store it in UTF-8 text.
_SURROGATE = re.compile("[\ud800-\udfff]")


def _storable(value: str) -> str:
    if "\x00" in value:
        raise ValueError("Text cannot contain NUL characters.")
    if _SURROGATE.search(value):
        raise ValueError("Text cannot contain lone surrogates (\\ud800–\\udfff).")
    return value


# Every string a person sends: PostgreSQL cannot store NUL, and neither database a lone
# surrogate, so they are refused as input (422) instead of failing in the database.
STORABLE = pydantic.AfterValidator(_storable)
Text = Annotated[str, STORABLE]
# Text with a length limit is written Annotated[str, Field(max_length=…), STORABLE]: the
# limit on the string itself, before the check. Put after it (Annotated[Text, Field(…)]),
# pydantic counts the limit as a sequence's: "Value should have at most 2000 items".


def _moment_in_range[T: (datetime, date)](value: T) -> T:
    if not moments.is_sane(value):
        raise ValueError(f"Dates and times must be {moments.RANGE}.")
    return value


# Every date and time a person or system sends: out of range is 422, before any code (or
# database) sees it (messagecenter/moments.py says why).
Moment = Annotated[pydantic.AwareDatetime, pydantic.AfterValidator(_moment_in_range)]
Day = Annotated[date, pydantic.AfterValidator(_moment_in_range)]

# Deeper than any request of the API: more is refused before it reaches code that recurses.
JSON_MAX_DEPTH = 32

IdempotencyKey = HeaderEx[
    Text | None,
    P(
        alias="Idempotency-Key",
        description="Any string of 1–100 characters, new for each message: a retry with "
        "the same key returns the first message instead of sending a second.",
    ),
]

FORM_CONTENT_TYPES = frozenset({"multipart/form-data", "application/x-www-form-urlencoded"})


class ApiRequest(HttpRequest):
    """A request that passed the API's authentication: `auth` is the person asking."""

    auth: "User"


class UnsupportedMediaType(MessageCenterError):
    code = "unsupported_media_type"
    status = 415


def error_response(error: MessageCenterError, **details: Any) -> HttpResponse:
    """The one error shape: {"error": {"code", "message", …}} with the error's status; the
    `field` it is about when it names one."""
    if error.field is not None:
        details = {"field": error.field, **details}
    response = JsonResponse(
        {"error": {"code": error.code, "message": error.message, **details}}, status=error.status
    )
    if isinstance(error, NotAuthenticated):
        response["WWW-Authenticate"] = 'Bearer realm="Message Center API"'
    if isinstance(error, TooManyRequests):
        response["Retry-After"] = str(error.retry_after)
    return response


def request_body_limit(
    run: Callable[..., HttpResponseBase],
) -> Callable[..., HttpResponseBase]:
    """Refuse a body over API_REQUEST_MAX_BYTES from its Content-Length, before anything
    (CSRF check, form parser) reads it. Wraps every operation of the API."""

    def limited(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if length > settings.API_REQUEST_MAX_BYTES:
            return error_response(
                TooLarge(f"A request body is at most {settings.API_REQUEST_MAX_BYTES // 2**20} MB.")
            )
        return run(request, *args, **kwargs)

    return limited


def parse_message_input[T: Schema](
    request: HttpRequest, schema: type[T]
) -> tuple[T, list[UploadedFile[Any]]]:
    """The fields of `schema`, from a JSON object or from a form; files only from a
    multipart form ("attachments", up to ATTACHMENTS_PER_MESSAGE)."""
    files: list[UploadedFile[Any]] = []
    is_form = request.content_type in FORM_CONTENT_TYPES
    if is_form:
        data: Any = {
            name: request.POST[name] for name in schema.model_fields if name in request.POST
        }
        files = uploaded_files(request, "attachments")
    elif request.content_type == "application/json":
        data = parse_json(request.body)
    else:
        raise UnsupportedMediaType("Send application/json, or multipart/form-data for attachments.")
    try:
        return schema.model_validate(data, context={FORM_INPUT: is_form}), files
    except pydantic.ValidationError as error:
        raise ValidationError(
            [{**detail, "loc": ("body", *detail["loc"])} for detail in _plain(error)]
        ) from None


def uploaded_files(request: HttpRequest, field: str) -> list[UploadedFile[Any]]:
    """The files of a multipart form under `field`; files under any other name are 422
    invalid_input naming it. Read by their field only, such files were dropped unsaid: a
    reply with `files=` answered 201 with `attachments: []`."""
    elsewhere = sorted(name for name in request.FILES if name != field)
    if elsewhere:
        raise ValidationError(
            [
                {
                    "type": "unexpected_file",
                    "loc": ("body", name),
                    "msg": f"Files are read from the field {field!r} only; send them as {field}.",
                }
                for name in elsewhere
            ]
        )
    return request.FILES.getlist(field)


def parse_json(body: bytes) -> Any:
    """A request body as JSON, or InvalidInput (400 `malformed_json`): not JSON, nested
    deeper than JSON_MAX_DEPTH, or with text no database can store (a lone surrogate, in a
    key or a value, wherever it is)."""
    try:
        data = json.loads(body)
    except (ValueError, RecursionError):
        # RecursionError: the parser's own stack, at ≈ 1,000 levels.
        raise InvalidInput("The request body is not valid JSON.", code="malformed_json") from None
    pending: list[tuple[Any, int]] = [(data, 1)]
    while pending:
        value, depth = pending.pop()
        if isinstance(value, str):
            if _SURROGATE.search(value):
                raise InvalidInput(
                    "The request body has text that is not Unicode (a lone surrogate).",
                    code="malformed_json",
                )
        elif isinstance(value, dict | list):
            if depth > JSON_MAX_DEPTH:
                raise InvalidInput(
                    f"The request body is nested more than {JSON_MAX_DEPTH} levels deep.",
                    code="malformed_json",
                )
            children = [*value.keys(), *value.values()] if isinstance(value, dict) else value
            pending.extend((child, depth + 1) for child in children)
    return data


class JsonParser(Parser):
    """ninja's JSON bodies through parse_json; ninja turns its error into a 400 whose cause
    the API's error handler shows."""

    def parse_body(self, request: HttpRequest) -> Any:
        return parse_json(request.body)


def _plain(error: pydantic.ValidationError) -> list[dict[str, Any]]:
    return [
        {"type": detail["type"], "loc": detail["loc"], "msg": detail["msg"]}
        for detail in error.errors(include_url=False)
    ]


def message_input_openapi(schema: type[Schema], *, with_attachments: bool) -> dict[str, Any]:
    """The request body of a send endpoint for the OpenAPI document: JSON, or a form."""
    json_schema = schema.model_json_schema()
    form_schema: dict[str, Any] = {
        "type": "object",
        "properties": dict(json_schema.get("properties", {})),
        "required": list(json_schema.get("required", [])),
    }
    if with_attachments:
        form_schema["properties"]["attachments"] = {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "maxItems": settings.ATTACHMENTS_PER_MESSAGE,
            "description": "Images (JPEG, PNG, GIF, WebP) or PDFs, each at most "
            f"{settings.ATTACHMENT_MAX_BYTES // 2**20} MB; the type is decided by content.",
        }
    return {
        "requestBody": {
            "required": True,
            "content": {
                "application/json": {"schema": json_schema},
                "multipart/form-data": {"schema": form_schema},
            },
        }
    }


def _digits_only(value: object) -> object:
    """A number in a query string is text: pydantic's lax integers also read "1_0" as 10,
    " 10 " as 10 and "1e1" as nothing clear. Only ASCII digits are a number here (a refusal
    is 422 invalid_input naming the parameter, as any other)."""
    if isinstance(value, str) and not (value.isascii() and value.isdigit()):
        raise ValueError("Give a whole number, written with the digits 0-9 only.")
    return value


# A whole number in a query string: digits only. Give the range beside it:
# Annotated[QueryNumber, Field(ge=…, le=…)].
QueryNumber = Annotated[int, pydantic.BeforeValidator(_digits_only)]

# Ids are 64-bit: a larger number cannot exist, and must not reach the database driver.
# An id in the path: the id of the thing the address names. Text, as a query string is:
# digits only. A lax integer read /conversations/1_7, /conversations/+17, …/17.0 and
# …/%2017 as conversation 17 and answered (or posted a message to) it, and …/1_0 as 10.
Id = Annotated[QueryNumber, pydantic.Field(ge=1, le=MAX_ID)]

# An id in a query string (`before=`, `storefront_id=`, `case_id=`): digits only, as any
# number there, and as an id in the path.
QueryId = Id

# A page size of the API's lists.
PageLimit = Annotated[QueryNumber, pydantic.Field(ge=1, le=settings.API_PAGE_MAX_SIZE)]


class StorefrontOut(Schema):
    """Who sells: the storefront beside a product, an order's items, a conversation and the
    signed-in seller (one type for every app's routes)."""

    id: int
    # "Sold by …"
    name: str
