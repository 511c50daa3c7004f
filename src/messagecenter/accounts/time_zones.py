"""Each person's time zone (docs/accounts.md#time-zone): an IANA name on the account, the
zone every page, API answer and e-mail of theirs shows dates in."""

from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError

if TYPE_CHECKING:
    from messagecenter.accounts.models import User

# Old aliases and POSIX-style names the tz database keeps for compatibility: valid, but
# nobody should have to scroll past them ("Etc/GMT+5" is five hours *behind* GMT).
_HIDDEN_PREFIXES = ("Etc/", "SystemV/", "US/", "Canada/", "Brazil/", "Mexico/", "Chile/")


@cache
def known() -> frozenset[str]:
    """Every name the tz database knows (read from disk once per process)."""
    return frozenset(available_timezones())


@cache
def choices() -> tuple[tuple[str, str], ...]:
    """The list people choose from: "Region/City" names and UTC, by name."""
    names = sorted(
        name
        for name in known()
        if ("/" in name and not name.startswith(_HIDDEN_PREFIXES)) or name == "UTC"
    )
    return tuple((name, name.replace("_", " ")) for name in names)


def validate_time_zone(value: str) -> None:
    if value not in known():
        raise ValidationError(
            "Choose a time zone from the list, such as Europe/Paris or America/New_York.",
            code="invalid_time_zone",
        )


def default_time_zone() -> str:
    """A new account's zone: the DEFAULT_USER_TIME_ZONE setting."""
    return str(settings.DEFAULT_USER_TIME_ZONE)


def zone_of(user: "User") -> ZoneInfo:
    """The person's zone; the default one if theirs left the tz database since it was
    chosen (names are retired now and then), so a page never fails over it."""
    return _zone(user.time_zone or default_time_zone())


def _zone(name: str) -> ZoneInfo:
    # ZoneInfo keeps its own cache of the zones it has read.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default_time_zone())
