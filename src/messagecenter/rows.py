"""Reading the one row a unique key selects, for the hottest queries."""

import threading
from collections.abc import Callable, Hashable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.models import Model, QuerySet, prefetch_related_objects
from django.db.models.query import get_related_populators

from messagecenter.errors import NotFound

# Ids are 64-bit: a larger number given by a person is "not found", not a driver error.
MAX_ID = 2**63 - 1


def parse_id(value: Any, *, code: str = "not_found", message: str = "Not found.") -> int:
    """An id a person gave (a path segment, a form field, a JSON value) as a positive 64-bit
    integer. Anything else raises the same NotFound as a missing object would: to them a
    malformed id and someone else's look alike. Every page, API route and action that takes
    an id from a person parses it here."""
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound(message, code=code) from None
    if not 0 < number <= MAX_ID:
        raise NotFound(message, code=code)
    return number


def unique_row[M: Model](queryset: QuerySet[M]) -> M | None:
    """The row (at most one: the filter is on a unique key), or None.

    Not `QuerySet.first()`: it adds ORDER BY id, and placing that ordering makes Django hash
    every selected column while compiling — for a participant with its conversation and
    five related rows ≈ 0.45 of 1.6 ms, more than PostgreSQL takes to answer
    (docs/benchmarks.md, "Per-request cost")."""
    return next(iter(queryset[:1]), None)


class CompiledQuery[M: Model]:
    """A queryset whose SQL is compiled once per process and shape, then run with each
    call's values: for the hottest reads, where Django's per-call compilation costs more
    than the database (docs/benchmarks.md, "The request path for reads").

    `build(*values)` returns the queryset for some values; it is called once with stand-in
    values to compile it, and the stand-ins are then found among the compiled parameters
    (each must appear unchanged: ids, exact strings, and moments compared with a
    DateTimeField — adapted for the database as Django adapts them, on each call — not
    LIKE patterns or values a lookup transforms).
    `shape` names whatever else changes the SQL (a LIMIT, a direction). Models, their
    select_related rows, converters and prefetches are what the queryset itself gives; the
    statement still goes through a cursor, so query-count tests see it.
    """

    def __init__(self, build: Callable[..., QuerySet[M]]) -> None:
        self.build = build
        self._plans: dict[tuple[str, Hashable], _Plan[M]] = {}
        self._lock = threading.Lock()

    def __call__(self, *values: int | str | datetime, shape: Hashable = None) -> list[M]:
        connection = connections[DEFAULT_DB_ALIAS]
        key = (connection.vendor, shape)
        plan = self._plans.get(key)
        if plan is None:
            with self._lock:
                plan = self._plans.get(key) or self._compile(values, shape)
                self._plans[key] = plan
        return plan.run(connection, values)

    def _compile(self, values: Sequence[int | str | datetime], shape: Hashable) -> "_Plan[M]":
        count = len(values)
        stand_ins = [_stand_in(position, value) for position, value in enumerate(values)]
        queryset = self.build(*stand_ins, **({} if shape is None else {"shape": shape}))
        compiler = queryset.query.get_compiler(using=DEFAULT_DB_ALIAS)
        sql, parameters = compiler.as_sql()
        # A moment reaches the parameters as the database takes it (SQLite: text in UTC).
        compiled = [_adapted(compiler.connection, stand_in) for stand_in in stand_ins]
        slots: list[int | None] = []
        for parameter in parameters:
            slots.append(compiled.index(parameter) if parameter in compiled else None)
        if {slot for slot in slots if slot is not None} != set(range(count)):
            raise ValueError(f"Every value must be among the parameters: {parameters}")
        return _Plan(queryset, compiler, sql, list(parameters), slots)


def _stand_in(position: int, value: int | str | datetime) -> int | str | datetime:
    # Of the value's type, far from any real id, text or moment, distinct for each value.
    if isinstance(value, str):
        return f"\x1fstand-in {position}\x1f"
    if isinstance(value, datetime):
        return datetime(1901, 2, 3, 4, 5, 6, tzinfo=UTC) + timedelta(microseconds=position + 1)
    return -(7_919_000_000_000_000 + position)


def _adapted(connection: Any, value: int | str | datetime) -> Any:
    if isinstance(value, datetime):
        return connection.ops.adapt_datetimefield_value(value)
    return value


class _Plan[M: Model]:
    def __init__(
        self,
        queryset: QuerySet[M],
        compiler: Any,
        sql: str,
        parameters: list[Any],
        slots: list[int | None],
    ) -> None:
        self.sql, self.parameters, self.slots = sql, parameters, slots
        self.prefetches = getattr(queryset, "_prefetch_related_lookups", ())
        select, klass_info = compiler.select, compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.fetch_mode: Any = getattr(queryset, "_fetch_mode")  # noqa: B009 (not in the stubs)
        self.related = get_related_populators(klass_info, select, DEFAULT_DB_ALIAS, self.fetch_mode)
        self.annotations = dict(compiler.annotation_col_map or {})
        self.converters = list(
            compiler.get_converters([column[0] for column in select[: compiler.col_count]]).items()
        )

    def run(self, connection: Any, values: Sequence[int | str | datetime]) -> list[M]:
        parameters = [
            value if slot is None else _adapted(connection, values[slot])
            for value, slot in zip(self.parameters, self.slots, strict=True)
        ]
        with connection.cursor() as cursor:
            cursor.execute(self.sql, parameters)
            rows = cursor.fetchall()
        objects = []
        for fetched in rows:
            row = list(fetched)
            for position, (converters, expression) in self.converters:
                value = row[position]
                for converter in converters:
                    value = converter(value, expression, connection)
                row[position] = value
            instance = self.model.from_db(
                DEFAULT_DB_ALIAS,
                self.init_list,
                row[self.start : self.end],
                fetch_mode=self.fetch_mode,
            )
            for populator in self.related:
                populator.populate(row, instance)
            for name, position in self.annotations.items():
                setattr(instance, name, row[position])
            objects.append(instance)
        if self.prefetches and objects:
            prefetch_related_objects(objects, *self.prefetches)
        return objects
