from typing import Any

from django.apps import AppConfig
from django.http import HttpRequest


class AccountsConfig(AppConfig):
    name = "messagecenter.accounts"
    label = "accounts"
    verbose_name = "Accounts"

    def ready(self) -> None:
        # Django's own sign-in and sign-out say when a browser becomes, or stops being, one
        # of a person's devices, whichever page (ours, the admin's) signed it in: the
        # device list is the accounts app's own bookkeeping, as last_login is Django's.
        from django.contrib.auth.signals import user_logged_in, user_logged_out

        user_logged_in.connect(_signed_in, dispatch_uid="accounts.record_sign_in")
        user_logged_out.connect(_signed_out, dispatch_uid="accounts.forget_browser_session")


def _signed_in(sender: Any, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    from messagecenter.accounts import recent_sign_in, two_factor
    from messagecenter.accounts.actions import record_sign_in

    if request is not None and hasattr(request, "session"):
        record_sign_in(request, user)
        recent_sign_in.mark(request)
        two_factor.on_sign_in(request, user)


def _signed_out(sender: Any, request: HttpRequest | None, **kwargs: Any) -> None:
    from messagecenter.accounts.actions import forget_browser_session

    if request is not None and hasattr(request, "session"):
        forget_browser_session(request.session.session_key)
