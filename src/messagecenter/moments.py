"""The range of dates and times anyone may name: a mute's end, a search's days, an order
event's time, a broadcast's schedule (docs/api.md, "Limits").

Python cannot hold a time after 9999-12-31; PostgreSQL can. "Mute until
9999-12-31T23:59:59-14:00" was stored as a moment in the year 10000, after which every read
of that row failed — the conversation could no longer be opened, answered or unmuted by
anyone. Every moment from outside is therefore checked against this range first.
"""

from datetime import UTC, date, datetime

from messagecenter.errors import InvalidInput

EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
# Far beyond any real schedule, far below Python's and the databases' ends of time (and
# below the stored "muted until unmuted", 9999-12-31).
LATEST = datetime(2200, 1, 1, tzinfo=UTC)
RANGE = f"between {EARLIEST:%Y-%m-%d} and {LATEST:%Y-%m-%d} (UTC)"


def is_sane(moment: datetime | date) -> bool:
    if isinstance(moment, datetime):
        # An unaware time is read as UTC: only its distance from the range matters.
        aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
        return EARLIEST <= aware < LATEST
    return EARLIEST.date() <= moment < LATEST.date()


def check(moment: datetime | date, *, what: str, code: str, field: str | None = None) -> None:
    """InvalidInput (400 `code`, about `field`) unless `moment` is in the range."""
    if not is_sane(moment):
        raise InvalidInput(f"{what} must be {RANGE}.", code=code, field=field)
