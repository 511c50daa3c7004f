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

from django.utils import dateformat, timezone

# Within this many days before today, a list shows the weekday ("Mon") instead of the date:
# further back, "Mon" would be ambiguous.
WEEKDAY_DAYS = 6

TIME = "g:i A"
FULL = "D j M Y, g:i A"
DAY_THIS_YEAR = "j M"
DAY = "j M Y"


def list_time(value: datetime | None, *, now: datetime | None = None) -> str:
    if value is None:
        return ""
    local = timezone.localtime(value)
    today = timezone.localtime(now).date() if now is not None else timezone.localdate()
    if local.date() == today:
        return dateformat.format(local, TIME)
    if today - timedelta(days=WEEKDAY_DAYS) <= local.date() < today:
        return dateformat.format(local, "D")
    if local.year == today.year:
        return dateformat.format(local, DAY_THIS_YEAR)
    return dateformat.format(local, DAY)


def full_time(value: datetime | None) -> str:
    if value is None:
        return ""
    return dateformat.format(timezone.localtime(value), FULL)


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
