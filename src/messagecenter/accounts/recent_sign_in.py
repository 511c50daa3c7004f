"""The recent sign-in rule (docs/accounts.md#recent-sign-in): changing a password or an
e-mail address, turning two-factor off or setting it up again (new recovery codes), adding
or removing a passkey, making an API token and asking for one's data need a sign-in — the
password, and the second factor when it is on, or a passkey — within the last
RECENT_SIGN_IN_MINUTES. Otherwise the person confirms it on /account/confirm-sign-in/ and
comes back to the page they were on.

The time is kept in the session itself (set when the password or a passkey is given at
sign-in or on the confirmation page, and again when the second factor is): an ordinary
request reads nothing more. A session pending its second factor never reaches these pages
(SecondFactorMiddleware)."""

import time
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme

from messagecenter.errors import NotAllowed

SIGNED_IN_AT_KEY = "_signed_in_at"


def mark(request: HttpRequest) -> None:
    """The person just proved who they are in this browser."""
    request.session[SIGNED_IN_AT_KEY] = int(time.time())


def is_recent(request: HttpRequest) -> bool:
    signed_in_at = request.session.get(SIGNED_IN_AT_KEY)
    if not isinstance(signed_in_at, int):
        return False
    return time.time() - signed_in_at < settings.RECENT_SIGN_IN_MINUTES * 60


def confirm_url(request: HttpRequest) -> str:
    """The confirmation page, to come back to the page the person is on: this one for a
    page, the page the form was on for a form (a POST cannot be replayed by a redirect)."""
    back = request.get_full_path()
    if request.method not in ("GET", "HEAD"):
        referer = request.headers.get("Referer", "")
        back = (
            referer
            if referer
            and url_has_allowed_host_and_scheme(
                referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
            )
            else reverse("account-security")
        )
    return f"{reverse('confirm-sign-in')}?{urlencode({'next': back})}"


def recent_sign_in_required[**P](
    view: Callable[P, HttpResponse],
) -> Callable[P, HttpResponse]:
    """For a page: a signed-in person whose sign-in is not recent confirms it first. Put
    under login_required (someone signed out signs in, which is recent)."""

    @wraps(view)
    def wrapped(*args: P.args, **kwargs: P.kwargs) -> HttpResponse:
        request = args[0]
        assert isinstance(request, HttpRequest)
        if request.user.is_authenticated and not is_recent(request):
            return HttpResponseRedirect(confirm_url(request))
        return view(*args, **kwargs)

    return wrapped


def require_recent_sign_in(request: Any) -> None:
    """For an API operation: a browser's session must have signed in recently (403
    `recent_sign_in_required`, nothing changes); a device's API token is not a sign-in
    and is not asked (what a token may not do is refused by the operation itself)."""
    # A request with an Authorization header is judged by it alone (authentication.py).
    if "Authorization" in request.headers:
        return
    if not is_recent(request):
        raise NotAllowed(
            f"Confirm your password first: this needs a sign-in within the last "
            f"{settings.RECENT_SIGN_IN_MINUTES} minutes (/account/confirm-sign-in/).",
            code="recent_sign_in_required",
        )
