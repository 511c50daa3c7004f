"""The signed links of an e-mail address change (docs/accounts.md#e-mail-address), made when
their e-mail is sent and stored nowhere, each saying which account it is for and from which
address to which:

- the link to the new address that confirms it, expiring after EMAIL_CHANGE_LINK_HOURS; it
  stops working once the account's address is no longer the one it changes from (used, or
  changed since), or its password is no longer the one it had when the link was made — an
  undo stops the password, so the link cannot take the address again once it was put back;
- the link in the notice to the old address that puts it back ("It was not me"), expiring
  after EMAIL_CHANGE_UNDO_DAYS; it stops working once the account's address is no longer
  the one it was changed to (put back already, or changed again since). It carries the
  moment of the change too: the passkeys and authenticator apps added since go with the
  undo.

Each has a salt of its own, so neither works as the other."""

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from django.conf import settings
from django.core import signing
from django.utils.crypto import constant_time_compare, salted_hmac

from messagecenter.accounts.models import User

SALT = "messagecenter.accounts.email-change"
UNDO_SALT = "messagecenter.accounts.email-change-undo"


@dataclass(frozen=True)
class EmailChange:
    user_id: int
    old_address: str
    new_address: str
    # A keyed hash of the account's stored password hash when a confirmation link was made
    # ("" in an undo link): the address matching alone would let a confirmation link work
    # again once an undo put the old address back.
    password_mark: str = ""
    # When the address changed (in an undo link; None in a confirmation link): whoever
    # changed it may have added a passkey or an authenticator app since, and the undo
    # removes them.
    changed_at: datetime | None = None


def make_link_token(user: User, new_address: str) -> str:
    return _sign(EmailChange(user.pk, user.email, new_address, _password_mark(user)), SALT)


def read_link_token(token: str) -> EmailChange | None:
    """The change a token asks for, or None for one that is altered or expired."""
    return _read(token, SALT, timedelta(hours=settings.EMAIL_CHANGE_LINK_HOURS))


def still_confirms(change: EmailChange, user: User) -> bool:
    """Whether a confirmation link may still change the address of `user` (its account):
    the address is still the one it changes from and the password the one it had."""
    return (
        user.pk == change.user_id
        and user.email == change.old_address
        and bool(change.password_mark)
        and constant_time_compare(change.password_mark, _password_mark(user))
    )


def _password_mark(user: User) -> str:
    return salted_hmac(f"{SALT}.password", user.password, algorithm="sha256").hexdigest()[:20]


def make_undo_token(change: EmailChange) -> str:
    return _sign(change, UNDO_SALT)


def read_undo_token(token: str) -> EmailChange | None:
    """The change a token undoes, or None for one that is altered or expired."""
    change = _read(token, UNDO_SALT, timedelta(days=settings.EMAIL_CHANGE_UNDO_DAYS))
    if change is not None and change.changed_at is None:
        # A link made before links carried the moment of their change: the notice was
        # sent when the link was signed, moments after the change as a rule.
        change = replace(change, changed_at=_signed_at(token))
    return change


def _sign(change: EmailChange, salt: str) -> str:
    signed = {"user": change.user_id, "from": change.old_address, "to": change.new_address}
    if change.password_mark:
        signed["pw"] = change.password_mark
    if change.changed_at is not None:
        signed["at"] = change.changed_at.isoformat()
    return signing.dumps(signed, salt=salt, compress=True)


def _read(token: str, salt: str, max_age: timedelta) -> EmailChange | None:
    try:
        found = signing.loads(token, salt=salt, max_age=max_age)
    except signing.BadSignature:
        return None
    if not isinstance(found, dict):
        return None
    user_id, old_address, new_address = found.get("user"), found.get("from"), found.get("to")
    password_mark, changed_at = found.get("pw", ""), found.get("at")
    if not (
        isinstance(user_id, int)
        and isinstance(old_address, str)
        and isinstance(new_address, str)
        and isinstance(password_mark, str)
        and isinstance(changed_at, str | None)
    ):
        return None
    moment = None if changed_at is None else datetime.fromisoformat(changed_at)
    return EmailChange(user_id, old_address, new_address, password_mark, moment)


def _signed_at(token: str) -> datetime:
    """When a token (already verified) was signed."""
    # Django's signed form is "payload:timestamp:signature", the timestamp in base 62.
    timestamp = token.rsplit(":", 2)[-2]
    return datetime.fromtimestamp(signing.b62_decode(timestamp), tz=UTC)
