"""An API call with an Authorization header goes through settings.TOKEN_CALL_MIDDLEWARE only
(server/token_calls.py): it answers as it did through the whole stack — same status, body
and headers, less the `Vary: Cookie` of a session it no longer reads —, never reads or
sets the session, gains nothing from a session cookie sent along; the pages' own calls with
the session still go through everything, CSRF included."""

import time
from typing import Any

import pytest
from django.conf import settings
from django.contrib.sessions.middleware import SessionMiddleware
from django.http import HttpResponse
from django.test import Client, RequestFactory, override_settings
from django.utils import timezone
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message
from messagecenter.marketplace.models import Product
from messagecenter.safety import limits
from messagecenter.server import token_calls
from tests.api.helpers import CSRF_TOKEN, Caller, error_of, with_session

pytestmark = pytest.mark.django_db

# Change from one request to the next whatever the path: the time taken, the moment.
VOLATILE = {"Server-Timing", "Expires", "Date"}


@pytest.fixture
def conversation_id(buyer: User, product: Product) -> int:
    return conversation_of(buyer, product)


def conversation_of(buyer: User, product: Product) -> int:
    question = actions.ask_seller_about_product(buyer, product.pk, "Is it in stock?")
    actions.send_message(product.storefront.seller, question.conversation_id, "Yes, it is.")
    return question.conversation_id


def device(user: User, *, whole_stack: bool = False) -> Caller:
    """A device with a new API token; through every middleware of MIDDLEWARE if
    whole_stack, as before token calls had their own path."""
    _, secret = account_actions.create_api_token(user, "Test phone")
    return through(Caller(Client(), {"Authorization": f"Bearer {secret}"}), whole_stack)


def through(caller: Caller, whole_stack: bool) -> Caller:
    if whole_stack:
        everything = [
            path for path in settings.MIDDLEWARE if not path.startswith(token_calls.__name__)
        ]
        # The test client builds its handler's stack once, from the settings of the moment.
        with override_settings(MIDDLEWARE=everything):
            caller.client.handler.load_middleware()
    return caller


def headers_of(response: HttpResponse) -> dict[str, str]:
    return {name: value for name, value in response.headers.items() if name not in VOLATILE}


def assert_same_answer(lean: HttpResponse, whole: HttpResponse, *, same_body: bool = True) -> None:
    assert lean.status_code == whole.status_code
    if same_body:
        assert lean.content == whole.content
    old, new = headers_of(whole), headers_of(lean)
    # The whole stack's AuthenticationMiddleware read the session (there was none).
    assert old.pop("Vary") == "Cookie"
    if not same_body:
        assert new.pop("Content-Length")
        assert old.pop("Content-Length")
    assert new == old
    assert VOLATILE - {"Date"} <= set(lean.headers)


def pair(user: User) -> tuple[Caller, Caller]:
    return device(user), device(user, whole_stack=True)


def test_a_send_answers_with_the_same_headers(buyer: User, conversation_id: int) -> None:
    lean, whole = pair(buyer)
    path = f"/conversations/{conversation_id}/messages"

    sent = [caller.post(path, {"body": "Any news?"}) for caller in (lean, whole)]

    assert [response.status_code for response in sent] == [201, 201]
    assert_same_answer(*sent, same_body=False)


@pytest.mark.parametrize(
    "path",
    [
        "/conversations/{id}/messages?limit=25",
        "/folders",
        "/conversations",
        "/search?q=stock",
        # 404s: a conversation that is not there, an endpoint that is not there.
        "/conversations/987654/messages",
        "/no-such-endpoint",
        # 422: a limit out of range.
        "/conversations/{id}/messages?limit=0",
    ],
)
def test_a_read_answers_as_through_every_middleware(
    buyer: User, conversation_id: int, path: str
) -> None:
    lean, whole = pair(buyer)
    path = path.format(id=conversation_id)

    assert_same_answer(lean.get(path), whole.get(path))


def test_a_refused_call_answers_as_through_every_middleware(
    buyer: User, conversation_id: int
) -> None:
    path = f"/conversations/{conversation_id}/messages"
    lean, whole = pair(buyer)
    cases: list[tuple[str, dict[str, str], Any]] = [
        ("wrong token", {"Authorization": "Bearer mc_wrong"}, None),
        ("not bearer", {"Authorization": "Basic YWxpY2U6c2VjcmV0"}, None),
        ("empty", {"Authorization": ""}, None),
        ("not JSON", {}, "{"),
        ("no body", {}, {}),
    ]
    for name, headers, body in cases:
        answers = []
        for caller in (lean, whole):
            if body is None:
                answers.append(caller.get(path, headers=headers))
            elif isinstance(body, str):
                answers.append(
                    caller.client.post(  # type: ignore[arg-type]
                        "/api/v1" + path,
                        body,
                        content_type="application/json",
                        headers=caller.headers,
                    )
                )
            else:
                answers.append(caller.post(path, body))
        assert answers[0].status_code in {400, 401, 422}, name
        assert_same_answer(*answers)


def test_a_revoked_token_is_refused_as_through_every_middleware(
    buyer: User, conversation_id: int
) -> None:
    lean, whole = pair(buyer)
    assert lean.get("/folders").status_code == whole.get("/folders").status_code == 200
    for token in buyer.api_tokens.all():
        account_actions.revoke_api_token(buyer, token.pk)

    answers = [caller.get("/folders") for caller in (lean, whole)]

    assert error_of(answers[0]) == (401, "not_authenticated")
    assert answers[0]["WWW-Authenticate"] == 'Bearer realm="Message Center API"'
    assert_same_answer(*answers)


def test_the_sending_limit_answers_429_as_through_every_middleware(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, buyer: User, product: Product
) -> None:
    # One moment for both answers: Retry-After counts the seconds left from it.
    now = time.time()
    monkeypatch.setattr(limits, "_now", lambda: now)
    settings.SAFETY_SEND_LIMITS = ["day=1"]
    settings.SAFETY_NEW_ACCOUNT_SEND_LIMITS = ["day=1"]
    lean, whole = pair(buyer)
    path = f"/conversations/{conversation_of(buyer, product)}/messages"

    answers = [caller.post(path, {"body": "Again?"}) for caller in (lean, whole)]

    assert error_of(answers[0]) == (429, "too_many_messages")
    assert "Retry-After" in answers[0]
    assert_same_answer(*answers)


@pytest.fixture
def no_session_middleware(monkeypatch: pytest.MonkeyPatch) -> None:
    def refuse(*args: Any) -> None:
        raise AssertionError("a token call went through SessionMiddleware")

    monkeypatch.setattr(SessionMiddleware, "process_request", refuse)
    monkeypatch.setattr(SessionMiddleware, "process_response", refuse)


@pytest.mark.usefixtures("no_session_middleware")
def test_a_token_call_never_reads_or_sets_the_session(
    buyer: User, seller: User, conversation_id: int
) -> None:
    caller = device(buyer)
    # A browser's session cookie sent along, of someone else.
    caller.client.force_login(seller)
    caller.client.cookies["csrftoken"] = CSRF_TOKEN

    read = caller.get("/folders")
    sent = caller.post(f"/conversations/{conversation_id}/messages", {"body": "Hello"})

    assert (read.status_code, sent.status_code) == (200, 201)
    for response in (read, sent):
        assert "Vary" not in response
        assert not response.cookies
        assert response["Cache-Control"] == (
            "max-age=0, no-cache, no-store, must-revalidate, private"
        )
    # The token's person sent it, not the session's.
    assert Message.objects.get(pk=sent.json()["id"]).sender_id == buyer.pk


def test_a_session_cookie_gives_a_token_call_nothing(
    buyer: User, seller: User, conversation_id: int
) -> None:
    # A wrong token with a valid session: refused, as without the cookie.
    caller = with_session(seller)
    refused = caller.get("/folders", headers={"Authorization": "Bearer mc_wrong"})
    assert error_of(refused) == (401, "not_authenticated")
    # An operation for sessions only (a token cannot mint tokens) is not opened by
    # sending the session along with any Authorization header — it once was, past the
    # recent sign-in check, which leaves a header's calls alone.
    for header in (f"Bearer {account_actions.create_api_token(seller, 'Phone')[1]}", "Basic x"):
        minted = caller.post("/tokens", {"name": "Another"}, headers={"Authorization": header})
        assert error_of(minted) == (401, "not_authenticated")
        # Not "Sign in, or send an API token" to a caller who sent one.
        assert "needs a signed-in browser session" in minted.json()["error"]["message"]
    assert seller.api_tokens.count() == 1


def test_the_pages_own_calls_go_through_every_middleware(buyer: User, conversation_id: int) -> None:
    browser = with_session(buyer)
    read = browser.get("/folders")
    assert read.status_code == 200
    assert read["Vary"] == "Cookie"
    path = f"/conversations/{conversation_id}/messages"
    assert error_of(with_session(buyer, csrf=False).post(path, {"body": "Hi"})) == (
        403,
        "csrf_failed",
    )
    assert browser.post(path, {"body": "Hi"}).status_code == 201


def test_a_token_call_ends_with_no_time_zone_active(buyer: User) -> None:
    buyer.time_zone = "Asia/Tokyo"
    buyer.save()
    caller = device(buyer)
    assert caller.get("/folders").status_code == 200
    assert timezone.get_current_timezone_name() == settings.TIME_ZONE


def test_the_switch_takes_an_authorization_header_under_the_api_only() -> None:
    factory = RequestFactory()
    assert token_calls.is_token_call(factory.get("/api/v1/folders", HTTP_AUTHORIZATION="x"))
    assert not token_calls.is_token_call(factory.get("/api/v1/folders"))
    assert not token_calls.is_token_call(factory.get("/message-center/", HTTP_AUTHORIZATION="x"))
    assert not token_calls.is_token_call(factory.get("/api/v1", HTTP_AUTHORIZATION="x"))
