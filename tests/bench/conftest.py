"""What the tests of the benchmark scripts share."""

from pathlib import Path

import pytest
from django.conf import settings

from tests.databases import copy_sqlite, on_postgresql


@pytest.fixture
def migrated_sqlite(request: pytest.FixtureRequest, tmp_path: Path) -> Path:
    """A SQLite file of its own for a benchmark script the test runs in a subprocess, with
    every migration applied, so that the script's `migrate` has nothing left to do: the
    whole history on a new file cost ≈ 7 s of CPU, 25–35 s of such a test with both passes
    of `make test` running. On the SQLite pass, a copy of this worker's test database
    (tests/databases.py: migrated once per pass, emptied after every test but for the
    content types and permissions, which the migrations make too), by the backup API. On
    PostgreSQL (run there only with --every-test) there is none to copy: a path with no
    file yet, which the script creates and migrates itself; so too when no test of the
    session opens the database (these tests run alone): none was set up.

    The test database is asked for here, not in a test's signature: a test that lists a
    database fixture counts as opening the configured database, and the PostgreSQL pass
    would run it too (tests/conftest.py, runs_once), though its script runs on this file."""
    path = tmp_path / "bench.sqlite3"
    if on_postgresql():
        return path
    request.getfixturevalue("django_db_setup")
    database = settings.DATABASES["default"]
    test_database = database["TEST"]["NAME"]
    if database["NAME"] != test_database or not Path(test_database).exists():
        return path
    copy_sqlite(test_database, path)
    return path
