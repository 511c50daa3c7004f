"""Durability of sends through a real server killed with SIGKILL (DESIGN: "a process killed
at any moment loses nothing that was acknowledged and sends nothing twice").

- The whole server, killed and restarted several times while clients send concurrently
  with idempotency keys and retry each send until it is acknowledged.
- One of two server processes, killed while its threads' sends go through group commit
  (messagecenter/db/group_commit.py: one transaction for the sends waiting together), each
  send tried once: every acknowledged send is stored, and a retry of every other one gives
  the one message its key made (the one stored before the kill, or a new one).

Afterwards each key made exactly one message, and every counter equals a recount."""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db import connection
from django.db.models import Count

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Conversation, Message, Participant
from messagecenter.marketplace.models import Product
from tests import factories
from tests.conversations.helpers import event_sequences, maintained_unread, recounted_unread
from tests.databases import on_postgresql
from tests.delivery.test_crash import wait_until
from tests.test_processes import LIFTED_SEND_LIMITS, database_url, free_port, wait_for

pytestmark = pytest.mark.django_db(transaction=True)

SENDERS = 4
SENDS_PER_SENDER = 30
KILLS = 3


class Server:
    """`messagecenter serve` on one port, with `workers` server processes, killed and
    started again. Its log: `server.log` in `var_dir`."""

    def __init__(self, var_dir: Path, workers: int = 1) -> None:
        self.port = free_port()
        self.var_dir = var_dir
        self.workers = workers
        self.process: subprocess.Popen[bytes] | None = None

    def command(self) -> list[str]:
        return [sys.executable, "-m", "messagecenter", "serve"]

    def environment(self) -> dict[str, str]:
        return {
            **os.environ,
            "DATABASE_URL": database_url(),
            "MESSAGECENTER_VAR_DIR": str(self.var_dir),
            "SECRET_KEY": settings.SECRET_KEY,
            "LOG_LEVEL": "WARNING",
            **LIFTED_SEND_LIMITS,
        }

    def start(self) -> None:
        with (self.var_dir / "server.log").open("ab") as log:
            self.process = subprocess.Popen(
                [*self.command(), "--port", str(self.port), "--workers", str(self.workers)],
                env=self.environment(),
                stdout=subprocess.DEVNULL,
                stderr=log,
                start_new_session=True,
            )

    def kill(self) -> None:
        """The whole process group: the supervisor and its server processes."""
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def serving_processes(self) -> set[int]:
        """With several workers, the server processes uvicorn's supervisor (the process
        started) runs: its live children started by multiprocessing (a killed one not yet
        reaped has no command line left)."""
        assert self.process is not None
        children: set[int] = set()
        for task in Path(f"/proc/{self.process.pid}/task").iterdir():
            children.update(int(pid) for pid in (task / "children").read_text().split())
        serving = set()
        for pid in children:
            try:
                command = Path(f"/proc/{pid}/cmdline").read_bytes()
            except FileNotFoundError:
                continue
            if b"spawn_main" in command:
                serving.add(pid)
        return serving

    def sockets(self, state: str) -> dict[int, int]:
        """How many sockets on the server's port in a TCP `state` ("0A" listening, "01"
        established) each serving process holds (/proc: its file descriptors matched with
        the kernel's table of TCP sockets)."""
        inodes = set()
        for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) == self.port and fields[3] == state:
                inodes.add(f"socket:[{fields[9]}]")
        held = {}
        for pid in self.serving_processes():
            try:
                held[pid] = sum(
                    os.readlink(fd) in inodes for fd in Path(f"/proc/{pid}/fd").iterdir()
                )
            except OSError:
                continue
        return held

    def listening(self) -> set[int]:
        """The serving processes that listen (each on a socket of its own: serve.py)."""
        return {pid for pid, count in self.sockets("0A").items() if count}

    def log(self) -> str:
        return (self.var_dir / "server.log").read_text(errors="replace")[-3000:]

    def post(
        self, path: str, body: dict[str, Any], headers: dict[str, str]
    ) -> tuple[int, dict[str, Any]]:
        """The status and the JSON answer, or 0 and {} when the connection failed (the
        server is down or was killed while answering)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=30)
        try:
            connection.request(
                "POST", path, json.dumps(body), {"Content-Type": "application/json", **headers}
            )
            response = connection.getresponse()
            answer = response.read()
        except (OSError, http.client.HTTPException):
            return 0, {}
        finally:
            connection.close()
        try:
            return response.status, json.loads(answer)
        except ValueError:
            return response.status, {}


def assert_counters_equal_a_recount(conversation_ids: Iterable[int], people: list[User]) -> None:
    """Each conversation's message count and each participant's unread count, each
    person's unread counters, and each person's event log without gaps or repeats."""
    for conversation in Conversation.objects.filter(pk__in=conversation_ids):
        messages = Message.objects.filter(conversation=conversation)
        assert conversation.message_count == messages.count()
        for participant in Participant.objects.filter(conversation=conversation):
            unread = messages.exclude(sender=participant.user_id).filter(
                id__gt=participant.last_read_message_id or 0
            )
            assert participant.unread_count == unread.count()
    for person in people:
        assert maintained_unread(person) == recounted_unread(person)
        sequences = event_sequences(person)
        assert sequences == list(range(1, len(sequences) + 1))


def test_acknowledged_sends_survive_sigkill_once_each_with_exact_counters(
    tmp_path: Path, buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Is it loud?")
    path = f"/api/v1/conversations/{question.conversation_id}/messages"
    people = [buyer, seller] * (SENDERS // 2)
    tokens = [account_actions.create_api_token(person, "Phone")[1] for person in people]
    acknowledged: list[str] = []
    lock = threading.Lock()
    server = Server(tmp_path)
    server.start()

    def send_all(number: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[number]}"}
        for send in range(SENDS_PER_SENDER):
            key = f"sender{number}-send{send}"
            deadline = time.monotonic() + 120
            # Retried with the same key until acknowledged, as an app does after a timeout.
            while server.post(path, {"body": key}, {**headers, "Idempotency-Key": key})[0] not in (
                200,
                201,
            ):
                assert time.monotonic() < deadline, f"{key} was never acknowledged"
                time.sleep(0.05)
            with lock:
                acknowledged.append(key)

    senders = [threading.Thread(target=send_all, args=(number,)) for number in range(SENDERS)]
    for thread in senders:
        thread.start()
    total = SENDERS * SENDS_PER_SENDER
    try:
        for kill in range(KILLS):
            target = total * (kill + 1) // (KILLS + 1)
            deadline = time.monotonic() + 120
            while len(acknowledged) < target and time.monotonic() < deadline:
                time.sleep(0.01)
            server.kill()
            server.start()
    finally:
        for thread in senders:
            thread.join(timeout=300)
        server.kill()

    assert sorted(acknowledged) == sorted(
        f"sender{number}-send{send}"
        for number in range(SENDERS)
        for send in range(SENDS_PER_SENDER)
    )
    # Acknowledged = stored, each key once.
    stored = dict(
        Message.objects.exclude(idempotency_key=None)
        .values_list("idempotency_key")
        .annotate(count=Count("id"))
        .values_list("idempotency_key", "count")
    )
    assert stored == dict.fromkeys(acknowledged, 1)
    assert all(
        Message.objects.filter(idempotency_key=key, body=key).exists() for key in acknowledged
    )
    assert Message.objects.count() == total + 1
    assert_counters_equal_a_recount([question.conversation_id], [buyer, seller])


# One of two server processes is killed each time KILL_AFTER more sends were acknowledged
# (WORKER_KILLS times: each kill is another chance to land between an answer and its
# commit); the clients go on until as many more were, each at most SENDS_PER_CLIENT sends.
CLIENTS = 24
# Far more than the test needs: while a new server process starts (≈ 3–5 s), the other
# serves on, and 24 clients of at most 100 sends each had all finished before the second
# kill looked for a process in a write (a failure of the test, not of the server).
SENDS_PER_CLIENT = 1000
KILL_AFTER = 64
WORKER_KILLS = 2


@dataclass
class Send:
    """One reply, tried once while the server process is killed, then (if unanswered)
    retried with its key until answered."""

    key: str
    author: User
    conversation_id: int
    status: int = 0
    message_id: int | None = None
    retry_status: int = 0
    retry_message_id: int | None = None

    @property
    def body(self) -> str:
        return f"Reply {self.key}"

    @property
    def acknowledged(self) -> bool:
        return self.status in (200, 201)


def stored_by_key() -> dict[str, list[tuple[int, str]]]:
    """Every message sent with a key: its id and body, by key."""
    stored: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for key, pk, body in Message.objects.exclude(idempotency_key=None).values_list(
        "idempotency_key", "pk", "body"
    ):
        stored[key].append((pk, body))
    return dict(stored)


def wait_for_a_writer(processes: set[int], timeout: float = 30) -> int:
    """One of `processes` in the middle of a write transaction (a batch of sends, most
    likely, with 24 clients): it holds SQLite's writer lock file (db/sqlite3), or one of
    its connections has a PostgreSQL transaction that wrote or locked rows. It may have
    committed by the time it is killed: most kills still land inside the transaction."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        writers = (
            transactions_on_postgresql(processes)
            if on_postgresql()
            else processes & flock_holders()
        )
        if writers:
            return writers.pop()
        time.sleep(0.001)
    raise AssertionError(f"none of {processes} wrote for {timeout} s")


def flock_holders() -> set[int]:
    """The processes holding the SQLite writer lock file (/proc/locks: `1: FLOCK ADVISORY
    WRITE <pid> <major>:<minor>:<inode> 0 EOF`)."""
    inode = os.stat(f"{settings.DATABASES['default']['NAME']}-writer.lock").st_ino
    holders = set()
    for line in Path("/proc/locks").read_text().splitlines():
        fields = line.split()
        if fields[1] == "FLOCK" and fields[5].endswith(f":{inode}"):
            holders.add(int(fields[4]))
    return holders


def transactions_on_postgresql(processes: set[int]) -> set[int]:
    """Those of `processes` whose connection to the test database is in a transaction that has
    written or locked rows (it has a transaction id), found by the connection's port."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT client_port FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND backend_xid IS NOT NULL"
        )
        ports = {port for (port,) in cursor.fetchall()}
    sockets = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if int(fields[1].rsplit(":", 1)[1], 16) in ports:
                sockets.add(f"socket:[{fields[9]}]")
    owners = set()
    for process in processes:
        try:
            if any(os.readlink(fd) in sockets for fd in Path(f"/proc/{process}/fd").iterdir()):
                owners.add(process)
        except OSError:
            continue
    return owners


def test_a_server_process_killed_during_batched_sends_loses_no_acknowledged_send(
    tmp_path: Path,
    buyer: User,
    other_buyer: User,
    seller: User,
    other_seller: User,
    product: Product,
) -> None:
    other_product = factories.ProductFactory(storefront=other_seller.storefront)
    # Four conversations; each client replies as one of the two people of one of them, so
    # the sends waiting together in a process touch several conversations and people.
    authors: list[tuple[User, int]] = []
    for asking in (buyer, other_buyer):
        for asked in (product, other_product):
            question = actions.ask_seller_about_product(asking, asked.pk, "Still available?")
            authors += [(asking, question.conversation_id)]
            authors += [(asked.storefront.seller, question.conversation_id)]
    people = [buyer, other_buyer, seller, other_seller]
    tokens = {person.pk: account_actions.create_api_token(person, "Phone")[1] for person in people}
    sends: list[Send] = []
    lock = threading.Lock()
    stop = threading.Event()
    server = Server(tmp_path, workers=2)

    def post(send: Send) -> tuple[int, int | None]:
        status, answer = server.post(
            f"/api/v1/conversations/{send.conversation_id}/messages",
            {"body": send.body},
            {"Authorization": f"Bearer {tokens[send.author.pk]}", "Idempotency-Key": send.key},
        )
        return status, answer.get("id")

    def client(number: int) -> None:
        author, conversation_id = authors[number % len(authors)]
        for count in range(SENDS_PER_CLIENT):
            if stop.is_set():
                return
            send = Send(f"client{number}-{count}", author, conversation_id)
            with lock:
                sends.append(send)
            # Tried once: a send cut off by a kill is retried after the clients stop.
            send.status, send.message_id = post(send)

    def answered() -> int:
        with lock:
            return sum(send.acknowledged for send in sends)

    clients = [threading.Thread(target=client, args=(number,)) for number in range(CLIENTS)]
    server.start()
    try:
        wait_for(f"http://127.0.0.1:{server.port}/healthz")
        wait_until(lambda: len(server.listening()) == 2, 60, "two server processes listening")
        for thread in clients:
            thread.start()
        for kill in range(WORKER_KILLS):
            wait_until(
                lambda: answered() >= (kill + 1) * KILL_AFTER,  # noqa: B023
                60,
                f"{KILL_AFTER} more acknowledged sends",
            )
            before = server.serving_processes()
            os.kill(wait_for_a_writer(before), signal.SIGKILL)
            # The other process serves on meanwhile; serve's supervisor (uvicorn) starts a
            # new one in place of the killed one. Each listens on a socket of its own: until
            # the new one listens, killing the other would leave none to connect to.
            wait_until(
                lambda: len(server.listening() - before) == 1,  # noqa: B023
                60,
                "a new server process listening",
            )
        wait_until(
            lambda: answered() >= (WORKER_KILLS + 1) * KILL_AFTER, 60, "sends after the kills"
        )
        stop.set()
        for thread in clients:
            thread.join(timeout=60)
        stored_before_retries = stored_by_key()
        for send in sends:
            deadline = time.monotonic() + 60
            while not send.acknowledged and send.retry_status not in (200, 201):
                assert time.monotonic() < deadline, f"{send.key} was never acknowledged"
                send.retry_status, send.retry_message_id = post(send)
    except BaseException:
        print(server.log())
        raise
    finally:
        stop.set()
        for thread in clients:
            thread.join(timeout=60)
        server.kill()

    cut = [send for send in sends if not send.acknowledged]
    stored_unanswered = sum(send.key in stored_before_retries for send in cut)
    print(
        f"\n{len(sends)} sends, {len(sends) - len(cut)} acknowledged, {len(cut)} cut off by "
        f"the kills, {stored_unanswered} of those stored before them; first answers: "
        f"{dict(Counter(send.status for send in sends))} (0: the connection was cut)"
    )
    # The kills landed among sends in flight (else this test proves nothing). Any other
    # refusal (a 5xx of a loaded machine) is retried like them; no key was sent twice yet.
    assert cut, "the kills cut off no send"
    assert 200 not in {send.status for send in sends}
    # Acknowledged = stored: the message answered, once.
    assert {
        send.key: stored_before_retries.get(send.key) for send in sends if send.acknowledged
    } == {send.key: [(send.message_id, send.body)] for send in sends if send.acknowledged}
    # A retry of a send cut off gives the message its key made before the kills (200), or
    # makes it (201): each key, one message.
    assert {send.key: send.retry_status for send in cut} == {
        send.key: 200 if send.key in stored_before_retries else 201 for send in cut
    }
    assert stored_by_key() == {
        send.key: [(send.message_id or send.retry_message_id, send.body)] for send in sends
    }
    assert Message.objects.count() == len(authors) // 2 + len(sends)
    assert_counters_equal_a_recount({conversation for _, conversation in authors}, people)
