"""Who is asking, for the JSON API (docs/api.md): a device's API token, or the browser
session of the web pages.

A request that carries an `Authorization` header is judged by it alone: a wrong, revoked
or malformed token is refused (401), never passed on to the session. A session works as on
the web pages, so its unsafe requests need the CSRF token; a token needs none, because no
browser sends it by itself.
"""

from typing import Any

from django.conf import settings
from django.http import HttpRequest
from django.utils import timezone
from ninja.security import APIKeyCookie, HttpBearer
from ninja.utils import check_csrf

from messagecenter.accounts.actions import api_token_use_due, record_api_token_use
from messagecenter.accounts.models import ApiToken, User
from messagecenter.accounts.queries import TokenAsRead, api_token_for_secret, trusted_token
from messagecenter.accounts.time_zones import zone_of
from messagecenter.errors import NotAllowed, NotAuthenticated

SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS", "TRACE"})
SESSION_ONLY = (
    "This needs a signed-in browser session and its CSRF token, not an API token: a token "
    "cannot make tokens, nor add or remove passkeys."
)


class ApiTokenAuth(HttpBearer):
    """`Authorization: Bearer mc_…`, a token from POST /api/v1/tokens."""

    def __call__(self, request: HttpRequest) -> User | None:
        header = request.headers.get(self.header)
        if header is None:
            return None
        scheme, _, secret = header.partition(" ")
        if scheme.lower() != self.openapi_scheme:
            raise NotAuthenticated("Send the API token as 'Authorization: Bearer <token>'.")
        return self.authenticate(request, secret.strip())

    def authenticate(self, request: HttpRequest, token: str) -> User:
        found = api_token_for_secret(token)
        if found is None:
            raise NotAuthenticated("This API token is not valid, or it was revoked.")
        record_api_token_use(found, request)
        return self._signed_in(request, found)

    def trusted(self, request: HttpRequest, token: str) -> tuple[User, TokenAsRead] | None:
        """`authenticate` without a statement, for work done in one transaction that checks
        the token there (accounts.queries.trusted_token: the send's batch reads it): the
        person as this process last read the token, and what that transaction must find
        unchanged. None — then `authenticate` — for a token this process has not read,
        or found ended, or whose use is due to be noted (record_api_token_use writes)."""
        trusted = trusted_token(token)
        if trusted is None or api_token_use_due(trusted[0]):
            return None
        found, as_read = trusted
        return self._signed_in(request, found), as_read

    def _signed_in(self, request: HttpRequest, found: ApiToken) -> User:
        # The tokens list marks the one in use, so a device can revoke itself on sign-out.
        setattr(request, "api_token", found)  # noqa: B010 (HttpRequest declares no such field)
        # The session's person had theirs activated by TimeZoneMiddleware, which also
        # deactivates this one when the request ends.
        timezone.activate(zone_of(found.user))
        return found.user


class SessionAuth(APIKeyCookie):
    """The web pages' session cookie; unsafe methods need the CSRF token, as on the pages
    (header X-CSRFToken with the value of the csrftoken cookie)."""

    param_name = settings.SESSION_COOKIE_NAME

    def __init__(self) -> None:
        # `csrf` tells the interactive docs to send the CSRF token; the check is below.
        super().__init__(csrf=True)

    def _get_key(self, request: HttpRequest) -> str | None:
        return request.COOKIES.get(self.param_name)

    def authenticate(self, request: HttpRequest, key: str | None) -> Any:
        if "Authorization" in request.headers:
            # Judged by the header alone, even where the operation takes sessions only (POST
            # /tokens): the session must not answer for it, nor skip the recent sign-in
            # (recent_sign_in.require_recent_sign_in leaves a header's calls alone). Such
            # a call never has the session's person anyway (server/token_calls.py). Told so:
            # "Sign in, or send an API token" answered a caller who had sent one.
            raise NotAuthenticated(SESSION_ONLY)
        user = request.user
        if key is None or not user.is_authenticated:
            # Signed out: the answer is 401, whatever the CSRF token says.
            return None
        if request.method not in SAFE_METHODS and check_csrf(request) is not None:
            raise NotAllowed(
                "The CSRF token is missing or wrong: send the csrftoken cookie's value in "
                "the X-CSRFToken header, or use an API token.",
                code="csrf_failed",
            )
        return user


def current_api_token(request: HttpRequest) -> ApiToken | None:
    """The token this request was authenticated with, None for a browser session."""
    token = getattr(request, "api_token", None)
    return token if isinstance(token, ApiToken) else None
