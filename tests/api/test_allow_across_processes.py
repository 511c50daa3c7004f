"""A wrong method's `Allow` header is the same from every server process: ninja gathered a
path's methods in a set, whose order follows each process's string hashing.

In a module of its own, without the database mark of tests/api/test_openapi.py: the
processes never open a database, so the PostgreSQL pass of `make test` leaves the test to
the SQLite pass (tests/conftest.py, runs_once) rather than start them twice."""

import json
import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

from tests.api.test_openapi import every_path_and_its_methods

# In a new interpreter, as a server process starts: every path's answer to a wrong method.
ALLOW_OF_EVERY_PATH = """
import json, re
import messagecenter.asgi
from django.test import RequestFactory
from django.urls import resolve
from messagecenter.api import api

allowed = {}
for path in api.get_openapi_schema(path_prefix="/api/v1/")["paths"]:
    address = re.sub(r"\\{[^}]+\\}", "1", path)
    allowed[path] = resolve(address).func(RequestFactory().generic("TRACE", address))["Allow"]
print(json.dumps(allowed))
"""


def test_two_server_processes_answer_a_wrong_method_alike(tmp_path: Path) -> None:
    """Under these two string-hash seeds ninja's sets gave "POST, GET" in one process and
    "GET, POST" (but "PATCH, DELETE") in the other. Both run at once."""
    environment = {
        **os.environ,
        "MESSAGECENTER_VAR_DIR": str(tmp_path),
        # Never opened: what the processes answer needs no data.
        "DATABASE_URL": f"sqlite:///{tmp_path / 'unused.sqlite3'}",
        "SECRET_KEY": settings.SECRET_KEY,
        "LOG_LEVEL": "WARNING",
    }
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", ALLOW_OF_EVERY_PATH],
            env={**environment, "PYTHONHASHSEED": seed},
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for seed in ("1", "2")
    ]
    answers = []
    for process in processes:
        output, errors = process.communicate(timeout=180)
        assert process.returncode == 0, errors[-3000:]
        answers.append(json.loads(output.strip().splitlines()[-1]))

    first, second = answers
    assert first == second
    assert first == {path: ", ".join(methods) for path, methods in every_path_and_its_methods()}
