"""Passkeys (WebAuthn, docs/accounts.md#passkeys): registering one, and the three ways one
is used — the second step of a password sign-in, a sign-in on its own (passwordless), and
"Confirm it is you" for the recent sign-in rule.

Each ceremony is two requests: its options (with a random challenge, kept in the
session) and the authenticator's answer, checked by py_webauthn against that challenge,
the relying party id and the origins of settings. A challenge answers once — it is taken
out of the session before anything is checked, so a replayed answer finds none — and only
within PASSKEY_CHALLENGE_SECONDS, and only for the ceremony (and the person) it was made
for. A refused answer changes nothing.
"""

import json
import re
import secrets
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.http import HttpRequest
from django.utils import timezone
from webauthn import (
    generate_authentication_options,
    generate_registration_options,
    options_to_json,
    verify_authentication_response,
    verify_registration_response,
)
from webauthn.helpers import base64url_to_bytes, bytes_to_base64url
from webauthn.helpers.exceptions import WebAuthnException
from webauthn.helpers.structs import (
    AuthenticatorSelectionCriteria,
    AuthenticatorTransport,
    PublicKeyCredentialDescriptor,
    ResidentKeyRequirement,
    UserVerificationRequirement,
)

from messagecenter.accounts import two_factor
from messagecenter.accounts.actions import Whereabouts
from messagecenter.accounts.models import Passkey, User
from messagecenter.accounts.queries import access_passkey
from messagecenter.errors import InvalidInput, NotAllowed
from messagecenter.visible import has_visible_text

NAME_MAX_CHARS = 60
# More than anyone keeps; each is one row and one entry in every sign-in's options.
MAX_PASSKEYS = 20
# A credential id is at most 1,023 bytes (WebAuthn), 1,364 characters of base64url.
CREDENTIAL_ID_MAX_CHARS = 1400

_BASE64URL = re.compile(r"[A-Za-z0-9_-]+=*")

CHALLENGE_KEY = "_passkey_challenge"
REGISTER = "register"
SECOND_FACTOR = "second-factor"
SIGN_IN = "sign-in"
CONFIRM = "confirm"
_TRANSPORTS = frozenset(transport.value for transport in AuthenticatorTransport)
# What py_webauthn raises on an answer that fails a check, or that is not shaped like one
# at all (the answer is whatever the client sent).
_MALFORMED = (WebAuthnException, ValueError, TypeError, KeyError, AttributeError, IndexError)


@dataclass(frozen=True)
class Registered:
    passkey: Passkey
    # Recovery codes made with the person's first second factor (shown once), else None.
    recovery_codes: list[str] | None


def _remember(
    request: HttpRequest, ceremony: str, challenge: bytes, user: User | None, **extra: str
) -> None:
    request.session[CHALLENGE_KEY] = {
        "ceremony": ceremony,
        "challenge": bytes_to_base64url(challenge),
        "at": int(time.time()),
        "user": user.pk if user is not None else None,
        **extra,
    }


def _take(request: HttpRequest, ceremony: str, user: User | None) -> dict[str, Any]:
    """The session's challenge for this ceremony, taken out: it never answers twice."""
    state = request.session.pop(CHALLENGE_KEY, None)
    if (
        not isinstance(state, dict)
        or state.get("ceremony") != ceremony
        or state.get("user") != (user.pk if user is not None else None)
        or not isinstance(state.get("at"), int)
        or time.time() - state["at"] > settings.PASSKEY_CHALLENGE_SECONDS
    ):
        raise InvalidInput(
            "That passkey request is over (it lasts a few minutes and answers once). Try again.",
            code="passkey_challenge_expired",
        )
    return state


def _options(options: Any) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(options_to_json(options))
    return loaded


def _descriptors(passkeys: list[Passkey]) -> list[PublicKeyCredentialDescriptor]:
    return [
        PublicKeyCredentialDescriptor(
            id=base64url_to_bytes(passkey.credential_id),
            transports=[AuthenticatorTransport(value) for value in passkey.transports],
        )
        for passkey in passkeys
    ]


def _user_handle(user: User) -> str:
    """Every passkey of a person carries the same random handle (never their id)."""
    existing = Passkey.objects.filter(user=user).values_list("user_handle", flat=True).first()
    return existing or bytes_to_base64url(secrets.token_bytes(32))


def registration_options(request: HttpRequest, user: User) -> dict[str, Any]:
    """navigator.credentials.create()'s options, as JSON (binary fields in base64url)."""
    passkeys = list(Passkey.objects.filter(user=user))
    if len(passkeys) >= MAX_PASSKEYS:
        raise InvalidInput(
            f"You have {MAX_PASSKEYS} passkeys: remove one you no longer use first.",
            code="too_many_passkeys",
        )
    handle = _user_handle(user)
    options = generate_registration_options(
        rp_id=settings.PASSKEY_RP_ID,
        rp_name=settings.PASSKEY_RP_NAME,
        user_id=base64url_to_bytes(handle),
        user_name=user.username,
        user_display_name=user.get_full_name() or user.username,
        timeout=settings.PASSKEY_CHALLENGE_SECONDS * 1000,
        # The same authenticator twice is refused by the browser itself.
        exclude_credentials=_descriptors(passkeys),
        authenticator_selection=AuthenticatorSelectionCriteria(
            resident_key=ResidentKeyRequirement.PREFERRED,
            user_verification=UserVerificationRequirement.PREFERRED,
        ),
    )
    _remember(request, REGISTER, options.challenge, user, handle=handle)
    return _options(options)


def clean_name(name: str) -> str:
    if "\x00" in (name or ""):
        # The page's JSON reaches here unchecked (the API's Text refuses it first), and
        # PostgreSQL cannot store a NUL: the insert failed with a 500.
        raise InvalidInput(
            "A passkey's name cannot contain a NUL character.", code="passkey_name_invalid"
        )
    name = " ".join((name or "").split())
    if not name:
        raise InvalidInput(
            "Name the passkey, e.g. the device it is on.", code="passkey_name_required"
        )
    if not has_visible_text(name):
        # Listed as a blank: nobody could tell which passkey to remove.
        raise InvalidInput(
            "Name the passkey with at least one visible character, e.g. the device it is "
            "on: zero-width spaces and direction marks alone show nothing.",
            code="passkey_name_required",
        )
    if len(name) > NAME_MAX_CHARS:
        raise InvalidInput(
            f"A passkey's name has at most {NAME_MAX_CHARS} characters.",
            code="passkey_name_too_long",
        )
    return name


def register(
    request: HttpRequest, user: User, name: str, credential: Mapping[str, Any]
) -> Registered:
    """The authenticator's answer to the registration options: a new passkey. With it,
    two-factor sign-in is on; a person who had no second factor yet also gets recovery
    codes, shown once."""
    name = clean_name(name)
    state = _take(request, REGISTER, user)
    try:
        verified = verify_registration_response(
            credential=dict(credential),
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=settings.PASSKEY_RP_ID,
            expected_origin=settings.PASSKEY_ORIGINS,
        )
    except _MALFORMED as refused:
        raise InvalidInput(
            "The passkey could not be checked, so it was not added. Try again.",
            code="passkey_not_verified",
        ) from refused
    credential_id = bytes_to_base64url(verified.credential_id)
    if len(credential_id) > CREDENTIAL_ID_MAX_CHARS:
        raise InvalidInput("This passkey's id is too long.", code="passkey_not_verified")
    transports = _transports(credential)
    had_second_factor = two_factor.has_two_factor(user)
    try:
        with transaction.atomic():
            passkey = Passkey.objects.create(
                user=user,
                name=name,
                credential_id=credential_id,
                public_key=verified.credential_public_key,
                sign_count=verified.sign_count,
                user_handle=state["handle"],
                transports=transports,
                created_at=timezone.now(),
            )
            codes = (
                two_factor.new_recovery_codes(user)
                if not had_second_factor and not two_factor.recovery_codes_left(user)
                else None
            )
    except IntegrityError as taken:
        raise InvalidInput(
            "This passkey is registered already.", code="passkey_already_registered"
        ) from taken
    # A person whose role must have two-factor and who had none is now set up.
    if two_factor.pending(request) == two_factor.SET_UP:
        request.session.pop(two_factor.PENDING_KEY, None)
    return Registered(passkey=passkey, recovery_codes=codes)


def _transports(credential: Mapping[str, Any]) -> list[str]:
    response = credential.get("response")
    listed = response.get("transports") if isinstance(response, Mapping) else None
    if not isinstance(listed, list):
        return []
    return sorted({item for item in listed if isinstance(item, str) and item in _TRANSPORTS})


def authentication_options(
    request: HttpRequest, ceremony: str, user: User | None = None
) -> dict[str, Any]:
    """navigator.credentials.get()'s options. For a signed-in person (the second step,
    "Confirm it is you") their own passkeys; for a sign-in on its own, any passkey of this
    site the authenticator holds (a discoverable credential) with the person verified on
    the authenticator (PIN, fingerprint, face), so the passkey alone is two factors."""
    passkeys = list(Passkey.objects.filter(user=user)) if user is not None else []
    if user is not None and not passkeys:
        raise InvalidInput("You have no passkey.", code="no_passkey")
    options = generate_authentication_options(
        rp_id=settings.PASSKEY_RP_ID,
        timeout=settings.PASSKEY_CHALLENGE_SECONDS * 1000,
        allow_credentials=_descriptors(passkeys),
        user_verification=(
            UserVerificationRequirement.PREFERRED
            if ceremony == SECOND_FACTOR
            else UserVerificationRequirement.REQUIRED
        ),
    )
    _remember(request, ceremony, options.challenge, user)
    return _options(options)


def verify_assertion(
    request: HttpRequest, ceremony: str, credential: Mapping[str, Any], user: User | None = None
) -> Passkey:
    """The authenticator's answer: the passkey it signed with, which must be the person's
    own (any person's for a sign-in on its own). Records its use."""
    state = _take(request, ceremony, user)
    refused = InvalidInput(
        "That passkey did not sign you in. Try again, or use another way to sign in.",
        code="passkey_not_verified",
    )
    credential_id = credential.get("id") if isinstance(credential, Mapping) else None
    if (
        not isinstance(credential_id, str)
        or not 0 < len(credential_id) <= CREDENTIAL_ID_MAX_CHARS
        # base64url only: a NUL in the lookup was a 500 on PostgreSQL, before any sign-in.
        or not _BASE64URL.fullmatch(credential_id)
    ):
        raise refused
    passkeys = Passkey.objects.select_related("user").filter(credential_id=credential_id)
    if user is not None:
        passkeys = passkeys.filter(user=user)
    passkey = passkeys.first()
    if passkey is None or not passkey.user.is_active:
        raise refused
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, Mapping) else None
    if handle and handle != passkey.user_handle:
        raise refused
    try:
        verified = verify_authentication_response(
            credential=dict(credential),
            expected_challenge=base64url_to_bytes(state["challenge"]),
            expected_rp_id=settings.PASSKEY_RP_ID,
            expected_origin=settings.PASSKEY_ORIGINS,
            credential_public_key=bytes(passkey.public_key),
            credential_current_sign_count=passkey.sign_count,
            require_user_verification=ceremony != SECOND_FACTOR,
        )
    except _MALFORMED as failed:
        raise refused from failed
    where = Whereabouts.of(request)
    # Only from the counter it was checked against: of two answers racing with one
    # counter value, the second changes nothing and is refused.
    moved = Passkey.objects.filter(pk=passkey.pk, sign_count=passkey.sign_count).update(
        sign_count=verified.new_sign_count,
        last_used_at=timezone.now(),
        last_used_address=where.address,
        last_used_country=where.country,
    )
    if not moved and verified.new_sign_count:
        raise refused
    passkey.refresh_from_db()
    return passkey


def rename(user: User, passkey_id: Any, name: str) -> Passkey:
    passkey = access_passkey(user, passkey_id)
    passkey.name = clean_name(name)
    passkey.save(update_fields=["name"])
    return passkey


def remove(user: User, passkey_id: Any) -> Passkey:
    """A person whose role must sign in with two-factor keeps at least one second factor:
    their last passkey goes only when an authenticator app is on. With the last second
    factor gone, the recovery codes go too (as when two-factor is turned off)."""
    with transaction.atomic():
        passkey = access_passkey(user, passkey_id, for_update=True)
        others = Passkey.objects.filter(user=user).exclude(pk=passkey.pk).exists()
        if not others and not two_factor.has_authenticator_app(user):
            if two_factor.is_required_for(user):
                raise NotAllowed(
                    "Your role must sign in with two-factor: add another passkey or an "
                    "authenticator app before removing your last passkey.",
                    code="two_factor_required",
                )
            two_factor.forget_recovery_codes(user)
        passkey.delete()
    return passkey
