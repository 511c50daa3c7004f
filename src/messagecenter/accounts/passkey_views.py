"""The passkey pages' requests (docs/accounts.md#passkeys). The browser's part of a
ceremony is a script (web/static/web/passkeys.js): it asks one of these for the options,
hands them to the authenticator and sends its answer back, all as JSON in the API's one
error shape. They are pages' routes, not the API's, because a session pending its second
factor (or its set-up) must reach them and reaches no API route; the API has its own
(accounts/api.py) over the same actions."""

from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import authenticate, login
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from messagecenter.accounts import passkey_actions, recent_sign_in, two_factor
from messagecenter.accounts.models import Passkey
from messagecenter.accounts.recent_sign_in import recent_sign_in_required
from messagecenter.api_support import error_response, parse_json
from messagecenter.errors import InvalidInput, MessageCenterError, NotAllowed, TooManyRequests
from messagecenter.web.shortcuts import AuthenticatedHttpRequest


def _body(request: HttpRequest) -> Mapping[str, Any]:
    data = parse_json(request.body)
    if not isinstance(data, dict):
        raise InvalidInput("Send a JSON object.", code="malformed_json")
    return data


def _credential(data: Mapping[str, Any]) -> Mapping[str, Any]:
    credential = data.get("credential")
    if not isinstance(credential, dict):
        raise InvalidInput("The authenticator's answer is missing.", code="credential_required")
    return credential


def _next(request: HttpRequest, data: Mapping[str, Any], fallback: str) -> str:
    """Where the script goes next: `next` if it is a URL of this site (no open redirect)."""
    target = data.get("next")
    if isinstance(target, str) and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _recent_or_refused(request: HttpRequest) -> None:
    if not recent_sign_in.is_recent(request):
        raise NotAllowed(
            "Confirm it is you first: adding a passkey needs a recent sign-in.",
            code="recent_sign_in_required",
        )


def _answer(request: HttpRequest, run: Callable[[], tuple[int, dict[str, Any]]]) -> HttpResponse:
    """The JSON answer of run(), or its error in the API's shape (with where to confirm
    the sign-in when that is what is missing)."""
    try:
        status, body = run()
    except MessageCenterError as error:
        details = (
            {"confirm_url": recent_sign_in.confirm_url(request)}
            if error.code == "recent_sign_in_required"
            else {}
        )
        return error_response(error, **details)
    return JsonResponse(body, status=status)


def passkey_out(passkey: Passkey) -> dict[str, Any]:
    return {
        "id": passkey.pk,
        "name": passkey.name,
        "created_at": passkey.created_at.isoformat(),
        "last_used_at": passkey.last_used_at.isoformat() if passkey.last_used_at else None,
    }


# --- registering (Sign-in and security, and the two-factor set-up) -------------------------


@login_required
@require_POST
def registration_options(request: AuthenticatedHttpRequest) -> HttpResponse:
    def run() -> tuple[int, dict[str, Any]]:
        _recent_or_refused(request)
        return 200, passkey_actions.registration_options(request, request.user)

    return _answer(request, run)


@login_required
@require_POST
def register(request: AuthenticatedHttpRequest) -> HttpResponse:
    def run() -> tuple[int, dict[str, Any]]:
        _recent_or_refused(request)
        data = _body(request)
        name = data.get("name")
        registered = passkey_actions.register(
            request, request.user, name if isinstance(name, str) else "", _credential(data)
        )
        return 201, {
            "passkey": passkey_out(registered.passkey),
            "recovery_codes": registered.recovery_codes,
        }

    return _answer(request, run)


@login_required
@require_POST
@recent_sign_in_required
def remove(request: AuthenticatedHttpRequest, passkey_id: int) -> HttpResponse:
    try:
        passkey = passkey_actions.remove(request.user, passkey_id)
    except NotAllowed as refused:
        if refused.code != "two_factor_required":
            raise
        messages.error(request, refused.message)
    else:
        messages.success(request, f"The passkey “{passkey.name}” is removed.")
    return redirect("account-security")


# --- the second step of a password sign-in --------------------------------------------------


def _pending_verify(request: HttpRequest) -> None:
    if two_factor.pending(request) != two_factor.VERIFY:
        raise InvalidInput("No sign-in is waiting for its second step.", code="not_signing_in")


@login_required
@require_POST
def second_factor_options(request: AuthenticatedHttpRequest) -> HttpResponse:
    def run() -> tuple[int, dict[str, Any]]:
        _pending_verify(request)
        return 200, passkey_actions.authentication_options(
            request, passkey_actions.SECOND_FACTOR, request.user
        )

    return _answer(request, run)


@login_required
@require_POST
def second_factor(request: AuthenticatedHttpRequest) -> HttpResponse:
    def run() -> tuple[int, dict[str, Any]]:
        _pending_verify(request)
        data = _body(request)
        passkey_actions.verify_assertion(
            request, passkey_actions.SECOND_FACTOR, _credential(data), request.user
        )
        request.session.pop(two_factor.PENDING_KEY, None)
        recent_sign_in.mark(request)
        return 200, {"next": _next(request, data, reverse("home"))}

    return _answer(request, run)


# --- signing in with a passkey alone ---------------------------------------------------------


def _signed_out(request: HttpRequest) -> None:
    if request.user.is_authenticated:
        raise InvalidInput("You are signed in already.", code="already_signed_in")


@require_POST
def sign_in_options(request: HttpRequest) -> HttpResponse:
    def run() -> tuple[int, dict[str, Any]]:
        _signed_out(request)
        return 200, passkey_actions.authentication_options(request, passkey_actions.SIGN_IN)

    return _answer(request, run)


@require_POST
def sign_in(request: HttpRequest) -> HttpResponse:
    """A passkey that verified the person on the authenticator is both factors: the
    browser is signed in fully. Through authenticate(), so the sign-in limits apply."""

    def run() -> tuple[int, dict[str, Any]]:
        _signed_out(request)
        data = _body(request)
        person = authenticate(request, passkey_assertion=_credential(data))
        if getattr(request, "axes_locked_out", False):
            raise TooManyRequests(
                f"Sign-in is paused for {settings.SIGN_IN_LOCKOUT_MINUTES} minutes: there "
                "were too many failed sign-ins from your network.",
                retry_after=settings.SIGN_IN_LOCKOUT_MINUTES * 60,
                code="sign_in_paused",
            )
        if person is None:
            raise InvalidInput(
                "That passkey did not sign you in. Try again, or sign in with your password.",
                code="passkey_not_verified",
            )
        login(request, person)
        # The passkey is the second factor too (user verification was required); login()
        # marked the sign-in recent, as a password's does.
        request.session.pop(two_factor.PENDING_KEY, None)
        return 200, {"next": _next(request, data, reverse("home"))}

    return _answer(request, run)


# --- "Confirm it is you" (the recent sign-in rule) ---------------------------------------------


@login_required
@require_POST
def confirm_options(request: AuthenticatedHttpRequest) -> HttpResponse:
    def run() -> tuple[int, dict[str, Any]]:
        return 200, passkey_actions.authentication_options(
            request, passkey_actions.CONFIRM, request.user
        )

    return _answer(request, run)


@login_required
@require_POST
def confirm(request: AuthenticatedHttpRequest) -> HttpResponse:
    def run() -> tuple[int, dict[str, Any]]:
        data = _body(request)
        passkey_actions.verify_assertion(
            request, passkey_actions.CONFIRM, _credential(data), request.user
        )
        recent_sign_in.mark(request)
        return 200, {"next": _next(request, data, reverse("account-security"))}

    return _answer(request, run)
