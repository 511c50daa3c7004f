"""What an account made inactive, or active again, sets in motion beyond its `is_active`
flag: its waits in buyer–seller conversations set aside, or back with a new deadline, and
for a lifting its old browsers and tokens signed out (docs/accounts.md#a-suspended-account).
Those steps are the safety app's (`safety.actions.suspend`, `reinstate`), above accounts:
it registers them here in its AppConfig.ready, so that the admin's "active" box — accounts'
own page — takes the same steps as customer service's decisions without accounts
importing safety. Ticked without them, a buyer's questions set aside stayed out of their
sellers' Response needed for good, and a seller's old deadline, often passed meanwhile,
came back and was escalated at once.

An app above may add what a suspension means for its own rows (`register_consequence`):
support hands the guarantee claims still waiting for a suspended seller's response to an
agent. `suspend` runs the account's steps, then those, so customer service's decision
and the admin's box take the same ones."""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

from messagecenter.accounts import closed_accounts
from messagecenter.accounts.models import User

Step = Callable[[User], None]
_steps: dict[str, Step] = {}
_consequences: list[Step] = []


def register(*, suspend: Step, reinstate: Step) -> None:
    _steps.update(suspend=suspend, reinstate=reinstate)


def register_consequence(on_suspend: Step) -> None:
    """A step of an app above, run after the account's own when it is suspended. A lifted
    suspension undoes none of them: what they handed on stays handed on."""
    if on_suspend not in _consequences:
        _consequences.append(on_suspend)


def suspend(person: User) -> None:
    """Suspend the person's account (`is_active` off, their waits set aside), then what
    the apps above do about it, in the caller's transaction."""
    if not _steps:
        raise ImproperlyConfigured("No app registered the steps of a suspension.")
    _steps["suspend"](person)
    for step in _consequences:
        step(person)


def follow_active_change(person: User) -> None:
    """`person.is_active` was just changed by hand (the admin): suspend, or lift the
    suspension. An erased account is closed for good (closed_accounts; the admin refuses
    to make one active): its waits stay set aside, as erasure left them."""
    if not _steps:
        raise ImproperlyConfigured("No app registered the steps of a suspension.")
    if not person.is_active:
        suspend(person)
    elif not closed_accounts.was_erased(person):
        _steps["reinstate"](person)
