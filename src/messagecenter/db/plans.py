"""Planning a many-table statement on PostgreSQL in the time it takes to run.

The inbox list joins ten tables. PostgreSQL searches the orders it could join them in on
every call (a prepared statement is planned for each call's values until a plan without
them is estimated no dearer, which for a person with a quarter of a million conversations
never happens): 30 times as long as the run at 10M messages (docs/benchmarks.md, "The
inbox at 10M: why the plan is never reused"). A plan without the values is no answer
either: it is the plan for an average person, and where the average person has a handful
of conversations it reads all of a person's rows and sorts them — the biggest seller's
too. The order the statement writes is the right one (the person's rows first, then one
look-up per row in each other table), so the planner is told to keep it and only plans how.
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
    if connection.vendor != "postgresql":
        yield
        return
    with connection.cursor() as cursor, connection.connection.pipeline():
        cursor.execute(_AS_WRITTEN)
        failed = False
        try:
            yield
        except DatabaseError:
            # The transaction failed, and the settings with it.
            failed = True
            raise
        finally:
            if not failed:
                cursor.execute(_AS_BEFORE)
