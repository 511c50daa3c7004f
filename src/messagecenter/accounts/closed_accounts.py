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


def _never_erased(person_id: int) -> bool:
    return False


_erased: ErasedLookup = _never_erased


def register(lookup: ErasedLookup) -> None:
    global _erased
    _erased = lookup


def closure_of(person: User) -> Closure | None:
    """None for an active account (no query); else erased or suspended (one query, when
    the privacy app is installed). An account made inactive by other means than erasure —
    an operator unticking "active" in the admin — reads as suspended: it can be made active
    again."""
    if person.is_active:
        return None
    if was_erased(person):
        return Closure.ERASED
    return Closure.SUSPENDED


def was_erased(person: User) -> bool:
    """Whether the person was erased, whatever their `is_active` says now (an operator may
    have ticked it again in the admin): one query when the privacy app is installed."""
    return _erased(person.pk)
