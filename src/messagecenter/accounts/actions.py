"""Every change to accounts: today the API tokens of people's devices (docs/api.md)."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from messagecenter.accounts.models import ApiToken, User
from messagecenter.errors import InvalidInput, NotFound

# Recognisable in logs, config files and secret scanners; never accepted without it.
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
    try:
        token_id = int(token_id)
    except (TypeError, ValueError):
        raise NotFound("No such API token.", code="token_not_found") from None
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


def record_api_token_use(token: ApiToken, *, now: datetime | None = None) -> None:
    """Note that a device used its token, at most once per API_TOKEN_USE_RESOLUTION."""
    now = now or timezone.now()
    last_used_at = token.last_used_at
    if last_used_at is not None and now - last_used_at < API_TOKEN_USE_RESOLUTION:
        return
    # Conditional, so concurrent requests of one device write once between them.
    ApiToken.objects.filter(
        Q(last_used_at__isnull=True) | Q(last_used_at__lt=now - API_TOKEN_USE_RESOLUTION),
        pk=token.pk,
    ).update(last_used_at=now)
    token.last_used_at = now
