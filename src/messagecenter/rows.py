"""Reading the one row a unique key selects, for the hottest queries."""

import inspect
import itertools
import re
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any, cast

from django.db import DEFAULT_DB_ALIAS, connections
from django.db.backends.signals import connection_created
from django.db.models import Model, QuerySet, prefetch_related_objects
from django.db.models.base import ModelState
from django.db.models.fields.related_descriptors import ForeignKeyDeferredAttribute
from django.db.models.query import get_related_populators
from django.db.models.signals import post_init, pre_init
from django.db.models.sql import UpdateQuery
from django.db.transaction import TransactionManagementError
from django.utils.asyncio import async_unsafe
from django.utils.connection import ConnectionProxy

from messagecenter.errors import NotFound

# Ids are 64-bit: a larger number given by a person is "not found", not a driver error.
MAX_ID = 2**63 - 1


def parse_id(value: Any, *, code: str = "not_found", message: str = "Not found.") -> int:
    """An id a person gave (a path segment, a form field, a JSON value) as a positive 64-bit
    integer. Anything else raises the same NotFound as a missing object would: to them a
    malformed id and someone else's look alike. Every page, API route and action that takes
    an id from a person parses it here.

    Text is ASCII digits (around them, spaces): `int()` alone also reads "１２" (full-width
    digits), "1_2", "+12" and a float's whole part (1.9 → 1), which name an object the
    person never wrote."""
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and (digits := value.strip()).isascii() and digits.isdigit():
        number = int(digits)
    else:
        raise NotFound(message, code=code)
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

    `remember=N` keeps the models built from the last N distinct rows (per process): a row
    read again with every column unchanged gives copies of them instead of converting its
    values and building the models again. The row is still read on every call, so a change
    by any process, by any means, is seen on the next one. Each caller gets its own copies:
    what one request changes on its models never reaches another.
    """

    def __init__(self, build: Callable[..., QuerySet[M]], *, remember: int = 0) -> None:
        self.build = build
        self.remember = remember
        self._plans: dict[tuple[str, Hashable], _Plan[M]] = {}
        self._lock = threading.Lock()

    def __call__(self, *values: int | str | datetime, shape: Hashable = None) -> list[M]:
        return [model for _, model in self.with_rows(*values, shape=shape)]

    def with_rows(
        self, *values: int | str | datetime, shape: Hashable = None
    ) -> list[tuple[tuple[Any, ...], M]]:
        """As calling it, each model beside the row it was built from (every column, as the
        driver gave it): for a caller that must later tell whether that row has changed —
        the same statement, or another with the same columns, reading an equal row."""
        connection = connections[DEFAULT_DB_ALIAS]
        return self._plan(connection, values, shape).run(connection, values)

    def rows(self, *values: int | str | datetime, shape: Hashable = None) -> list[tuple[Any, ...]]:
        """The rows alone (every column, as the driver gave them), no model built: for
        telling whether rows read before with `with_rows` have changed."""
        connection = connections[DEFAULT_DB_ALIAS]
        return self._plan(connection, values, shape).fetch(connection, values)

    def _plan(
        self, connection: Any, values: Sequence[int | str | datetime], shape: Hashable
    ) -> "_Plan[M]":
        key = (connection.vendor, shape)
        return _planned(self._plans, self._lock, key, lambda: self._compile(values, shape))

    def _compile(self, values: Sequence[int | str | datetime], shape: Hashable) -> "_Plan[M]":
        stand_ins = [_stand_in(position, value) for position, value in enumerate(values)]
        queryset = self.build(*stand_ins, **({} if shape is None else {"shape": shape}))
        compiler = queryset.query.get_compiler(using=DEFAULT_DB_ALIAS)
        sql, parameters = compiler.as_sql()
        slots = _slots(compiler.connection, stand_ins, parameters)
        remembered = _Remembered(self.remember) if self.remember else None
        return _Plan(queryset, compiler, sql, list(parameters), slots, remembered)


def _planned[P](
    plans: dict[tuple[str, Hashable], P],
    lock: threading.Lock,
    key: tuple[str, Hashable],
    compile_plan: Callable[[], P],
) -> P:
    """The plan for this database and shape, compiled by the first caller that needs it
    (the others of that moment wait for it rather than compile it again)."""
    plan = plans.get(key)
    if plan is None:
        with lock:
            plan = plans.get(key) or compile_plan()
            plans[key] = plan
    return plan


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


# A positional parameter as Django's SQLite backend finds them (not an escaped `%%s`).
_POSITIONAL = re.compile(r"(?<!%)%s")


# Where a connection keeps its statements' cursor: (the DB-API connection it belongs to,
# its DB-API cursor, Django's plain wrapper of it, and on PostgreSQL, once needed, Django's
# plain wrapper of a cursor of psycopg's raw queries: _numbered_cursor).
_KEPT = "_messagecenter_statement_cursor"


@async_unsafe
def statement_cursor(connection: Any = None) -> Any:
    """The cursor the compiled statements run through: one kept per connection, where
    `connection.cursor()` built a new one for every statement — Django's checks, the
    driver's cursor, its time zone loader and the wrapper, then closing it, about a third
    of each statement's Python on a send's fifteen (docs/benchmarks.md, "Sends: one
    cursor, rows as tuples").

    What `connection.cursor()` guarantees still holds on every call: not from the event
    loop's thread (async_unsafe), not from another thread than the connection's, the
    connection opened (and health-checked) when needed, and a statement run while queries
    are logged (DEBUG, CaptureQueriesContext, django_assert_num_queries) is logged —
    through a debug wrapper made on the spot around the same driver cursor. Errors are
    Django's (IntegrityError…), as through any of its cursors.

    The cursor never outlives its connection: it is kept beside the DB-API connection it
    came from and used only while that is still the connection's, and forgotten whenever
    Django opens one (`connection_created`, which a pooled connection taken again also
    sends). A caller runs its statement and fetches all its rows before running another.

    `connection`: this thread's (`connections[alias]`), the default's when not given; not
    `django.db.connection`, a proxy every thread shares, where it would be kept for all."""
    if connection is None:
        connection = connections[DEFAULT_DB_ALIAS]
    elif isinstance(connection, ConnectionProxy):
        raise TypeError("Give this thread's connection, not the proxy of all threads.")
    connection.close_if_health_check_failed()
    kept = connection.__dict__.get(_KEPT)
    if kept is None or kept[0] is not connection.connection or kept[0] is None:
        # Opens the connection if needed, and with it forgets what was kept.
        raw = connection.cursor().cursor
        kept = (connection.connection, raw, connection.make_cursor(raw), None)
        connection.__dict__[_KEPT] = kept
    connection.validate_thread_sharing()
    if connection.queries_logged:
        return connection.make_debug_cursor(kept[1])
    return kept[2]


def _numbered_cursor(connection: Any) -> Any:
    """The kept cursor's sibling for `$n` statements (_Statement), after statement_cursor
    has made its checks: a `psycopg.RawCursor` set up as Django sets up its own cursors
    (the connection's time zone for the times it reads), in Django's wrapper, so errors are
    Django's. Kept and forgotten with the statements' cursor."""
    kept = connection.__dict__[_KEPT]
    if kept[3] is None:
        import psycopg
        from django.db.backends.postgresql.psycopg_any import register_tzloader
        from psycopg.pq import Format

        raw = psycopg.RawCursor(kept[0])
        timestamptz = psycopg.adapters.types["timestamptz"].oid
        if connection.timezone != kept[0].adapters.get_loader(timestamptz, Format.TEXT).timezone:
            register_tzloader(connection.timezone, raw)
        kept = (*kept[:3], connection.make_cursor(raw))
        connection.__dict__[_KEPT] = kept
    return kept[3]


@contextmanager
def pipelined(*, commit: bool = False) -> Iterator[None]:
    """Statements run inside go to PostgreSQL without waiting, each, for its answer (the
    driver's pipeline mode): the database still runs them one after the other, in order,
    and the block waits once, at its end — or where a statement's rows are read, for that
    statement and those before it. For a batch's writes, which read nothing back: each
    answer waited for was a round trip in which the writer gave up the interpreter and
    then waited to take it back from the process's other threads — under load ≈ 1.5 ms a
    statement, three quarters of a batch's time (docs/benchmarks.md, "Sends: a batch's
    writes sent without waiting").

    A statement that fails is known where the block next waits (or sooner, when its answer
    has come already): the error (Django's, as from any cursor) is raised there, and the
    statements sent after it are skipped; so a block must fail as a whole — its statements
    one unit of work, its caller rolling all of it back. What a statement reports without
    reading rows (an UPDATE's count) is not known inside. On SQLite, which answers
    in-process, the statements run as they would.

    `commit`: the block ends its transaction — the COMMIT goes with its statements, and
    the one wait at its end is the commit's too (the COMMIT alone was one more round trip,
    docs/benchmarks.md). For the last writes of an `atomic` block that ends right after
    it: Django's commit then finds the transaction over and sends nothing, and runs its
    on-commit callbacks as ever. A statement of the block that fails takes the COMMIT with
    it (PostgreSQL skips what follows a failure up to the wait), so the error is raised
    at the block's end and the `atomic` rolls back, as when the COMMIT came after."""
    connection = connections[DEFAULT_DB_ALIAS]
    if commit and (len(connection.atomic_blocks) != 1 or connection.savepoint_ids):
        # Inside a savepoint, or with no transaction, the COMMIT would end what the block's
        # caller does not own.
        raise TransactionManagementError("pipelined(commit=True) outside an outermost atomic")
    if connection.vendor != "postgresql":
        yield
        return
    statement_cursor(connection)  # opened and checked, as for any statement
    with connection.wrap_database_errors, connection.connection.pipeline():
        yield
        if commit:
            # Never a prepared statement of its own: nothing to plan.
            connection.connection.execute("COMMIT", prepare=False)


def _forget_statement_cursor(sender: Any, connection: Any, **kwargs: Any) -> None:
    connection.__dict__.pop(_KEPT, None)


connection_created.connect(_forget_statement_cursor)


def _filled(
    connection: Any,
    parameters: Sequence[Any],
    slots: Sequence[int | None],
    values: Sequence[int | str | datetime],
) -> list[Any]:
    """A compiled statement's parameters with each call's values in their slots."""
    return [
        value if slot is None else _adapted(connection, values[slot])
        for value, slot in zip(parameters, slots, strict=True)
    ]


def _converted(
    connection: Any, converters: Sequence[tuple[int, tuple[list[Any], Any]]], row: Sequence[Any]
) -> list[Any]:
    """A fetched row with each column through Django's converters, as a queryset gives it."""
    values = list(row)
    for position, (column_converters, expression) in converters:
        value = values[position]
        for converter in column_converters:
            value = converter(value, expression, connection)
        values[position] = value
    return values


class _Statement:
    """SQL run many times with new values, its placeholders turned once into the form the
    driver takes without parsing them again on every call:
    - SQLite: named parameters. With positional ones Django's cursor turns each `%s` into
      `?` with a regular expression on every call — for the token's 1.4 KB statement
      ≈ 40 µs, as long as the database takes to answer; named ones it fills in with `%`
      formatting, in C.
    - PostgreSQL: `$1, $2…`, run through a cursor of psycopg's raw queries. psycopg parses
      a `%s` statement with a regular expression and keeps the result only for statements
      of at most 50 parameters and 4 KB: a batch's multi-row INSERTs and UPDATEs were
      parsed again on every call, 8 % of the servers' time while sending
      (docs/benchmarks.md, "Sends: statements parsed once").
    While queries are logged (DEBUG, CaptureQueriesContext, django_assert_num_queries) a
    statement runs as Django compiled it, through the debug wrapper (which can show only
    `%s` statements): the same statement, counted and shown as before."""

    def __init__(self, connection: Any, sql: str, count: int) -> None:
        self.sql, self.names, self.numbered = sql, None, None
        if connection.vendor == "sqlite":
            numbers = itertools.count()
            self.sql = _POSITIONAL.sub(lambda _: f"%(p{next(numbers)})s", sql)
            if next(numbers) != count:
                raise ValueError(f"Not one placeholder per parameter: {sql}")
            self.names = [f"p{number}" for number in range(count)]
        elif connection.vendor == "postgresql":
            numbers = itertools.count(1)
            numbered = _POSITIONAL.sub(lambda _: f"${next(numbers)}", sql)
            if next(numbers) != count + 1:
                raise ValueError(f"Not one placeholder per parameter: {sql}")
            self.numbered = numbered.replace("%%", "%")

    def execute(self, connection: Any, parameters: Sequence[Any]) -> Any:
        """Runs the statement on `connection` (this thread's); returns the cursor to fetch
        its rows from before another statement runs."""
        cursor = statement_cursor(connection)
        if self.names is not None:
            cursor.execute(self.sql, dict(zip(self.names, parameters, strict=True)))
        elif self.numbered is not None and not connection.queries_logged:
            cursor = _numbered_cursor(connection)
            cursor.execute(self.numbered, parameters)
        else:
            cursor.execute(self.sql, parameters)
        return cursor


class _Plan[M: Model]:
    def __init__(
        self,
        queryset: QuerySet[M],
        compiler: Any,
        sql: str,
        parameters: list[Any],
        slots: list[int | None],
        remembered: "_Remembered | None" = None,
    ) -> None:
        self.statement = _Statement(compiler.connection, sql, len(parameters))
        self.parameters, self.slots = parameters, slots
        self.prefetches = getattr(queryset, "_prefetch_related_lookups", ())
        if remembered is not None and self.prefetches:
            # Prefetched rows are not in the row read: they could change unseen.
            raise ValueError("A query that prefetches cannot remember its models.")
        self.remembered = remembered
        select, klass_info = compiler.select, compiler.klass_info
        self.model = klass_info["model"]
        fields = klass_info["select_fields"]
        self.start, self.end = fields[0], fields[-1] + 1
        self.init_list = [column[0].target.attname for column in select[self.start : self.end]]
        self.fetch_mode: Any = getattr(queryset, "_fetch_mode")  # noqa: B009 (not in the stubs)
        self.construct = _constructor(self.model, self.init_list, self.fetch_mode) or partial(
            self.model.from_db, fetch_mode=self.fetch_mode
        )
        self.related = get_related_populators(klass_info, select, DEFAULT_DB_ALIAS, self.fetch_mode)
        _construct_related(self.related, self.fetch_mode)
        self.annotations = dict(compiler.annotation_col_map or {})
        self.converters = list(
            compiler.get_converters([column[0] for column in select[: compiler.col_count]]).items()
        )

    def run(
        self, connection: Any, values: Sequence[int | str | datetime]
    ) -> list[tuple[tuple[Any, ...], M]]:
        objects = []
        for fetched in self.fetch(connection, values):
            if self.remembered is not None:
                known = self.remembered.get(fetched)
                if known is not None:
                    objects.append((fetched, known))
                    continue
            instance = self._build(connection, fetched)
            if self.remembered is not None:
                self.remembered.keep(fetched, instance)
            objects.append((fetched, instance))
        if self.prefetches and objects:
            prefetch_related_objects([model for _, model in objects], *self.prefetches)
        return objects

    def fetch(
        self, connection: Any, values: Sequence[int | str | datetime]
    ) -> list[tuple[Any, ...]]:
        parameters = _filled(connection, self.parameters, self.slots, values)
        return [tuple(row) for row in self.statement.execute(connection, parameters).fetchall()]

    def _build(self, connection: Any, fetched: Sequence[Any]) -> M:
        row = _converted(connection, self.converters, fetched)
        instance: M = self.construct(DEFAULT_DB_ALIAS, self.init_list, row[self.start : self.end])
        for populator in self.related:
            populator.populate(row, instance)
        for name, position in self.annotations.items():
            setattr(instance, name, row[position])
        return instance


def _constructor(
    model: type[Model], init_list: Sequence[str], fetch_mode: Any
) -> Callable[[str, Sequence[str], Sequence[Any]], Any] | None:
    """What `Model.from_db` does for a row of every column, without `Model.__init__`: its
    generic loop (a setattr per field, the pre_init and post_init signals sent) was about
    0.4 of building the inbox list's 26 rows of ten models, which were half the list's
    statement once it was compiled (docs/benchmarks.md, "The inbox list compiled once").
    The instance is the same: its state (not adding, the database, the fetch mode), then
    each field's value under its attname, in the fields' order.

    None (then `from_db` builds it) where that would not be the same: a model with its
    own `__init__` or `from_db`, a receiver of pre_init or post_init for it (asked when the
    statement is compiled), deferred or reordered columns, or a field whose attribute
    does something when set — but a foreign key's id, whose setting only forgets a
    related row a new instance has not got."""
    attnames = [field.attname for field in model._meta.concrete_fields]
    if (
        list(init_list) != attnames
        or model.__init__ is not Model.__init__
        or inspect.getattr_static(model, "from_db") is not inspect.getattr_static(Model, "from_db")
        or pre_init.has_listeners(model)
        or post_init.has_listeners(model)
        or any(_set_with_effects(model, name) for name in attnames)
    ):
        return None

    def construct(db: str, names: Sequence[str], values: Sequence[Any]) -> Any:
        instance = model.__new__(model)
        state = ModelState()
        state.adding = False
        state.db = db
        if fetch_mode is not None:
            state.fetch_mode = fetch_mode
        fields = instance.__dict__
        fields["_state"] = state
        fields.update(zip(attnames, values, strict=True))
        return instance

    return construct


def _set_with_effects(model: type[Model], attname: str) -> bool:
    attribute = inspect.getattr_static(model, attname, None)
    return (
        hasattr(type(attribute), "__set__") and type(attribute) is not ForeignKeyDeferredAttribute
    )


def _construct_related(populators: Sequence[Any], fetch_mode: Any) -> None:
    """The select_related rows built as _constructor builds the row's own model. Django's
    RelatedPopulator calls the `from_db` it keeps on itself; where it keeps none (another
    Django version) or reorders the columns (a parent model's), it stays as it is."""
    for populator in populators:
        if hasattr(populator, "from_db") and not populator.reorder_for_init:
            construct = _constructor(populator.model_cls, populator.init_list, fetch_mode)
            if construct is not None:
                populator.from_db = construct
        _construct_related(populator.related_populators, fetch_mode)


class _Remembered:
    """Models by the row they were built from (every column, as the driver returned it),
    the oldest forgotten first. Only copies go in and out."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.built: dict[Any, Model] = {}
        self._lock = threading.Lock()

    def get(self, row: Sequence[Any]) -> Any:
        try:
            known = self.built.get(tuple(row))
        except TypeError:  # a column the driver gives as an unhashable value (JSON)
            return None
        return None if known is None else _copied(known, {})

    def keep(self, row: Sequence[Any], instance: Model) -> None:
        try:
            key = tuple(row)
            hash(key)
        except TypeError:
            return
        kept = _copied(instance, {})
        with self._lock:
            if len(self.built) >= self.size:
                # Dicts keep insertion order: the first key is the oldest kept.
                self.built.pop(next(iter(self.built)), None)
            self.built[key] = kept


def copy_of[M: Model](instance: M) -> M:
    """A copy of the model and of the related models it holds, sharing no state with
    them: what one caller changes on it never reaches the holder of the other."""
    return cast(M, _copied(instance, {}))


def _copied(instance: Model, copies: dict[int, Model]) -> Model:
    """A copy of the model and of the related models it holds (select_related's, which
    may point back at it: a storefront and its seller), sharing no state with them."""
    done = copies.get(id(instance))
    if done is not None:
        return done
    duplicate = instance.__class__.__new__(instance.__class__)
    duplicate.__dict__.update(instance.__dict__)
    original = instance._state
    state = ModelState()
    state.db, state.adding, state.fetch_mode = original.db, original.adding, original.fetch_mode
    duplicate._state = state
    copies[id(instance)] = duplicate
    state.fields_cache = {
        name: _copied(related, copies) if isinstance(related, Model) else related
        for name, related in original.fields_cache.items()
    }
    return duplicate


class CompiledRows:
    """A `values_list` queryset compiled once per process and shape, then run with each
    call's values, giving its rows as tuples (each column through the converters Django
    would apply): for reads whose statement Django would build and compile again on every
    call and whose callers need values, not models — search, where both cost more than the
    database (docs/benchmarks.md, "Search: compiled once per shape").

    The stand-in rules are CompiledQuery's; `build(*values, shape=shape)` is given the
    shape (whatever changes the SQL) as it is. Shapes can be many (search: the number of
    words, which filters are set, the page size), so at most `shapes` plans are kept, the
    oldest compiled dropped first.

    `around(sql)`, when given, puts the compiled statement inside another and says how
    many columns that one adds: it selects the inner statement's columns first, in their
    order (they keep their conversions), then the added ones (given as the database
    gives them), and takes no parameters of its own. What a page shows but does not
    choose its rows by — joined for the page's rows only, in a statement the planner
    plans apart (search: docs/search.md, "The page first, then what it shows").
    """

    def __init__(
        self,
        build: Callable[..., QuerySet[Any]],
        *,
        shapes: int = 256,
        around: Callable[[str], tuple[str, int]] | None = None,
    ) -> None:
        self.build = build
        self.shapes = shapes
        self.around = around
        self._plans: dict[tuple[str, Hashable], _RowsPlan] = {}
        self._lock = threading.Lock()

    def __call__(self, *values: int | str | datetime, shape: Hashable) -> list[tuple[Any, ...]]:
        connection = connections[DEFAULT_DB_ALIAS]
        return self._plan(connection, values, shape).run(connection, values)

    def lock(self, *values: int | str | datetime, shape: Hashable) -> None:
        """Runs the statement without reading its rows: a `SELECT … FOR UPDATE` wanted
        for its row locks alone, which inside `pipelined()` is sent without waiting."""
        connection = connections[DEFAULT_DB_ALIAS]
        self._plan(connection, values, shape).execute(connection, values)

    def _plan(
        self, connection: Any, values: Sequence[int | str | datetime], shape: Hashable
    ) -> "_RowsPlan":
        key = (connection.vendor, shape)
        plan = self._plans.get(key)
        if plan is None:
            plan = self._compile(values, shape)
            with self._lock:
                if len(self._plans) >= self.shapes:
                    # Dicts keep insertion order: the first key is the oldest compiled.
                    self._plans.pop(next(iter(self._plans)), None)
                self._plans[key] = plan
        return plan

    def _compile(self, values: Sequence[int | str | datetime], shape: Hashable) -> "_RowsPlan":
        stand_ins = [_stand_in(position, value) for position, value in enumerate(values)]
        queryset = self.build(*stand_ins, shape=shape)
        compiler = queryset.query.get_compiler(using=DEFAULT_DB_ALIAS)
        sql, parameters = compiler.as_sql()
        slots = _slots(compiler.connection, stand_ins, parameters)
        converters = list(
            compiler.get_converters(
                [column[0] for column in compiler.select[: compiler.col_count]]
            ).items()
        )
        columns = compiler.col_count
        if self.around is not None:
            sql, added = self.around(sql)
            columns += added
        statement = _Statement(compiler.connection, sql, len(parameters))
        return _RowsPlan(statement, list(parameters), slots, converters, columns)


def people_rows_locker(
    model: type[Model], *ordering: str, columns: Sequence[str] = ("pk",)
) -> CompiledRows:
    """`SELECT … FOR UPDATE` of the rows of `model` that belong to some people (`user_id`
    among the ids given), in `ordering` — the lock order every action takes them in —,
    giving `columns`, compiled once per number of people: what a batch of sends locks up
    front (its people's counters, event streams, sending-limit counts), which the ORM
    built and compiled again on every batch (docs/benchmarks.md). On SQLite, which has no
    row locks (its one write lock is the batch's), a plain read."""
    return CompiledRows(
        lambda *people, shape: (
            model._default_manager.select_for_update()
            .filter(user_id__in=people)
            .order_by(*ordering)
            .values_list(*columns)
        )
    )


class _RowsPlan:
    def __init__(
        self,
        statement: _Statement,
        parameters: list[Any],
        slots: list[int | None],
        converters: list[tuple[int, tuple[list[Any], Any]]],
        columns: int,
    ) -> None:
        self.statement, self.parameters, self.slots = statement, parameters, slots
        # The columns values_list asked for, in its order (the compiler's results_iter).
        self.converters, self.columns = converters, columns

    def execute(self, connection: Any, values: Sequence[int | str | datetime]) -> Any:
        parameters = _filled(connection, self.parameters, self.slots, values)
        return self.statement.execute(connection, parameters)

    def run(self, connection: Any, values: Sequence[int | str | datetime]) -> list[tuple[Any, ...]]:
        fetched = self.execute(connection, values).fetchall()
        columns = self.columns
        if not self.converters:
            return [tuple(row[:columns]) for row in fetched]
        return [tuple(_converted(connection, self.converters, row[:columns])) for row in fetched]


class CompiledUpdate:
    """An UPDATE compiled once per process and shape, then run with each call's values: the
    send's writes, where Django compiling the same statement on every call cost more than
    the database took to run it (docs/benchmarks.md, "Send: the lean statement path").

    `build(*values)` returns the queryset to update and the changes, as for
    `QuerySet.update(**changes)` (expressions included); the stand-in rules are
    CompiledQuery's. Returns the number of rows changed (-1 inside `pipelined()`: not known yet).
    """

    def __init__(self, build: Callable[..., tuple[QuerySet[Any], dict[str, Any]]]) -> None:
        self.build = build
        self._plans: dict[tuple[str, Hashable], tuple[_Statement, list[Any], list[int | None]]] = {}
        self._lock = threading.Lock()

    def __call__(self, *values: int | str | datetime, shape: Hashable = None) -> int:
        connection = connections[DEFAULT_DB_ALIAS]
        key = (connection.vendor, shape)
        statement, compiled, slots = _planned(
            self._plans, self._lock, key, lambda: self._compile(values, shape)
        )
        parameters = _filled(connection, compiled, slots, values)
        cursor = statement.execute(connection, parameters)
        return int(cursor.rowcount)

    def _compile(
        self, values: Sequence[int | str | datetime], shape: Hashable
    ) -> tuple[_Statement, list[Any], list[int | None]]:
        stand_ins = [_stand_in(position, value) for position, value in enumerate(values)]
        queryset, changes = self.build(*stand_ins, **({} if shape is None else {"shape": shape}))
        # What QuerySet.update does before it executes.
        query = queryset.query.chain(UpdateQuery)
        query.add_update_values(changes)  # type: ignore[attr-defined]
        query.clear_select_clause()
        compiler = query.get_compiler(using=DEFAULT_DB_ALIAS)
        sql, parameters = compiler.as_sql()
        statement = _Statement(compiler.connection, sql, len(parameters))
        return statement, list(parameters), _slots(compiler.connection, stand_ins, parameters)


def insert_objects[M: Model](
    objects: Sequence[M], *, ignore_conflicts: bool = False, with_ids: bool = False
) -> None:
    """INSERT new model instances of one model in one statement, as `bulk_create` would,
    and give each its new id: the SQL is written once per process, model and number of
    rows; each value goes through its field's own preparation (`pre_save`,
    `get_db_prep_save`), as Model.save prepares it. For the send's rows, where compiling an
    INSERT on every call cost more than running it. `ignore_conflicts`: a row a unique
    constraint refuses is left out (no ids are given then). `with_ids`: each object
    already has its id (handed out before, `reserved_ids`), written as given. No signals
    are sent (Message Center connects none to models written here)."""
    if not objects:
        return
    model = type(objects[0])
    if len(objects) > INSERT_MAX_ROWS:
        # Rebuilds and fan-outs: bulk_create splits them to the database's parameter limit.
        model._default_manager.bulk_create(objects, ignore_conflicts=ignore_conflicts)
        return
    connection = connections[DEFAULT_DB_ALIAS]
    statement, fields, returning = _insert_plan(
        connection, model, len(objects), ignore_conflicts, with_ids
    )
    parameters = [
        field.get_db_prep_save(field.pre_save(instance, True), connection)
        for instance in objects
        for field in fields
    ]
    cursor = statement.execute(connection, parameters)
    if returning is not None:
        for instance, row in zip(objects, cursor.fetchall(), strict=True):
            setattr(instance, returning.attname, row[0])
    for instance in objects:
        instance._state.adding, instance._state.db = False, DEFAULT_DB_ALIAS


# More rows than a send writes go through bulk_create (and do not add a statement per count).
INSERT_MAX_ROWS = 64
_INSERTS: dict[
    tuple[str, type[Model], int, bool, bool, bool], tuple[_Statement, list[Any], Any]
] = {}


def reserved_ids(model: type[Model], count: int) -> list[int] | None:
    """`count` ids of `model`'s generated id, handed out now for rows inserted later in
    this transaction with `insert_objects(…, with_ids=True)` — so that a batch's rows,
    whose ids its other rows need at once, are still inserted in one statement. Never
    an id another insert gets, before or after: on PostgreSQL from the id's sequence (as
    an INSERT takes them), on SQLite by moving the table's AUTOINCREMENT counter on, under
    the transaction's write lock. None on SQLite while the table has no counter yet (no
    row was ever inserted). Ids not used are skipped, as a rolled-back INSERT's are."""
    connection = connections[DEFAULT_DB_ALIAS]
    table = model._meta.db_table
    column = model._meta.pk.column
    cursor = statement_cursor(connection)
    if connection.vendor == "postgresql":
        cursor.execute(
            "SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)",
            [table, column, count],
        )
        return [int(row[0]) for row in cursor.fetchall()]
    cursor.execute(
        "UPDATE sqlite_sequence SET seq = seq + %s WHERE name = %s RETURNING seq", [count, table]
    )
    moved = cursor.fetchall()
    if not moved:
        return None
    last = int(moved[0][0])
    return list(range(last - count + 1, last + 1))


def insert_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    ignore_conflicts: bool = False,
    ids: bool = False,
) -> list[Any] | None:
    """INSERT rows of one model given as tuples — each row's values for `columns` (field
    attnames: `user_id`, not `user`), in that order — in the same one statement as
    `insert_objects`, without building a model instance for each row or preparing each
    value through its field's `pre_save` and `get_db_prep_save`: a value is prepared by a
    function chosen once per field type (a moment as the database takes it, JSON as the
    driver takes it; ids, text, numbers and booleans as they are). For the rows every send
    appends — search documents, mailbox rows, events, e-mails —, where the instances and
    the per-field calls were a tenth of a send's CPU (docs/benchmarks.md, "Sends: one
    cursor, rows as tuples").

    So the values must already be what the fields hold: ints for ids and numbers, str for
    text, aware datetimes for moments, JSON-able values for JSON (no model instances, no
    expressions, nothing to convert, and nothing `auto_now` would fill). A column not
    given takes what Model.__init__ would give it (its default, "" for text, else None);
    a field whose default is made for each row (a callable), or of a type this does not
    prepare, is refused when the statement is first written. `ids`: returns the new ids in
    the rows' order, from RETURNING (the model must have a generated id, and conflicts not
    be ignored); otherwise None, and the statement returns nothing — so that, inside
    `pipelined()`, it is sent without waiting for the database to answer. Signals: none,
    as for insert_objects."""
    if ids and (ignore_conflicts or not _generated(model)):
        raise ValueError(f"No ids to return: {model.__name__}, ignore_conflicts={ignore_conflicts}")
    if not rows:
        return [] if ids else None
    if len(rows) > INSERT_MAX_ROWS:
        # Rare (a rebuild, a batch of many sends): as insert_objects does, bulk_create
        # splits them to the database's parameter limit. Instances are built for it.
        objects = [model(**dict(zip(columns, row, strict=True))) for row in rows]
        model._default_manager.bulk_create(objects, ignore_conflicts=ignore_conflicts)
        return [instance.pk for instance in objects] if ids else None
    connection = connections[DEFAULT_DB_ALIAS]
    statement, fields, returning = _insert_plan(
        connection, model, len(rows), ignore_conflicts, False, returning=ids
    )
    tuple_key = (connection.vendor, model, tuple(columns))
    recipe = _TUPLE_RECIPES.get(tuple_key)
    if recipe is None:
        recipe = _TUPLE_RECIPES[tuple_key] = _tuple_recipe(connection, fields, columns)
    ops = connection.ops
    parameters: list[Any] = []
    append = parameters.append
    for row in rows:
        for position, prepare, default in recipe:
            if position is None:
                append(default)
            elif prepare is None:
                append(row[position])
            else:
                append(prepare(ops, row[position]))
    cursor = statement.execute(connection, parameters)
    if returning is None:
        return None
    return [row[0] for row in cursor.fetchall()]


def update_rows(
    model: type[Model],
    columns: Sequence[str],
    rows: Sequence[Sequence[Any]],
    *,
    added: Sequence[str] = (),
) -> int:
    """UPDATE many rows of one model, each to its own values, in one statement: each row
    is its id followed by its values for `columns` (field attnames), prepared as
    `insert_rows` prepares them (so the same kinds of values only). A column named in
    `added` gets its value added to what the row holds (a count moving by a batch's
    number of messages), every other one is set. For a batch of sends, where one UPDATE
    per send and table was a statement each (docs/benchmarks.md, "Sends: a batch's
    updates written once"). The SQL is written once per process, model, columns and number
    of rows: `UPDATE … FROM (VALUES …)`, which PostgreSQL and SQLite (3.33 on) both run.
    Returns the number of rows changed (-1 inside `pipelined()`: not known yet)."""
    if not rows:
        return 0
    connection = connections[DEFAULT_DB_ALIAS]
    key = (connection.vendor, model, tuple(columns), tuple(added), len(rows))
    plan = _UPDATES.get(key)
    if plan is None:
        plan = _UPDATES[key] = _written_update(connection, model, columns, added, len(rows))
    statement, recipe = plan
    ops = connection.ops
    parameters: list[Any] = []
    append = parameters.append
    for row in rows:
        for value, prepare in zip(row, recipe, strict=True):
            append(value if prepare is None else prepare(ops, value))
    cursor = statement.execute(connection, parameters)
    return int(cursor.rowcount)


_UPDATES: dict[
    tuple[str, type[Model], tuple[str, ...], tuple[str, ...], int],
    tuple[_Statement, list[Callable[[Any, Any], Any] | None]],
] = {}


def _written_update(
    connection: Any, model: type[Model], columns: Sequence[str], added: Sequence[str], count: int
) -> tuple[_Statement, list[Callable[[Any, Any], Any] | None]]:
    quote = connection.ops.quote_name
    meta = model._meta
    by_attname = {field.attname: field for field in meta.concrete_fields}
    if not set(added) <= set(columns) or not set(columns) <= by_attname.keys():
        raise ValueError(f"Not the model's columns: {columns}, added {added}")
    fields = [meta.pk, *(by_attname[name] for name in columns)]
    table = quote(meta.db_table)
    if connection.vendor == "postgresql":
        # Each value cast to its column's type: a VALUES list's columns have no type of
        # their own, and a NULL or a text in one would not be taken for a moment.
        names = [quote(f"c{position}") for position in range(len(fields))]
        row = "(" + ", ".join(f"%s::{field.cast_db_type(connection)}" for field in fields) + ")"
        source = f"(VALUES {', '.join([row] * count)}) AS v ({', '.join(names)})"
    else:
        # SQLite names a VALUES list's columns column1, column2, …
        names = [f"column{position + 1}" for position in range(len(fields))]
        row = "(" + ", ".join(["%s"] * len(fields)) + ")"
        source = f"(VALUES {', '.join([row] * count)}) AS v"
    changes = ", ".join(
        f"{quote(field.column)} = "
        + (f"{table}.{quote(field.column)} + " if field.attname in added else "")
        + f"v.{name}"
        for field, name in zip(fields[1:], names[1:], strict=True)
    )
    key = f"{table}.{quote(meta.pk.column)}"
    sql = f"UPDATE {table} SET {changes} FROM {source} WHERE {key} = v.{names[0]}"
    recipe = [_preparation(connection, field) for field in fields]
    return _Statement(connection, sql, count * len(fields)), recipe


# What each of a model's inserted fields takes from a tuple: (its position in the tuple,
# how its value is prepared — given the connection's operations, not kept with the recipe
# that every thread shares —, None when as it is; or None and its default).
type _Recipe = list[tuple[int | None, Callable[[Any, Any], Any] | None, Any]]
_TUPLE_RECIPES: dict[tuple[str, type[Model], tuple[str, ...]], _Recipe] = {}

# Field types whose values the database driver takes as they are (given the right Python
# type); DateTimeField and JSONField are prepared; any other type is refused.
_AS_THEY_ARE = frozenset(
    {
        "AutoField",
        "BigAutoField",
        "BigIntegerField",
        "BooleanField",
        "CharField",
        "ForeignKey",
        "IntegerField",
        "OneToOneField",
        "PositiveBigIntegerField",
        "PositiveIntegerField",
        "PositiveSmallIntegerField",
        "SmallIntegerField",
        "TextField",
    }
)


def _tuple_recipe(connection: Any, fields: Sequence[Any], columns: Sequence[str]) -> _Recipe:
    positions = {name: position for position, name in enumerate(columns)}
    known = {field.attname for field in fields}
    if len(positions) != len(columns) or not positions.keys() <= known:
        raise ValueError(f"Not the model's inserted columns, or one twice: {columns}")
    recipe: _Recipe = []
    for field in fields:
        if getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False):
            raise ValueError(f"{field} is filled by pre_save, which tuples skip")
        position = positions.get(field.attname)
        if position is None:
            if field.has_default() and callable(field.default):
                # Model.__init__ calls it for every instance (dict, timezone.now): give it.
                raise ValueError(f"{field} has a default made for each row: give it")
            # What Model.__init__ would give it (its default, "" for text, else None),
            # prepared once.
            default = field.get_db_prep_save(field.get_default(), connection)
            recipe.append((None, None, default))
            continue
        recipe.append((position, _preparation(connection, field), None))
    return recipe


def _preparation(connection: Any, field: Any) -> Callable[[Any, Any], Any] | None:
    """How a value of this field is prepared from a tuple: None when as it is."""
    kind = field.get_internal_type()
    if kind == "DateTimeField":
        # As DateTimeField.get_db_prep_value ends (SQLite: text in UTC).
        return cast(Callable[[Any, Any], Any], type(connection.ops).adapt_datetimefield_value)
    if kind == "JSONField":
        # As JSONField.get_db_prep_value ends (PostgreSQL: psycopg's Jsonb; SQLite: text).
        return partial(_adapt_json, field.encoder)
    if kind in _AS_THEY_ARE:
        return None
    raise ValueError(f"{field} ({kind}): no tuple preparation for this field type")


def _adapt_json(encoder: Any, ops: Any, value: Any) -> Any:
    return ops.adapt_json_value(value, encoder)


def _generated(model: type[Model]) -> bool:
    return any(field.db_returning for field in model._meta.concrete_fields)


def _insert_plan(
    connection: Any,
    model: type[Model],
    count: int,
    ignore_conflicts: bool,
    with_ids: bool,
    *,
    returning: bool = True,
) -> tuple[_Statement, list[Any], Any]:
    """The INSERT of `count` rows of `model`, written once per process (_INSERTS)."""
    key = (connection.vendor, model, count, ignore_conflicts, with_ids, returning)
    plan = _INSERTS.get(key)
    if plan is None:
        plan = _INSERTS[key] = _written_insert(
            connection, model, count, ignore_conflicts, with_ids, returning
        )
    return plan


def _written_insert(
    connection: Any,
    model: type[Model],
    count: int,
    ignore_conflicts: bool,
    with_ids: bool,
    returning_ids: bool,
) -> tuple[_Statement, list[Any], Any]:
    quote = connection.ops.quote_name
    meta = model._meta
    # The database numbers the id (db_returning: an auto field); every other column is
    # given — and the id too when it was handed out before (with_ids).
    fields = [field for field in meta.concrete_fields if with_ids or not field.db_returning]
    generated = [field for field in meta.concrete_fields if field.db_returning and not with_ids]
    columns = ", ".join(quote(field.column) for field in fields)
    row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([row] * count)}"
    returning = None
    if ignore_conflicts:
        sql += " ON CONFLICT DO NOTHING"
    elif generated and returning_ids:
        returning = generated[0]
        sql += f" RETURNING {quote(returning.column)}"
    return _Statement(connection, sql, count * len(fields)), fields, returning


def _slots(
    connection: Any, stand_ins: Sequence[int | str | datetime], parameters: Sequence[Any]
) -> list[int | None]:
    """Where each stand-in sits among the compiled parameters (None: a constant)."""
    # A moment reaches the parameters as the database takes it (SQLite: text in UTC).
    compiled = [_adapted(connection, stand_in) for stand_in in stand_ins]
    slots = [compiled.index(value) if value in compiled else None for value in parameters]
    if {slot for slot in slots if slot is not None} != set(range(len(stand_ins))):
        raise ValueError(f"Every value must be among the parameters: {parameters}")
    return slots
