"""The test run itself: which database it is on, and that CI really runs the backends."""

import os

from django.conf import settings
from django.db import connection

from tests.conftest import IN_CI


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
