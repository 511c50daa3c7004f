"""When a seller must answer a buyer: the deadline of a wait, on the seller's business-day
calendar (docs/escalation.md). Read by the send path (a buyer's first unanswered message
starts the wait and its deadline, in the same statement), the pages and the API."""

from datetime import datetime, time, timedelta, tzinfo

from django.conf import settings
from django.utils import formats, timezone

from messagecenter.accounts.models import User
from messagecenter.business_days import calendar


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
    "the end of Tue, Dec 8 (EST)" when it falls at midnight there, as calendar deadlines
    do; else its date and time ("Wed, Dec 9, 6:00 AM CET")."""
    local = timezone.localtime(due_at, zone)
    if local.time() == time(0):
        ended = local - timedelta(days=1)
        return f"the end of {formats.date_format(ended, 'D, M j')} ({local:%Z})"
    return formats.date_format(local, "D, M j, g:i A T")
