"""Reads of accounts: a person's API tokens, and the token a device presents."""

import hmac

from django.db.models import QuerySet

from messagecenter.accounts.actions import API_TOKEN_PREFIX, hash_api_token_secret
from messagecenter.accounts.models import ApiToken, BrowserSession, User
from messagecenter.rows import CompiledQuery

# token_urlsafe(32) is 43 characters; anything much longer is not one of ours.
API_TOKEN_MAX_CHARS = 100


def active_api_tokens(user: User) -> QuerySet[ApiToken]:
    """The person's tokens that still work, newest first."""
    return ApiToken.objects.filter(user_id=user.pk, revoked_at__isnull=True).order_by(
        "-created_at", "-id"
    )


def api_token_for_secret(secret: str) -> ApiToken | None:
    """The active token with this secret, with its person (and storefront), or None.

    Found by the hash of the secret, which is what is indexed; the stored hash is then
    compared in constant time, so a near miss and a far miss take the same time.
    """
    if not secret.startswith(API_TOKEN_PREFIX) or len(secret) > API_TOKEN_MAX_CHARS:
        return None
    secret_hash = hash_api_token_secret(secret)
    found = _TOKEN_BY_HASH(secret_hash)
    token = found[0] if found else None
    if token is None or not hmac.compare_digest(token.secret_hash, secret_hash):
        return None
    if token.is_revoked or not token.user.is_active:
        return None
    return token


def browser_sessions(user: User) -> QuerySet[BrowserSession]:
    """The person's signed-in browsers, most recently used first."""
    return BrowserSession.objects.filter(user_id=user.pk).order_by("-last_used_at", "-id")


# Every API request starts here: compiled once (rows.CompiledQuery). Read on every request,
# so a revoked token or a deactivated person is refused from the next request on.
_TOKEN_BY_HASH = CompiledQuery(
    lambda secret_hash: ApiToken.objects.select_related("user", "user__storefront").filter(
        secret_hash=secret_hash
    )[:1]
)
