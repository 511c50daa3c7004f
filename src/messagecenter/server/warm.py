"""What a server process loads before it answers its first request (asgi.py).

Django imports the URLconf — every view and API module, and what they import — on the first
request, and some modules load their tables on first use. Measured in one process on the
small dataset (docs/benchmarks.md, "A server process warmed before its first request"): the
first send took ≈ 1.7 s of CPU, the next ones ≈ 7 ms — the URLconf ≈ 2 s (the PDF library
of transcripts alone ≈ 1 s), the holiday calendars ≈ 0.75 s (the `holidays` package imports
every country at the first calendar), the safety check's tables ≈ 0.1 s. All of it held the
interpreter lock, so every request of the process waited behind it: after each start or
restart of a process, under load. And what was made then stayed outside `gc.freeze()`
(≈ 80,000 objects), so each full collection walked it again (≈ 45 ms).

Nothing here reads or writes the database: a process starts when the database is down, and
the admin's safety vocabulary and closures are read on first use as before.
"""

from datetime import date

from django.conf import settings
from django.urls import reverse

from messagecenter.business_days import calendar
from messagecenter.safety import detector, vocabulary_cache

# Words that go through every part of the safety check once: a phone number, a link, an
# order number, the operator's name.
_SAMPLE = (
    "Hello, the parcel for order 111-9045512-2630098 has not arrived. Call me at "
    "+1 415 555 0100 or see https://example.com/tracking. Marketplace support team."
)


def warm_up() -> None:
    # The first reverse() imports the URLconf, so every view and API module with its
    # imports, and indexes every pattern by name (the first page's links need that too).
    reverse("healthz")
    # The operator's calendar this year and next: the first deadline of a send needs it,
    # and the first calendar imports every country's rules.
    country = settings.BUSINESS_CALENDAR_COUNTRY
    calendar.weekend_of(country)
    this_year = date.today().year
    for year in (this_year, this_year + 1):
        calendar.public_holidays(country, year)
    # The safety check's tables and patterns (the admin's own lists are read at the first
    # send, and only their patterns are made then).
    detector.check(_SAMPLE, detector.Sender("Warm up", "buyer"), vocabulary_cache.built_in())
