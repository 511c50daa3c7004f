"""E-mails about a person's account — the password reset link, the link that confirms a
new e-mail address, the notices about an address change — are sent by the e-mail app
through this registry: accounts sits below delivery and never imports it (delivery's
AppConfig.ready registers its outbox here)."""

from collections.abc import Callable
from datetime import datetime, timedelta

from django.core.exceptions import ImproperlyConfigured

from messagecenter.accounts.models import User

PASSWORD_RESET = "password_reset"
# To a new address: the link that confirms it.
EMAIL_CHANGE = "email_change"
# To a new address another account already uses: that it cannot be used, and no link.
EMAIL_IN_USE = "email_in_use"
# To the old address, once the change is confirmed.
EMAIL_CHANGED = "email_changed"

# (person, what the e-mail is for, no second one within, the address it goes to when not
# the account's own) → None when it was queued, else when the e-mail that holds it back
# (the last one within the limit) was queued: the asker may be told how long to wait.
Recorder = Callable[[User, str, timedelta, str | None], datetime | None]
_recorders: list[Recorder] = []


def register(recorder: Recorder) -> None:
    _recorders[:] = [recorder]


def record(
    user: User, purpose: str, *, not_within: timedelta, to_address: str | None = None
) -> datetime | None:
    if not _recorders:
        raise ImproperlyConfigured("No e-mail app registered to send account e-mails.")
    return _recorders[0](user, purpose, not_within, to_address)
