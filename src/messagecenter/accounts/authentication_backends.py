"""Django's authentication backends of our own (settings.AUTHENTICATION_BACKENDS), each
after django-axes' check, so a paused username or address is refused before either runs:
the password check, which tells the sign-in page when the right password was given for a
suspended account (docs/accounts.md#a-suspended-account), and signing in with a passkey
alone, where a refused passkey counts as a failed sign-in of that address
(docs/accounts.md#passkeys)."""

from collections.abc import Mapping
from typing import Any

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from messagecenter.accounts import passkey_actions
from messagecenter.accounts.models import User
from messagecenter.errors import InvalidInput

# Set on the request when the password was right but the account is suspended (inactive).
SUSPENDED = "messagecenter_sign_in_suspended"


class PasswordBackend(ModelBackend):
    """Django's ModelBackend, with the same single hash for every attempt (a known or
    unknown username, a right or wrong password, an active or suspended account), so how
    long an answer takes tells nobody anything. Only the right password of a suspended
    account marks the request, for the sign-in page to say so: a wrong one reads as any
    wrong password does. The attempt still fails, and counts towards the limits.

    A failed check stops authenticate() (PermissionDenied) so that ModelBackend, listed
    after it only to keep the browsers signed in through it before, never hashes the
    same guess a second time."""

    def authenticate(
        self,
        request: HttpRequest | None,
        username: str | None = None,
        password: str | None = None,
        **kwargs: Any,
    ) -> User | None:
        if username is None:
            username = kwargs.get(User.USERNAME_FIELD)
        if username is None or password is None:
            return None
        try:
            user = User._default_manager.get_by_natural_key(username)
        except User.DoesNotExist:
            # As ModelBackend does: hash anyway, so an unknown username costs the same.
            User().set_password(password)
            raise PermissionDenied from None
        if not user.check_password(password):
            raise PermissionDenied
        if self.user_can_authenticate(user):
            return user
        if request is not None:
            setattr(request, SUSPENDED, True)
        raise PermissionDenied


def is_suspended_sign_in(request: HttpRequest | None) -> bool:
    return bool(getattr(request, SUSPENDED, False))


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
