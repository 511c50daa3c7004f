"""Middleware of accounts: private answers are never cached; signed-in browsers' last use."""

from collections.abc import Callable
from functools import cache

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers
from django.utils.http import http_date

from messagecenter.accounts import two_factor
from messagecenter.accounts.actions import record_browser_use
from messagecenter.accounts.time_zones import zone_of
from messagecenter.api_support import error_response
from messagecenter.errors import NotAuthenticated


class PrivatePagesMiddleware:
    """`Cache-Control: no-store, private` on every answer to a signed-in person or to an
    API token: after signing out, the back button or a shared computer's cache must not show
    someone's messages again. Not on an answer its view declared `public` — the same for
    everyone, with nothing of the person's in it (web.views.favicon): it keeps its own
    caching, or the browser would ask for the site's icon again on every page."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        # Judged before the view: the answer to a sign-out is still the person's.
        is_private = request.user.is_authenticated or "Authorization" in request.headers
        response = self.get_response(request)
        if (is_private or request.user.is_authenticated) and not is_public(response):
            never_cache(response)
        return response


def is_public(response: HttpResponse) -> bool:
    """Whether the view's own Cache-Control says `public`: a header only a view writes on
    purpose (patch_cache_control(response, public=True))."""
    cache_control = response.get("Cache-Control")
    if cache_control is None:
        return False
    return "public" in {
        directive.split("=", 1)[0].strip().lower() for directive in cache_control.split(",")
    }


# What Django's add_never_cache_headers writes on an answer without caching headers of its
# own (nearly every answer).
NEVER_CACHE = "max-age=0, no-cache, no-store, must-revalidate, private"


def never_cache(response: HttpResponse) -> None:
    """add_never_cache_headers, written directly where the view set no caching header:
    Django's parses the header it has just written and merges it with the new directives
    (≈ 150 calls on every private answer; docs/benchmarks.md, "The policy and no-store
    headers written once"). A view's own Cache-Control or Expires is merged as Django does."""
    if "Cache-Control" in response or "Expires" in response:
        add_never_cache_headers(response)
        return
    response.headers["Expires"] = http_date()
    response.headers["Cache-Control"] = NEVER_CACHE


class BrowserUseMiddleware:
    """Keeps "Your devices" up to date: a signed-in browser's last use and place, written
    at most every BROWSER_USE_RESOLUTION (accounts.actions.record_browser_use)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        user = request.user
        # After the view: a sign-out has already removed the browser, a sign-in recorded it.
        if user.is_authenticated and request.session.session_key is not None:
            record_browser_use(request, user)
        return response


class TimeZoneMiddleware:
    """Every date a signed-in person's page shows, in their own time zone
    (accounts/time_zones.py). An API token's person is known only once the API has
    authenticated the token: ApiTokenAuth activates theirs; here it ends with the request,
    so a thread never carries one person's zone into the next request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        if user.is_authenticated:
            timezone.activate(zone_of(user))
        else:
            timezone.deactivate()
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()


class SecondFactorMiddleware:
    """A session signed in with the password alone, pending its second factor
    (accounts.two_factor), reaches only the two-factor pages, sign-out and the site's icon:
    pages redirect there, the API and the event stream answer 401. Static files never get
    here (WhiteNoise answers them first)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            state = two_factor.pending(request)
            if state is not None and request.path_info not in _reachable_while(state):
                return _finish_signing_in(request, state)
        return self.get_response(request)


@cache
def _reachable_while(state: str) -> frozenset[str]:
    # The site's icon (web.views.favicon) is the same for everyone, nothing of the
    # person's. Browsers ask for it on their own, and sent on to the two-factor page they
    # got a page of HTML where an icon was wanted.
    names = ["logout", "favicon"]
    if state == two_factor.VERIFY:
        names += ["two-factor-verify", "two-factor-passkey-options", "two-factor-passkey"]
    else:
        # Set up with an authenticator app, or with a passkey.
        names += [
            "two-factor",
            "two-factor-start",
            "two-factor-confirm",
            "passkey-registration-options",
            "passkey-register",
        ]
    return frozenset(reverse(name) for name in names)


def _finish_signing_in(request: HttpRequest, state: str) -> HttpResponse:
    if request.path_info.startswith("/api/"):
        return error_response(
            NotAuthenticated("Finish signing in first: two-factor sign-in is needed.")
        )
    page = "two-factor-verify" if state == two_factor.VERIFY else "two-factor"
    return redirect_to_login(request.get_full_path(), reverse(page))
