"""Business days per country, and "N business days after t" (docs/escalation.md).

A day is a business day in a country unless it is a weekend day there, one of its public
holidays (the `holidays` package, offline: national holidays), or one of the operator's
closures (settings.BUSINESS_CALENDAR_CLOSURES and the admin's Closure rows).

A deadline of N business days after a moment ends with the Nth business day after the
moment's own day, at midnight in the calendar's time zone: a question asked on Monday
(any hour) with 2 business days to answer is due by the end of Wednesday; one asked on
Saturday by the end of Tuesday. Whole days, rather than the same clock time N days later,
because a date is what people are told ("by the end of Wednesday"), and because it needs no
rule for a clock time that a change to or from summer time skips or repeats: the deadline
only ever moves later when the moment does.
"""

import threading
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, tzinfo
from functools import lru_cache
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import holidays
from django.conf import settings

from messagecenter.business_days.models import COUNTRY_CODE, Closure

# The longest run of closed days a calendar may have: a configuration closing every day
# fails loudly instead of looping.
MAX_CLOSED_RUN_DAYS = 366
# Closures edited in the admin reach other processes within this time.
CLOSURES_CACHE_SECONDS = 60.0


@dataclass(frozen=True)
class BusinessCalendar:
    country: str
    # Weekdays (Monday 0 … Sunday 6) nobody works.
    weekend: frozenset[int]
    closures: frozenset[date]

    def is_business_day(self, day: date) -> bool:
        return (
            day.weekday() not in self.weekend
            and day not in self.closures
            and day not in public_holidays(self.country, day.year)
        )

    def next_business_day(self, day: date) -> date:
        """The first business day after `day`."""
        for _ in range(MAX_CLOSED_RUN_DAYS):
            day += timedelta(days=1)
            if self.is_business_day(day):
                return day
        raise ValueError(f"The calendar of {self.country} has no business day in a year.")

    def closed_reason(self, day: date) -> str:
        """Why a day is not a business day ("" when it is one)."""
        if day in self.closures:
            return "closed"
        name = public_holidays(self.country, day.year).get(day)
        if name:
            return name
        if day.weekday() in self.weekend:
            return "weekend"
        return ""


def business_days_after(
    moment: datetime, days: int, zone: tzinfo, cal: BusinessCalendar
) -> datetime:
    """The end (midnight, in `zone`) of the `days`th business day after `moment`'s day in
    `zone`. An aware datetime; `days` is at least 1."""
    if days < 1:
        raise ValueError("A deadline is at least one business day away.")
    if moment.tzinfo is None:
        raise ValueError("The moment must be an aware datetime.")
    day = moment.astimezone(zone).date()
    for _ in range(days):
        day = cal.next_business_day(day)
    end = day + timedelta(days=1)
    # Midnight that a change of clocks skips becomes the first instant after it (zoneinfo's
    # fold=0); either way the instant is after every moment of `day`.
    return datetime(end.year, end.month, end.day, tzinfo=zone)


def calendar_for(country: str | None) -> BusinessCalendar:
    """The calendar of a country (ISO 3166-1 alpha-2); the operator's own
    (settings.BUSINESS_CALENDAR_COUNTRY) for none or an unknown code."""
    code = (country or "").upper()
    if not COUNTRY_CODE.fullmatch(code):
        code = settings.BUSINESS_CALENDAR_COUNTRY
    return BusinessCalendar(
        country=code,
        weekend=weekend_of(code),
        closures=frozenset(settings.BUSINESS_CALENDAR_CLOSURES.get(code, ())) | _closures(code),
    )


def time_zone_named(name: str) -> ZoneInfo:
    """A person's time zone (User.time_zone), or the site's for a name the zone database
    does not know (one stored before an upgrade removed it)."""
    if name:
        try:
            return ZoneInfo(name)
        except (ZoneInfoNotFoundError, ValueError):
            pass
    return ZoneInfo(settings.TIME_ZONE)


def is_country_code(value: str) -> bool:
    return bool(COUNTRY_CODE.fullmatch(value))


@lru_cache(maxsize=64)
def weekend_of(country: str) -> frozenset[int]:
    configured = settings.BUSINESS_CALENDAR_WEEKENDS.get(country)
    if configured is not None:
        return frozenset(configured)
    try:
        return frozenset(holidays.country_holidays(country).weekend)
    except NotImplementedError:
        # A country the package does not know: Saturday and Sunday, no public holidays.
        return frozenset({5, 6})


@lru_cache(maxsize=1024)
def public_holidays(country: str, year: int) -> dict[date, str]:
    """The country's national public holidays of one year, by date (computed once per
    process and year: the package builds them from rules, offline)."""
    try:
        found = holidays.country_holidays(country, years=year)
    except NotImplementedError:
        return {}
    return {day: str(name) for day, name in found.items()}


# --- the operator's closures from the database, cached per process ---------------------------

_closures_lock = threading.Lock()
_closures_loaded_at: float | None = None
_closures_by_country: dict[str, frozenset[date]] = {}


def _closures(country: str) -> frozenset[date]:
    global _closures_loaded_at, _closures_by_country
    with _closures_lock:
        now = time.monotonic()
        if _closures_loaded_at is None or now - _closures_loaded_at > CLOSURES_CACHE_SECONDS:
            by_country: dict[str, set[date]] = {}
            for code, day in Closure.objects.values_list("country", "date"):
                by_country.setdefault(code, set()).add(day)
            _closures_by_country = {code: frozenset(days) for code, days in by_country.items()}
            _closures_loaded_at = now
        return _closures_by_country.get(country, frozenset())


def forget_closures() -> None:
    """Read the closures again on next use (after an admin edit; between tests)."""
    global _closures_loaded_at
    with _closures_lock:
        _closures_loaded_at = None
