"""Business-day arithmetic across weekends, holidays, closures, summer time and time zones
(docs/escalation.md)."""

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.test import override_settings
from hypothesis import given, settings
from hypothesis import strategies as st

from messagecenter.business_days import calendar
from messagecenter.business_days.calendar import BusinessCalendar, business_days_after
from messagecenter.business_days.models import Closure

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
TOKYO = ZoneInfo("Asia/Tokyo")
US = BusinessCalendar("US", frozenset({5, 6}), frozenset())
DE = BusinessCalendar("DE", frozenset({5, 6}), frozenset())


def at(zone: ZoneInfo, *parts: int) -> datetime:
    return datetime(*parts, tzinfo=zone)  # type: ignore[misc]


def test_a_monday_question_is_due_by_the_end_of_wednesday() -> None:
    due = business_days_after(at(NEW_YORK, 2026, 12, 7, 9, 30), 2, NEW_YORK, US)
    assert due == at(NEW_YORK, 2026, 12, 10, 0, 0)


def test_a_question_asked_at_the_weekend_is_due_by_the_end_of_tuesday() -> None:
    due = business_days_after(at(NEW_YORK, 2026, 12, 5, 14, 0), 2, NEW_YORK, US)
    assert due == at(NEW_YORK, 2026, 12, 9, 0, 0)


def test_a_friday_question_skips_the_weekend() -> None:
    due = business_days_after(at(NEW_YORK, 2026, 12, 4, 23, 59), 2, NEW_YORK, US)
    assert due == at(NEW_YORK, 2026, 12, 9, 0, 0)


def test_thanksgiving_is_not_a_business_day_in_the_united_states() -> None:
    # Wednesday Nov 25, 2026: Thursday is Thanksgiving; Friday and Monday count.
    due = business_days_after(at(NEW_YORK, 2026, 11, 25, 10, 0), 2, NEW_YORK, US)
    assert due == at(NEW_YORK, 2026, 12, 1, 0, 0)
    assert US.closed_reason(date(2026, 11, 26)) == "Thanksgiving Day"


def test_christmas_and_new_year_in_germany() -> None:
    # Wed Dec 23, 2026: Thu 24 counts, Fri 25 and Sat 26 are holidays/weekend, Mon 28 counts.
    due = business_days_after(at(BERLIN, 2026, 12, 23, 16, 0), 2, BERLIN, DE)
    assert due == at(BERLIN, 2026, 12, 29, 0, 0)
    assert DE.closed_reason(date(2026, 12, 25)) == "Erster Weihnachtstag"


def test_the_country_decides_the_holidays() -> None:
    # Oct 3 (German Unity Day) is a Saturday in 2026; Oct 3, 2025 is a Friday.
    asked = at(UTC, 2025, 10, 2, 12, 0)
    assert business_days_after(asked, 1, BERLIN, DE) == at(BERLIN, 2025, 10, 7, 0, 0)
    assert business_days_after(asked, 1, NEW_YORK, US) == at(NEW_YORK, 2025, 10, 4, 0, 0)


def test_the_deadline_crosses_the_end_of_summer_time_in_local_days() -> None:
    # Europe leaves summer time on Sunday Oct 25, 2026: the deadline is midnight in
    # Berlin's winter time, 23:00 UTC, though the question was asked at 08:00 UTC.
    asked = at(BERLIN, 2026, 10, 23, 10, 0)
    due = business_days_after(asked, 2, BERLIN, DE)
    assert due == at(BERLIN, 2026, 10, 28, 0, 0)
    assert due.astimezone(UTC) == at(UTC, 2026, 10, 27, 23, 0)


def test_the_deadline_crosses_the_start_of_summer_time() -> None:
    # The United States start summer time on Sunday Mar 8, 2026.
    asked = at(NEW_YORK, 2026, 3, 6, 17, 0)
    due = business_days_after(asked, 1, NEW_YORK, US)
    assert due.astimezone(UTC) == at(UTC, 2026, 3, 10, 4, 0)


def test_the_seller_s_time_zone_decides_which_day_a_question_was_asked() -> None:
    # 03:00 UTC on Saturday is still Friday evening in New York, already Saturday in Tokyo.
    asked = at(UTC, 2026, 12, 5, 3, 0)
    assert business_days_after(asked, 1, NEW_YORK, US) == at(NEW_YORK, 2026, 12, 8, 0, 0)
    japan = BusinessCalendar("JP", frozenset({5, 6}), frozenset())
    assert business_days_after(asked, 1, TOKYO, japan) == at(TOKYO, 2026, 12, 8, 0, 0)


def test_a_closure_moves_the_deadline() -> None:
    closed = BusinessCalendar("US", frozenset({5, 6}), frozenset({date(2026, 12, 8)}))
    due = business_days_after(at(NEW_YORK, 2026, 12, 7, 9, 0), 1, NEW_YORK, closed)
    assert due == at(NEW_YORK, 2026, 12, 10, 0, 0)
    assert closed.closed_reason(date(2026, 12, 8)) == "closed"


def test_a_naive_moment_or_no_days_are_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        business_days_after(datetime(2026, 12, 7, 9, 0), 1, NEW_YORK, US)
    with pytest.raises(ValueError, match="at least one"):
        business_days_after(at(NEW_YORK, 2026, 12, 7, 9, 0), 0, NEW_YORK, US)


def test_a_calendar_with_no_business_day_fails_loudly() -> None:
    never = BusinessCalendar("US", frozenset(range(7)), frozenset())
    with pytest.raises(ValueError, match="no business day"):
        business_days_after(at(NEW_YORK, 2026, 12, 7, 9, 0), 1, NEW_YORK, never)


@override_settings(
    BUSINESS_CALENDAR_COUNTRY="DE",
    BUSINESS_CALENDAR_WEEKENDS={"IL": [4, 5]},
    BUSINESS_CALENDAR_CLOSURES={"US": [date(2026, 12, 24)]},
)
@pytest.mark.django_db
def test_calendars_come_from_the_settings_and_the_admin_s_closures() -> None:
    calendar.weekend_of.cache_clear()
    Closure.objects.create(country="US", date=date(2026, 12, 31), name="Inventory")
    calendar.forget_closures()

    us = calendar.calendar_for("us")
    assert us.closures == {date(2026, 12, 24), date(2026, 12, 31)}
    assert not us.is_business_day(date(2026, 12, 24))
    assert us.is_business_day(date(2026, 12, 23))
    assert calendar.calendar_for("IL").weekend == {4, 5}
    # Nobody's country: the operator's calendar.
    assert calendar.calendar_for("").country == "DE"
    assert calendar.calendar_for("??").country == "DE"
    calendar.weekend_of.cache_clear()


@override_settings(TIME_ZONE="UTC")
def test_a_zone_the_database_does_not_know_falls_back_to_the_site_s() -> None:
    assert calendar.time_zone_named("Asia/Tokyo") == TOKYO
    assert calendar.time_zone_named("Not/A_Zone") == ZoneInfo("UTC")
    assert calendar.time_zone_named("") == ZoneInfo("UTC")


# --- properties, over any moment, zone and country ------------------------------------------

ZONES = st.sampled_from(
    [
        "America/New_York",
        "America/Los_Angeles",
        "Europe/Berlin",
        "Europe/London",
        "Asia/Tokyo",
        "Australia/Sydney",
        "Pacific/Chatham",
        "America/Santiago",
        "Asia/Kolkata",
        "UTC",
    ]
).map(ZoneInfo)
CALENDARS = st.builds(
    BusinessCalendar,
    country=st.sampled_from(["US", "DE", "GB", "JP", "AU", "IL", "AE", "CL", "IN"]),
    weekend=st.sampled_from([frozenset({5, 6}), frozenset({4, 5}), frozenset({6})]),
    closures=st.frozensets(
        st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)), max_size=20
    ),
)
MOMENTS = st.datetimes(
    min_value=datetime(2025, 1, 1), max_value=datetime(2027, 12, 31), timezones=st.just(UTC)
)
DAYS = st.integers(min_value=1, max_value=10)


@settings(max_examples=300, deadline=None)
@given(moment=MOMENTS, zone=ZONES, cal=CALENDARS, days=DAYS)
def test_exactly_n_business_days_lie_between_the_question_and_the_deadline(
    moment: datetime, zone: ZoneInfo, cal: BusinessCalendar, days: int
) -> None:
    due = business_days_after(moment, days, zone, cal)
    assert due > moment
    last_day = (due.astimezone(zone) - timedelta(microseconds=1)).date()
    asked_day = moment.astimezone(zone).date()
    assert cal.is_business_day(last_day)
    between = [
        asked_day + timedelta(days=offset) for offset in range(1, (last_day - asked_day).days + 1)
    ]
    assert sum(cal.is_business_day(day) for day in between) == days
    # Every moment of the last business day is before the deadline.
    assert (due - timedelta(microseconds=1)).astimezone(zone).date() == last_day


@settings(max_examples=300, deadline=None)
@given(
    first=MOMENTS,
    later_by=st.timedeltas(min_value=timedelta(0), max_value=timedelta(days=20)),
    zone=ZONES,
    cal=CALENDARS,
    days=DAYS,
)
def test_a_later_question_never_has_an_earlier_deadline(
    first: datetime, later_by: timedelta, zone: ZoneInfo, cal: BusinessCalendar, days: int
) -> None:
    assert business_days_after(first, days, zone, cal) <= business_days_after(
        first + later_by, days, zone, cal
    )


@settings(max_examples=200, deadline=None)
@given(
    moment=MOMENTS,
    zone=ZONES,
    cal=CALENDARS,
    days=DAYS,
    closed=st.dates(min_value=date(2025, 1, 1), max_value=date(2028, 12, 31)),
)
def test_closing_a_day_never_brings_a_deadline_forward(
    moment: datetime, zone: ZoneInfo, cal: BusinessCalendar, days: int, closed: date
) -> None:
    more_closed = BusinessCalendar(cal.country, cal.weekend, cal.closures | {closed})
    assert business_days_after(moment, days, zone, cal) <= business_days_after(
        moment, days, zone, more_closed
    )


@settings(max_examples=200, deadline=None)
@given(moment=MOMENTS, zone=ZONES, cal=CALENDARS, days=DAYS)
def test_the_deadline_does_not_depend_on_the_zone_the_moment_is_written_in(
    moment: datetime, zone: ZoneInfo, cal: BusinessCalendar, days: int
) -> None:
    assert business_days_after(moment, days, zone, cal) == business_days_after(
        moment.astimezone(TOKYO), days, zone, cal
    )
