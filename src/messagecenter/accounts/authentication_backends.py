"""Signing in with a passkey alone, as one of Django's authentication backends
(settings.AUTHENTICATION_BACKENDS), so a passkey sign-in passes through django-axes' check
like a password does: from a paused address it is refused before anything is checked, and
a refused passkey counts as a failed sign-in of that address (docs/accounts.md#passkeys)."""

from collections.abc import Mapping
from typing import Any

from django.http import HttpRequest

from messagecenter.accounts import passkey_actions
from messagecenter.accounts.models import User
from messagecenter.errors import InvalidInput


class PasskeyBackend:
    def authenticate(
        self,
        request: HttpRequest | None,
        passkey_assertion: Mapping[str, Any] | None = None,
        **credentials: Any,
    ) -> User | None:
        if request is None or passkey_assertion is None:
            return None
        try:
            passkey = passkey_actions.verify_assertion(
                request, passkey_actions.SIGN_IN, passkey_assertion
            )
        except InvalidInput:
            return None
        user: User = passkey.user
        return user

    def get_user(self, user_id: int) -> User | None:
        return User.objects.filter(pk=user_id, is_active=True).first()
