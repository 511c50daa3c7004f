"""When a seller must answer a buyer: the deadline of a wait, on the seller's business-day
calendar (docs/escalation.md). Read by the send path (a buyer's first unanswered message
starts the wait and its deadline, in the same statement), the pages and the API."""

from datetime import datetime, time, timedelta, tzinfo

from django.conf import settings
from django.utils import dateformat, timezone

from messagecenter.accounts.models import User
from messagecenter.business_days import calendar
from messagecenter.web import dates


def seller_response_due(seller_id: int, asked_at: datetime) -> datetime:
    """SELLER_RESPONSE_BUSINESS_DAYS business days after `asked_at`, on the calendar of
    the seller's country and in the seller's time zone (one query: the seller's row)."""
    found = list(User.objects.filter(pk=seller_id).values_list("country", "time_zone")[:1])
    country, time_zone = found[0] if found else ("", "")
    business = calendar.calendar_for(country)
    zone = calendar.time_zone_named(time_zone)
    return calendar.business_days_after(
        asked_at, settings.SELLER_RESPONSE_BUSINESS_DAYS, zone, business
    )


def describe_due(due_at: datetime, zone: tzinfo | None = None) -> str:
    """A deadline as a person reads it, in their time zone (the current one by default):
    "the end of Tue 8 Dec 2026 (EST)" when it falls at midnight there, as calendar
    deadlines do; else its date and time as an e-mail writes one ("Wed 9 Dec 2026, 6:00 AM
    CET"). The day and month in the order of every other date (web/dates.py): it read
    "Tue, Dec 8" beside a message's "Wed 9 Dec 2026"."""
    local = timezone.localtime(due_at, zone)
    if local.time() == time(0):
        ended = local - timedelta(days=1)
        return f"the end of {dateformat.format(ended, dates.WEEKDAY_DAY)} ({local:%Z})"
    return dateformat.format(local, f"{dates.FULL} T")
