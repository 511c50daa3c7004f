"""Sends committed together (messagecenter/db/group_commit.py), on the suite's database
(SQLite or PostgreSQL), with real threads and committed transactions: every guarantee of
a send holds for each send of a batch."""

import itertools
import queue
import random
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.conf import settings as django_settings
from django.db import IntegrityError, OperationalError, connection, transaction
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from psycopg.pq import Trace
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.actions import sending
from messagecenter.conversations.models import Conversation, Message, Participant, UnreadCounter
from messagecenter.db import group_commit
from messagecenter.delivery.models import Email, EmailKind, EmailStatus
from messagecenter.errors import NotAllowed, NotFound, TooManyRequests
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import EventKind, UserEvent
from messagecenter.rows import insert_rows
from messagecenter.safety import actions as safety_actions
from messagecenter.safety import limits
from messagecenter.safety.models import Block, SendingCount
from messagecenter.search.models import MailboxMessage, SearchDocument
from tests import factories
from tests.conftest import database_vendor
from tests.conversations.helpers import event_sequences, maintained_unread, recounted_unread
from tests.conversations.test_concurrency import in_threads

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def batching(settings: Settings) -> None:
    """Group commit on, whatever the environment says (GROUP_COMMIT=0 turns it off)."""
    settings.GROUP_COMMIT = True


@pytest.fixture
def held_writer() -> Iterator[Callable[[int], None]]:
    """Makes the next writer wait, once it has started, until `waiting` sends queue behind
    it: those then go as one batch, whatever the machine's scheduling."""
    committer = sending.SENDS
    original = committer._apply
    released = threading.Event()

    def hold(waiting: int) -> None:
        def apply(batch: list[group_commit._Unit]) -> None:
            if not released.is_set():
                released.set()
                while len(committer._waiting) < waiting:
                    threading.Event().wait(0.005)
            original(batch)

        committer._apply = apply

    yield hold
    committer._apply = original


def assert_exact(*users: User) -> None:
    """Every counter of these people equals a recount, every event log has no gap."""
    for user in users:
        assert maintained_unread(user) == recounted_unread(user)
        assert event_sequences(user) == list(range(1, len(event_sequences(user)) + 1))


@pytest.fixture
def batch_statements() -> Iterator[list[list[str]]]:
    """The SQL of each batch of more than one send, as the writer's thread ran it (asked
    for before held_writer, which then holds this)."""
    committer = sending.SENDS
    original = committer._apply
    batches: list[list[str]] = []

    def apply(batch: list[group_commit._Unit]) -> None:
        if len(batch) == 1:
            original(batch)
            return
        with CaptureQueriesContext(connection) as captured:
            original(batch)
        batches.append([query["sql"] for query in captured.captured_queries])

    committer._apply = apply
    yield batches
    committer._apply = original


def statements(sql: list[str], verb: str, model: type) -> int:
    table = model._meta.db_table
    return sum(
        1
        for statement in sql
        if statement.startswith(verb) and (f'"{table}"' in statement.split("(")[0].split(" SET")[0])
    )


def test_a_lone_send_is_committed_at_once_in_its_own_transaction(
    buyer: User, product: Product
) -> None:
    before = (sending.SENDS.batches, sending.SENDS.units)

    actions.ask_seller_about_product(buyer, product.pk, "Is it new?")

    assert (sending.SENDS.batches, sending.SENDS.units) == (
        before[0] + 1,
        before[1] + 1,
    )


def test_sends_waiting_together_are_committed_in_one_transaction_and_each_answered(
    buyer: User, seller: User, product: Product, held_writer: Callable[[int], None]
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    held_writer(9)
    before = (sending.SENDS.batches, sending.SENDS.units)

    sent = in_threads(
        [
            lambda n=n: actions.send_message(
                seller if n % 2 else buyer, conversation_id, f"Message {n}"
            )
            for n in range(10)
        ],
        threads=10,
    )

    # The first alone (it held the writer), the nine behind it in one transaction.
    assert (sending.SENDS.batches - before[0], sending.SENDS.units - before[1]) == (
        2,
        10,
    )
    assert sorted(message.body for message in sent) == sorted(f"Message {n}" for n in range(10))
    assert Message.objects.filter(conversation_id=conversation_id).count() == 11
    assert_exact(buyer, seller)


def test_the_send_that_led_is_answered_without_writing_the_batches_queued_behind_it(
    buyer: User, seller: User, product: Product, held_writer: Callable[[int], None]
) -> None:
    """The first send writes its batch at once; the nine that queued meanwhile are written
    by the process's writer thread, not by it: it is answered while they are written."""
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    held_writer(9)
    one_answered = threading.Event()
    answered_before_the_next_batch: list[bool] = []
    original = sending.SENDS._apply

    def apply(batch: list[group_commit._Unit]) -> None:
        if len(batch) > 1:
            answered_before_the_next_batch.append(one_answered.wait(timeout=5))
        original(batch)

    def send(n: int) -> Message:
        message = actions.send_message(seller if n % 2 else buyer, conversation_id, f"M {n}")
        one_answered.set()
        return message

    sending.SENDS._apply = apply  # inside held_writer's hold
    try:
        sent = in_threads([lambda n=n: send(n) for n in range(10)], threads=10)
    finally:
        sending.SENDS._apply = original

    assert answered_before_the_next_batch == [True]
    assert len({message.pk for message in sent}) == 10
    assert_exact(buyer, seller)


def test_sends_waiting_for_a_batch_hold_no_database_connection(
    buyer: User, seller: User, product: Product, held_writer: Callable[[int], None]
) -> None:
    """Each send has used the database before it joins a batch (as a request reads its
    token): while it waits for the writer, its connection is back in the pool (PostgreSQL)
    — only the writer's is taken — so a batch can hold more sends than the pool has
    connections. On SQLite each thread keeps its own (no pool)."""
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    held_writer(9)
    pool = getattr(connection, "pool", None)

    def taken() -> int:
        stats = pool.get_stats() if pool is not None else {}
        return int(stats.get("pool_size", 0) - stats.get("pool_available", 0))

    taken_before = taken()  # this test's own
    taken_while_waiting: list[int] = []
    original = sending.SENDS._apply

    def apply(batch: list[group_commit._Unit]) -> None:
        if len(batch) > 1:
            connection.ensure_connection()  # the writer's own, which the batch takes
            # The leader's goes back once it is answered, a follower's once it reaches its
            # wait: a moment for the last of them.
            deadline = time.monotonic() + 5
            while taken() > taken_before + 1 and time.monotonic() < deadline:
                time.sleep(0.01)
            taken_while_waiting.append(taken())
        original(batch)

    def send(n: int) -> Message:
        User.objects.filter(pk=buyer.pk).exists()  # a connection taken, as for the token
        return actions.send_message(seller if n % 2 else buyer, conversation_id, f"Message {n}")

    sending.SENDS._apply = apply  # inside held_writer's hold
    try:
        sent = in_threads([lambda n=n: send(n) for n in range(10)], threads=10)
    finally:
        sending.SENDS._apply = original

    assert len(sent) == 10
    if database_vendor() == "postgresql":
        # Besides the test's own, the writer's alone: the nine sends waiting in its batch
        # gave theirs back.
        assert taken_while_waiting == [taken_before + 1]
    assert_exact(buyer, seller)


def held(committer: group_commit.GroupCommitter[None], waiting: int) -> None:
    """The committer's first batch waits, once started, until `waiting` units queue behind
    it (held_writer for a committer of the test's own)."""
    original = committer._apply
    released = threading.Event()

    def apply(batch: list[group_commit._Unit]) -> None:
        if not released.is_set():
            released.set()
            deadline = time.monotonic() + 10
            while len(committer._waiting) < waiting and time.monotonic() < deadline:
                time.sleep(0.005)
        original(batch)

    committer._apply = apply  # type: ignore[method-assign]


class Interrupted(BaseException):
    pass


def test_a_writer_thread_interrupted_answers_its_units_and_another_takes_over(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Its batch and those waiting run again alone in their callers' threads; the next
    hand-over starts a new writer thread, and nothing waits forever."""
    monkeypatch.setattr(threading, "excepthook", lambda arguments: None)
    committer = group_commit.GroupCommitter[None]()
    held(committer, 5)
    interrupted = threading.Event()
    original = committer._apply

    def apply(batch: list[group_commit._Unit]) -> None:
        if threading.current_thread().name == "group-commit" and not interrupted.is_set():
            interrupted.set()
            raise Interrupted
        original(batch)

    monkeypatch.setattr(committer, "_apply", apply)
    first_writer: list[threading.Thread | None] = []

    def unit(n: int) -> int:
        first_writer.append(committer._writer)
        return n

    assert in_threads([lambda n=n: committer.run(lambda n=n: unit(n)) for n in range(6)]) == list(
        range(6)
    )
    assert interrupted.is_set()
    deadline = time.monotonic() + 5
    while committer._writer is not None and time.monotonic() < deadline:
        time.sleep(0.01)
    assert committer._writer is None  # the interrupted thread has ended
    held(committer, 5)

    assert in_threads([lambda n=n: committer.run(lambda n=n: n) for n in range(6)]) == list(
        range(6)
    )
    assert committer._writer is not None
    assert committer._writer.is_alive()


def _fails_after_the_commit() -> None:
    raise RuntimeError("after the commit")


def test_a_unit_whose_after_commit_work_raises_is_answered_as_stored(
    caplog: pytest.LogCaptureFixture, settings: Settings
) -> None:
    """Its rows are committed, so its caller gets its result however it was written (alone,
    in a batch, without group commit); the error is logged. A caller told its send failed
    would send it again as a new one."""
    committer = group_commit.GroupCommitter[None]()

    def unit(n: int) -> int:
        person = factories.BuyerFactory(username=f"after-commit-{n}")
        transaction.on_commit(_fails_after_the_commit)
        return int(person.pk)

    alone = committer.run(lambda: unit(0))
    # The first of these leads and writes alone once the other three wait: they go as one
    # batch (started after it, so that it is the one to lead).
    held(committer, 3)
    answers: list[int] = []

    def lead() -> None:
        try:
            answers.append(committer.run(lambda: unit(1)))
        finally:
            connection.close()

    leader = threading.Thread(target=lead)
    leader.start()
    deadline = time.monotonic() + 10
    while not committer._writing and time.monotonic() < deadline:
        time.sleep(0.005)
    answers += in_threads([lambda n=n: committer.run(lambda n=n: unit(n)) for n in range(2, 5)])
    leader.join(timeout=30)
    settings.GROUP_COMMIT = False
    without = committer.run(lambda: unit(5))

    stored = User.objects.filter(username__startswith="after-commit-")
    assert sorted(stored.values_list("pk", flat=True)) == sorted([alone, *answers, without])
    assert (committer.batches, committer.units) == (3, 5)
    assert caplog.text.count("after a group commit") == 3
    assert caplog.text.count("after a commit of a unit alone") == 1


class WaitsCounted(threading.Condition):
    """A committer's condition that counts its waits for callers to come back, and those
    that ended with all of them back."""

    waits = 0
    met = 0

    def wait_for(self, predicate: Callable[[], object], timeout: float | None = None) -> bool:
        self.waits += 1
        came = bool(super().wait_for(predicate, timeout))
        self.met += came
        return came


def counting(committer: group_commit.GroupCommitter[None]) -> tuple[WaitsCounted, list[int]]:
    """The committer's gathering waits counted, and the sizes of its batches in order."""
    waits = WaitsCounted(committer._lock)
    committer._arrived = waits
    sizes: list[int] = []
    original = committer._apply

    def apply(batch: list[group_commit._Unit]) -> None:
        sizes.append(len(batch))
        original(batch)

    committer._apply = apply  # type: ignore[method-assign]
    return waits, sizes


def test_callers_that_send_again_at_once_are_gathered_into_one_batch(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Eight threads each sending again as soon as they are answered (a worker draining a
    queue, the in-process benchmark): once they are seen coming back, each batch waits
    for all of them, where they used to split into batches that took turns (one and seven,
    four and four)."""
    monkeypatch.setattr(group_commit, "GATHER_SECONDS", 0.5)  # however slow the machine
    committer = group_commit.GroupCommitter[None]()
    waits, sizes = counting(committer)

    def unit(n: int) -> int:
        time.sleep(0.005)  # a batch's round trips: callers queue behind it
        return n

    def sender(n: int) -> int:
        for _ in range(30):
            time.sleep(0.0005)  # what a send does before it joins a batch
            committer.run(lambda: unit(n))
        return n

    started = time.monotonic()
    assert in_threads([lambda n=n: sender(n) for n in range(8)], threads=8) == list(range(8))
    assert sum(sizes) == 8 * 30
    # A few batches to see them come back, then all eight together (the last ones may be
    # smaller, as the threads finish one after another).
    assert sizes.count(8) >= 15, sizes
    # Waits that ended as the last of them came back, not at their time limit.
    assert waits.met >= 15
    assert time.monotonic() - started < 0.5 * 8 + 30 * 8 * 0.005


def test_callers_that_do_not_come_back_are_never_waited_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As over HTTP, where the thread a batch answered goes back to the lane's pool and the
    next send comes on another: four senders passed around eight threads, each thread
    handing its sender on to the next thread once answered (so three of a batch's four
    threads may be the next batch's, never all). Nothing is waited for — a lone send or a
    batch goes at once."""
    monkeypatch.setattr(group_commit, "GATHER_SECONDS", 0.5)
    committer = group_commit.GroupCommitter[None]()
    waits, sizes = counting(committer)
    inboxes = [queue.SimpleQueue[int | None]() for _ in range(8)]
    for sender in range(4):
        inboxes[sender * 2].put(sender)
    sends = itertools.count()

    def thread(n: int) -> int:
        sent = 0
        while (sender := inboxes[n].get(timeout=30)) is not None:
            committer.run(lambda: sender)
            sent += 1
            if next(sends) >= 200:
                for inbox in inboxes:
                    inbox.put(None)
            else:
                inboxes[(n + 1) % 8].put(sender)
        return sent

    started = time.monotonic()
    in_threads([lambda n=n: thread(n) for n in range(8)], threads=8)

    assert sum(sizes) >= 200
    assert waits.waits == 0
    assert committer._come_back <= group_commit.GATHER_SHARE
    assert time.monotonic() - started < 20


def test_a_caller_that_was_not_in_the_last_batch_leads_without_waiting(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """After a run of callers coming straight back, a send from another thread (a request,
    say) within the wait's time is written at once: only the last batch's own callers are
    waited for."""
    monkeypatch.setattr(group_commit, "GATHER_SECONDS", 5.0)
    committer = group_commit.GroupCommitter[None]()
    waits, _ = counting(committer)
    held(committer, 3)
    in_threads([lambda n=n: committer.run(lambda n=n: n) for n in range(4)], threads=4)
    assert committer._answered  # the last batch's callers, which are not coming back
    committer._come_back = 1.0  # as after a run of callers coming straight back

    # This thread: alive all along, so not one of theirs under a name used again.
    started = time.monotonic()
    assert committer.run(lambda: "new") == "new"

    assert time.monotonic() - started < 2.5
    assert waits.waits == 0


def test_a_batch_whose_own_reads_fail_runs_each_unit_again_alone() -> None:
    """A failure of the batch's `prepare` (not of a unit's, nor the database's): nothing was
    stored, and each caller runs its own work alone — not answered with nothing."""
    calls: list[int] = []

    def prepare(keys: list[int]) -> group_commit.Prepared | None:
        calls.append(len(keys))
        raise ValueError("the batch's reads")

    committer = group_commit.GroupCommitter[int](prepare=prepare)
    held(committer, 3)  # type: ignore[arg-type]

    assert in_threads([lambda n=n: committer.run(lambda n=n: n, key=n) for n in range(4)]) == [
        0,
        1,
        2,
        3,
    ]
    assert 3 in calls  # the three that queued went as one batch, and its reads failed


def test_a_refused_send_in_a_batch_fails_alone_with_its_own_error(
    buyer: User,
    other_buyer: User,
    seller: User,
    product: Product,
    held_writer: Callable[[int], None],
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    notice = actions.send_marketplace_message(
        buyer, kind="order_updates", subject="Order 7", body="Shipped.", topic_key="order:7"
    )
    held_writer(5)

    def outcome(call: Callable[[], Message]) -> str:
        try:
            return call().body
        except (NotFound, NotAllowed) as error:
            return error.code

    outcomes = in_threads(
        [
            lambda: outcome(lambda: actions.send_message(seller, conversation_id, "First")),
            lambda: outcome(lambda: actions.send_message(buyer, conversation_id, "Second")),
            # Not theirs: the same NotFound as alone.
            lambda: outcome(lambda: actions.send_message(other_buyer, conversation_id, "Not")),
            # The marketplace's own messages cannot be answered.
            lambda: outcome(lambda: actions.send_message(buyer, notice.conversation_id, "Re")),
            lambda: outcome(lambda: actions.send_message(seller, conversation_id, "Third")),
            lambda: outcome(lambda: actions.send_message(buyer, conversation_id, "Fourth")),
        ],
        threads=6,
    )

    assert sorted(outcomes) == sorted(
        ["First", "Second", "conversation_not_found", "cannot_reply", "Third", "Fourth"]
    )
    assert sorted(
        Message.objects.filter(conversation_id=conversation_id).values_list("body", flat=True)
    ) == sorted(["Hi", "First", "Second", "Third", "Fourth"])
    assert Message.objects.filter(conversation_id=notice.conversation_id).count() == 1
    assert not UserEvent.objects.filter(user=other_buyer).exists()
    assert_exact(buyer, seller)


@pytest.mark.parametrize("blocked", [False, True])
def test_a_batch_reads_its_blocks_once_and_refuses_only_the_blocked_send(
    buyer: User,
    other_buyer: User,
    seller: User,
    product: Product,
    batch_statements: list[list[str]],
    held_writer: Callable[[int], None],
    blocked: bool,
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    second = actions.ask_seller_about_product(other_buyer, product.pk, "Hi").conversation_id
    if blocked:
        safety_actions.block(buyer, seller)
    # A block between others of the batch's people changes nothing.
    safety_actions.block(other_buyer, factories.SellerFactory())
    held_writer(4)

    def outcome(sender: User, conversation_id: int, body: str) -> str:
        try:
            return actions.send_message(sender, conversation_id, body).body
        except NotAllowed as error:
            return error.code

    sends = [
        (buyer, first, "Lead"),
        (seller, first, "To the buyer"),
        (seller, second, "Welcome"),
        (other_buyer, second, "Thanks"),
        (buyer, first, "Me again"),
    ]
    outcomes = in_threads([lambda send=send: outcome(*send) for send in sends], threads=5)

    expected = [body for _, _, body in sends]
    if blocked:
        expected[1] = "blocked"
    assert sorted(outcomes) == sorted(expected)
    [sql] = batch_statements
    if not blocked:
        # The blocks among the batch's people, read once for its four sends.
        assert statements(sql, "SELECT", Block) == 1
    # A refusal: every send ran again in its own savepoint, reading its own.
    assert Message.objects.filter(body="To the buyer").exists() is not blocked
    assert_exact(buyer, other_buyer, seller)


def test_one_key_sent_many_times_in_one_batch_makes_one_message(
    buyer: User, seller: User, product: Product, held_writer: Callable[[int], None]
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    held_writer(15)

    sent = in_threads(
        [
            lambda: actions.send_message(
                seller, conversation_id, "Yes, 12 left.", idempotency_key="once"
            )
        ]
        * 16,
        threads=16,
    )

    assert len({message.pk for message in sent}) == 1
    assert sum(not message.found_by_idempotency_key for message in sent) == 1
    assert Message.objects.filter(conversation_id=conversation_id).count() == 2
    assert event_sequences(buyer) == [1, 2]


def test_a_batch_probes_its_idempotency_keys_once_and_answers_a_retry_with_the_first(
    buyer: User,
    seller: User,
    product: Product,
    batch_statements: list[list[str]],
    held_writer: Callable[[int], None],
) -> None:
    buyers = [factories.BuyerFactory() for _ in range(5)]
    asked = [actions.ask_seller_about_product(b, product.pk, "Hi").conversation_id for b in buyers]
    stored = actions.send_message(buyers[0], asked[0], "Sent before", idempotency_key="k-0")
    held_writer(5)
    # A send without a key takes the writer first, so that the five keyed ones queue
    # behind it and go as one batch.
    lead = threading.Thread(target=lambda: actions.send_message(seller, asked[1], "Keyless"))
    lead.start()
    while not sending.SENDS._writing:
        time.sleep(0.001)

    sent = in_threads(
        [
            lambda n=n: actions.send_message(
                buyers[n],
                asked[n],
                "Sent before" if n == 0 else f"New {n}",
                idempotency_key=f"k-{n}",
            )
            for n in range(5)
        ],
        threads=5,
    )
    lead.join()

    [sql] = batch_statements
    # One probe of the batch's five keys (a UNION ALL of index probes), then one read of
    # the message found; four new messages, inserted together.
    probes = [q for q in sql if '"conversations_message"."idempotency_key" =' in q]
    assert len(probes) == 2
    assert statements(sql, "INSERT", Message) == 1
    retried = next(m for m in sent if m.body == "Sent before")
    assert retried.pk == stored.pk
    assert retried.found_by_idempotency_key
    assert Message.objects.filter(idempotency_key__startswith="k-").count() == 5


def test_two_thousand_interleaved_sends_reads_and_archives_keep_counters_and_events_exact(
    seller: User, other_seller: User, settings: Settings
) -> None:
    buyers = [factories.BuyerFactory() for _ in range(6)]
    products = [
        factories.ProductFactory(storefront=seller.storefront),
        factories.ProductFactory(storefront=other_seller.storefront),
    ]
    conversations = [
        (
            buyer,
            product.storefront.seller,
            actions.ask_seller_about_product(buyer, product.pk, "Hi"),
        )
        for buyer in buyers
        for product in products
    ]
    chooser = random.Random(19)
    calls: list[Callable[[], object]] = []
    for number in range(2000):
        buyer, shop_owner, first = chooser.choice(conversations)
        conversation_id = first.conversation_id
        kind = chooser.random()
        if kind < 0.5:
            author = chooser.choice([buyer, shop_owner])
            calls.append(
                lambda a=author, c=conversation_id, n=number: actions.send_message(
                    a, c, f"Message {n}", idempotency_key=f"key-{n}"
                )
            )
        elif kind < 0.7:
            calls.append(lambda b=buyer, c=conversation_id: actions.mark_read(b, [c]))
        elif kind < 0.8:
            calls.append(lambda s=shop_owner, c=conversation_id: actions.mark_read(s, [c]))
        elif kind < 0.9:
            calls.append(lambda b=buyer, c=conversation_id: actions.archive_conversations(b, [c]))
        else:
            calls.append(lambda b=buyer, c=conversation_id: actions.move_to_inbox(b, [c]))
    before = sending.SENDS.units

    results = in_threads(calls, threads=32)

    acknowledged = [result for result in results if isinstance(result, Message)]
    stored = list(
        Message.objects.filter(idempotency_key__isnull=False).values_list(
            "idempotency_key", flat=True
        )
    )
    assert Message.objects.filter(idempotency_key__isnull=True).count() == len(conversations)
    assert sorted(stored) == sorted(str(message.idempotency_key) for message in acknowledged)
    assert len(set(stored)) == len(stored)
    for user in (*buyers, seller, other_seller):
        assert maintained_unread(user) == recounted_unread(user)
        sequences = event_sequences(user)
        assert sequences == list(range(1, len(sequences) + 1))
    for participant in Participant.objects.all():
        assert participant.unread_count >= 0
    # Through the group committer where it is on (how many per batch depends on the
    # machine's scheduling).
    assert (sending.SENDS.units > before) == settings.GROUP_COMMIT
    connection.close()


def test_what_the_sends_of_a_batch_append_is_written_once_for_the_batch(
    seller: User,
    product: Product,
    batch_statements: list[list[str]],
    held_writer: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # One minute for every send: each window's count is exact.
    monkeypatch.setattr(limits, "_now", lambda: 1_796_205_630.0)
    buyers = [factories.BuyerFactory() for _ in range(8)]
    first = [actions.ask_seller_about_product(buyer, product.pk, "Hi") for buyer in buyers]
    # The seller has read them: each answer below lights one of its counters again.
    actions.mark_read(seller, [message.conversation_id for message in first])
    held_writer(7)

    sent = in_threads(
        [
            lambda buyer=buyer, message=message: actions.send_message(
                buyer, message.conversation_id, "Any news?"
            )
            for buyer, message in zip(buyers, first, strict=True)
        ],
        threads=8,
    )

    # The first alone (it held the writer), the seven behind it in one batch: their seven
    # messages in one INSERT, with ids handed out up front in one statement, and one
    # statement per table for what they all append.
    [sql] = batch_statements
    assert statements(sql, "INSERT", Message) == 1
    assert len([q for q in sql if "nextval" in q or "sqlite_sequence" in q]) == 1
    # The seven conversations' participants read (and locked) once for the batch, and the
    # seven sends with no savepoint, not one each (db/group_commit.py).
    assert statements(sql, "SELECT", Participant) == 1
    assert not [statement for statement in sql if statement.startswith("SAVEPOINT")]
    for model in (SearchDocument, MailboxMessage, UserEvent):
        assert statements(sql, "INSERT", model) == 1, model
    # The conversations' last messages and the participants' rows: one UPDATE each for
    # the batch, each row set to what its send left it.
    assert statements(sql, "UPDATE", Conversation) == 1
    assert statements(sql, "UPDATE", Participant) == 1
    assert statements(sql, "UPDATE", UnreadCounter) == 1
    # The digests: one INSERT of those not waiting yet, one UPDATE pushing them all.
    assert statements(sql, "INSERT", Email) == 1
    assert statements(sql, "UPDATE", Email) == 1
    # The senders' sending-limit counts: read (locked, on PostgreSQL) once, each send
    # counted in what was read, written once — where each send ran its own upsert.
    assert statements(sql, "SELECT", SendingCount) == 1
    assert statements(sql, "UPDATE", SendingCount) == 1
    assert statements(sql, "INSERT", SendingCount) == 0
    # Counted as the upsert counts: two messages each, both to a seller who has not
    # written back (first contacts).
    assert {
        row[1:]
        for row in SendingCount.objects.filter(user__in=buyers).values_list(
            "user_id", "minute_sends", "hour_sends", "day_sends", "first_contact_hour_sends"
        )
    } == {(2, 2, 2, 2)}
    # Each send's rows are all there, as a send alone writes them.
    ids = sorted(message.pk for message in sent)
    assert (
        sorted(
            SearchDocument.objects.filter(message_id__in=ids).values_list("message_id", flat=True)
        )
        == ids
    )
    assert MailboxMessage.objects.filter(message_id__in=ids).count() == 16
    created = UserEvent.objects.filter(user=seller, kind=EventKind.MESSAGE_CREATED)
    assert {event.payload["message_id"] for event in created} >= set(ids)
    assert_exact(*buyers, seller)


def test_replies_with_ids_handed_out_and_new_conversations_in_one_batch_never_share_an_id(
    seller: User,
    product: Product,
    batch_statements: list[list[str]],
    held_writer: Callable[[int], None],
) -> None:
    """A batch hands its replies' messages ids up front and inserts them together after
    its last send; a new conversation in the same batch inserts its message itself, in
    between: every message gets its own id, each caller is answered with its stored row."""
    buyers = [factories.BuyerFactory() for _ in range(4)]
    first = [actions.ask_seller_about_product(buyer, product.pk, "Hi") for buyer in buyers]
    newcomers = [factories.BuyerFactory() for _ in range(3)]
    held_writer(6)

    sent = in_threads(
        [
            *(
                lambda buyer=buyer, message=message: actions.send_message(
                    buyer, message.conversation_id, f"Reply from {buyer.pk}"
                )
                for buyer, message in zip(buyers, first, strict=True)
            ),
            *(
                lambda buyer=buyer: actions.ask_seller_about_product(
                    buyer, product.pk, f"Question from {buyer.pk}"
                )
                for buyer in newcomers
            ),
        ],
        threads=7,
    )

    assert len({message.pk for message in sent}) == 7
    stored = dict(Message.objects.filter(pk__in=[m.pk for m in sent]).values_list("pk", "body"))
    assert stored == {message.pk: message.body for message in sent}
    assert any(statements(sql, "INSERT", Message) >= 2 for sql in batch_statements)
    assert_exact(*buyers, *newcomers, seller)


def test_a_send_over_its_limit_in_a_batch_fails_alone_and_is_not_counted(
    seller: User,
    product: Product,
    settings: Settings,
    held_writer: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Four sends of one buyer and two of the seller, at most three a minute: the buyer's
    first two after the question go (whichever batch each lands in), the last two are
    refused with their own 429, the seller's go; the buyer's count is three, the refused
    ones not counted — as sends alone count."""
    settings.SAFETY_SEND_LIMITS = ["minute=3"]
    settings.SAFETY_NEW_ACCOUNT_SEND_LIMITS = ["minute=3"]
    monkeypatch.setattr(limits, "_now", lambda: 1_796_205_630.0)
    buyer = factories.BuyerFactory()
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    actions.send_message(seller, conversation_id, "Hello")
    held_writer(5)

    def outcome(sender: User, body: str) -> str:
        try:
            return actions.send_message(sender, conversation_id, body).body
        except TooManyRequests as error:
            return error.code

    outcomes = in_threads(
        [
            *(lambda n=n: outcome(buyer, f"Buyer {n}") for n in range(4)),
            *(lambda n=n: outcome(seller, f"Seller {n}") for n in range(2)),
        ],
        threads=6,
    )

    assert outcomes.count("too_many_messages") == 2
    assert sorted(o for o in outcomes if o.startswith("Seller")) == ["Seller 0", "Seller 1"]
    assert len([o for o in outcomes if o.startswith("Buyer")]) == 2
    assert Message.objects.filter(conversation_id=conversation_id, sender=buyer).count() == 3
    assert SendingCount.objects.get(user=buyer).minute_sends == 3
    assert_exact(buyer, seller)


def test_sends_to_one_conversation_in_one_batch_each_see_what_the_ones_before_changed(
    buyer: User,
    seller: User,
    product: Product,
    batch_statements: list[list[str]],
    held_writer: Callable[[int], None],
) -> None:
    other = factories.BuyerFactory()
    first = actions.ask_seller_about_product(buyer, product.pk, "Hi")
    second = actions.ask_seller_about_product(other, product.pk, "Hello")
    conversations = [first.conversation_id, second.conversation_id]
    actions.mark_read(seller, conversations)
    held_writer(8)

    # Nine sends in two conversations, buyers and the seller in turn: the eight behind the
    # first go as one batch, so several of them write to a conversation a batch-mate
    # wrote to before them, whose rows the batch writes only after its last send.
    in_threads(
        [
            lambda sender=sender, conversation_id=conversation_id: actions.send_message(
                sender, conversation_id, "And?"
            )
            for sender, conversation_id in [
                (buyer, conversations[0]),
                (seller, conversations[0]),
                (other, conversations[1]),
                (buyer, conversations[0]),
                (seller, conversations[1]),
                (other, conversations[1]),
                (buyer, conversations[0]),
                (seller, conversations[0]),
                (other, conversations[1]),
            ]
        ],
        threads=9,
    )

    [sql] = batch_statements
    assert statements(sql, "INSERT", Message) == 1
    assert statements(sql, "UPDATE", Participant) == 1
    for conversation_id in conversations:
        conversation = Conversation.objects.get(pk=conversation_id)
        messages = list(Message.objects.filter(conversation_id=conversation_id).order_by("pk"))
        assert conversation.message_count == len(messages)
        assert conversation.last_message_id == messages[-1].pk
        assert conversation.last_message_at == messages[-1].created_at
        for participant in Participant.objects.filter(conversation_id=conversation_id):
            read_up_to = participant.last_read_message_id or 0
            unread = [
                m for m in messages if m.pk > read_up_to and m.sender_id != participant.user_id
            ]
            assert participant.unread_count == len(unread), participant.role
            assert participant.last_activity_at == messages[-1].created_at
            wrote = [m for m in messages if m.sender_id == participant.user_id]
            assert participant.has_written == bool(wrote)
            if participant.role == "seller":
                # Waiting for an answer exactly when a buyer wrote after the seller's last.
                last_own = max((m.pk for m in wrote), default=0)
                waiting = [m for m in messages if m.pk > last_own and m.sender_id != seller.pk]
                assert (participant.awaiting_response_since is not None) == bool(waiting)
    assert_exact(buyer, other, seller)


def test_a_batch_digest_covers_from_its_first_message_and_waits_after_its_last(
    buyer: User, seller: User, product: Product, held_writer: Callable[[int], None]
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    # The seller's digest of "Hi" went out: the batch below starts a new one.
    Email.objects.filter(user=seller, kind=EmailKind.DIGEST).update(status=EmailStatus.SENT)
    held_writer(3)

    in_threads(
        [lambda n=n: actions.send_message(buyer, conversation_id, f"Also {n}") for n in range(4)],
        threads=4,
    )

    digest = Email.objects.get(user=seller, kind=EmailKind.DIGEST, status=EmailStatus.QUEUED)
    times = sorted(
        Message.objects.filter(
            conversation_id=conversation_id, body__startswith="Also "
        ).values_list("created_at", flat=True)
    )
    assert digest.covers_from == times[0]
    assert digest.next_attempt_at == times[-1] + sending_quiet_period()


def sending_quiet_period() -> timedelta:
    return timedelta(minutes=django_settings.EMAIL_DIGEST_QUIET_MINUTES)


def test_a_send_that_fails_after_its_rows_were_piled_takes_them_with_it(
    buyer: User,
    seller: User,
    product: Product,
    held_writer: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    original = sending._new_message

    def failing(participants: list[Participant], arrival: object, message: Message) -> object:
        # After its search rows, counters' moves and events were handed to the batch.
        if message.body == "Boom":
            raise RuntimeError("failed after piling")
        return original(participants, arrival, message)  # type: ignore[arg-type]

    monkeypatch.setattr(sending, "_new_message", failing)
    held_writer(4)
    before = (sending.SENDS.batches, sending.SENDS.units)

    def outcome(body: str) -> str:
        if body == "Boom":
            # Not the first, which goes alone: in the batch behind it.
            time.sleep(0.2)
        try:
            return actions.send_message(buyer, conversation_id, body).body
        except RuntimeError as error:
            return str(error)

    outcomes = in_threads(
        [lambda body=body: outcome(body) for body in ("One", "Two", "Boom", "Three", "Four")],
        threads=5,
    )

    assert sorted(outcomes) == sorted(["One", "Two", "failed after piling", "Three", "Four"])
    # Committed as a batch (not run again alone, which would hide piled rows gone astray).
    assert (sending.SENDS.batches - before[0], sending.SENDS.units - before[1]) == (2, 5)
    stored = set(
        Message.objects.filter(conversation_id=conversation_id).values_list("pk", flat=True)
    )
    assert len(stored) == 5
    assert set(SearchDocument.objects.values_list("message_id", flat=True)) == stored
    created = UserEvent.objects.filter(kind=EventKind.MESSAGE_CREATED)
    assert {event.payload["message_id"] for event in created} == stored
    assert_exact(buyer, seller)


type _Index = Callable[[list[tuple[Message, list[int]]]], None]


def _the_statement_fails(index: _Index, sent: list[tuple[Message, list[int]]]) -> None:
    raise OperationalError("the batch's insert failed")


def _the_database_refuses_a_write_later(
    index: _Index, sent: list[tuple[Message, list[int]]]
) -> None:
    index(sent)
    _refused_by_the_database()


@pytest.mark.parametrize("failing", [_the_statement_fails, _the_database_refuses_a_write_later])
def test_when_a_batch_cannot_write_what_its_sends_append_each_send_runs_again_alone(
    buyer: User,
    seller: User,
    product: Product,
    held_writer: Callable[[int], None],
    monkeypatch: pytest.MonkeyPatch,
    failing: Callable[[_Index, list[tuple[Message, list[int]]]], None],
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    original = sending._index
    batched: list[int] = []

    def index(sent: list[tuple[Message, list[int]]]) -> None:
        # The batch's writes fail (not any one send's fault); alone, each works.
        if len(sent) > 1:
            batched.append(len(sent))
            failing(original, sent)
        else:
            original(sent)

    monkeypatch.setattr(sending, "_index", index)
    held_writer(6)

    sent = in_threads(
        [
            lambda n=n: actions.send_message(
                seller if n % 2 else buyer, conversation_id, f"Message {n}", idempotency_key=f"k{n}"
            )
            for n in range(7)
        ],
        threads=7,
    )

    assert batched == [6]
    assert sorted(message.body for message in sent) == sorted(f"Message {n}" for n in range(7))
    assert not any(message.found_by_idempotency_key for message in sent)
    stored = list(
        Message.objects.filter(conversation_id=conversation_id).values_list("pk", flat=True)
    )
    assert len(stored) == 8
    assert sorted(SearchDocument.objects.values_list("message_id", flat=True)) == sorted(stored)
    assert_exact(buyer, seller)


def _refused_by_the_database() -> None:
    """A write the database refuses (a second event with a number the person's log has),
    sent without waiting for the answer: inside the pipelined writes its refusal comes
    back later — at the next read, or with the commit."""
    event = UserEvent.objects.order_by("pk").first()
    assert event is not None
    insert_rows(
        UserEvent,
        ("user_id", "sequence", "kind", "payload", "created_at"),
        [(event.user_id, event.sequence, event.kind, {}, event.created_at)],
    )


def test_a_write_the_database_refuses_late_in_a_lone_send_fails_it_and_stores_nothing(
    buyer: User, seller: User, product: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    original = sending._index

    def index(sent: list[tuple[Message, list[int]]]) -> None:
        original(sent)
        _refused_by_the_database()

    monkeypatch.setattr(sending, "_index", index)
    with pytest.raises(IntegrityError):
        actions.send_message(seller, conversation_id, "Refused with its writes")
    monkeypatch.setattr(sending, "_index", original)
    # Nothing of it stored; the thread's connection goes on.
    answer = actions.send_message(seller, conversation_id, "And the next one")

    bodies = list(
        Message.objects.filter(conversation_id=conversation_id).values_list("body", flat=True)
    )
    assert sorted(bodies) == ["And the next one", "Hi"]
    assert answer.pk in set(SearchDocument.objects.values_list("message_id", flat=True))
    assert_exact(buyer, seller)


@contextmanager
def waits_for_postgresql() -> Iterator[list[list[str]]]:
    """What this thread's connection sends PostgreSQL, one list of statements (and simple
    queries) for each time it then waits for the server's answer — a round trip the
    writer spends without the interpreter (libpq's protocol trace)."""
    connection.ensure_connection()
    pgconn = connection.connection.pgconn
    waits: list[list[str]] = []
    with tempfile.TemporaryFile("w+") as trace:
        pgconn.trace(trace.fileno())
        pgconn.set_trace_flags(Trace.SUPPRESS_TIMESTAMPS | Trace.REGRESS_MODE)
        try:
            yield waits
        finally:
            pgconn.untrace()
            trace.seek(0)
            sent: list[str] = []
            last_sent = ""  # the last message this side sent
            for line in trace.read().splitlines():
                # A message per line; a statement written on several lines goes on in the
                # lines after it.
                direction, _, message, *rest = [*line.split("\t"), "", ""][:4]
                if direction == "F":
                    if message in ("Parse", "Query"):
                        sent.append(rest[0].strip())
                    elif message == "Bind":
                        # Each run of a statement; one prepared before shows only this.
                        sent.append("Bind")
                    # Where the driver waits for what it sent: the end of a statement or
                    # of a pipeline (Sync; a pipeline's end sends Flush after it, the same
                    # wait), a read of rows inside a pipeline (Flush).
                    waited = message == "Sync" or (message == "Flush" and last_sent != "Sync")
                    last_sent = message
                elif direction == "B" and message == "ReadyForQuery":
                    # A simple query's answer (after a Sync, counted there).
                    waited = last_sent == "Query"
                else:
                    continue
                if waited:
                    waits.append(sent)
                    sent = []


@pytest.mark.skipif(database_vendor() != "postgresql", reason="PostgreSQL's round trips")
def test_a_lone_send_commits_with_its_writes_in_one_wait(buyer: User, product: Product) -> None:
    """The COMMIT goes to PostgreSQL with the writes sent without waiting (rows.pipelined):
    one wait for both, where the COMMIT was a round trip of its own, in which the writer
    gives up the interpreter and then waits to take it back."""
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id

    with waits_for_postgresql() as waits:
        actions.send_message(buyer, conversation_id, "Again")

    # BEGIN; the participants, blocks and sending-limit reads; the message (each a wait,
    # and a read a process's caches sometimes make); the writes up to the event numbers
    # (read back); then the rest of the writes and the COMMIT together.
    assert waits[-1][-2:] == ['"" "COMMIT" 0', "Bind"]
    assert waits[-1].count("Bind") > 3  # the events, the e-mail rows… and COMMIT
    assert not [statement for wait in waits[:-1] for statement in wait if "COMMIT" in statement]


@pytest.mark.skipif(database_vendor() != "postgresql", reason="PostgreSQL's round trips")
def test_a_batch_commits_with_its_writes_in_one_wait(
    buyer: User, seller: User, product: Product, held_writer: Callable[[int], None]
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    held_writer(3)
    committer = sending.SENDS
    original = committer._apply  # the held writer's
    traced: list[list[list[str]]] = []

    def apply(batch: list[group_commit._Unit]) -> None:
        if len(batch) == 1:
            original(batch)
            return
        with waits_for_postgresql() as waits:
            original(batch)
        traced.append(waits)

    committer._apply = apply
    try:
        in_threads(
            [
                lambda n=n: actions.send_message(
                    seller if n % 2 else buyer, conversation_id, f"Message {n}"
                )
                for n in range(4)
            ],
            threads=4,
        )
    finally:
        committer._apply = original

    [waits] = traced
    assert waits[-1][-2:] == ['"" "COMMIT" 0', "Bind"]
    assert waits[-1].count("Bind") > 3
    assert not [statement for wait in waits[:-1] for statement in wait if "COMMIT" in statement]
    assert Message.objects.filter(conversation_id=conversation_id).count() == 5
    assert_exact(buyer, seller)


def test_a_batch_to_an_away_seller_replies_once_per_conversation_and_keeps_counts_exact(
    buyer: User,
    seller: User,
    product: Product,
    held_writer: Callable[[int], None],
) -> None:
    """The automatic reply (conversations/actions/away.py) inside a batch: each
    conversation's rows are the batch's shared instances, so a second message of the same
    buyer in the batch sees the first's reply and gets none."""
    other = factories.BuyerFactory()
    first = actions.ask_seller_about_product(buyer, product.pk, "Hi")
    second = actions.ask_seller_about_product(other, product.pk, "Hello")
    conversations = [first.conversation_id, second.conversation_id]
    actions.set_away_message(seller, "Away for a week.", until=timezone.now() + timedelta(days=7))
    held_writer(4)

    in_threads(
        [
            lambda sender=sender, conversation_id=conversation_id: actions.send_message(
                sender, conversation_id, "Anyone there?"
            )
            for sender, conversation_id in [
                (buyer, conversations[0]),
                (buyer, conversations[0]),
                (other, conversations[1]),
                (buyer, conversations[0]),
                (other, conversations[1]),
            ]
        ],
        threads=5,
    )

    for conversation_id in conversations:
        messages = list(Message.objects.filter(conversation_id=conversation_id).order_by("pk"))
        assert [m.is_automatic_reply for m in messages].count(True) == 1
        conversation = Conversation.objects.get(pk=conversation_id)
        assert conversation.message_count == len(messages)
        assert conversation.last_message_id == messages[-1].pk
        for participant in Participant.objects.filter(conversation_id=conversation_id):
            read_up_to = participant.last_read_message_id or 0
            unread = [
                m for m in messages if m.pk > read_up_to and m.sender_id != participant.user_id
            ]
            assert participant.unread_count == len(unread), participant.role
    assert_exact(buyer, other, seller)
