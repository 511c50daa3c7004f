"""The test run itself: which database it is on, and that CI really runs the backends."""

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import connection, connections
from django.db.migrations.executor import MigrationExecutor
from django.db.utils import load_backend
from django.test import TransactionTestCase
from pytest_django import DjangoDbBlocker
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Message
from tests.conftest import IN_CI, runs_once
from tests.databases import KEPT_AFTER_A_TEST, destroy_test_databases, empty_after_a_test


def test_the_suite_runs_on_the_database_named_by_database_url(db: None) -> None:
    url = os.environ.get("DATABASE_URL") or "sqlite"
    expected = "postgresql" if url.startswith(("postgres", "postgresql")) else "sqlite"
    assert connection.vendor == expected


def test_sqlite_runs_in_wal_mode_with_immediate_transactions(db: None) -> None:
    if connection.vendor != "sqlite":
        # PostgreSQL: a connection pool per process instead (settings._database).
        assert settings.DATABASES["default"]["OPTIONS"]["pool"]["max_size"] == 20
        return
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA journal_mode")
        assert cursor.fetchone()[0] == "wal"
        cursor.execute("PRAGMA busy_timeout")
        assert cursor.fetchone()[0] == 30_000
    assert settings.DATABASES["default"]["OPTIONS"]["transaction_mode"] == "IMMEDIATE"


def test_ci_flag_is_what_the_environment_says() -> None:
    assert (os.environ.get("CI") == "true") == IN_CI


def test_the_postgresql_pass_leaves_out_only_tests_that_never_open_the_database(
    request: pytest.FixtureRequest,
) -> None:
    """make test's PostgreSQL pass deselects what runs_once says: real test items, built
    here as pytest collects them (fixtures and markers resolved the same way)."""

    def item(test: Callable[..., None]) -> pytest.Function:
        return pytest.Function.from_parent(request.node.parent, name=test.__name__, callobj=test)

    def pure_function() -> None: ...

    def with_settings(settings: Settings) -> None: ...

    def with_db(db: None) -> None: ...

    def through_a_fixture(buyer: User) -> None: ...

    @pytest.mark.django_db(transaction=True)
    def marked() -> None: ...

    def with_live_server(live_server: LiveServer) -> None: ...

    def with_the_test_database(django_db_setup: None) -> None: ...

    def only_unblocking(django_db_blocker: DjangoDbBlocker) -> None: ...

    @pytest.mark.browser
    @pytest.mark.django_db(transaction=True)
    def in_chromium() -> None: ...

    tests = [
        pure_function,
        with_settings,
        with_db,
        through_a_fixture,
        marked,
        with_live_server,
        with_the_test_database,
        only_unblocking,
        in_chromium,
    ]

    assert {test.__name__: runs_once(item(test)) for test in tests} == {
        "pure_function": True,
        "with_settings": True,
        "with_db": False,
        "through_a_fixture": False,
        "marked": False,
        "with_live_server": False,
        "with_the_test_database": False,
        "only_unblocking": True,
        "in_chromium": True,
    }
    # This test itself opens no database: on PostgreSQL it is left to the SQLite pass.
    assert runs_once(request.node)


def test_the_test_database_is_this_workers_copy_with_every_migration_applied(
    request: pytest.FixtureRequest, db: None
) -> None:
    """Under pytest-xdist each worker runs on its own copy of the one migrated template
    (tests/databases.py): the copy is whole, not left at an earlier migration."""
    worker = getattr(request.config, "workerinput", {}).get("workerid")
    if worker:
        assert str(connection.settings_dict["NAME"]).endswith(f"_{worker}")
    executor = MigrationExecutor(connection)
    assert executor.migration_plan(executor.loader.graph.leaf_nodes()) == []
    assert len(executor.loader.applied_migrations) > 40


# A process that writes to a SQLite database in WAL mode and ends without closing it, as a
# `messagecenter serve` the tests started does (tests/realtime/servers.py; test_durability.py
# SIGKILLs them on purpose): its write-ahead log and shared memory stay.
ENDS_WITHOUT_CLOSING = """
import os, sqlite3, sys
database = sqlite3.connect(sys.argv[1])
database.execute("PRAGMA journal_mode=WAL")
database.execute("CREATE TABLE message (body TEXT)")
database.execute("INSERT INTO message VALUES ('Is it in stock?')")
database.commit()
os._exit(0)
"""


def test_a_test_database_goes_with_the_files_a_server_left_beside_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The teardown of the test databases (tests/conftest.py django_db_setup) leaves no
    `-wal` or `-shm` behind in var/: Django removes the database file alone."""
    name = str(tmp_path / "test-messagecenter.sqlite3_gw0")
    subprocess.run([sys.executable, "-c", ENDS_WITHOUT_CLOSING, name], check=True, timeout=60)
    assert sorted(path.name for path in tmp_path.iterdir()) == [
        "test-messagecenter.sqlite3_gw0",
        "test-messagecenter.sqlite3_gw0-shm",
        "test-messagecenter.sqlite3_gw0-wal",
    ]
    alias = "left_behind"
    monkeypatch.setitem(
        settings.DATABASES, alias, {"ENGINE": "django.db.backends.sqlite3", "NAME": name}
    )
    configured = connections.configure_settings(
        {"default": {}, alias: dict(settings.DATABASES[alias])}
    )
    backend = load_backend(configured[alias]["ENGINE"])
    test_database = backend.DatabaseWrapper(configured[alias], alias)

    destroy_test_databases([(test_database, str(tmp_path / "messagecenter.sqlite3"), True)], 0)

    assert list(tmp_path.iterdir()) == []


class _Emptied(TransactionTestCase):
    """What empty_after_a_test is given: the test case whose databases it empties."""

    __test__ = False  # not a test of its own for pytest to collect
    databases = {"default"}


@pytest.mark.django_db(transaction=True)
def test_a_transactional_test_leaves_every_table_empty_but_the_content_types_and_permissions(
    asked: Message,
) -> None:
    tables = connection.introspection.django_table_names(only_existing=True, include_views=False)
    kept = {table: _rows(table) for table in KEPT_AFTER_A_TEST}
    assert all(kept.values())
    assert any(_rows(table) for table in tables if table not in KEPT_AFTER_A_TEST)

    empty_after_a_test(_Emptied())

    assert {table: _rows(table) for table in tables} == {
        table: kept.get(table, 0) for table in tables
    }


@pytest.mark.django_db(transaction=True)
def test_a_test_that_changed_the_content_types_fails_and_they_are_made_again() -> None:
    before = ContentType.objects.count()
    ContentType.objects.filter(app_label="search").delete()

    with pytest.raises(AssertionError, match="a test changed django_content_type"):
        empty_after_a_test(_Emptied())

    assert ContentType.objects.count() == before
    assert ContentType.objects.filter(app_label="search").exists()


def _rows(table: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COUNT(*) FROM {connection.ops.quote_name(table)}")
        return int(cursor.fetchone()[0])
