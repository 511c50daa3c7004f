"""What an account made inactive, or active again, sets in motion beyond its `is_active`
flag: its waits in buyer–seller conversations set aside, or back with a new deadline, and
for a lifting its old browsers and tokens signed out (docs/accounts.md#a-suspended-account).
Those steps are the safety app's (`safety.actions.suspend`, `reinstate`), above accounts:
it registers them here in its AppConfig.ready, so that the admin's "active" box — accounts'
own page — takes the same steps as customer service's decisions without accounts
importing safety. Ticked without them, a buyer's questions set aside stayed out of their
sellers' Response needed for good, and a seller's old deadline, often passed meanwhile,
came back and was escalated at once."""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

from messagecenter.accounts import closed_accounts
from messagecenter.accounts.models import User

Step = Callable[[User], None]
_steps: dict[str, Step] = {}


def register(*, suspend: Step, reinstate: Step) -> None:
    _steps.update(suspend=suspend, reinstate=reinstate)


def follow_active_change(person: User) -> None:
    """`person.is_active` was just changed by hand (the admin): suspend, or lift the
    suspension. An erased account is closed for good (closed_accounts; the admin refuses
    to make one active): its waits stay set aside, as erasure left them."""
    if not _steps:
        raise ImproperlyConfigured("No app registered the steps of a suspension.")
    if not person.is_active:
        _steps["suspend"](person)
    elif not closed_accounts.was_erased(person):
        _steps["reinstate"](person)
