"""Group commit: concurrent writes of a process applied together in one transaction
(docs/decisions/0010-group-commit.md).

A send waits for the database twice whatever it does — its transaction's start (SQLite's
write lock, PostgreSQL's first row lock) and its commit (the WAL flush) — and on SQLite
every other writer of every process waits behind it. Here the threads of a process hand
their unit of work to one writer: whoever finds no writer running becomes it at once (a
lone send is not delayed), takes every unit waiting at that moment, and runs them one
after the other in one transaction, then commits once and answers each caller. Meanwhile
the next callers queue; if any have, the process's writer thread takes over and writes
batch after batch until none are waiting, while the caller that led goes to answer its
own request.

Every unit keeps its own guarantees, because each is the same code that would run alone:
- a unit that raises fails alone: the batch's units run together, and when one raises
  the transaction is rolled back and they run again in a new one, each in its own
  savepoint, where the failing one is rolled back to its own and its caller gets its
  exception, its batch-mates untouched;
- a unit that fails for a reason that is not its own (a deadlock with another process,
  a lost connection, a failed commit) is run again alone, in its own transaction;
- on-commit callbacks (realtime publishes) run after the one commit, in the thread that
  wrote the batch (the leader's, or the writer thread's), and those of a unit rolled back
  to its savepoint are discarded (Django's own savepoint bookkeeping); one that raises
  is logged, and the units, stored, are answered with their results, however they were
  written (in a batch, alone, or again alone after their batch failed);
- units inside a caller's own transaction run there, directly: the caller commits them.

What every unit of a batch appends — search and mailbox rows, events, counters' moves,
e-mails — a unit hands to `together`: the batch writes it once for all its units, after
the last one, in one statement per table (multi-row), where each unit wrote its own.
"""

import logging
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Protocol, cast

from django.conf import settings
from django.db import DatabaseError, IntegrityError, close_old_connections, connection, transaction

from messagecenter.rows import pipelined

logger = logging.getLogger(__name__)

# Units one batch takes at most (the writer's thread goes on with the rest): bounds a
# transaction's length, and so the wait of the first unit in it.
MAX_BATCH = 64

# How long after a batch is answered its writer waits, at most, for that batch's callers
# to come back with their next units, and the share of a batch's callers that must be seen
# coming back before the next batch is answered (a moving average) for it to wait at all
# (GroupCommitter._gather).
GATHER_SECONDS = 0.005
GATHER_SHARE = 0.9


# A flush function and the items units gave it, in the units' order.
type _Pile = dict[Callable[[list[Any]], object], list[Any]]

# The pile of the unit running in this thread (the writer's), None outside a unit.
_running = threading.local()

# The flushes given `early=True` (together).
_EARLY: set[Callable[[list[Any]], object]] = set()


def together[T](
    flush: Callable[[list[T]], object], items: Iterable[T], *, early: bool = False
) -> None:
    """`flush(items)` — at once, or, inside a unit of a batch, once for the whole batch:
    after its last unit, in its transaction, with the items of every unit that succeeded
    in the units' order (a unit rolled back to its savepoint takes its items with it).

    For writes nothing in the batch reads back before the commit and whose outcome does not
    depend on being split — appending rows, adding to counters —, so that N batched sends
    cost one statement each where they cost N. `flush` is a module-level function: it names
    the pile (flushes run in the order the batch first met them).

    `early`: written right after the batch's units, before its `before_flush` takes the
    locks of rows only the other piles touch — for updates of rows its units already
    lock or would have updated themselves (participants, a conversation's last message),
    which must keep their place in the lock order. What the units read of those rows
    they keep up to date themselves (the send path's `_BatchReads`). A unit that runs in
    its own savepoint after a batch-mate failed writes its early items at its end, in
    its savepoint, where its batch-mates read them from the database."""
    if early:
        _EARLY.add(flush)
    pile: _Pile | None = getattr(_running, "pile", None)
    if pile is None:
        flush(list(items))
    else:
        pile.setdefault(flush, []).extend(items)


def _give_back_connection() -> None:
    """A unit that waits for another thread's batch needs no connection of its own until it
    is answered: its work runs in the writer's thread, on the writer's connection. On
    PostgreSQL this thread's connection (taken for the request's reads before the send —
    the token, the checks) goes back to the process's pool for the wait, as it would at the
    request's end, so waiting sends hold no connection and a batch can hold more sends than
    the pool has connections (docs/benchmarks.md, "Sends: a pool of their own"). Should the
    caller need the database again — a unit run again alone, a key's message looked up
    after a unique-key race, a held message recorded — Django takes one from the pool as
    for any first query; a send answered from its batch does not. On SQLite each thread
    keeps its own connection (no pool): nothing is given back."""
    pooled = connection.vendor == "postgresql" and getattr(connection, "pool", None)
    if pooled and connection.connection is not None:
        connection.close()


class _Undone(Exception):
    """The batch's own writes failed (not one unit's): roll it all back, each unit alone."""


class _OneFailed(Exception):
    """A unit of the batch raised: roll the batch back, each unit again in its savepoint."""


@dataclass
class _Unit:
    work: Callable[[], Any]
    # What the unit will lock and read (for sends: its conversation, and its sender's
    # idempotency key), for prepare(); None when unknown.
    key: Any = None
    done: threading.Event = field(default_factory=threading.Event)
    result: Any = None
    error: BaseException | None = None
    # Failed for a reason that was not its own: run again alone.
    retry_alone: bool = False
    # The thread that handed it in.
    caller: int = field(default_factory=threading.get_ident)


class Prepared(Protocol):
    """What a batch's `prepare` read and locked for its units (see GroupCommitter)."""

    def before_flush(self) -> None:
        """Right before the batch writes its units' piled rows."""


def prepared() -> Prepared | None:
    """In a unit: what its batch's `prepare` returned; None for a unit alone (or outside
    any), which reads for itself."""
    return cast(Prepared | None, getattr(_running, "prepared", None))


class GroupCommitter[K]:
    """`prepare(keys)`, when given, runs first in a batch's transaction with the keys of
    its units (those given one), in their order. It takes their row locks in one order (a
    unit alone takes its own), so two batches, or a batch and another action, cannot lock
    the same rows in opposite orders and deadlock; and it may read at once what each unit
    would read for itself, which the units then find through `prepared()` — one
    statement for the batch where each unit ran its own.

    Its `before_flush()` takes the locks of rows only the piled writes touch (`together`),
    right before them: those locks are then held for the flush and the commit, not for
    the whole batch — rows many batches share (a seller's unread counters and event
    stream, written by every buyer's message) stop making the batches of other processes
    wait one behind another."""

    def __init__(self, prepare: Callable[[list[K]], Prepared | None] | None = None) -> None:
        self.prepare = prepare
        self._lock = threading.Lock()
        self._arrived = threading.Condition(self._lock)
        self._waiting: list[_Unit] = []
        self._writing = False
        # For _gather: the callers of the last batch not back yet, how many it had, how
        # many are back, and when it was answered; the share of a batch's callers back
        # before the next batch is answered (a moving average); whether a writer is
        # waiting for them.
        self._answered: set[int] = set()
        self._answered_count = 0
        self._back = 0
        self._answered_at = 0.0
        self._come_back = 0.0
        self._gathering = False
        # The writer's thread, started at the first hand-over (_lead), and its signal.
        self._writer: threading.Thread | None = None
        self._handed_over = threading.Event()
        # Figures for tests and benchmarks: transactions committed and units in them.
        self.batches = 0
        self.units = 0

    def run[T](self, work: Callable[[], T], *, key: K | None = None) -> T:
        """`work()` in a transaction, possibly with other threads' work; returns its
        result or raises its exception once that transaction has committed."""
        if connection.in_atomic_block or not settings.GROUP_COMMIT:
            return _alone(work)
        # Run in whichever thread writes its batch: what it needs of its request it
        # takes as arguments — Django's active time zone and language are the writer
        # thread's (thread-local), so a unit names its zone (timezone.override).
        unit = _Unit(work, key)
        with self._lock:
            self._waiting.append(unit)
            returning = unit.caller in self._answered
            if returning:
                self._answered.discard(unit.caller)
                self._back += 1
            lead = not self._writing
            if lead:
                self._writing = True
            elif self._gathering and (not self._answered or len(self._waiting) >= MAX_BATCH):
                self._arrived.notify()
        if lead:
            self._lead(gather=returning)
        else:
            _give_back_connection()
            unit.done.wait()
        if unit.retry_alone:
            return _alone(work)
        if unit.error is not None:
            raise unit.error
        return cast(T, unit.result)

    def _lead(self, *, gather: bool) -> None:
        """The caller found no writer at work: it writes the units waiting now, its own
        among them, at once. If more have queued behind that batch, the writer's thread
        takes over and the caller goes to answer its request: a caller that went on
        writing while others queued kept its own answer back for as long as they kept
        coming — up to 3.7 s and 184 batches in one run of 32 senders (docs/benchmarks.md,
        "Sends: a pool of their own")."""
        if not self._write_batch(gather=gather):
            return
        with self._lock:
            # Under the lock the writer's thread takes when it ends (below): a hand-over
            # never goes to a thread that is stopping.
            if self._start_writer():
                self._handed_over.set()
                return
        # No thread to be had (the system's limit): the caller writes the rest itself.
        while self._write_batch():
            pass

    def _start_writer(self) -> bool:
        """With the lock held: the writer's thread running, started if it is not; False
        when no thread could be started."""
        if self._writer is None:
            writer = threading.Thread(
                target=self._write_when_handed_over, name="group-commit", daemon=True
            )
            try:
                writer.start()
            except RuntimeError:
                return False
            self._writer = writer
        return True

    def _write_when_handed_over(self) -> None:
        """The writer's thread: after each hand-over, batch after batch until none are
        waiting (then the next caller leads again), its connection given back between."""
        try:
            while True:
                self._handed_over.wait()
                self._handed_over.clear()
                try:
                    while self._write_batch():
                        pass
                    _give_back_connection()
                except Exception:
                    # The writer's own failure, not a unit's (those go to their callers):
                    # giving its connection back, say. It goes on.
                    logger.exception("in the group commit's writer thread")
        finally:
            # Ended by an interruption (_write_batch answered its units and raised it
            # again): the next hand-over starts another thread, and one that came since
            # the last batch is taken over by another now — or, with no thread to be had,
            # its callers run their work alone.
            stranded: list[_Unit] = []
            with self._lock:
                self._writer = None
                if self._handed_over.is_set() and not self._start_writer():
                    stranded = self._stop_writing()
            _run_alone(stranded)

    def _stop_writing(self) -> list[_Unit]:
        """With the lock held: the writing ends, and the units waiting are taken off the
        queue (for their callers to run alone, `_run_alone`)."""
        stranded, self._waiting, self._writing = self._waiting, [], False
        return stranded

    def _gather(self) -> None:
        """With the lock held, before a batch is taken: wait for the callers the last batch
        answered a moment ago to come back with their next units — until all have, or a
        batch's worth waits, GATHER_SECONDS after that batch at most —, where callers are
        seen to come back so.

        A thread that sends again as soon as it is answered (a worker draining a queue of
        sends, a script, the in-process benchmark) comes back in a moment, and the callers
        of one batch then come back together; without this wait the first back wrote
        alone and the rest queued behind it, and a process's callers split into two
        halves taking turns — with eight of them, batches of one unit and of eight, one,
        eight…, or four and four —, each batch paying the round trips and row locks of a
        whole transaction: the send action alone went ≈ 1.4× faster with them gathered
        (docs/benchmarks.md, "Sends: a batch's callers gathered"). Over HTTP the thread a
        batch answered goes back to the lane's pool, and the next send comes on another
        one: nothing is waited for there — waiting, even now and then, made the two
        processes' batches meet on the sellers' rows and cost PostgreSQL a sixth more CPU
        a send. So the wait is for the threads of the last batch, and only while more than
        nine in ten of a batch's threads come back before the next batch is answered
        (GATHER_SHARE, a moving average over batches) — where they would have made it into
        that batch had it waited —, until a wait in which one did not come back in time. A
        lone caller never waits: the last batch held only its own unit, or was answered
        more than GATHER_SECONDS ago, or the caller was not in it."""
        left = self._answered_at + GATHER_SECONDS - time.monotonic()
        if not self._answered or left <= 0 or self._come_back <= GATHER_SHARE:
            return
        self._gathering = True
        try:
            came = self._arrived.wait_for(
                lambda: not self._answered or len(self._waiting) >= MAX_BATCH, left
            )
        finally:
            self._gathering = False
        if not came:
            # One of them did not come back in time: no more waiting until callers are
            # seen coming back again.
            self._come_back = 0.0

    def _answer(self, batch: list[_Unit]) -> None:
        """With the lock held, once `batch` is answered: what _gather will wait for. A
        caller already back (it queued again before this ran) counts as back; one that
        runs its work alone is not waited for."""
        if self._answered_count > 1:
            self._come_back += (self._back / self._answered_count - self._come_back) / 4
        callers = {unit.caller for unit in batch if not unit.retry_alone}
        queued = {unit.caller for unit in self._waiting}
        self._answered = callers - queued
        self._answered_count, self._back = len(callers), len(callers & queued)
        self._answered_at = time.monotonic()

    def _write_batch(self, *, gather: bool = True) -> bool:
        """The units waiting now, as one batch. True when more wait behind it (the writing
        goes on), False when none do (it ends, and the next caller leads). `gather`: False
        for a caller that leads and was not in the last batch, which never waits."""
        with self._lock:
            try:
                if gather:
                    self._gather()
            except BaseException:
                # Interrupted while waiting, nothing taken yet: whoever waits runs alone.
                _run_alone(self._stop_writing())
                raise
            batch = self._waiting[:MAX_BATCH]
            del self._waiting[:MAX_BATCH]
            if not batch:
                self._writing = False
                return False
        try:
            self._apply(batch)
        except Exception:
            # After the commit (an on-commit callback that raised; _apply answers every
            # other failure itself): the units are stored and answered; the writer goes
            # on with the next ones.
            logger.exception("after a group commit")
        except BaseException:
            # Interrupted: whoever waits runs their own work alone.
            with self._lock:
                stranded = self._stop_writing()
            for unit in [*batch, *stranded]:
                if not unit.done.is_set() and unit.result is None and unit.error is None:
                    unit.retry_alone = True
                unit.done.set()
            raise
        finally:
            for unit in batch:
                unit.done.set()
        with self._lock:
            self._answer(batch)
            if self._waiting:
                return True
            self._writing = False
            return False

    def _apply(self, batch: list[_Unit]) -> None:
        if len(batch) == 1:
            # Alone: what the unit would do without group commit; its piled writes are its
            # own, so a failure there is its own too.
            unit = batch[0]
            stored: list[bool] = []
            try:
                with transaction.atomic():
                    transaction.on_commit(lambda: stored.append(True))
                    pile: _Pile = {}
                    unit.result = _piling(unit.work, pile)
                    with pipelined(commit=True):
                        _flush(pile)
            except Exception as error:
                if stored:
                    # An on-commit callback raised: the unit is stored, and its caller
                    # gets its result, as in a batch.
                    logger.exception("after a group commit")
                else:
                    unit.result, unit.error = None, error
            self._count(1)
            return
        committed: list[bool] = []
        try:
            try:
                self._write(batch, committed, one_by_one=False)
            except _OneFailed:
                # One unit raised: the transaction was rolled back, and each unit runs again
                # in a new one, in a savepoint of its own, where a failure stays its own.
                self._write(batch, committed, one_by_one=True)
        except Exception:
            if committed:
                # An on-commit callback raised: the units are stored, and answered
                # (_write_batch logs it).
                self._count(len(batch))
                raise
            # The commit failed, the transaction could not go on, the batch's own reads or
            # writes failed: nothing of the batch was stored. Each caller runs its own work
            # alone (where such a failure is its own).
            for unit in batch:
                unit.retry_alone, unit.result, unit.error = True, None, None
            close_old_connections()
            return
        self._count(len(batch))

    def _write(self, batch: list[_Unit], committed: list[bool], *, one_by_one: bool) -> None:
        """The batch in one transaction: its units together (_all_together), or each in a
        savepoint of its own (_each_in_its_savepoint), then what they piled. `committed`
        gets True once the transaction has committed, before any other on-commit
        callback runs."""
        with transaction.atomic():
            transaction.on_commit(lambda: committed.append(True))
            ready: Prepared | None = None
            if self.prepare is not None:
                ready = self.prepare([unit.key for unit in batch if unit.key is not None])
            # One by one, each unit reads for itself (prepare's locks still taken first, in
            # their order): a unit rolled back to its savepoint would leave what it changed
            # of the batch's reads in memory (`together`, early) for the next.
            _running.prepared = None if one_by_one else ready
            try:
                batch_pile = _each_in_its_savepoint(batch) if one_by_one else _all_together(batch)
            finally:
                _running.prepared = None
            try:
                with pipelined(commit=True):
                    if ready is not None:
                        ready.before_flush()
                    _flush(batch_pile)
            except Exception as error:
                raise _Undone from error

    def _count(self, units: int) -> None:
        self.batches += 1
        self.units += units


def _alone[T](work: Callable[[], T]) -> T:
    """`work()` in a transaction of its own (a savepoint inside the caller's). An on-commit
    callback that raises is logged: the work is stored, and its result returned."""
    stored: list[bool] = []
    results: list[T] = []
    try:
        with transaction.atomic():
            transaction.on_commit(lambda: stored.append(True))
            results.append(work())
    except Exception:
        if not stored:
            raise
        logger.exception("after a commit of a unit alone")
    return results[0]


def _run_alone(units: list[_Unit]) -> None:
    """Each unit's caller runs its work alone, in its own transaction."""
    for unit in units:
        unit.retry_alone = True
        unit.done.set()


def _all_together(batch: list[_Unit]) -> _Pile:
    """Every unit, one after the other, with no savepoint: what the batch piled, or
    _OneFailed when a unit raised (every unit's result dropped; the caller's transaction
    is then rolled back whole).

    Units almost never fail (a refusal, a rule), and a savepoint costs two statements, each
    a round trip to PostgreSQL: one for each unit was a fifth of a send's statements in the
    writer, one around them all still two of a batch's eleven round trips
    (docs/benchmarks.md, "Sends: a batch's units without a savepoint"). So they run
    together, and only when one fails does the batch run again, each unit in its own."""
    # One pile for all: if any unit fails, the whole of it is dropped.
    batch_pile: _Pile = {}
    try:
        for unit in batch:
            unit.result = _piling(unit.work, batch_pile)
        with pipelined():
            _flush_early(batch_pile)
    except Exception as error:
        for unit in batch:
            unit.result = None
        raise _OneFailed from error
    except BaseException:
        for unit in batch:
            unit.result = None
        raise
    return batch_pile


def _each_in_its_savepoint(batch: list[_Unit]) -> _Pile:
    """Every unit in a savepoint of its own: a unit that fails is rolled back alone, and
    its caller gets its exception (or, when the failure is not its own, runs again
    alone); what the others piled is returned."""
    batch_pile: _Pile = {}
    for unit in batch:
        unit_pile: _Pile = {}
        try:
            with transaction.atomic():
                unit.result = _piling(unit.work, unit_pile)
                _flush_early(unit_pile)
        except IntegrityError as error:
            # Its own: a unique key it broke (its savepoint is gone, the transaction goes
            # on).
            unit.error = error
        except DatabaseError:
            # Not its own (a deadlock, a lost connection): alone, later.
            unit.retry_alone = True
        except Exception as error:  # noqa: BLE001 (raised again in its caller's thread)
            unit.error = error
        else:
            for flush, items in unit_pile.items():
                batch_pile.setdefault(flush, []).extend(items)
    return batch_pile


def _piling[T](work: Callable[[], T], pile: _Pile) -> T:
    """`work()` with what it hands to `together` put on `pile`."""
    _running.pile = pile
    try:
        return work()
    finally:
        _running.pile = None


def _flush(pile: _Pile) -> None:
    _flush_early(pile)
    for flush, items in pile.items():
        if items:
            flush(items)


def _flush_early(pile: _Pile) -> None:
    """What units gave `together` with `early=True`, written and taken off the pile."""
    for flush in [flush for flush in pile if flush in _EARLY]:
        items = pile.pop(flush)
        if items:
            flush(items)
