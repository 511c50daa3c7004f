"""Page cursors of the Message Center's lists: `time~id` names the last row shown."""

from datetime import UTC, datetime

from messagecenter.errors import InvalidInput
from messagecenter.rows import MAX_ID


def encode_cursor(time: datetime, identifier: int, *, marker: str = "") -> str:
    return f"{cursor_time(time)}~{marker}{identifier}"


def cursor_time(time: datetime) -> str:
    """In UTC with a Z, so a cursor needs no escaping in a query string: "+00:00" became a
    space for a client that did not encode it (invalid_cursor). Both forms are read."""
    return time.astimezone(UTC).isoformat().replace("+00:00", "Z")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    """A cursor a list gave out; anything else (a hand-made one too) is invalid_cursor,
    never a database error."""
    try:
        timestamp, _, identifier = cursor.rpartition("~")
        time, last_id = datetime.fromisoformat(timestamp), int(identifier)
        if time.tzinfo is None or not 0 < last_id <= MAX_ID:
            raise ValueError(cursor)
        return time.astimezone(UTC), last_id
    except (ValueError, OverflowError):
        raise InvalidInput("The page cursor is not valid.", code="invalid_cursor") from None
