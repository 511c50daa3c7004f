"""One date format per context, in the person's time zone (web/dates.py), and no template
that spells its own."""

import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import dateformat, timezone

from messagecenter.web import dates

SOURCE = Path(__file__).resolve().parents[2] / "src" / "messagecenter"
# Wednesday 4 March 2026, 15:00 in Tokyo.
NOW = datetime(2026, 3, 4, 6, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    ("moment", "shown"),
    [
        # Today there: the time (23:30 UTC on March 3 is 8:30 on March 4 in Tokyo).
        (datetime(2026, 3, 3, 23, 30, tzinfo=UTC), "8:30 AM"),
        # This week: the weekday.
        (datetime(2026, 3, 2, 3, 0, tzinfo=UTC), "Mon"),
        (datetime(2026, 2, 26, 3, 0, tzinfo=UTC), "Thu"),
        # Earlier this year: day and month.
        (datetime(2026, 2, 25, 3, 0, tzinfo=UTC), "25 Feb"),
        # Another year: the whole date.
        (datetime(2025, 11, 3, 3, 0, tzinfo=UTC), "3 Nov 2025"),
    ],
)
def test_a_list_row_shows_the_time_today_then_the_weekday_then_the_date(
    moment: datetime, shown: str
) -> None:
    with timezone.override(ZoneInfo("Asia/Tokyo")):
        assert dates.list_time(moment, now=NOW) == shown


def test_each_context_has_its_format_in_the_active_zone() -> None:
    moment = datetime(2025, 11, 3, 13, 5, tzinfo=UTC)

    with timezone.override(ZoneInfo("Europe/Paris")):
        assert dates.full_time(moment) == "Mon 3 Nov 2025, 2:05 PM"
        assert dates.email_time(moment) == "Mon 3 Nov 2025, 2:05 PM CET"
        assert dates.day(moment) == "3 Nov 2025"
        # Built into every template, without a {% load %}.
        rendered = Template("{{ m|full_time }} · {{ m|day }} · {{ m|email_time }}").render(
            Context({"m": moment})
        )
    assert rendered == "Mon 3 Nov 2025, 2:05 PM · 3 Nov 2025 · Mon 3 Nov 2025, 2:05 PM CET"
    with timezone.override(ZoneInfo("America/New_York")):
        assert dates.full_time(moment) == "Mon 3 Nov 2025, 8:05 AM"
    assert dates.list_time(None) == dates.full_time(None) == dates.day(None) == ""


@pytest.mark.parametrize("zone", ["Europe/Paris", "Asia/Tokyo", "America/Los_Angeles", "UTC"])
def test_the_written_out_formats_read_as_django_formats_them(zone: str) -> None:
    """list_time and full_time build their text directly (a page formats a date per row):
    every hour of the day and minute, every weekday and month, noon and midnight, years
    before 1000 — the same text as `dateformat.format` with the documented formats."""
    moments = [
        datetime(year, month, day, hour, minute, tzinfo=UTC)
        for year, month, day in ((2026, 3, 4), (2025, 11, 3), (999, 1, 31), (2024, 2, 29))
        for hour in range(24)
        for minute in (0, 5, 59)
    ]
    moments += [datetime(2026, month, 2 + month, 12, 0, tzinfo=UTC) for month in range(1, 13)]
    with timezone.override(ZoneInfo(zone)):
        for moment in moments:
            local = timezone.localtime(moment)
            assert dates.full_time(moment) == dateformat.format(local, dates.FULL)
            expected = {
                local.date(): dates.TIME,
                local.date() + timedelta(days=3): "D",
                local.date() + timedelta(days=40): dates.DAY_THIS_YEAR,
                local.date() + timedelta(days=400): dates.DAY,
            }
            for today, shown in expected.items():
                now = datetime.combine(today, local.timetz())
                if today.year != local.year and shown == dates.DAY_THIS_YEAR:
                    shown = dates.DAY
                assert dates.list_time(moment, now=now) == dateformat.format(local, shown)


def test_no_template_spells_its_own_date_format() -> None:
    """Every date a person reads goes through web/dates.py: `|date` only for the machine's
    ISO form (`<time datetime>`)."""
    own_formats = [
        f"{path.relative_to(SOURCE)}: {found}"
        for path in sorted(SOURCE.rglob("templates/**/*"))
        if path.suffix in {".html", ".txt"}
        for found in re.findall(r"\|date(?::['\"]([^'\"]*)['\"])?|{% now [^%]*%}", path.read_text())
        if found != "c"
    ]

    assert own_formats == []
