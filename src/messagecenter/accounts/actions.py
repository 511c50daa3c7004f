"""Every change to accounts: the API tokens of people's devices (docs/api.md), their
signed-in browsers, signing out everywhere, changing a password or e-mail address and
choosing one's time zone (docs/accounts.md)."""

import hashlib
import math
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import import_module
from typing import Any

from axes.utils import reset as reset_sign_in_failures
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.db.models import F, Q, QuerySet
from django.http import HttpRequest
from django.utils import timezone

from messagecenter.accounts import account_emails, email_changes, two_factor
from messagecenter.accounts.models import EMAIL_UNIQUE, ApiToken, BrowserSession, User
from messagecenter.accounts.network import client_country, client_ip
from messagecenter.accounts.time_zones import known as known_time_zones
from messagecenter.errors import Conflict, InvalidInput, NotFound, TooManyRequests
from messagecenter.rows import parse_id, unique_row
from messagecenter.visible import has_visible_text

# Recognisable in logs, config files and secret scanners; never accepted without it.
# Longer is no password anyone types; refusing it unhashed keeps a megabyte "password"
# from costing anything. Every place a password is typed refuses it with the same words.
PASSWORD_MAX_CHARS = 1024
PASSWORD_TOO_LONG = (
    f"A password is at most {PASSWORD_MAX_CHARS} characters: check it and try again."
)

API_TOKEN_PREFIX = "mc_"
# Characters of the secret kept in clear to tell tokens apart ("mc_Xk3f9aQ2…").
API_TOKEN_SHOWN_CHARS = len(API_TOKEN_PREFIX) + 8
API_TOKEN_NAME_MAX_CHARS = 100
# Active tokens per person: a device each, with room to spare; a runaway script stops here.
API_TOKENS_PER_USER = 50
# last_used_at is rewritten at most this often, so a busy device is not a write per request.
API_TOKEN_USE_RESOLUTION = timedelta(minutes=1)


def hash_api_token_secret(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_api_token(user: User, name: str) -> tuple[ApiToken, str]:
    """A new token for one of the person's devices. Returns it with its secret, which is
    stored nowhere: the caller shows it once."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("Name the device this token is for.", code="token_name_required")
    if not has_visible_text(name):
        # Listed in "Your devices" as a blank: nobody could tell which token to revoke.
        raise InvalidInput(
            "Name the device this token is for with at least one visible character: "
            "zero-width spaces and direction marks alone show nothing.",
            code="token_name_required",
        )
    if len(name) > API_TOKEN_NAME_MAX_CHARS:
        raise InvalidInput(
            f"A token name is at most {API_TOKEN_NAME_MAX_CHARS} characters.",
            code="token_name_too_long",
        )
    secret = API_TOKEN_PREFIX + secrets.token_urlsafe(32)
    with transaction.atomic():
        # The person's row is the lock that makes "at most N tokens" hold under races.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
        active = ApiToken.objects.filter(user=user, revoked_at__isnull=True).count()
        if active >= API_TOKENS_PER_USER:
            raise InvalidInput(
                f"At most {API_TOKENS_PER_USER} API tokens at once: revoke one first.",
                code="too_many_tokens",
            )
        token = ApiToken.objects.create(
            user=user,
            name=name,
            prefix=secret[:API_TOKEN_SHOWN_CHARS],
            secret_hash=hash_api_token_secret(secret),
            created_at=timezone.now(),
        )
    return token, secret


def revoke_api_token(user: User, token_id: Any) -> ApiToken:
    """Revoke one of the person's own tokens. Someone else's token, a missing one and an
    already revoked one raise the same NotFound."""
    token_id = parse_id(token_id, code="token_not_found", message="No such API token.")
    now = timezone.now()
    with transaction.atomic():
        token = (
            ApiToken.objects.select_for_update()
            .filter(pk=token_id, user=user, revoked_at__isnull=True)
            .first()
        )
        if token is None:
            raise NotFound("No such API token.", code="token_not_found")
        token.revoked_at = now
        token.save(update_fields=["revoked_at"])
    return token


def set_time_zone(user: User, time_zone: str) -> None:
    """The zone the person's pages, API answers and e-mails show dates in."""
    if time_zone not in known_time_zones():
        raise InvalidInput(
            "Choose a time zone from the list, such as Europe/Paris or America/New_York.",
            code="invalid_time_zone",
        )
    user.time_zone = time_zone
    user.save(update_fields=["time_zone"])


@dataclass(frozen=True)
class Whereabouts:
    """Where a request came from, as "Your devices" shows it."""

    address: str | None
    country: str
    user_agent: str

    @classmethod
    def of(cls, request: HttpRequest | None) -> "Whereabouts":
        if request is None:
            return cls(None, "", "")
        address = client_ip(request)
        return cls(
            None if address == "unknown" else address,
            client_country(request),
            str(request.headers.get("User-Agent", ""))[:300],
        )


def api_token_use_due(token: ApiToken, *, now: datetime | None = None) -> bool:
    """Whether record_api_token_use would write: never noted, or not for
    API_TOKEN_USE_RESOLUTION."""
    last_used_at = token.last_used_at
    if last_used_at is None:
        return True
    return (now or timezone.now()) - last_used_at >= API_TOKEN_USE_RESOLUTION


def record_api_token_use(
    token: ApiToken, request: HttpRequest | None = None, *, now: datetime | None = None
) -> None:
    """Note that a device used its token (when, from where, with what), at most once per
    API_TOKEN_USE_RESOLUTION."""
    now = now or timezone.now()
    if not api_token_use_due(token, now=now):
        return
    last_used_at = token.last_used_at
    where = Whereabouts.of(request)
    changes: dict[str, Any] = {
        "last_used_at": now,
        "last_used_address": where.address,
        "last_used_country": where.country,
        "user_agent": where.user_agent,
    }
    if last_used_at is None:
        changes |= {"first_used_address": where.address, "first_used_country": where.country}
    # Conditional, so concurrent requests of one device write once between them.
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_TOKEN_USE_RESOLUTION),
        pk=token.pk,
    ).update(**changes)
    for name, value in changes.items():
        setattr(token, name, value)


# --- signed-in browsers ("Your devices") ------------------------------------------------

# A browser's last use is rewritten at most this often: not a write per page.
BROWSER_USE_RESOLUTION = timedelta(minutes=5)
# Kept in the session itself, so knowing whether to write costs no query.
BROWSER_SEEN_KEY = "_browser_seen_at"


def _session_store() -> type[SessionBase]:
    store: type[SessionBase] = import_module(settings.SESSION_ENGINE).SessionStore
    return store


def record_sign_in(request: HttpRequest, user: User) -> None:
    """A browser signed in (django.contrib.auth's user_logged_in, whichever page did it):
    it becomes one of the person's devices, under the session key it now has."""
    session_key = request.session.session_key
    if session_key is None:
        return
    now = timezone.now()
    where = Whereabouts.of(request)
    _save_browser(session_key, user, where, now)
    request.session[BROWSER_SEEN_KEY] = now.isoformat()


def record_browser_use(request: HttpRequest, user: User) -> None:
    """A signed-in request: refresh its browser's last use when it is older than
    BROWSER_USE_RESOLUTION (read from the session, so most requests write nothing)."""
    session_key = request.session.session_key
    if session_key is None:
        return
    now = timezone.now()
    seen = request.session.get(BROWSER_SEEN_KEY)
    if isinstance(seen, str) and now - datetime.fromisoformat(seen) < BROWSER_USE_RESOLUTION:
        return
    where = Whereabouts.of(request)
    updated = BrowserSession.objects.filter(session_key=session_key, user=user).update(
        last_used_at=now, last_address=where.address, last_country=where.country
    )
    if not updated:
        if not _session_store()().exists(session_key):
            # Ended during this very request: not brought back, not saved again.
            return
        # Signed in before devices were recorded: listed from now on.
        _save_browser(session_key, user, where, now)
    request.session[BROWSER_SEEN_KEY] = now.isoformat()


def _save_browser(session_key: str, user: User, where: Whereabouts, now: datetime) -> None:
    """The browser's row as at a sign-in: first and last use both now."""
    BrowserSession.objects.update_or_create(
        session_key=session_key,
        defaults={
            "user": user,
            "user_agent": where.user_agent,
            "signed_in_at": now,
            "first_address": where.address,
            "first_country": where.country,
            "last_used_at": now,
            "last_address": where.address,
            "last_country": where.country,
        },
    )


def forget_browser_session(session_key: str | None) -> None:
    """Signed out (user_logged_out): the browser is no longer a device of anyone's."""
    if session_key:
        BrowserSession.objects.filter(session_key=session_key).delete()


def _end_sessions(keys: list[str]) -> None:
    store = _session_store()
    for key in keys:
        store(key).delete()
    BrowserSession.objects.filter(session_key__in=keys).delete()


def end_browser_session(user: User, browser_session_id: Any) -> None:
    """Sign one of the person's browsers out. Someone else's and a missing one raise the
    same NotFound."""
    browser_session_id = parse_id(
        browser_session_id, code="session_not_found", message="No such signed-in browser."
    )
    with transaction.atomic():
        key = (
            BrowserSession.objects.filter(pk=browser_session_id, user=user)
            .values_list("session_key", flat=True)
            .first()
        )
        if key is None:
            raise NotFound("No such signed-in browser.", code="session_not_found")
        _end_sessions([key])


@dataclass(frozen=True)
class SignedOut:
    browsers: int
    tokens: int


def sign_out_everywhere(user: User, *, keep_session_key: str | None = None) -> SignedOut:
    """End every signed-in browser and revoke every API token of the person; open event
    streams end at their next check (REALTIME_AUTH_CHECK_SECONDS).

    Sessions are signed with the person's session generation, which moves on here, so a
    browser that is not listed (however it signed in) stops working too. `keep_session_key`
    (a password change in this browser) is spared: its caller re-signs it."""
    now = timezone.now()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(session_generation=F("session_generation") + 1)
        user.refresh_from_db(fields=["session_generation"])
        keys = [
            key
            for key in BrowserSession.objects.filter(user=user).values_list(
                "session_key", flat=True
            )
            if key != keep_session_key
        ]
        _end_sessions(keys)
        tokens = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=now)
    return SignedOut(browsers=len(keys), tokens=tokens)


def change_password(user: User, new_password: str, *, keep_session_key: str | None) -> SignedOut:
    """A new password (already validated by the form): every other browser is signed out
    and every API token revoked, so whoever knew the old password is out."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        return sign_out_everywhere(user, keep_session_key=keep_session_key)


def browser_session_key_changed(old_key: str | None, new_key: str | None) -> None:
    """The session kept through a password change was re-signed under a new key."""
    if old_key and new_key and old_key != new_key:
        BrowserSession.objects.filter(session_key=old_key).update(session_key=new_key)


# --- password reset by e-mail -------------------------------------------------------------

# One reset e-mail per person in this long, however often it is asked for: nobody's inbox
# is flooded through the form.
PASSWORD_RESET_EMAIL_INTERVAL = timedelta(minutes=5)
RESET_IDENTIFIER_MAX_CHARS = 254


def request_password_reset(identifier: str) -> None:
    """Someone asked for a reset link for the account with this username or e-mail
    address. The account's own address gets one, through the outbox, after commit; the
    asker learns nothing about whether such an account exists (the page says the same, and
    no e-mail is sent while they wait)."""
    identifier = (identifier or "").strip()
    if not identifier or len(identifier) > RESET_IDENTIFIER_MAX_CHARS:
        return
    people = User.objects.filter(is_active=True).exclude(email="")
    if "@" in identifier:
        people = people.filter(email__iexact=identifier)
    else:
        people = people.filter(username=identifier)
    with transaction.atomic():
        for person in people.select_for_update().order_by("pk"):
            account_emails.record(
                person, account_emails.PASSWORD_RESET, not_within=PASSWORD_RESET_EMAIL_INTERVAL
            )


def reset_password(user: User, new_password: str) -> SignedOut:
    """A new password from a reset link: every browser and token is signed out (whoever
    knew the old password is out), and the username's failed sign-ins are forgotten, so an
    account paused by the sign-in limits can sign in again at once."""
    with transaction.atomic():
        user.set_password(new_password)
        user.save(update_fields=["password"])
        signed_out = sign_out_everywhere(user)
    reset_sign_in_failures(username=user.get_username())
    return signed_out


# --- e-mail address -----------------------------------------------------------------------

# One e-mail to a new address per person in this long, whichever it says (a link, or that
# the address is taken): what reaches the asker's own mailbox tells nothing about others',
# and the form cannot be used to flood anyone's mailbox. A second ask within it is refused
# (429), so the asker is never told of a link that was not sent.
EMAIL_CHANGE_EMAIL_INTERVAL = timedelta(minutes=1)
EMAIL_ADDRESS_MAX_CHARS = 254


def request_email_change(user: User, new_address: str, password: str) -> str:
    """A new address for the account, asked for with the current password (a sign-in on
    the spot). Nothing changes yet: the new address gets a link that confirms it
    (email_changes.py) — or, when another account uses it, an e-mail saying so and no
    link; the asker is told the same either way, so the form reveals no one's address.
    Returns the address, as it will be stored. Within a minute of the last such e-mail,
    refused (429 email_change_too_soon) and nothing sent: the one sent then stands."""
    if len(password or "") > PASSWORD_MAX_CHARS:
        raise InvalidInput(PASSWORD_TOO_LONG, code="password_too_long")
    if not user.check_password(password or ""):
        raise InvalidInput(
            "That is not your current password: check it and try again.", code="wrong_password"
        )
    address = _clean_address(new_address)
    if address.lower() == user.email.strip().lower():
        raise InvalidInput(
            "That is already your e-mail address: enter the new one.", code="same_email"
        )
    with transaction.atomic():
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True))
        purpose = (
            account_emails.EMAIL_IN_USE
            if _address_taken(address, user)
            else account_emails.EMAIL_CHANGE
        )
        held_back_by = account_emails.record(
            user, purpose, not_within=EMAIL_CHANGE_EMAIL_INTERVAL, to_address=address
        )
    if held_back_by is not None:
        raise _email_change_too_soon(held_back_by)
    return address


def _email_change_too_soon(last_sent_at: datetime) -> TooManyRequests:
    wait = math.ceil((last_sent_at + EMAIL_CHANGE_EMAIL_INTERVAL - timezone.now()).total_seconds())
    wait = max(1, wait)
    return TooManyRequests(
        f"You asked for a link less than a minute ago; wait {wait} second"
        f"{'' if wait == 1 else 's'}, then ask again. Nothing was sent this time: the e-mail "
        "we sent then is the one to look for.",
        retry_after=wait,
        code="email_change_too_soon",
    )


def confirm_email_change(token: str, *, expected_user: User | None = None) -> User:
    """The link from the e-mail: the address changes now, and the old address is told.
    Refused, changing nothing, when the link is altered, expired, used, or the account's
    address or password changed since (400 email_change_link_invalid), or another account
    took the address meanwhile (409 email_in_use: whoever holds the link reads that mailbox)."""
    change = email_changes.read_link_token(token or "")
    invalid = InvalidInput(
        "This link is not valid any more: it was used, it expired, or your address changed "
        "since. Ask for a new one under Your Account.",
        code="email_change_link_invalid",
    )
    if change is None or (expected_user is not None and expected_user.pk != change.user_id):
        raise invalid
    with transaction.atomic():
        user = _locked_with_address(change.user_id, change.old_address, invalid)
        if not email_changes.still_confirms(change, user):
            # The password changed since the link was made: a reset, or an undo by whoever
            # reads the old mailbox, which stops the password (undo_email_change).
            raise invalid
        taken = Conflict("This address already belongs to another account.", code="email_in_use")
        if _address_taken(change.new_address, user):
            raise taken
        user.email = change.new_address
        _save_address(user, ["email"], taken)
        if change.old_address:
            account_emails.record(
                user,
                account_emails.EMAIL_CHANGED,
                not_within=timedelta(0),
                to_address=change.old_address,
            )
    return user


def undo_email_change(token: str) -> User:
    """The link in the notice to the old address ("It was not me"): whoever reads the old
    mailbox takes the account back from whoever changed its address. The old address is
    put back, every browser is signed out and every API token revoked, the password
    stops working — whoever changed the address may know it — and the passkeys and
    authenticator app added since the change are removed (a passkey signs in without the
    password), so the way in is the reset link this sends to the old address. The new
    address is never shown: it may be the attacker's, or the owner's own that someone else
    is undoing.

    Refused, changing nothing, when the link is altered or expired, or the account's
    address is no longer the one it was changed to (put back already, or changed again
    since: 400 email_change_undo_link_invalid), or another account took the old address
    meanwhile (409 email_in_use). The person's row lock, as for the change itself, makes
    two undos at once, or an undo and another change, take turns: the second finds the
    address no longer the one it expects."""
    change = email_changes.read_undo_token(token or "")
    invalid = InvalidInput(
        "This link is not valid any more: it was used, it expired, or the account's e-mail "
        "address changed again since. Nothing was changed.",
        code="email_change_undo_link_invalid",
    )
    if change is None or not change.old_address or change.changed_at is None:
        raise invalid
    with transaction.atomic():
        user = _locked_with_address(change.user_id, change.new_address, invalid)
        taken = Conflict(
            f"{change.old_address} belongs to another account now, so it cannot be put "
            "back on this one. Nothing was changed.",
            code="email_in_use",
        )
        if _address_taken(change.old_address, user):
            raise taken
        user.email = change.old_address
        user.set_unusable_password()
        _save_address(user, ["email", "password"], taken)
        sign_out_everywhere(user)
        # Those from before the change are the owner's; what whoever changed the address
        # removed cannot be brought back (nothing keeps a removed passkey's key).
        two_factor.forget_added_since(user, change.changed_at)
        # Not held back by the reset form's limit: whoever changed the address may have
        # asked for a reset a moment ago, to their own address.
        account_emails.record(user, account_emails.PASSWORD_RESET, not_within=timedelta(0))
    return user


def _locked_with_address(user_id: int, address: str, invalid: InvalidInput) -> User:
    """The active person's row, locked until commit, while their address is still the one
    a link was made for; else `invalid` (used, or the address changed since)."""
    user = unique_row(User.objects.select_for_update().filter(pk=user_id, is_active=True))
    if user is None or user.email != address:
        raise invalid
    return user


def _clean_address(address: str) -> str:
    address = (address or "").strip()
    try:
        if len(address) > EMAIL_ADDRESS_MAX_CHARS:
            raise ValidationError("too long")
        validate_email(address)
    except ValidationError:
        raise InvalidInput(
            "Enter an e-mail address like name@example.com.", code="invalid_email"
        ) from None
    # The part after @ is a domain name: any case reaches the same mailbox.
    local, _, domain = address.rpartition("@")
    return f"{local}@{domain.lower()}"


def _address_taken(address: str, user: User) -> bool:
    return holders_of_address(address, other_than=user).exists()


def holders_of_address(address: str, *, other_than: User) -> QuerySet[User]:
    """The account other than this one that has the address, in any case (the database's
    constraint, EMAIL_UNIQUE, compares the same way): one at most."""
    return User.objects.filter(email__iexact=address).exclude(pk=other_than.pk)


def _save_address(user: User, fields: list[str], taken: Conflict) -> None:
    """Save the person's new address, or raise `taken` when another account took it since
    _address_taken looked — at the same moment, in another transaction that committed
    first: the database's constraint refuses the second. In a savepoint, so the refusal
    leaves the enclosing transaction usable (and the caller's raise rolls it back)."""
    try:
        with transaction.atomic():
            user.save(update_fields=fields)
    except IntegrityError as error:
        if EMAIL_UNIQUE not in str(error):
            raise
        raise taken from None
