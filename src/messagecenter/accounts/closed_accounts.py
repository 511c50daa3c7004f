"""Why an account can no longer read or answer messages. Both ways leave it inactive, but
they are stored apart and mean different things to whoever writes to it:

- suspended by customer service after a confirmed report (`is_active` false and nothing
  more, docs/accounts.md#a-suspended-account): the suspension may be lifted on appeal, so
  messages cannot be delivered *for now*;
- erased at the person's request (an `Erasure` row, docs/privacy.md#erasure): the account
  is closed for good.

Erasure is the privacy app's, above accounts: it registers here, in its AppConfig.ready,
how to tell whether a person was erased, so accounts never imports it."""

from collections.abc import Callable
from enum import StrEnum

from messagecenter.accounts.models import User


class Closure(StrEnum):
    ERASED = "erased"
    SUSPENDED = "suspended"


# A person's id → whether they were erased. Asked only of an inactive account.
ErasedLookup = Callable[[int], bool]
_erased_lookups: list[ErasedLookup] = []


def register(lookup: ErasedLookup) -> None:
    _erased_lookups[:] = [lookup]


def closure_of(person: User) -> Closure | None:
    """None for an active account (no query); else erased or suspended (one query, when
    the privacy app is installed). An account made inactive by other means than erasure —
    an operator unticking "active" in the admin — reads as suspended: it can be made active
    again."""
    if person.is_active:
        return None
    if any(lookup(person.pk) for lookup in _erased_lookups):
        return Closure.ERASED
    return Closure.SUSPENDED
