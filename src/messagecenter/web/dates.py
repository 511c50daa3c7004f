"""Every date a person reads, in one format per context and in their own time zone (the
one active for the request or the e-mail: accounts/time_zones.py). Pages use these through
the template filters of the same names (web/templatetags/dates.py, built into every
template); a template never spells its own `|date:"…"` (tests/web/test_dates.py).

| context | filter | example |
|---|---|---|
| a list's row | `list_time` | `2:05 PM` today, `Mon` this week, `3 Nov` this year, `3 Nov 2025` |
| one item's page (a message, a notice, a case) | `full_time` | `Mon 3 Nov 2025, 2:05 PM` |
| an e-mail, and text written into a message | `email_time` | `Mon 3 Nov 2025, 2:05 PM CET` |
| a day without its time (an order placed, a parcel delivered) | `day` | `3 Nov 2025` |
| a machine's (`<time datetime>`) | `|date:"c"` | `2025-11-03T14:05:00+01:00` |
"""

from datetime import date, datetime, timedelta
from functools import cache

from django.utils import dateformat, timezone, translation
from django.utils.dates import MONTHS_3, WEEKDAYS_ABBR

# Within this many days before today, a list shows the weekday ("Mon") instead of the date:
# further back, "Mon" would be ambiguous.
WEEKDAY_DAYS = 6

TIME = "g:i A"
FULL = "D j M Y, g:i A"
DAY_THIS_YEAR = "j M"
DAY = "j M Y"
# A day with its weekday, without a time: a deadline at the end of that day.
WEEKDAY_DAY = "D j M Y"


def list_time(value: datetime | None, *, now: datetime | None = None) -> str:
    if value is None:
        return ""
    today = timezone.localtime(now).date() if now is not None else timezone.localdate()
    return local_list_time(timezone.localtime(value), today)


def full_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return local_full_time(timezone.localtime(value))


def local_list_time(local: datetime, today: date) -> str:
    """list_time of a time already in the reader's zone, `today` their date: a page of rows
    finds the zone and today once."""
    names = _names(translation.get_language())
    if local.date() == today:
        return _clock(local, names)
    if today - timedelta(days=WEEKDAY_DAYS) <= local.date() < today:
        return names.weekdays[local.weekday()]
    if local.year == today.year:
        return f"{local.day} {names.months[local.month]}"
    return f"{local.day} {names.months[local.month]} {local.year:04d}"


def local_full_time(local: datetime) -> str:
    """full_time of a time already in the reader's zone."""
    names = _names(translation.get_language())
    weekday, month = names.weekdays[local.weekday()], names.months[local.month]
    return f"{weekday} {local.day} {month} {local.year:04d}, {_clock(local, names)}"


# The formats above written out: what `dateformat.format` gives for them — its names of
# days and months and its AM and PM, in the language of the request — without parsing the
# format and translating each name again for every date: a page formats one or two dates
# per row (tests/web/test_dates.py compares the two).
class _Names:
    def __init__(self) -> None:
        self.weekdays = [str(WEEKDAYS_ABBR[day]) for day in range(7)]
        self.months = {month: str(name).title() for month, name in MONTHS_3.items()}
        self.am, self.pm = translation.gettext("AM"), translation.gettext("PM")


@cache
def _names(language: str | None) -> _Names:
    """The names in the active language (the argument keys the cache)."""
    return _Names()


def _clock(local: datetime, names: _Names) -> str:
    noon = names.am if local.hour < 12 else names.pm
    return f"{local.hour % 12 or 12}:{local.minute:02d} {noon}"


def email_time(value: datetime | None) -> str:
    """With the zone's abbreviation: an e-mail is read away from the site, maybe forwarded."""
    if value is None:
        return ""
    return dateformat.format(timezone.localtime(value), f"{FULL} T")


def day(value: datetime | date | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = timezone.localtime(value)
    return dateformat.format(value, DAY)
