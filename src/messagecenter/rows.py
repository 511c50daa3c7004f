"""Reading the one row a unique key selects, for the hottest queries."""

from django.db.models import Model, QuerySet

# Ids are 64-bit: a larger number given by a person is "not found", not a driver error.
MAX_ID = 2**63 - 1


def unique_row[M: Model](queryset: QuerySet[M]) -> M | None:
    """The row (at most one: the filter is on a unique key), or None.

    Not `QuerySet.first()`: it adds ORDER BY id, and placing that ordering makes Django hash
    every selected column while compiling — for a participant with its conversation and
    five related rows ≈ 0.45 of 1.6 ms, more than PostgreSQL takes to answer
    (docs/benchmarks.md, "Per-request cost")."""
    return next(iter(queryset[:1]), None)
