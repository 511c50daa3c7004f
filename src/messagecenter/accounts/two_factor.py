"""Two-factor sign-in (docs/accounts.md, "Two-factor sign-in"): a time-based code from an
authenticator app (TOTP, django-otp) with one-time recovery codes, or a passkey
(passkey_actions.py).

A password sign-in of someone with two-factor on, or of someone whose role must have it
(TWO_FACTOR_REQUIRED_ROLES) but has not set it up, leaves the session *pending* — marked
in the session itself, so an ordinary request reads nothing more — and
`SecondFactorMiddleware` lets a pending session reach only the two-factor pages and
sign-out until the code is given or two-factor is set up.
"""

import math
from datetime import datetime

from django.conf import settings
from django.db import transaction
from django.http import HttpRequest
from django.utils import timezone
from django_otp.models import Device
from django_otp.plugins.otp_static.models import StaticDevice, StaticToken
from django_otp.plugins.otp_totp.models import TOTPDevice

from messagecenter.accounts import recent_sign_in
from messagecenter.accounts.models import Passkey, User
from messagecenter.errors import InvalidInput, TooManyRequests

PENDING_KEY = "_second_factor_pending"
VERIFY = "verify"
SET_UP = "set-up"
RECOVERY_CODES = 10
AUTHENTICATOR_NAME = "Authenticator app"
RECOVERY_NAME = "Recovery codes"


def is_required_for(user: User) -> bool:
    roles: list[str] = settings.TWO_FACTOR_REQUIRED_ROLES
    return user.role in roles or ("staff" in roles and user.is_staff)


def has_two_factor(user: User) -> bool:
    """An authenticator app or a passkey: either is a second factor."""
    return has_authenticator_app(user) or has_passkey(user)


def has_authenticator_app(user: User) -> bool:
    return bool(TOTPDevice.objects.filter(user=user, confirmed=True).exists())


def has_passkey(user: User) -> bool:
    return bool(Passkey.objects.filter(user=user).exists())


def on_sign_in(request: HttpRequest, user: User) -> None:
    """After the password: what is still needed before the session is fully signed in."""
    if has_two_factor(user):
        request.session[PENDING_KEY] = VERIFY
    elif is_required_for(user):
        request.session[PENDING_KEY] = SET_UP
    else:
        request.session.pop(PENDING_KEY, None)


def pending(request: HttpRequest) -> str | None:
    value = request.session.get(PENDING_KEY)
    return value if value in (VERIFY, SET_UP) else None


def verify(request: HttpRequest, user: User, code: str) -> None:
    """The second step of a pending sign-in: a code from the app, or an unused recovery
    code (which is then used up). django-otp slows repeated failures down per device."""
    code = "".join((code or "").split()).lower()
    if not code or len(code) > 16:
        raise InvalidInput("Enter the 6-digit code from your app.", code="code_required")
    totp = TOTPDevice.objects.filter(user=user, confirmed=True).first()
    recovery = StaticDevice.objects.filter(user=user, confirmed=True).first()
    _refuse_while_throttled(totp if code.isdigit() else recovery)
    by_app = totp is not None and code.isdigit() and bool(totp.verify_token(code))
    by_recovery = (
        not by_app
        and recovery is not None
        and not code.isdigit()
        and bool(recovery.verify_token(code))
    )
    if not (by_app or by_recovery):
        raise InvalidInput(
            "That code is not right, or it was used already. Codes change every 30 seconds.",
            code="wrong_code",
        )
    request.session.pop(PENDING_KEY, None)
    recent_sign_in.mark(request)


def _refuse_while_throttled(device: Device | None) -> None:
    """django-otp refuses every code for a while after a wrong one (the wait doubles with
    each failure), the right one included: say so, with the wait, rather than "not right",
    which sent people to type a right code again and again. The attempt is not tried, so
    it is not another failure (django-otp counts only codes it checked)."""
    if device is None:
        return
    is_allowed, details = device.verify_is_allowed()
    if is_allowed:
        return
    locked_until = (details or {}).get("locked_until")
    wait = 1
    if locked_until is not None:
        wait = max(1, math.ceil((locked_until - timezone.now()).total_seconds()))
    raise TooManyRequests(
        f"Too many tries: wait {wait} second{'' if wait == 1 else 's'} and enter the code again.",
        retry_after=wait,
        code="code_throttled",
    )


def start_setup(user: User) -> TOTPDevice:
    """A new, unconfirmed authenticator for the person (replacing an unconfirmed one)."""
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=False).delete()
        device: TOTPDevice = TOTPDevice.objects.create(
            user=user, name=AUTHENTICATOR_NAME, confirmed=False
        )
    return device


def unconfirmed_device(user: User) -> TOTPDevice | None:
    device: TOTPDevice | None = TOTPDevice.objects.filter(user=user, confirmed=False).first()
    return device


def confirm_setup(request: HttpRequest, user: User, code: str) -> list[str]:
    """The first code from the app proves it is set up: two-factor is on, and the person
    gets recovery codes, shown once. Returns them."""
    device = unconfirmed_device(user)
    if device is None:
        raise InvalidInput("Start the set-up again.", code="no_setup_in_progress")
    code = "".join((code or "").split())
    _refuse_while_throttled(device)
    if not code.isdigit() or not device.verify_token(code):
        raise InvalidInput(
            "That code is not right. Enter the 6-digit code the app shows now.",
            code="wrong_code",
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user, confirmed=True).delete()
        device.confirmed = True
        # Its time counts from now, when it becomes a second factor, not from the start of
        # the set-up: one started before an e-mail change and finished after it, by whoever
        # changed the address, goes with an undo (forget_added_since).
        device.created_at = timezone.now()
        device.save(update_fields=["confirmed", "created_at"])
        codes = new_recovery_codes(user)
    request.session.pop(PENDING_KEY, None)
    return codes


def new_recovery_codes(user: User) -> list[str]:
    """Ten new recovery codes, replacing any left (call inside a transaction)."""
    StaticDevice.objects.filter(user=user).delete()
    device = StaticDevice.objects.create(user=user, name=RECOVERY_NAME, confirmed=True)
    codes = [StaticToken.random_token() for _ in range(RECOVERY_CODES)]
    StaticToken.objects.bulk_create([StaticToken(device=device, token=code) for code in codes])
    return codes


def forget_recovery_codes(user: User) -> None:
    StaticDevice.objects.filter(user=user).delete()


def turn_off(user: User) -> None:
    """The authenticator app off. Passkeys stay (each is removed on its own), and so do
    the recovery codes while one does; without any, two-factor is off."""
    keeps_passkeys = has_passkey(user)
    if is_required_for(user) and not keeps_passkeys:
        raise InvalidInput(
            "Your role must sign in with two-factor: it cannot be turned off.",
            code="two_factor_required",
        )
    with transaction.atomic():
        TOTPDevice.objects.filter(user=user).delete()
        if not keeps_passkeys:
            forget_recovery_codes(user)


def forget_added_since(user: User, moment: datetime) -> None:
    """Take away every second factor the person's account was given at or after `moment`
    — passkeys, an authenticator app, recovery codes (each set replaces the one before, so
    a newer set is not the owner's) — and any set-up left half done, whose key was shown
    to whoever had the page. Those from before stay. With no second factor left, the
    recovery codes go too: two-factor is off (as when the last one is removed).

    For undoing an e-mail change (actions.undo_email_change): whoever changed the address
    must not keep a way in. Call inside the transaction that holds the person's row."""
    Passkey.objects.filter(user=user, created_at__gte=moment).delete()
    TOTPDevice.objects.filter(user=user, created_at__gte=moment).delete()
    TOTPDevice.objects.filter(user=user, confirmed=False).delete()
    StaticDevice.objects.filter(user=user, created_at__gte=moment).delete()
    if not has_two_factor(user):
        forget_recovery_codes(user)


def recovery_codes_left(user: User) -> int:
    return int(StaticToken.objects.filter(device__user=user, device__confirmed=True).count())
