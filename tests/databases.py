"""Which database this pass of the suite runs on (`make test` runs it on SQLite, then on
PostgreSQL: DATABASE_URL), known before the tests are collected; and its test databases.

One migration per pass: with pytest-xdist, the first worker that needs the database
migrates a template (the test database's name without the worker's `_gw0` suffix) and
every worker, that one too, runs on a copy of it made in a second or so (PostgreSQL:
`CREATE DATABASE … TEMPLATE`; SQLite: the backup API). Each worker migrating its own
database took 20–38 s, all of them at once on two cores, on each pass. A file lock in a
folder the controller hands every worker (`workerinput`) makes one worker migrate and the
others wait for it; the controller drops the templates once the workers are done
(tests/conftest.py)."""

import fcntl
import json
import sqlite3
from contextlib import closing
from pathlib import Path

from django.conf import settings
from django.core.management.color import no_style
from django.core.management.sql import emit_post_migrate_signal
from django.db import connections
from django.db.backends.base.base import BaseDatabaseWrapper
from django.test import TransactionTestCase
from django.test.utils import teardown_databases

# The folder (a workerinput key) and, in it, the lock and the names of the templates made.
TEMPLATES_FOLDER = "messagecenter_test_database_templates"
TEMPLATES_FILE = "templates.json"

# What django.test.utils.setup_databases returns and teardown_databases takes.
OldNames = list[tuple[BaseDatabaseWrapper, str, bool]]


def on_postgresql() -> bool:
    return bool(settings.DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql")


# The statements around one joined as written (messagecenter/db/plans.py): the planner's
# settings before it and taken back after it, on PostgreSQL only.
PLANNER_SETTINGS_ON_POSTGRESQL = 2
PLANNER_SETTINGS = PLANNER_SETTINGS_ON_POSTGRESQL if on_postgresql() else 0


def set_up_from_templates(
    folder: Path, worker: str, aliases: set[str], serialized_aliases: set[str], verbosity: int
) -> OldNames:
    """This xdist worker's test databases (`<template>_<worker>`, the names pytest-django
    gave them), copied from the templates; the first worker here migrates the templates."""
    old_names: OldNames = []
    with (folder / "lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        made = folder / TEMPLATES_FILE
        templates: dict[str, str] = json.loads(made.read_text()) if made.exists() else {}
        for alias in sorted(aliases):
            connection = connections[alias]
            old_name = connection.settings_dict["NAME"]
            name = connection.settings_dict["TEST"]["NAME"]
            template = templates.get(alias)
            if template is None:
                template = name.removesuffix(f"_{worker}")
                _migrate(connection, template, name, verbosity)
                templates[alias] = template
                # Written at once: if a later alias fails, the controller still drops this one.
                made.write_text(json.dumps(templates))
            _copy(connection, template, name)
            settings.DATABASES[alias]["NAME"] = name
            connection.settings_dict["NAME"] = name
            connection.close()
            if alias in serialized_aliases:
                connection._test_serialized_contents = (  # type: ignore[attr-defined]
                    connection.creation.serialize_db_to_string()
                )
            old_names.append((connection, old_name, True))
    return old_names


def _migrate(connection: BaseDatabaseWrapper, template: str, name: str, verbosity: int) -> None:
    """The template, created (replacing one a broken run left) and migrated the way
    pytest-django creates a test database; then no connection is left on it, which
    PostgreSQL requires of a template."""
    connection.settings_dict["TEST"]["NAME"] = template
    try:
        connection.creation.create_test_db(verbosity=verbosity, autoclobber=True)
    finally:
        connection.settings_dict["TEST"]["NAME"] = name
    connection.close()
    if close_pool := getattr(connection, "close_pool", None):
        close_pool()


def _copy(connection: BaseDatabaseWrapper, template: str, name: str) -> None:
    if connection.vendor == "postgresql":
        quote = connection.ops.quote_name
        with connection.creation._nodb_cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS {quote(name)}")
            cursor.execute(f"CREATE DATABASE {quote(name)} TEMPLATE {quote(template)}")
    elif connection.vendor == "sqlite":
        copy_sqlite(template, name)
    else:
        raise NotImplementedError(f"no copy of a test database on {connection.vendor}")


def copy_sqlite(source: str | Path, target: str | Path) -> None:
    """A SQLite database copied with the backup API, not as a file: it reads a consistent
    database, the write-ahead log included. What a former copy left at `target` goes."""
    for leftover in (f"{target}", f"{target}-wal", f"{target}-shm"):
        Path(leftover).unlink(missing_ok=True)
    with (
        closing(sqlite3.connect(source)) as reading,
        closing(sqlite3.connect(target)) as writing,
    ):
        reading.backup(writing)


# A SQLite database's files: its write-ahead log and shared memory (SQLite removes them when
# the last connection closes), and the turns its writers take (messagecenter/db/sqlite3).
SQLITE_FILES = ("", "-wal", "-shm", "-writer.lock", "-writer.queue")


def remove_sqlite_files(name: str) -> None:
    for suffix in SQLITE_FILES:
        Path(f"{name}{suffix}").unlink(missing_ok=True)


def destroy_test_databases(old_names: OldNames, verbosity: int) -> None:
    """django.test.utils.teardown_databases, and then, on SQLite, the files the test
    databases leave: Django removes the database file alone, and its write-ahead log and
    shared memory stay whenever the last connection to it never closed — a `messagecenter
    serve` the tests started (tests/realtime/servers.py) exits without closing its
    connections, and test_durability.py SIGKILLs servers on purpose; by then this process
    has none open that could close last and remove them."""
    names = [
        connection.settings_dict["NAME"]
        for connection, _, destroy in old_names
        if destroy
        and connection.vendor == "sqlite"
        and not connection.creation.is_in_memory_db(connection.settings_dict["NAME"])
    ]
    teardown_databases(old_names, verbosity=verbosity)
    for name in names:
        remove_sqlite_files(name)


def drop_templates(folder: Path) -> None:
    """The controller, once the workers are done: the templates they copied from."""
    made = folder / TEMPLATES_FILE
    if not made.exists():
        return
    for alias, template in json.loads(made.read_text()).items():
        connection = connections[alias]
        if connection.vendor == "sqlite":
            remove_sqlite_files(template)
        else:
            connection.creation._destroy_test_db(template, verbosity=0)
    made.unlink()


# After a transactional test, Django's `flush` empties every table, then sends post_migrate,
# whose handlers look up and make again every model's content type and permissions: nine
# tenths of the teardown's time on SQLite (0.5 s a test alone, 3–5 s with both passes of
# `make test` side by side), after each of the suite's hundreds of such tests. Those rows
# are the same after every test (a test that runs `flush` itself, as
# tests/bench/test_generate.py does, has them made again alike), so the two tables are
# kept and the signal is not sent. Their counts are compared with those the test database
# started with after each such test: one that changed them fails, and they are made again
# as `flush` would, so that the tests after it start as before.
#
# On PostgreSQL, flush's one TRUNCATE of the other 70-odd tables took 0.4 s even with them
# empty (a new file for each table and index). DELETE takes 30 ms there, 70 ms after the
# benchmarks' small dataset, with the foreign keys' triggers off for it
# (session_replication_role, a superuser's setting: the suite's user is one; where it is
# not, TRUNCATE as before). With them on, each deleted row's check ran at the commit: 1.2 s
# for that dataset. The tables are locked first against writers, as TRUNCATE's lock did:
# a server's thread or a worker still writing when the test ends is waited for, and
# writes nothing after.
KEPT_AFTER_A_TEST = ("django_content_type", "auth_permission")
# Per database alias: the tables to empty, whether DELETE may skip the triggers, and the
# kept tables' row counts as the test database started (remember_kept_rows).
_emptied: dict[str, list[str]] = {}
_skips_triggers: dict[str, bool] = {}
_kept_counts: dict[str, tuple[int, ...]] = {}


def remember_kept_rows(aliases: set[str]) -> None:
    """Once the test databases are set up (tests/conftest.py, django_db_setup): how many
    rows KEPT_AFTER_A_TEST have, for empty_after_a_test to compare."""
    for alias in aliases:
        _kept_counts[alias] = _kept_rows(connections[alias])


def empty_after_a_test(test_case: TransactionTestCase) -> None:
    """TransactionTestCase._fixture_teardown (tests/conftest.py): each of the test's
    databases emptied as `flush` empties it, all but KEPT_AFTER_A_TEST."""
    for alias in test_case._databases_names(include_mirrors=False):
        connection = connections[alias]
        if alias not in _emptied:
            tables = connection.introspection.django_table_names(
                only_existing=True, include_views=False
            )
            _emptied[alias] = [table for table in tables if table not in KEPT_AFTER_A_TEST]
            _skips_triggers[alias] = connection.vendor == "postgresql" and _is_superuser(connection)
        quote = connection.ops.quote_name
        # SET LOCAL lasts to the end of the transaction: inside an outer one (never so
        # far) it would outlast the emptying.
        if _skips_triggers[alias] and not connection.in_atomic_block:
            listed = ", ".join(quote(table) for table in _emptied[alias])
            statements = [
                f"LOCK TABLE {listed} IN SHARE ROW EXCLUSIVE MODE",
                "SET LOCAL session_replication_role = replica",
                *(f"DELETE FROM {quote(table)}" for table in _emptied[alias]),
            ]
        else:
            statements = connection.ops.sql_flush(no_style(), _emptied[alias])
        connection.ops.execute_sql_flush(statements)
        counts = _kept_rows(connection)
        started = _kept_counts.setdefault(alias, counts)
        if counts != started:
            # Made again as `flush` makes them, for the tests after this one.
            connection.ops.execute_sql_flush(
                connection.ops.sql_flush(no_style(), list(KEPT_AFTER_A_TEST), allow_cascade=True)
            )
            emit_post_migrate_signal(verbosity=0, interactive=False, db=alias)
            raise AssertionError(
                f"a test changed {' or '.join(KEPT_AFTER_A_TEST)}, which are kept from test "
                f"to test (tests/databases.py): {started} rows as the database started, "
                f"{counts} after it"
            )


def _kept_rows(connection: BaseDatabaseWrapper) -> tuple[int, ...]:
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT "
            + ", ".join(f"(SELECT COUNT(*) FROM {quote(table)})" for table in KEPT_AFTER_A_TEST)
        )
        return tuple(cursor.fetchone())


def _is_superuser(connection: BaseDatabaseWrapper) -> bool:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return bool(cursor.fetchone()[0])
