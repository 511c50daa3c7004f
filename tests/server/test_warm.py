"""A server process loads what requests need before its first one (server/warm.py): the
first send of a process imported the URLconf, every country's holiday rules and the safety
check's tables while holding the interpreter lock (≈ 1.7 s of CPU), and left them outside
the garbage collector's freeze."""

import json
import subprocess
import sys
from pathlib import Path

from tests.test_durability import Server

# Run in a new interpreter, as a server process starts: import the application, then do
# what the first send does apart from the database — find its view, work out a seller's
# deadline, check its words — and say what that imported or built.
FIRST_SEND = """
import gc, json, sys
from datetime import UTC, datetime
import messagecenter.asgi  # what `messagecenter serve` imports in each server process
from django.conf import settings
from django.urls import resolve
from messagecenter.business_days import calendar
from messagecenter.safety import detector, text, vocabulary_cache

loaded = set(sys.modules)
tables_made = text._confusables_table.cache_info().misses
unfrozen = len(gc.get_objects())

resolve("/api/v1/conversations/1/messages")
resolve("/message-center/")
country = settings.BUSINESS_CALENDAR_COUNTRY
business = calendar.BusinessCalendar(country, calendar.weekend_of(country), frozenset())
calendar.business_days_after(datetime.now(UTC), 2, UTC, business)
detector.check(
    "Where is order 111-9045512-2630098? Call +1 415 555 0100, https://example.com/x",
    detector.Sender("Ann", "buyer"),
    vocabulary_cache.built_in(),
)
print(json.dumps({
    "imported": sorted(set(sys.modules) - loaded),
    "tables_made": text._confusables_table.cache_info().misses - tables_made,
    "unfrozen_at_start": unfrozen,
    "frozen": gc.get_freeze_count(),
}))
"""


def test_a_server_process_has_loaded_what_its_first_send_needs(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", FIRST_SEND],
        env=Server(tmp_path).environment(),
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    found = json.loads(result.stdout.strip().splitlines()[-1])
    assert found["imported"] == []
    assert found["tables_made"] == 0
    # Loaded before the freeze: a full collection no longer walks the URLconf's views and
    # schemas, nor the holiday rules (≈ 80,000 objects made by the first request before).
    assert found["unfrozen_at_start"] < 1_000
    assert found["frozen"] > 150_000
