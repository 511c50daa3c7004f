"""Django's SQLite backend, with writers of one process taking turns in order.

Every transaction here starts with BEGIN IMMEDIATE (settings: it takes SQLite's write
lock at once, so no transaction can deadlock upgrading a read to a write). When several
threads of a process want the lock together, SQLite's busy handler makes the losers sleep
and retry — 1, 2, 5, … up to 100 ms between tries, in no order — so under a burst of sends
a few of them waited seconds (p99 2.8 s at 32 clients, docs/benchmarks.md). Here the
threads of a process queue on a lock of their own first and each goes as soon as the one
before commits; only the process's turn is decided by SQLite's busy handler (the worker
and other server processes). Same waits, same "database is locked" after the timeout —
just in order.
"""

import threading
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base

# One per process: the writers of all its threads take turns on it.
_WRITER = threading.Lock()


class DatabaseWrapper(base.DatabaseWrapper):
    # The methods below are Django's own hooks for a backend (django-stubs lists only the
    # public ones, hence the type: ignore on each call to the original).
    _holds_writer = False

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        if not _WRITER.acquire(timeout=timeout):
            raise OperationalError("database is locked")
        self._holds_writer = True
        try:
            super()._start_transaction_under_autocommit()  # type: ignore[misc]
        except BaseException:
            self._release_writer()
            raise

    def _commit(self) -> Any:
        try:
            return super()._commit()  # type: ignore[misc]
        finally:
            self._release_writer()

    def _rollback(self) -> Any:
        try:
            return super()._rollback()  # type: ignore[misc]
        finally:
            self._release_writer()

    def _close(self) -> Any:
        try:
            return super()._close()  # type: ignore[misc]
        finally:
            self._release_writer()

    def _release_writer(self) -> None:
        if self._holds_writer:
            self._holds_writer = False
            _WRITER.release()
