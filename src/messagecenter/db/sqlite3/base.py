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

Across processes (two server processes and the worker on one database file), the writer
of each process then takes a file lock beside the database (`flock`), so the processes
take turns on it too instead of in SQLite's busy handler: one writer for the whole
process group. Together with group commit (db/group_commit.py) a process takes its turn
once for all the sends waiting in it.

Turns alternate: a process first takes a second file lock, the queue, and lets go of it
once it holds the turn. A process that has just written and wants to write again finds the
queue held by the one waiting and goes after it. With the turn alone, the process that had
just let go usually took it straight back (the other was asleep between tries), and its
sends kept going while the other process's waited for seconds (p99 ≈ 1.2 s at p50 ≈ 150 ms
with 32 clients, docs/benchmarks.md).
"""

import fcntl
import os
import threading
import time
from collections import deque
from typing import Any

from django.db import OperationalError
from django.db.backends.sqlite3 import base


class _InOrder:
    """A lock its waiters get in the order they asked for it: a release hands it straight
    to the first one waiting. A thread lock lets whichever thread runs first take it, and
    the thread that has just let go usually does: the e-mail sender, writing chunk after
    chunk, kept an unsubscribe waiting through eight of its chunks (and the suite's test
    that the next chunks see it failed now and then: tests/db/test_sqlite_writers.py)."""

    def __init__(self) -> None:
        self._guard = threading.Lock()
        self._held = False
        self._waiting: deque[threading.Lock] = deque()

    def acquire(self, timeout: float) -> bool:
        with self._guard:
            if not self._held:
                self._held = True
                return True
            handed = threading.Lock()
            handed.acquire()
            self._waiting.append(handed)
        if handed.acquire(timeout=timeout):
            return True
        with self._guard:
            if handed in self._waiting:
                self._waiting.remove(handed)
                return False
        # Handed over between the timeout and the guard: it is this thread's now.
        return True

    def release(self) -> None:
        with self._guard:
            if self._waiting:
                # Held still, by the next in line.
                self._waiting.popleft().release()
            else:
                self._held = False

    def locked(self) -> bool:
        return self._held


# One per process: the writers of all its threads take turns on it, in order.
_WRITER = _InOrder()
# The file locks' descriptors, by path: opened once per process (a flock belongs to the open
# file, and the threads of a process already take turns on _WRITER).
_LOCK_FILES: dict[str, int] = {}
# Between tries for another process's turn: short, a write transaction takes milliseconds.
_RETRY_SECONDS = 0.0005


def _lock_files(database: str) -> tuple[int, int] | None:
    """The queue's and the turn's lock file descriptors; None for an in-memory database
    (one process only)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return _open_lock(f"{database}-writer.queue"), _open_lock(f"{database}-writer.lock")


def _open_lock(path: str) -> int:
    descriptor = _LOCK_FILES.get(path)
    if descriptor is None:
        descriptor = _LOCK_FILES[path] = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    return descriptor


def _take_turn(queue: int, turn: int, timeout: float) -> bool:
    """The turn, after whoever already waits for it (see the module's docstring)."""
    deadline = time.monotonic() + timeout
    if not _take(queue, deadline):
        return False
    try:
        return _take(turn, deadline)
    finally:
        fcntl.flock(queue, fcntl.LOCK_UN)


def _take(descriptor: int, deadline: float) -> bool:
    while True:
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return True
        except BlockingIOError:
            if time.monotonic() >= deadline:
                return False
            time.sleep(_RETRY_SECONDS)


class DatabaseWrapper(base.DatabaseWrapper):
    # The methods below are Django's own hooks for a backend (django-stubs lists only the
    # public ones, hence the type: ignore on each call to the original).
    _holds_writer = False
    _held_file: int | None = None

    def _start_transaction_under_autocommit(self) -> None:
        timeout = float(self.settings_dict["OPTIONS"].get("timeout", 5))
        if not _WRITER.acquire(timeout=timeout):
            raise OperationalError("database is locked")
        self._holds_writer = True
        try:
            files = _lock_files(str(self.settings_dict["NAME"]))
            if files is not None:
                if not _take_turn(*files, timeout):
                    raise OperationalError("database is locked")
                self._held_file = files[1]
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
        if self._held_file is not None:
            fcntl.flock(self._held_file, fcntl.LOCK_UN)
            self._held_file = None
        if self._holds_writer:
            self._holds_writer = False
            _WRITER.release()
