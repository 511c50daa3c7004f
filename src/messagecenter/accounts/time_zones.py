"""Each person's time zone (docs/accounts.md#time-zone): an IANA name on the account, the
zone every page, API answer and e-mail of theirs shows dates in."""

from datetime import datetime
from functools import cache
from importlib import resources
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

from django.conf import settings
from django.core.exceptions import ValidationError
from django.utils import timezone

from messagecenter.web import dates

if TYPE_CHECKING:
    from messagecenter.accounts.models import User

# The list people choose from: the tz database's zone.tab, one zone per region of a
# country with its own clocks, by its current name (Europe/Kyiv, Asia/Kolkata), as the
# tzdata package ships it. The database keeps old names as links for compatibility
# (Europe/Kiev, Asia/Calcutta, Europe/Belfast, "Etc/GMT+5", which is five hours *behind*
# GMT): valid, still accepted, but listed beside their new names they read as two places.
_LISTED_ZONES_FILE = ("tzdata.zoneinfo", "zone.tab")
# Names in the zone directory that are no place's time, never accepted: "localtime" is the
# server's own zone (a link to /etc/localtime, so a person's dates would move with the
# machine), "Factory" the zone of a machine nobody set up (it reads "-00"), "posixrules"
# the rules behind POSIX TZ strings; posix/ and right/ hold copies of every zone where a
# system keeps them (right/'s count leap seconds, half a minute off everyone's clock).
_NOT_A_PLACE = frozenset({"localtime", "Factory", "posixrules"})
_COPIES = ("posix/", "right/")


@cache
def known() -> frozenset[str]:
    """Every zone a person may choose: the names the tz database knows (read from disk
    once per process) but those that are no place's time."""
    return frozenset(
        name
        for name in available_timezones()
        if name not in _NOT_A_PLACE and not name.startswith(_COPIES)
    )


@cache
def choices() -> tuple[tuple[str, str], ...]:
    """The list people choose from: zone.tab's zones and UTC, by name — no alias."""
    names = sorted((_listed_zones() & known()) | {"UTC"})
    return tuple((name, name.replace("_", " ")) for name in names)


def _listed_zones() -> frozenset[str]:
    package, file_name = _LISTED_ZONES_FILE
    table = resources.files(package).joinpath(file_name).read_text(encoding="utf-8")
    # Lines: country code, coordinates, zone name[, comment]; "#" starts a comment line.
    return frozenset(
        line.split("\t")[2]
        for line in table.splitlines()
        if line and not line.startswith("#") and line.count("\t") >= 2
    )


def choices_for(current: str) -> tuple[tuple[str, str], ...]:
    """The list, with the person's own zone in it when the list hides it (one set through
    the API, "Etc/GMT+5"): otherwise no option was selected, the browser showed the first,
    and Save moved them to Africa/Abidjan without a word."""
    listed = choices()
    if current not in known() or any(name == current for name, _ in listed):
        return listed
    return ((current, current.replace("_", " ")), *listed)


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
    chosen (names are retired now and then) or is one no longer accepted ("localtime",
    chosen before known() left it out), so a page never fails over it."""
    return _zone(name_of(user))


def name_of(user: "User") -> str:
    """The name of the zone the person's dates are shown in (zone_of's)."""
    if user.time_zone in known():
        return user.time_zone
    return default_time_zone()


def for_readers(moment: datetime, *readers: "User") -> str:
    """A moment written into a message that several people read (and receive by e-mail,
    away from the site): in each reader's own zone, named, as an e-mail writes a moment
    (web/dates.py email_time), the first reader's first and each other written once:
    "Fri 4 Dec 2026, 2:05 PM EST (Sat 5 Dec 2026, 4:05 AM JST)". Never the zone of whoever
    or whatever (a sweep, in the site's zone) caused the message."""
    written: list[str] = []
    for reader in readers:
        with timezone.override(zone_of(reader)):
            text = dates.email_time(moment)
        if text not in written:
            written.append(text)
    return written[0] + "".join(f" ({other})" for other in written[1:])


def _zone(name: str) -> ZoneInfo:
    # ZoneInfo keeps its own cache of the zones it has read.
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo(default_time_zone())
