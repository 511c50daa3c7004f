"""How the API tests call the API: as one person, with an API token or with the browser
session (and its CSRF token, as a browser would send it)."""

import json
from typing import Any

from django.http import HttpResponse
from django.test import Client

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User

API = "/api/v1"
# A CSRF token in the form Django issues (32 letters and digits); the cookie and the
# header carry the same value, as the site's JavaScript does.
CSRF_TOKEN = "ApiTestsCsrfToken0123456789abcde"[:32]


class Caller:
    """Requests to the API as one person, one way of signing in."""

    def __init__(self, client: Client, headers: dict[str, str] | None = None) -> None:
        self.client = client
        self.headers = headers or {}

    def get(
        self,
        path: str,
        params: dict[str, Any] | None = None,
        *,
        headers: dict[str, str] | None = None,
    ) -> HttpResponse:
        return self.client.get(  # type: ignore[return-value]
            API + path, params or {}, headers={**self.headers, **(headers or {})}
        )

    def post(
        self, path: str, data: Any = None, *, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        return self.client.post(  # type: ignore[return-value]
            API + path,
            json.dumps(data if data is not None else {}),
            content_type="application/json",
            headers={**self.headers, **(headers or {})},
        )

    def post_form(
        self, path: str, data: dict[str, Any], *, headers: dict[str, str] | None = None
    ) -> HttpResponse:
        """A multipart form, as an app uploading attachments sends it."""
        return self.client.post(  # type: ignore[return-value]
            API + path, data, headers={**self.headers, **(headers or {})}
        )

    def delete(self, path: str) -> HttpResponse:
        return self.client.delete(API + path, headers=self.headers)  # type: ignore[return-value]

    def call(self, method: str, path: str, data: Any = None) -> HttpResponse:
        """Any method, for tests that walk every operation; a body only as JSON."""
        return self.client.generic(  # type: ignore[return-value]
            method.upper(),
            API + path,
            json.dumps(data) if data is not None else "",
            content_type="application/json",
            headers=self.headers,
        )


def with_token(user: User) -> Caller:
    """A device: a fresh client with no cookies, a Bearer token, no CSRF token."""
    _, secret = account_actions.create_api_token(user, "Test phone")
    return Caller(Client(enforce_csrf_checks=True), {"Authorization": f"Bearer {secret}"})


def with_session(user: User, *, csrf: bool = True) -> Caller:
    """A signed-in browser; CSRF is enforced, and the token is sent unless csrf=False."""
    client = Client(enforce_csrf_checks=True)
    client.force_login(user)
    client.cookies["csrftoken"] = CSRF_TOKEN
    return Caller(client, {"X-CSRFToken": CSRF_TOKEN} if csrf else {})


def anonymous() -> Caller:
    return Caller(Client(enforce_csrf_checks=True))


def error_of(response: HttpResponse) -> tuple[int, str]:
    """The status and error code of a refused request, after checking the error shape."""
    body = response.json()
    assert set(body) == {"error"}
    assert isinstance(body["error"]["message"], str)
    assert body["error"]["message"]
    return response.status_code, body["error"]["code"]
