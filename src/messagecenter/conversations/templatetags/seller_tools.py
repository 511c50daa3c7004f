"""How a seller's figures read on the pages: how long a buyer has waited, an average
response time in words, and the share answered within 24 hours."""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django import template

from messagecenter.conversations.deadlines import describe_due
from messagecenter.conversations.hooks import SellerRate
from messagecenter.conversations.models import Participant
from messagecenter.conversations.queries import RESPONSE_TARGET, ResponseFigures

register = template.Library()


@dataclass(frozen=True)
class Wait:
    waited: timedelta

    @property
    def is_overdue(self) -> bool:
        return self.waited > RESPONSE_TARGET

    @property
    def label(self) -> str:
        return f"waiting {wait_words(self.waited)}"


@register.filter
def wait_at(participant: Participant, now: datetime) -> Wait | None:
    """How long the buyer has been waiting for this seller's answer, as of `now`."""
    if participant.awaiting_response_since is None:
        return None
    return Wait(max(now - participant.awaiting_response_since, timedelta(0)))


def wait_words(waited: timedelta) -> str:
    """One unit, rounded down, as a list shows it: "12 minutes", "5 hours", "3 days".
    Hours up to two days, so the 24-hour target reads as hours on either side of it."""
    minutes = int(waited.total_seconds()) // 60
    if minutes < 1:
        return "less than a minute"
    if minutes < 60:
        return _plural(minutes, "minute")
    hours = minutes // 60
    if hours < 48:
        return _plural(hours, "hour")
    return _plural(hours // 24, "day")


@register.filter
def duration_words(value: timedelta | None) -> str:
    """An average response time, to the minute in its two largest units: "45 minutes",
    "11 hours 20 minutes", "2 days 3 hours". "—" when there is none."""
    if value is None:
        return "—"
    minutes = int(value.total_seconds()) // 60
    if minutes < 1:
        return "less than a minute"
    days, hours, minutes = minutes // 1440, minutes // 60 % 24, minutes % 60
    if days:
        parts = [_plural(days, "day"), _plural(hours, "hour") if hours else ""]
    elif hours:
        parts = [_plural(hours, "hour"), _plural(minutes, "minute") if minutes else ""]
    else:
        parts = [_plural(minutes, "minute")]
    return " ".join(part for part in parts if part)


@register.filter
def share_within_target(figures: ResponseFigures) -> str:
    """ "83%", rounded down so that 100% means every one in time; "—" when nothing is
    counted in the period (no share of nothing)."""
    if not figures.counted:
        return "—"
    return f"{figures.answered_within_target * 100 // figures.counted}%"


@register.filter
def due_words(value: datetime | None) -> str:
    """A response deadline in the reader's time zone: "the end of Tue 8 Dec 2026 (EST)", or
    its date and time where the seller's midnight is another hour."""
    return describe_due(value) if value is not None else "—"


@register.filter
def late_rate(figures: ResponseFigures) -> str:
    """ "12%" of the waits whose deadline came, rounded up so that 0% means none late;
    "—" when no deadline came in the period."""
    if not figures.with_deadline:
        return "—"
    return f"{-(-figures.late * 100 // figures.with_deadline)}%"


@register.filter
def rate_percent(rate: SellerRate) -> str:
    """ "1.5%" (one decimal: claim rates are small); "—" without anything to count."""
    if not rate.total:
        return "—"
    return f"{rate.count * 100 / rate.total:.1f}%"


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"
