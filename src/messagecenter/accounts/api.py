"""The API's account routes: who is signed in, the API tokens of their devices, their
browsers and passkeys (docs/api.md)."""

from datetime import datetime
from typing import Any

from django.contrib.auth import logout
from ninja import Router, Schema, Status

from messagecenter.accounts import actions, passkey_actions, queries, recent_sign_in, time_zones
from messagecenter.accounts.authentication import SessionAuth, current_api_token
from messagecenter.accounts.models import ApiToken, BrowserSession, Passkey, Role, User
from messagecenter.accounts.user_agents import describe
from messagecenter.api_support import ApiRequest, Id, StorefrontOut, Text

router = Router(tags=["account"])


class MeOut(Schema):
    id: int
    username: str
    # The name other people see: a seller's storefront name, else the display name.
    name: str
    role: Role
    storefront: StorefrontOut | None
    # The account's e-mail address, as Your Account shows it ("" for an account without
    # one): POST /me/email changes it once confirmed, and an app shows which one it is.
    email: str
    # An IANA name ("Europe/Paris"): the zone the person's pages and e-mails show dates
    # in, for an app to show them the same way (times in answers stay ISO 8601 in UTC);
    # search's date_from/date_to are days in it.
    time_zone: str


class MeIn(Schema):
    time_zone: Text


@router.get("/me", response=MeOut, summary="Who is signed in")
def me(request: ApiRequest) -> MeOut:
    return _me_out(request.auth)


@router.patch("/me", response=MeOut, summary="Change your time zone")
def update_me(request: ApiRequest, payload: MeIn) -> MeOut:
    actions.set_time_zone(request.auth, payload.time_zone)
    return _me_out(request.auth)


class EmailChangeIn(Schema):
    email: Text
    # The current password: a sign-in on the spot, as on the page.
    password: Text


class EmailChangeOut(Schema):
    # Where the link went; the account's address changes once it is opened.
    pending_email: str


class EmailChangeConfirmIn(Schema):
    # The token of the link's last path segment.
    token: Text


@router.post("/me/email", response={202: EmailChangeOut}, summary="Change your e-mail address")
def change_email(request: ApiRequest, payload: EmailChangeIn) -> Status[EmailChangeOut]:
    """Sends a link to the new address; the address changes once it is confirmed (the
    link's page, or POST /me/email/confirm). The same answer whether or not another
    account uses the address. 400 `wrong_password`, `password_too_long` (over 1,024
    characters, unchecked), `invalid_email`, `same_email`; 429
    `email_change_too_soon` (with Retry-After) within a minute of the last link asked for,
    nothing sent."""
    address = actions.request_email_change(request.auth, payload.email, payload.password)
    return Status(202, EmailChangeOut(pending_email=address))


@router.post("/me/email/confirm", response=MeOut, summary="Confirm a new e-mail address")
def confirm_email_change(request: ApiRequest, payload: EmailChangeConfirmIn) -> MeOut:
    """The token from the link sent to the new address, for an app that opens the link
    itself. 400 `email_change_link_invalid` (altered, expired, used, or for another
    account), 409 `email_in_use`."""
    user = actions.confirm_email_change(payload.token, expected_user=request.auth)
    return _me_out(user)


def _me_out(user: User) -> MeOut:
    storefront = getattr(user, "storefront", None)
    return MeOut(
        id=user.pk,
        username=user.username,
        name=user.public_name,
        role=Role(user.role),
        storefront=StorefrontOut(id=storefront.pk, name=storefront.name) if storefront else None,
        email=user.email,
        # The zone dates are shown in: for a stored name no longer accepted ("localtime",
        # a retired one) the default, as on every page, not the name.
        time_zone=time_zones.name_of(user),
    )


class TokenIn(Schema):
    # The device, as the person will recognise it in the list: "Alice's iPhone".
    name: Text


class TokenOut(Schema):
    id: int
    name: str
    # The first characters of the secret, to tell tokens apart.
    prefix: str
    created_at: datetime
    last_used_at: datetime | None
    # Where it was first and last used: a country code when the site knows it, else an
    # IP address; null before its first use.
    first_used_from: str | None
    last_used_from: str | None
    # The app's User-Agent at its last use, in words ("Safari on iPhone").
    device: str | None
    # The token this request was made with (false for a browser session).
    is_current: bool


class NewTokenOut(Schema):
    token: TokenOut
    # Shown once: only a hash is kept.
    secret: str


def _token_out(token: ApiToken, current: ApiToken | None) -> TokenOut:
    return TokenOut(
        id=token.pk,
        name=token.name,
        prefix=token.prefix,
        created_at=token.created_at,
        last_used_at=token.last_used_at,
        first_used_from=token.first_used_country or token.first_used_address,
        last_used_from=token.last_used_country or token.last_used_address,
        device=describe(token.user_agent) if token.user_agent else None,
        is_current=current is not None and current.pk == token.pk,
    )


@router.post(
    "/tokens",
    response={201: NewTokenOut},
    # A token is made from a signed-in browser session (with its CSRF token), never
    # from another token: a leaked token cannot mint itself a successor.
    auth=[SessionAuth()],
    summary="Create an API token for a device",
)
def create_token(request: ApiRequest, payload: TokenIn) -> Status[NewTokenOut]:
    """`403 recent_sign_in_required` when the browser did not sign in within
    RECENT_SIGN_IN_MINUTES (docs/accounts.md#recent-sign-in)."""
    recent_sign_in.require_recent_sign_in(request)
    token, secret = actions.create_api_token(request.auth, payload.name)
    return Status(201, NewTokenOut(token=_token_out(token, None), secret=secret))


@router.get("/tokens", response=list[TokenOut], summary="The person's active API tokens")
def list_tokens(request: ApiRequest) -> list[TokenOut]:
    current = current_api_token(request)
    return [_token_out(token, current) for token in queries.active_api_tokens(request.auth)]


@router.delete("/tokens/{token_id}", response={204: None}, summary="Revoke an API token")
def revoke_token(request: ApiRequest, token_id: Id) -> Status[None]:
    actions.revoke_api_token(request.auth, token_id)
    return Status(204, None)


class BrowserSessionOut(Schema):
    id: int
    # The browser, in words ("Firefox on Windows"), and its User-Agent as sent.
    device: str
    user_agent: str
    signed_in_at: datetime
    signed_in_from: str | None
    last_used_at: datetime
    last_used_from: str | None
    # The browser session this request was made with.
    is_current: bool


def _browser_out(browser: BrowserSession, current_key: str | None) -> BrowserSessionOut:
    return BrowserSessionOut(
        id=browser.pk,
        device=describe(browser.user_agent),
        user_agent=browser.user_agent,
        signed_in_at=browser.signed_in_at,
        signed_in_from=browser.first_country or browser.first_address,
        last_used_at=browser.last_used_at,
        last_used_from=browser.last_country or browser.last_address,
        is_current=browser.session_key == current_key,
    )


@router.get(
    "/browser-sessions",
    response=list[BrowserSessionOut],
    summary="The person's signed-in browsers",
)
def list_browser_sessions(request: ApiRequest) -> list[BrowserSessionOut]:
    current_key = None if current_api_token(request) else request.session.session_key
    return [
        _browser_out(browser, current_key) for browser in queries.browser_sessions(request.auth)
    ]


@router.delete(
    "/browser-sessions/{browser_session_id}",
    response={204: None},
    summary="Sign one browser out",
)
def end_browser_session(request: ApiRequest, browser_session_id: Id) -> Status[None]:
    actions.end_browser_session(request.auth, browser_session_id)
    _forget_ended_session(request)
    return Status(204, None)


def _forget_ended_session(request: ApiRequest) -> None:
    """A browser that ended its own session is signed out in this response too (its cookie
    is cleared instead of saved again)."""
    if current_api_token(request) is not None:
        # A token call has no session (server/token_calls.py).
        return
    key = request.session.session_key
    if key and not request.session.exists(key):
        logout(request)


class SignedOutOut(Schema):
    browsers: int
    tokens: int


@router.post(
    "/sign-out-everywhere",
    response=SignedOutOut,
    summary="Sign out every browser and revoke every API token, this one included",
)
def sign_out_everywhere(request: ApiRequest) -> SignedOutOut:
    signed_out = actions.sign_out_everywhere(request.auth)
    _forget_ended_session(request)
    return SignedOutOut(browsers=signed_out.browsers, tokens=signed_out.tokens)


class PasskeyOut(Schema):
    id: int
    # The person's name for it ("MacBook Touch ID").
    name: str
    created_at: datetime
    last_used_at: datetime | None
    # Where it was last used: a country code when the site knows it, else an IP address.
    last_used_from: str | None


class PasskeyIn(Schema):
    name: Text
    # What navigator.credentials.create() answered, as JSON (PublicKeyCredential.toJSON():
    # id, rawId, type, response.clientDataJSON and response.attestationObject in base64url).
    credential: dict[str, Any]


class PasskeyNameIn(Schema):
    name: Text


class NewPasskeyOut(Schema):
    passkey: PasskeyOut
    # Made with the person's first second factor and shown once; null otherwise.
    recovery_codes: list[str] | None


def _passkey_out(passkey: Passkey) -> PasskeyOut:
    return PasskeyOut(
        id=passkey.pk,
        name=passkey.name,
        created_at=passkey.created_at,
        last_used_at=passkey.last_used_at,
        last_used_from=passkey.last_used_country or passkey.last_used_address,
    )


@router.get("/passkeys", response=list[PasskeyOut], summary="The person's passkeys")
def list_passkeys(request: ApiRequest) -> list[PasskeyOut]:
    return [_passkey_out(passkey) for passkey in queries.passkeys(request.auth)]


@router.post(
    "/passkeys/registration-options",
    response=dict[str, Any],
    # A passkey is registered in the browser the person signs in with, for this site's
    # origin: from a signed-in browser session only.
    auth=[SessionAuth()],
    summary="Start registering a passkey",
)
def passkey_registration_options(request: ApiRequest) -> dict[str, Any]:
    """The options for navigator.credentials.create() (binary fields in base64url), with a
    challenge that answers once within PASSKEY_CHALLENGE_SECONDS. `403
    recent_sign_in_required`; 400 `too_many_passkeys`."""
    recent_sign_in.require_recent_sign_in(request)
    return passkey_actions.registration_options(request, request.auth)


@router.post(
    "/passkeys",
    response={201: NewPasskeyOut},
    auth=[SessionAuth()],
    summary="Register a passkey",
)
def register_passkey(request: ApiRequest, payload: PasskeyIn) -> Status[NewPasskeyOut]:
    """The authenticator's answer to the last registration options of this session. 400
    `passkey_challenge_expired` (no options, used, expired), `passkey_not_verified`
    (another challenge, origin or relying party, a bad signature),
    `passkey_already_registered`, `passkey_name_required`, `passkey_name_too_long`; `403
    recent_sign_in_required`."""
    recent_sign_in.require_recent_sign_in(request)
    registered = passkey_actions.register(request, request.auth, payload.name, payload.credential)
    return Status(
        201,
        NewPasskeyOut(
            passkey=_passkey_out(registered.passkey), recovery_codes=registered.recovery_codes
        ),
    )


@router.patch("/passkeys/{passkey_id}", response=PasskeyOut, summary="Rename a passkey")
def rename_passkey(request: ApiRequest, passkey_id: Id, payload: PasskeyNameIn) -> PasskeyOut:
    return _passkey_out(passkey_actions.rename(request.auth, passkey_id, payload.name))


@router.delete(
    "/passkeys/{passkey_id}",
    response={204: None},
    # A second factor goes only from a browser that signed in recently, as on the page.
    auth=[SessionAuth()],
    summary="Remove a passkey",
)
def remove_passkey(request: ApiRequest, passkey_id: Id) -> Status[None]:
    """`403 recent_sign_in_required`; `403 two_factor_required` for the last second factor
    of a person whose role must sign in with two-factor."""
    recent_sign_in.require_recent_sign_in(request)
    passkey_actions.remove(request.auth, passkey_id)
    return Status(204, None)
