"""Planner settings for the statements that need them, on PostgreSQL.

Planning a many-table statement in the time it takes to run (`joined_as_written`):

The inbox list joins ten tables. PostgreSQL searches the orders it could join them in on
every call (a prepared statement is planned for each call's values until a plan without
them is estimated no dearer, which for a person with a quarter of a million conversations
never happens): 30 times as long as the run at 10M messages (docs/benchmarks.md, "The
inbox at 10M: why the plan is never reused"). A plan without the values is no answer
either: it is the plan for an average person, and where the average person has a handful
of conversations it reads all of a person's rows and sorts them — the biggest seller's
too. The order the statement writes is the right one (the person's rows first, then one
look-up per row in each other table), so the planner is told to keep it and only plans how.

Pricing an index probe as what it costs here (`index_probes_priced_as_reads_from_memory`),
for searches, whose plan depends on it.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import DatabaseError, connection

# Local to the transaction (outside one, to the implicit transaction of the pipeline,
# which ends at its Sync). Custom plans only: never the average person's plan (above).
_AS_WRITTEN = (
    "SELECT set_config('join_collapse_limit', '1', true),"
    " set_config('plan_cache_mode', 'force_custom_plan', true)"
)
# NULL: back to the session's values, for what follows in the transaction.
_AS_BEFORE = (
    "SELECT set_config('join_collapse_limit', NULL, true),"
    " set_config('plan_cache_mode', NULL, true)"
)


@contextmanager
def joined_as_written() -> Iterator[None]:
    """Run the statements inside with their joins in the order they are written, planned
    for each call's values, on PostgreSQL.

    For statements that start from one person's rows in an index and look up the rest by
    primary key: their order cannot be bettered, and not searching for one takes their
    planning from tens of milliseconds to one or two. Searches need the planner's choice of
    order (docs/search.md): the settings are made for the statements inside alone and taken
    back after them, in the same pipeline — two round trips where the statement alone
    takes one, and three statements (query-count tests count them). On SQLite: nothing."""
    with _set_for_the_statements_inside(_AS_WRITTEN, _AS_BEFORE):
        yield


# Index probes priced as the reads from memory they are on the servers this runs on (SSDs,
# and the hot part of the indexes cached); NULL: back to the session's value.
_PROBES_CHEAP = "SELECT set_config('random_page_cost', '1.1', true)"
_PROBES_AS_BEFORE = "SELECT set_config('random_page_cost', NULL, true)"


@contextmanager
def index_probes_priced_as_reads_from_memory() -> Iterator[None]:
    """Plan the statements inside with an index probe priced near a sequential read
    (`random_page_cost` 1.1, PostgreSQL's default being 4, a spinning disk's), on
    PostgreSQL; as joined_as_written, for them alone and in the same pipeline.

    For searches (search/backends.planned_for_its_values): at 10M messages PostgreSQL
    estimated 6,668 documents for a rare word that 548 match and, at the default price of
    a probe, read all of the biggest seller's 1,029,160 mailbox rows to join them (130–150
    ms) instead of looking each match up in the mailbox's key (4–6 ms). Not for every
    statement: as the sessions' setting it took the same seller's inbox page from 1.9 to
    8.6 ms of PostgreSQL's CPU (docs/benchmarks.md, "Where the goals stand on
    2026-12-07"). On SQLite: nothing."""
    with _set_for_the_statements_inside(_PROBES_CHEAP, _PROBES_AS_BEFORE):
        yield


@contextmanager
def _set_for_the_statements_inside(settings: str, back: str) -> Iterator[None]:
    """`settings` (a SELECT of set_config(…, true) calls) before the statements inside and
    `back` after them, in one pipeline: local to its transaction (outside one, to the
    pipeline's implicit transaction, which ends at its Sync), so the pooled connection goes
    back as it was either way."""
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor, connection.connection.pipeline():
        cursor.execute(settings)
        failed = False
        try:
            yield
        except DatabaseError:
            # The transaction failed, and the settings with it.
            failed = True
            raise
        finally:
            if not failed:
                cursor.execute(back)
