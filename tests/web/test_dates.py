"""One date format per context, in the person's time zone (web/dates.py), and no template
that spells its own."""

import re
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from django.template import Context, Template
from django.utils import timezone

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
