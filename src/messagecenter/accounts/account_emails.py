"""E-mails about a person's account — today the password reset link — are sent by the
e-mail app through this registry: accounts sits below delivery and never imports it
(delivery's AppConfig.ready registers its outbox here)."""

from collections.abc import Callable
from datetime import timedelta

from django.core.exceptions import ImproperlyConfigured

from messagecenter.accounts.models import User

PASSWORD_RESET = "password_reset"

# (person, what the e-mail is for, no second one within) → whether one was queued.
Recorder = Callable[[User, str, timedelta], bool]
_recorders: list[Recorder] = []


def register(recorder: Recorder) -> None:
    _recorders[:] = [recorder]


def record(user: User, purpose: str, *, not_within: timedelta) -> bool:
    if not _recorders:
        raise ImproperlyConfigured("No e-mail app registered to send account e-mails.")
    return _recorders[0](user, purpose, not_within)
