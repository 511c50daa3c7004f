"""Reads of accounts: a person's API tokens, and the token a device presents; their
browsers and passkeys; the address change a link would undo."""

import hmac
import threading
from dataclasses import dataclass
from typing import Any

from django.db.models import QuerySet

from messagecenter.accounts import email_changes
from messagecenter.accounts.actions import (
    API_TOKEN_PREFIX,
    api_token_use_due,
    hash_api_token_secret,
)
from messagecenter.accounts.email_changes import EmailChange
from messagecenter.accounts.models import ApiToken, BrowserSession, Passkey, User
from messagecenter.errors import NotFound
from messagecenter.rows import CompiledQuery, copy_of, parse_id

# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
API_TOKEN_MAX_CHARS = 100


def active_api_tokens(user: User) -> QuerySet[ApiToken]:
    """The person's tokens that still work, newest first."""
    return ApiToken.objects.filter(user_id=user.pk, revoked_at__isnull=True).order_by(
        "-created_at", "-id"
    )


def is_revoked_api_token(user: User, token_id: Any) -> bool:
    """Whether this is one of the person's own tokens, revoked already (from another tab,
    or by signing out everywhere). Someone else's token is never: that stays not found."""
    token_id = parse_id(token_id, code="token_not_found", message="No such API token.")
    return bool(
        ApiToken.objects.filter(pk=token_id, user_id=user.pk, revoked_at__isnull=False).exists()
    )


def api_token_for_secret(secret: str) -> ApiToken | None:
    """The active token with this secret, with its person (and storefront), or None.

    Found by the hash of the secret, which is what is indexed; the stored hash is then
    compared in constant time, so a near miss and a far miss take the same time.
    """
    if not secret.startswith(API_TOKEN_PREFIX) or len(secret) > API_TOKEN_MAX_CHARS:
        return None
    secret_hash = hash_api_token_secret(secret)
    found = _TOKEN_BY_HASH.with_rows(secret_hash)
    row, token = found[0] if found else ((), None)
    if token is None or not hmac.compare_digest(token.secret_hash, secret_hash):
        _IN_USE.forget(secret_hash)
        return None
    if token.is_revoked or not token.user.is_active:
        _IN_USE.forget(secret_hash)
        return None
    if api_token_use_due(token):
        # Its use is about to be noted (record_api_token_use), which changes its row: kept
        # from the next read, with the row as that wrote it.
        _IN_USE.forget(secret_hash)
    else:
        _IN_USE.keep(secret_hash, row, token)
    return token


class TokenChanged(Exception):
    """A token taken on trust from what this process last read of it (`trusted_token`)
    was found changed — revoked, its person deactivated, deleted or changed in any way —
    in the transaction that relied on it: nothing of that transaction was kept. Check the
    token afresh (api_token_for_secret) and start again."""


@dataclass(frozen=True, eq=False)
class TokenAsRead:
    """What a transaction that took a token on trust must find unchanged: the token's row
    (with its person's and storefront's) as this process last read it."""

    secret_hash: str
    row: tuple[Any, ...]


def trusted_token(secret: str) -> tuple[ApiToken, TokenAsRead] | None:
    """Without a statement: the token with this secret as this process last found it
    active (api_token_for_secret keeps the last tokens in use), a copy of its models, and
    what a transaction relying on it must find unchanged (`require_unchanged`); None when
    this process has not read it, or found it ended. Only for work done in one transaction
    that checks it — a send (conversations' sending), whose batch reads its sends' tokens
    in one statement where each request read its own before — so that a change since
    shows as TokenChanged, never as work done on a stale token."""
    if not secret.startswith(API_TOKEN_PREFIX) or len(secret) > API_TOKEN_MAX_CHARS:
        return None
    return _IN_USE.get(hash_api_token_secret(secret))


@dataclass(frozen=True)
class TokenRows:
    """Several tokens' rows read now (`token_rows`): for `require_unchanged`."""

    secret_hashes: frozenset[str]
    rows: list[tuple[Any, ...]]


def token_rows(secret_hashes: list[str]) -> TokenRows:
    """The tokens' rows now, in one statement, no model built."""
    hashes = sorted(set(secret_hashes))
    return TokenRows(frozenset(hashes), _TOKENS_BY_HASHES.rows(*hashes, shape=len(hashes)))


def require_unchanged(token: TokenAsRead, read: TokenRows | None = None) -> None:
    """TokenChanged unless the token's row now — among `read` (token_rows) when read
    there, read here otherwise — is the row as read (a row holds its secret's hash: no
    other token's row can be equal). Call it in the transaction that relies on the
    token."""
    if read is not None and token.secret_hash in read.secret_hashes:
        unchanged = token.row in read.rows
    else:
        unchanged = any(row == token.row for row, _ in _TOKEN_BY_HASH.with_rows(token.secret_hash))
    if not unchanged:
        _IN_USE.forget(token.secret_hash)
        raise TokenChanged


class _TokensInUse:
    """The last N tokens this process found active, by the hash of their secret: each with
    its row and a copy of its models, the oldest forgotten first. Copies go out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._tokens: dict[str, tuple[tuple[Any, ...], ApiToken]] = {}
        self._lock = threading.Lock()

    def get(self, secret_hash: str) -> tuple[ApiToken, TokenAsRead] | None:
        known = self._tokens.get(secret_hash)
        if known is None:
            return None
        row, token = known
        return copy_of(token), TokenAsRead(secret_hash, row)

    def keep(self, secret_hash: str, row: tuple[Any, ...], token: ApiToken) -> None:
        kept = copy_of(token)
        with self._lock:
            self._tokens.pop(secret_hash, None)
            if len(self._tokens) >= self.size:
                # Dicts keep insertion order: the first key is the oldest kept.
                self._tokens.pop(next(iter(self._tokens)), None)
            self._tokens[secret_hash] = (row, kept)

    def forget(self, secret_hash: str) -> None:
        with self._lock:
            self._tokens.pop(secret_hash, None)


_IN_USE = _TokensInUse(4096)


def browser_sessions(user: User) -> QuerySet[BrowserSession]:
    """The person's signed-in browsers, most recently used first."""
    return BrowserSession.objects.filter(user_id=user.pk).order_by("-last_used_at", "-id")


# Every API request starts here: compiled once (rows.CompiledQuery). The row is read on
# every request, so a revoked token, a deactivated or deleted person, a password changed
# (which revokes every token) is refused from the next request on, whichever process
# changed it. What is not repeated is the work after the read: a row unchanged in every
# column (token, person, storefront) gives copies of the models built from it before
# (`remember`: the tokens in use, per process), not a conversion of each value and three
# models built again (docs/benchmarks.md, "Verified tokens").
_TOKEN_BY_HASH = CompiledQuery(
    lambda secret_hash: ApiToken.objects.select_related("user", "user__storefront").filter(
        secret_hash=secret_hash
    )[:1],
    remember=4096,
)
# The same columns for several tokens at once (`token_rows`), compiled once per number.
_TOKENS_BY_HASHES = CompiledQuery(
    lambda *hashes, shape: ApiToken.objects.select_related("user", "user__storefront").filter(
        secret_hash__in=hashes
    ),
)


def passkeys(user: User) -> QuerySet[Passkey]:
    """The person's passkeys, oldest first (the order they were added in)."""
    return Passkey.objects.filter(user_id=user.pk).order_by("created_at", "id")


def access_passkey(user: User, passkey_id: Any, *, for_update: bool = False) -> Passkey:
    """One of the person's passkeys; someone else's and a missing one are the same 404."""
    passkey_id = parse_id(passkey_id, code="passkey_not_found", message="No such passkey.")
    rows = passkeys(user).filter(pk=passkey_id)
    found = (rows.select_for_update() if for_update else rows).first()
    if found is None:
        raise NotFound("No such passkey.", code="passkey_not_found")
    return found


def confirmable_email_change(change: EmailChange) -> bool:
    """Whether a confirmation link would change its account's address now (the page shows
    its button only then; the action checks again under the person's lock)."""
    user = User.objects.filter(pk=change.user_id, is_active=True).only("email", "password")
    found = user.first()
    return found is not None and email_changes.still_confirms(change, found)


def undoable_email_change(token: str) -> tuple[EmailChange, str] | None:
    """The change the link in the notice to the old address undoes, with the account's
    username — or None when it would be refused now (altered, expired, put back already,
    changed again since). The page shows it before anything is pressed; the action checks
    again under the person's lock."""
    change = email_changes.read_undo_token(token)
    if change is None or not change.old_address:
        return None
    username = (
        User.objects.filter(pk=change.user_id, is_active=True, email=change.new_address)
        .values_list("username", flat=True)
        .first()
    )
    if username is None:
        return None
    return change, username
