"""The SQLite backend's writers take turns in order within a process
(messagecenter/db/sqlite3/base.py). Runs against a database file of its own, whichever
database the suite is on, driving each connection the way transaction.atomic() does."""

import fcntl
import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from django.db import OperationalError
from django.db.utils import ConnectionHandler

from messagecenter import settings
from messagecenter.db.sqlite3 import base as writers


@pytest.fixture(autouse=True)
def own_database(django_db_blocker: Any) -> Iterator[None]:
    """Not the suite's test database: a file of these tests' own."""
    with django_db_blocker.unblock():
        yield


def connections(tmp_path: Path, timeout: float = 30) -> ConnectionHandler:
    """One connection per thread, like Django's own `connections`."""
    config = settings._database(f"sqlite:///{tmp_path / 'writers.sqlite3'}")
    config["OPTIONS"]["timeout"] = timeout
    handler = ConnectionHandler({"default": config})
    with handler["default"].cursor() as cursor:
        cursor.execute("CREATE TABLE IF NOT EXISTS row (writer INTEGER, number INTEGER)")
    handler["default"].close()
    return handler


def begin(connection: Any) -> None:
    # What transaction.atomic() does on SQLite: BEGIN IMMEDIATE.
    connection.set_autocommit(False, force_begin_transaction_with_broken_autocommit=True)


def end(connection: Any, *, commit: bool) -> None:
    if commit:
        connection.commit()
    else:
        connection.rollback()
    connection.set_autocommit(True)


def test_writers_of_one_process_take_turns_and_all_commit(tmp_path: Path) -> None:
    handler = connections(tmp_path)
    inside = 0
    most_inside = 0
    counting = threading.Lock()
    failures: list[BaseException] = []

    def write(writer: int) -> None:
        nonlocal inside, most_inside
        connection = handler["default"]
        try:
            for number in range(25):
                begin(connection)
                with counting:
                    inside += 1
                    most_inside = max(most_inside, inside)
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO row VALUES (%s, %s)", [writer, number])
                time.sleep(0.0005)  # Python work between statements, as in a send
                with counting:
                    inside -= 1
                end(connection, commit=True)
        except BaseException as error:  # noqa: BLE001 (reported by the assertion below)
            failures.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=write, args=(writer,)) for writer in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert failures == []
    assert most_inside == 1
    with handler["default"].cursor() as cursor:
        cursor.execute("SELECT COUNT(*), COUNT(DISTINCT writer) FROM row")
        assert cursor.fetchone() == (200, 8)


@pytest.mark.parametrize("how", ["commit", "rollback", "close"])
def test_the_next_writer_goes_as_soon_as_a_transaction_ends(tmp_path: Path, how: str) -> None:
    handler = connections(tmp_path)
    started = threading.Event()
    finished = threading.Event()
    waited: list[float] = []

    def first() -> None:
        connection = handler["default"]
        begin(connection)
        # Held by this process's turn, not only by SQLite.
        assert writers._WRITER.locked()
        started.set()
        time.sleep(0.2)
        if how == "close":
            connection.close()
        else:
            end(connection, commit=how == "commit")
            connection.close()
        finished.set()

    def second() -> None:
        started.wait(5)
        connection = handler["default"]
        began = time.perf_counter()
        begin(connection)
        waited.append(time.perf_counter() - began)
        end(connection, commit=True)
        connection.close()

    threads = [threading.Thread(target=first), threading.Thread(target=second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert finished.is_set()
    assert not writers._WRITER.locked()
    # It waited for the first to end (≈ 0.2 s), not for a busy handler's next retry.
    assert 0.1 < waited[0] < 1.5


def test_a_writer_that_waits_past_the_timeout_is_told_the_database_is_locked(
    tmp_path: Path,
) -> None:
    handler = connections(tmp_path, timeout=0.2)
    holding = threading.Event()
    release = threading.Event()
    outcome: list[BaseException | None] = []

    def holder() -> None:
        connection = handler["default"]
        begin(connection)
        holding.set()
        release.wait(5)
        end(connection, commit=True)
        connection.close()

    def latecomer() -> None:
        holding.wait(5)
        connection = handler["default"]
        try:
            begin(connection)
        except OperationalError as error:
            outcome.append(error)
        else:
            outcome.append(None)
            end(connection, commit=True)
        finally:
            connection.close()
            release.set()

    threads = [threading.Thread(target=holder), threading.Thread(target=latecomer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=10)

    assert isinstance(outcome[0], OperationalError)
    assert "locked" in str(outcome[0])


def test_a_writer_holds_the_file_lock_other_processes_queue_on_until_it_ends(
    tmp_path: Path,
) -> None:
    handler = connections(tmp_path)
    connection = handler["default"]
    begin(connection)
    # What another process does: its own open file, so its own lock.
    other_process = os.open(f"{tmp_path / 'writers.sqlite3'}-writer.lock", os.O_RDWR)
    try:
        with pytest.raises(BlockingIOError):
            fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)
        end(connection, commit=True)

        fcntl.flock(other_process, fcntl.LOCK_EX | fcntl.LOCK_NB)
        # And while that process writes, this one waits its turn, then gives up in order.
        handler2 = connections(tmp_path, timeout=0.05)
        with pytest.raises(OperationalError, match="database is locked"):
            begin(handler2["default"])
        handler2["default"].close()
        fcntl.flock(other_process, fcntl.LOCK_UN)
        begin(connection)
        end(connection, commit=False)
    finally:
        os.close(other_process)
        connection.close()


def test_a_process_that_has_just_written_goes_after_one_already_waiting(tmp_path: Path) -> None:
    handler = connections(tmp_path, timeout=0.05)
    connection = handler["default"]
    begin(connection)
    # Another process waits for the turn: it holds the queue while it tries the turn.
    queue = os.open(f"{tmp_path / 'writers.sqlite3'}-writer.queue", os.O_RDWR)
    turn = os.open(f"{tmp_path / 'writers.sqlite3'}-writer.lock", os.O_RDWR)
    try:
        fcntl.flock(queue, fcntl.LOCK_EX | fcntl.LOCK_NB)
        end(connection, commit=True)

        # The turn is free, yet this process does not take it back before the other.
        with pytest.raises(OperationalError, match="database is locked"):
            begin(connection)
        # The other takes the turn and lets go of the queue; this one queues behind it…
        fcntl.flock(turn, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(queue, fcntl.LOCK_UN)
        with pytest.raises(OperationalError, match="database is locked"):
            begin(connection)
        # …and goes once it has written.
        fcntl.flock(turn, fcntl.LOCK_UN)
        begin(connection)
        end(connection, commit=True)
    finally:
        os.close(queue)
        os.close(turn)
        connection.close()


def test_a_writer_that_has_just_written_goes_after_the_threads_already_waiting(
    tmp_path: Path,
) -> None:
    """First come, first served within a process. The e-mail sender writes chunk after
    chunk, each in a transaction of its own: an unsubscribe waiting for its turn must go
    after the chunk in progress, not after however many chunks the sender can start before
    the waiting thread wakes up (a thread lock lets the thread that just let go take it
    straight back; the suite saw an unsubscribe wait through eight chunks of 50 e-mails)."""
    handler = connections(tmp_path)
    in_third = threading.Event()
    asked_at: list[int] = []
    got_in_at: list[int] = []
    committed = 0

    def busy_writer() -> None:
        nonlocal committed
        connection = handler["default"]
        try:
            for number in range(30):
                begin(connection)
                if number == 2:
                    in_third.set()
                with connection.cursor() as cursor:
                    cursor.execute("INSERT INTO row VALUES (1, %s)", [number])
                time.sleep(0.002)  # the chunk's work
                end(connection, commit=True)
                committed += 1
        finally:
            connection.close()

    def latecomer() -> None:
        connection = handler["default"]
        # Connected before: opening the connection inside begin() took the busy writer's
        # time for one or two more chunks on a loaded machine, between asking and queueing.
        connection.ensure_connection()
        in_third.wait(5)
        try:
            asked_at.append(committed)
            begin(connection)
            got_in_at.append(committed)
            end(connection, commit=True)
        finally:
            connection.close()

    threads = [threading.Thread(target=busy_writer), threading.Thread(target=latecomer)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert committed == 30
    # It asked during the busy writer's third transaction (or just after): it goes once
    # that one has ended — at most one more of the busy writer's ends before it.
    assert got_in_at[0] - asked_at[0] <= 1, (asked_at, got_in_at)
