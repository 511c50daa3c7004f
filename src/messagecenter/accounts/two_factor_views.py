"""The two-factor pages: the second step of signing in, and setting it up or off
(docs/accounts.md, "Two-factor sign-in")."""

import segno
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_POST

from messagecenter.accounts import actions, two_factor
from messagecenter.accounts.recent_sign_in import recent_sign_in_required
from messagecenter.accounts.views import passkey_form_context
from messagecenter.errors import InvalidInput, TooManyRequests
from messagecenter.web.shortcuts import AuthenticatedHttpRequest, redirect_to_next


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def verify(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Signing in, second step: the code from the app or a recovery code."""
    if two_factor.pending(request) != two_factor.VERIFY:
        return redirect("message-center")
    error = ""
    status = 200
    if request.method == "POST":
        try:
            two_factor.verify(request, request.user, request.POST.get("code", ""))
        except (InvalidInput, TooManyRequests) as invalid:
            error, status = invalid.message, invalid.status
        else:
            return redirect_to_next(request, "/message-center/")
    user = request.user
    return render(
        request,
        "accounts/two_factor_verify.html",
        {
            "error": error,
            "next": request.POST.get("next") or request.GET.get("next", ""),
            "has_passkey": two_factor.has_passkey(user),
            # A recovery code is a code too: a passkey-only person may still type one.
            "takes_code": two_factor.has_authenticator_app(user)
            or bool(two_factor.recovery_codes_left(user)),
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD"])
def settings_page(request: AuthenticatedHttpRequest) -> HttpResponse:
    return _settings_page(request)


def _settings_page(
    request: AuthenticatedHttpRequest,
    *,
    error: str = "",
    # The field the error is about ("code", "password"): it is marked invalid, described by
    # the error and given the focus, as on the sign-in's second step.
    error_field: str = "",
    recovery_codes: list[str] | None = None,
    status: int = 200,
) -> HttpResponse:
    user = request.user
    device = two_factor.unconfirmed_device(user)
    setup = None
    if device is not None:
        url = str(device.config_url)
        setup = {
            "qr": segno.make(url, error="m").svg_data_uri(scale=5, border=2),
            "key": _spaced(url.split("secret=", 1)[1].split("&", 1)[0]),
        }
    return render(
        request,
        "accounts/two_factor.html",
        {
            # This page is the authenticator app's; passkeys are on Sign-in and security
            # (and here, to set two-factor up with one).
            "is_on": two_factor.has_authenticator_app(user),
            "has_passkey": two_factor.has_passkey(user),
            "is_pending_setup": two_factor.pending(request) == two_factor.SET_UP,
            "is_required": two_factor.is_required_for(user),
            **passkey_form_context(reverse("account-security")),
            "setup": setup,
            "error": error,
            "error_field": error_field if error else "",
            "recovery_codes": recovery_codes,
            "recovery_codes_left": two_factor.recovery_codes_left(user),
        },
        status=status,
    )


def _spaced(key: str) -> str:
    return " ".join(key[index : index + 4] for index in range(0, len(key), 4))


@login_required
@require_POST
@recent_sign_in_required
def start(request: AuthenticatedHttpRequest) -> HttpResponse:
    two_factor.start_setup(request.user)
    return _settings_page(request)


@login_required
@require_POST
@recent_sign_in_required
def confirm(request: AuthenticatedHttpRequest) -> HttpResponse:
    try:
        codes = two_factor.confirm_setup(request, request.user, request.POST.get("code", ""))
    except (InvalidInput, TooManyRequests) as invalid:
        return _settings_page(
            request, error=invalid.message, error_field="code", status=invalid.status
        )
    return _settings_page(request, recovery_codes=codes)


@login_required
@require_POST
@recent_sign_in_required
def turn_off(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Asks for the password again: a browser left signed in cannot turn it off."""
    password = request.POST.get("password", "")
    if len(password) > actions.PASSWORD_MAX_CHARS:
        return _settings_page(
            request, error=actions.PASSWORD_TOO_LONG, error_field="password", status=400
        )
    if not request.user.check_password(password):
        return _settings_page(
            request, error="That password is not right.", error_field="password", status=400
        )
    try:
        two_factor.turn_off(request.user)
    except InvalidInput as invalid:
        return _settings_page(request, error=invalid.message, status=400)
    messages.success(request, "Two-factor sign-in is off.")
    return redirect("two-factor")
