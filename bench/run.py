"""The marketplace workloads of issue 6 against a real server over HTTP (docs/benchmarks.md).

    make bench          # the dataset must exist: bench/generate.py --fresh (see the Makefile)
    make bench-smoke    # a tiny dataset, every workload for 0.3 s: the harness never rots
    .venv/bin/python bench/run.py --tokens /tmp/mc-bench/tokens.json --workers 2 \\
        --concurrency 32 --read-concurrency 1,4 --duration 10 --repeats 3 [--only send,inbox]

Starts `messagecenter serve` (uvicorn, `--workers` processes: one per core by default) on a
free loopback port against DATABASE_URL, then, closed loop, each client on its own
keep-alive connection (the clients run on uvloop, on the same machine):

- floor: GET /healthz (no database work) at --concurrency: the server's limit, measured in
  every repeat; every throughput is also given as a share of it;
- send: POST /api/v1/conversations/{id}/messages (with an Idempotency-Key) at
  --concurrency, each client a different buyer in their own conversation;
- inbox: GET /api/v1/conversations and GET /api/v1/folders (the badges) for a small buyer
  and for the biggest seller — each read once with 1 client (the request alone: its
  latency) and once with each further --read-concurrency (waiting behind others);
- conversation: GET /api/v1/conversations/{id} and its 200 messages (two pages of 100,
  the API's largest page) as the biggest seller, and the 25-message history page (what an
  app shows first);
- pages: the HTML Message Center and conversation pages, signed in with a session cookie
  (a session made for the biggest seller), beside the API calls that give the same screen;
  the report gives each page's p99 as a multiple of its API calls' (goal: ≤ 2);
- search: GET /api/v1/search as the biggest seller: a common word, a rare word, an order
  number;
- notice to every user: needs broadcasts (messagecenter.notifications); else recorded as
  "not available";
- realtime: delivery latency from a send to the recipient's open stream, with the functions
  of bench/realtime.py (streams for the dataset's stream buyers, the biggest seller sends).

With --worker, `messagecenter worker` runs beside the server for the whole run, as a
deployment runs it (issue 19's send goal is "with the worker running"): the measuring waits
until it has started and is idle, and its CPU a request is reported apart from the server's.

Latency is measured by the client (request written → response read) and by the server
(the `Server-Timing: app;dur=` header of every response: from the request reaching the
application, waiting for a thread included, to the response). Each workload
runs --repeats times, interleaved with the floor; the report gives medians over repeats.
Results: JSON in bench/results/ (or --output), a Markdown table on stdout, PNG plots with
--plot-prefix.
"""

import argparse
import asyncio
import contextlib
import importlib.util
import itertools
import json
import math
import os
import platform
import re
import secrets
import shlex
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from types import ModuleType
from typing import Any
from urllib.parse import quote

import uvloop

# Run as a script: the repository's root, for the bench package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.limits import LIFTED_SEND_LIMITS

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
HOST = "127.0.0.1"
SERVER_TIMING = re.compile(rb"server-timing:\s*app;dur=([0-9.]+)", re.IGNORECASE)

# The goals of issue 6 (server-side p99 in ms, sends per second).
GOALS = {
    "inbox_p99_ms": 20,
    "conversation_p99_ms": 30,
    "search_p99_ms": 100,
    "send_per_second": 600,
    "send_p99_ms": 100,
    "send_share_of_floor": 1 / 3,
    "notice_visible_s": 1,
}


# --- HTTP/1.1 client on keep-alive connections ------------------------------------------


class Connection:
    """One client's keep-alive connection; reconnects after the server closes it."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.reader: asyncio.StreamReader | None = None
        self.writer: asyncio.StreamWriter | None = None

    async def request(
        self,
        method: str,
        path: str,
        token: str | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> tuple[int, float | None, bytes]:
        """(status, server-side ms from Server-Timing, body)."""
        if self.writer is None or self.writer.is_closing():
            self.reader, self.writer = await asyncio.open_connection(HOST, self.port)
        assert self.reader is not None
        payload = json.dumps(body).encode() if body is not None else b""
        lines = [f"{method} {path} HTTP/1.1", f"Host: {HOST}:{self.port}"]
        if token:
            lines.append(f"Authorization: Bearer {token}")
        if body is not None:
            lines += ["Content-Type: application/json", f"Content-Length: {len(payload)}"]
        lines += [f"{name}: {value}" for name, value in (headers or {}).items()]
        self.writer.write(("\r\n".join(lines) + "\r\n\r\n").encode() + payload)
        await self.writer.drain()
        head = await self.reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        lower = head.lower()
        server_ms = None
        if found := SERVER_TIMING.search(head):
            server_ms = float(found.group(1))
        if b"transfer-encoding: chunked" in lower:
            content = b""
            while True:
                size = int((await self.reader.readline()).split(b";")[0].strip() or b"0", 16)
                chunk = await self.reader.readexactly(size + 2)
                if size == 0:
                    break
                content += chunk[:-2]
        else:
            length = re.search(rb"content-length:\s*(\d+)", lower)
            content = await self.reader.readexactly(int(length.group(1))) if length else b""
        if b"connection: close" in lower:
            await self.close()
        return status, server_ms, content

    async def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
            with contextlib.suppress(OSError):
                await self.writer.wait_closed()
            self.writer = None


# --- statistics --------------------------------------------------------------------------


def percentile(ordered: list[float], q: float) -> float | None:
    """Nearest rank."""
    if not ordered:
        return None
    return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]


def summary(samples: list[float]) -> dict[str, float | None]:
    ordered = sorted(samples)
    return {
        "p50": round(statistics.median(ordered), 2) if ordered else None,
        "p90": _round(percentile(ordered, 0.90)),
        "p99": _round(percentile(ordered, 0.99)),
        "max": _round(ordered[-1] if ordered else None),
    }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 2)


def median(values: list[Any]) -> float | None:
    numbers = [value for value in values if value is not None]
    return round(statistics.median(numbers), 3) if numbers else None


# --- a closed-loop workload ----------------------------------------------------------------

Request = tuple[str, str, str | None, Any, dict[str, str] | None]


@dataclass
class Workload:
    name: str
    # client number, request number → method, path, token, JSON body, extra headers
    make: Callable[[int, int], Request]
    concurrency: int
    # What the response must contain (a sanity check that the work was done).
    check: Callable[[bytes], bool] | None = None
    group: str = ""
    expect: tuple[int, ...] = (200,)


@dataclass
class Samples:
    client_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    ok: int = 0
    errors: int = 0
    error_examples: list[str] = field(default_factory=list)


def cpu_seconds() -> dict[str, float]:
    """CPU time (user + system) used so far by the server's processes (the session
    `running_server` started), by PostgreSQL's (its backends do a send's database work;
    SQLite's is in the server's) and, with --worker, by the worker's (`running_worker`),
    read from /proc. A request's CPU, unlike its rate, hardly moves with what else the
    machine is doing (docs/benchmarks.md)."""
    used = {"server": 0.0, "database": 0.0} | ({"worker": 0.0} if WORKER_SESSION else {})
    tick = os.sysconf("SC_CLK_TCK")
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        command, _, rest = stat.rpartition(")")
        fields = rest.split()
        # After the command: state, ppid, pgrp, session, …, utime (12th), stime (13th).
        spent = (int(fields[11]) + int(fields[12])) / tick
        if SERVER_SESSION and int(fields[3]) == SERVER_SESSION:
            used["server"] += spent
        elif WORKER_SESSION and int(fields[3]) == WORKER_SESSION:
            used["worker"] += spent
        elif command.endswith("(postgres"):
            used["database"] += spent
    return used


# The session ids of the running server's processes (running_server) and of the worker's
# (running_worker, with --worker), for cpu_seconds.
SERVER_SESSION = 0
WORKER_SESSION = 0


async def run_workload(
    port: int, workload: Workload, duration: float, warmup: float, max_requests: int
) -> dict[str, Any]:
    samples = Samples()
    counter = iter(range(10**12))
    recording = False
    started = 0.0
    # Set when recording starts: a loop starved past the warm-up (a busy machine) still
    # records `duration` seconds, and every client at least the request it had in flight.
    deadline = math.inf

    async def client(number: int) -> None:
        connection = Connection(port)
        try:
            while time.perf_counter() < deadline:
                if recording and samples.ok + samples.errors >= max_requests:
                    return
                method, path, token, body, headers = workload.make(number, next(counter))
                before = time.perf_counter()
                try:
                    status, server_ms, content = await asyncio.wait_for(
                        connection.request(method, path, token, body, headers), 30
                    )
                except (OSError, TimeoutError, asyncio.IncompleteReadError, ValueError) as error:
                    await connection.close()
                    status, server_ms, content = 0, None, str(error).encode()
                elapsed = (time.perf_counter() - before) * 1000
                if not recording:
                    continue
                good = status in workload.expect and (
                    workload.check is None or workload.check(content)
                )
                if good:
                    samples.ok += 1
                    samples.client_ms.append(elapsed)
                    if server_ms is not None:
                        samples.server_ms.append(server_ms)
                else:
                    samples.errors += 1
                    if len(samples.error_examples) < 3:
                        samples.error_examples.append(f"{status}: {content[:200]!r}")
        finally:
            await connection.close()

    tasks = [asyncio.create_task(client(number)) for number in range(workload.concurrency)]
    await asyncio.sleep(warmup)
    recording, started, cpu_before = True, time.perf_counter(), cpu_seconds()
    deadline = started + duration
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - started
    cpu_after = cpu_seconds()
    # A process that ended in the meantime (a PostgreSQL backend) takes its time with it:
    # never below zero.
    cpu_ms = {
        side: round(max(0.0, cpu_after[side] - cpu_before[side]) * 1000 / samples.ok, 3)
        if samples.ok
        else None
        for side in cpu_before
    }
    return {
        "requests": samples.ok,
        "errors": samples.errors,
        "error_examples": samples.error_examples,
        "seconds": round(elapsed, 2),
        "per_second": round(samples.ok / elapsed, 1) if elapsed else 0.0,
        "concurrency": workload.concurrency,
        "client_ms": summary(samples.client_ms),
        "server_ms": summary(samples.server_ms),
        # While recording (a closed loop: the last requests of the warm-up may end in it).
        "cpu_ms_per_request": cpu_ms,
    }


# --- the server --------------------------------------------------------------------------


def without_password(url: str) -> str:
    """A database URL as results keep it: without its user and password."""
    return re.sub(r"//[^@/]*@", "//", url)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


def listening(port: int) -> int:
    """How many sockets listen on `port` (Linux's table of TCP sockets; elsewhere, one):
    each server process listens on a socket of its own once it has loaded what requests
    need (server/warm.py), so a workload that starts before all of them listen would put
    all its connections on the first one, and keep them there."""
    table = Path("/proc/net/tcp")
    if not table.exists():
        return sys.maxsize
    found = 0
    for line in table.read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":
            found += 1
    return found


@contextlib.contextmanager
def running_server(
    workers: int,
    log: Path,
    environment: dict[str, str],
    more: Sequence[str] = (),
    sockets: int | None = None,
) -> Iterator[int]:
    """`messagecenter serve` on a free port, ready once `sockets` sockets listen on it
    (default: one per process, as this code's `serve` binds them; an older `serve` whose
    processes shared one socket: 1 — bench/old_new.py)."""
    sockets = workers if sockets is None else sockets
    port = free_port()
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "messagecenter",
            "serve",
            "--host",
            HOST,
            "--port",
            str(port),
            "--workers",
            str(workers),
            *more,
        ],
        env={**os.environ, **environment},
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        start_new_session=True,
    )
    global SERVER_SESSION
    SERVER_SESSION = process.pid
    try:
        # A loaded machine (six sessions on two cores) can take minutes to start the workers.
        deadline = time.monotonic() + 300
        while True:
            try:
                with socket.create_connection((HOST, port), timeout=1) as probe:
                    probe.sendall(f"GET /healthz HTTP/1.1\r\nHost: {HOST}\r\n\r\n".encode())
                    if probe.recv(64).startswith(b"HTTP/1.1 200") and listening(port) >= sockets:
                        break
            except OSError:
                pass
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the server did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.2)
        yield port
    finally:
        # The whole session: uvicorn's worker processes too.
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def running_worker(log: Path, environment: dict[str, str]) -> Iterator[dict[str, Any]]:
    """`messagecenter worker` (the job runner, the scheduler, the e-mail sender, each
    polling the database) for as long as the block runs, started in a session of its own.
    Ready once it has started and gone idle — its start (imports, system checks) is seconds
    of a core, which would otherwise fall in the first measurements. Yields what the report
    keeps of it: its CPU over the whole run and how it ended (0: it stopped on SIGTERM)."""
    global WORKER_SESSION
    process = subprocess.Popen(
        [sys.executable, "-m", "messagecenter", "worker"],
        env={**os.environ, **environment},
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        start_new_session=True,
    )
    WORKER_SESSION = process.pid
    ran: dict[str, Any] = {"pid": process.pid}
    try:
        deadline = time.monotonic() + 300
        started = time.monotonic()
        before = cpu_seconds()["worker"]
        while True:
            time.sleep(0.5)
            # A worker that has ended uses no CPU either: not idle, gone.
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start:\n{log.read_text()[-3000:]}")
            now = cpu_seconds()["worker"]
            # Idle: under a tenth of a core over half a second, a second after it started.
            if time.monotonic() - started >= 1 and now - before < 0.05:
                break
            before = now
        ran["seconds_to_idle"] = round(time.monotonic() - started, 1)
        yield ran
    finally:
        ran["cpu_seconds"] = round(cpu_seconds().get("worker", 0.0), 2)
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            ran["exit_code"] = process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            ran["exit_code"] = process.wait(timeout=10)
        WORKER_SESSION = 0


# --- the workloads -----------------------------------------------------------------------


def workloads(
    tokens: dict[str, Any], args: argparse.Namespace, session_cookie: str = ""
) -> list[Workload]:
    run = secrets.token_hex(3)
    small = tokens["small_buyer"]["token"]
    biggest = tokens["biggest_seller"]["token"]
    senders = tokens["senders"]
    long_id = tokens["long_conversation"]["conversation_id"]
    search = tokens["biggest_seller"]["search"]
    first_of_latest: dict[str, int] = {}

    def get(path: str, token: str) -> Callable[[int, int], Request]:
        return lambda client, number: ("GET", path, token, None, None)

    def page(path: str) -> Callable[[int, int], Request]:
        cookie = {"Cookie": session_cookie}
        return lambda client, number: ("GET", path, None, None, cookie)

    sends = itertools.count()

    def send(client: int, number: int) -> Request:
        # Numbered across repeats: a key used again would be a retry (200), not a send.
        sender, number = senders[client % len(senders)], next(sends)
        body = f"Bench {run} {client}-{number}: any news about the delivery?"
        key = f"bench-{run}-{client}-{number}"
        return (
            "POST",
            f"/api/v1/conversations/{sender['conversation_id']}/messages",
            sender["token"],
            {"body": body},
            {"Idempotency-Key": key},
        )

    def older_page(client: int, number: int) -> Request:
        before = first_of_latest.get("id", 2**62)
        path = f"/api/v1/conversations/{long_id}/messages?limit=100&before={before}"
        return ("GET", path, biggest, None, None)

    def remember_first(content: bytes) -> bool:
        items = json.loads(content)["items"]
        if items and "id" not in first_of_latest:
            first_of_latest["id"] = items[0]["id"]
        return len(items) == 100

    def has_results(content: bytes) -> bool:
        return bool(json.loads(content)["results"])

    def has_items(content: bytes) -> bool:
        return bool(json.loads(content)["items"])

    def has_25(content: bytes) -> bool:
        return len(json.loads(content)["items"]) == 25

    def has_50(content: bytes) -> bool:
        return len(json.loads(content)["items"]) == 50

    def is_page(content: bytes) -> bool:
        # The page itself, not the sign-in page a lost session would be sent to.
        return b'id="main"' in content or b"<main" in content

    reads: list[Workload] = [
        Workload("inbox page, small buyer", get("/api/v1/conversations", small), 1, has_items),
        Workload("badges, small buyer", get("/api/v1/folders", small), 1),
        Workload("inbox page, biggest seller", get("/api/v1/conversations", biggest), 1, has_items),
        Workload("badges, biggest seller", get("/api/v1/folders", biggest), 1),
        Workload(
            "conversation (200 messages): detail",
            get(f"/api/v1/conversations/{long_id}", biggest),
            1,
            group="conversation",
        ),
        Workload(
            "conversation (200 messages): latest 100",
            get(f"/api/v1/conversations/{long_id}/messages?limit=100", biggest),
            1,
            remember_first,
            group="conversation",
        ),
        Workload(
            "conversation (200 messages): older 100",
            older_page,
            1,
            has_items,
            group="conversation",
        ),
        # What the HTML conversation page shows at first: its newest 50 (PAGE_API_CALLS).
        Workload(
            "conversation (200 messages): latest 50",
            get(f"/api/v1/conversations/{long_id}/messages?limit=50", biggest),
            1,
            has_50,
            group="conversation",
        ),
        Workload(
            HISTORY_PAGE,
            get(f"/api/v1/conversations/{long_id}/messages?limit=25", biggest),
            1,
            has_25,
            group="conversation",
        ),
        *(
            Workload(
                f"search, biggest seller: {label}",
                get(f"/api/v1/search?q={quote(search[key])}", biggest),
                1,
                has_results,
                group="search",
            )
            for label, key in (
                (f"common word {search['common_word']!r}", "common_word"),
                (f"rare word {search['rare_word']!r}", "rare_word"),
                ("order number", "order_number"),
            )
        ),
        # A letter left out: finds nothing as typed, then the word one edit away
        # (search/spelling.py) — the price of a misspelling beside the exact searches.
        *(
            Workload(
                f"search, biggest seller: misspelt {label} {misspelt(search[key])!r}",
                get(f"/api/v1/search?q={quote(misspelt(search[key]))}", biggest),
                1,
                has_results,
                group="search",
            )
            for label, key in (("common word", "common_word"), ("rare word", "rare_word"))
        ),
    ]
    if args.clients:
        # The client sweep: the send and the history page at each number of clients.
        history = next(read for read in reads if read.name == HISTORY_PAGE)
        sweep = [
            Workload("floor: GET /healthz", get("/healthz", ""), args.concurrency, group="floor")
        ]
        for clients in args.clients:
            sweep += [
                replace(workload, name=f"{workload.name} ({clients} clients)", concurrency=clients)
                for workload in (
                    Workload("send a message", send, clients, expect=(201,), group="send"),
                    replace(history, group="conversation"),
                )
            ]
        return sweep
    if session_cookie:
        reads += [
            Workload(name, page(path), 1, is_page, group="pages")
            for name, path in (
                (PAGES["message center"], "/message-center/"),
                (PAGES["conversation"], f"/message-center/conversations/{long_id}/"),
            )
        ]
    plan = [
        Workload("floor: GET /healthz", get("/healthz", ""), args.concurrency, group="floor"),
        Workload("send a message", send, args.concurrency, expect=(201,), group="send"),
    ]
    # Each read alone (its latency: what one request costs the server), then with more
    # clients than cores (what waiting for the server adds).
    for clients in args.read_concurrency:
        plan += [
            replace(
                read,
                name=read.name if clients == 1 else f"{read.name} ({clients} clients)",
                concurrency=clients,
                group=read.group or "inbox",
            )
            for read in reads
        ]
    return [
        workload
        for workload in plan
        if workload.group == "floor"
        or (
            wanted_in(args, workload)
            and (not args.names or CLIENTS_SUFFIX.sub("", workload.name) in args.names)
        )
    ]


HISTORY_PAGE = "conversation: history page (25 messages)"
# The HTML pages, and the API calls that give an app the same screen: the Message Center
# is its list and its folder counts; the conversation page shows the newest 50 of its 200
# messages (conversations/views.py MESSAGES_PER_PAGE; before issue 19's paging it showed all
# 200, against the detail and both pages of 100).
PAGES = {
    "message center": "Message Center page (HTML), biggest seller",
    "conversation": "conversation (200 messages): page (HTML)",
}
PAGE_API_CALLS = {
    PAGES["message center"]: ("inbox page, biggest seller", "badges, biggest seller"),
    PAGES["conversation"]: (
        "conversation (200 messages): detail",
        "conversation (200 messages): latest 50",
    ),
}
PAGE_GOAL = 2


def wanted_in(args: argparse.Namespace, workload: Workload) -> bool:
    """A workload of a group asked for; pages bring the API calls they are compared with."""
    if wanted(args, workload.group):
        return True
    compared = {name for calls in PAGE_API_CALLS.values() for name in calls}
    return "pages" in args.only and CLIENTS_SUFFIX.sub("", workload.name) in compared


# What a read's name says when it runs with more than one client.
CLIENTS_SUFFIX = re.compile(r" \(\d+ clients\)$")


def wanted(args: argparse.Namespace, group: str) -> bool:
    """--only: the workload groups to run (the floor always runs)."""
    return not args.only or group in args.only


def load_realtime_bench() -> ModuleType:
    """bench/realtime.py (the realtime issue's script) as a module, for its stream client."""
    spec = importlib.util.spec_from_file_location("bench_realtime", ROOT / "bench" / "realtime.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


async def realtime_latency(port: int, tokens: dict[str, Any], messages: int) -> dict[str, Any]:
    """Send → event on the recipient's open stream, with bench/realtime.py's functions."""
    realtime = load_realtime_bench()
    buyers = tokens["stream_buyers"]
    if not buyers:
        return {"available": False, "why": "the dataset has no stream buyers"}
    receipts = realtime.Receipts()
    streams, opening = await realtime.open_streams(
        port, [buyer["token"] for buyer in buyers], receipts, 60
    )
    try:
        result = await realtime.latency_run(
            port,
            tokens["biggest_seller"]["token"],
            [buyer["conversation_id"] for buyer in buyers],
            receipts,
            messages,
            20.0,
            f"bench-realtime-{secrets.token_hex(3)}",
        )
    finally:
        await realtime.close_streams(streams)
    result.pop("samples_ms", None)
    return {
        "available": True,
        "streams": len(streams),
        "opening_seconds": round(opening, 2),
        "rate_per_second": 20.0,
        "via": "bench/realtime.py open_streams + latency_run",
        **result,
    }


def schedule_notice(subject: str) -> float:
    """A notice to everyone, scheduled now through the notifications app's own action as a
    staff account (created for the benchmark if needed). Returns how long the action took."""
    import django

    django.setup()
    from django.db import connections
    from django.utils import timezone

    from messagecenter.accounts.models import Role, User
    from messagecenter.notifications.actions import schedule_broadcast

    staff, _ = User.objects.get_or_create(
        username="bench-staff",
        defaults={"role": Role.ADMIN, "is_staff": True, "password": "!"},
    )
    began = time.perf_counter()
    schedule_broadcast(
        staff,
        kind="notice",
        subject=subject,
        body="We are updating our terms of service. No action is needed.",
        send_at=timezone.now(),
        audience="everyone",
    )
    elapsed = time.perf_counter() - began
    connections.close_all()
    return elapsed


def page_session(token: str) -> str:
    """A `Cookie` header that signs the token's person in on the web pages: a session made
    as signing in makes it (Django's auth keys, the session's hash of the password), with
    no second factor pending (accounts.two_factor) — what a browser holds once signed in."""
    import django

    django.setup()
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY
    from django.contrib.sessions.backends.db import SessionStore
    from django.db import connections

    from messagecenter.accounts.queries import api_token_for_secret

    found = api_token_for_secret(token)
    if found is None:
        raise RuntimeError("the dataset's token is not valid: generate the dataset again")
    store = SessionStore()
    store[SESSION_KEY] = str(found.user.pk)
    store[BACKEND_SESSION_KEY] = "django.contrib.auth.backends.ModelBackend"
    store[HASH_SESSION_KEY] = found.user.get_session_auth_hash()
    store.create()
    connections.close_all()
    return f"{settings.SESSION_COOKIE_NAME}={store.session_key}"


async def notice_to_everyone(port: int, tokens: dict[str, Any]) -> dict[str, Any]:
    """Workload 5: from scheduling a notice to everyone until every sampled person's
    GET /api/v1/broadcasts lists it. Broadcasts fan out on read (one row, an audience
    rule), so each person's list evaluates the same rule: the sample (everyone the dataset
    has a token for, the biggest seller included) stands for all."""
    if importlib.util.find_spec("messagecenter.notifications") is None:
        return {"available": False, "why": "messagecenter.notifications does not exist yet"}
    people = {
        tokens["small_buyer"]["token"],
        tokens["biggest_seller"]["token"],
        *(sender["token"] for sender in tokens["senders"]),
        *(buyer["token"] for buyer in tokens["stream_buyers"]),
    }
    subject = f"Bench notice {secrets.token_hex(4)}"
    started = time.perf_counter()
    action_seconds = await asyncio.to_thread(schedule_notice, subject)
    seen_after: list[float] = []
    server_ms: list[float] = []
    polls: list[int] = []
    failures = 0

    async def wait_for_notice(token: str) -> None:
        nonlocal failures
        connection = Connection(port)
        try:
            deadline = time.perf_counter() + 30
            for poll in range(1, 10**6):
                if time.perf_counter() > deadline:
                    break
                status, timing, content = await connection.request(
                    "GET", "/api/v1/broadcasts", token
                )
                if timing is not None:
                    server_ms.append(timing)
                if status == 200 and any(
                    item["subject"] == subject for item in json.loads(content)["items"]
                ):
                    seen_after.append(time.perf_counter() - started)
                    polls.append(poll)
                    return
                if status != 200:
                    failures += 1
                    return
            failures += 1
        finally:
            await connection.close()

    gate = asyncio.Semaphore(8)

    async def limited(token: str) -> None:
        async with gate:
            await wait_for_notice(token)

    await asyncio.gather(*(limited(token) for token in sorted(people)))
    return {
        "available": True,
        "audience": "everyone",
        "users_in_database": tokens["users"],
        "people_checked": len(people),
        "seen_by": len(seen_after),
        "failures": failures,
        "schedule_action_ms": round(action_seconds * 1000, 2),
        "visible_to_all_checked_s": round(max(seen_after), 3) if seen_after else None,
        "visible_p50_s": round(statistics.median(seen_after), 3) if seen_after else None,
        # 1: the first read after the action committed already listed it (nothing to wait
        # for but the reads themselves, which queue 8 at a time on the server).
        "most_polls_needed": max(polls) if polls else None,
        "broadcasts_list_server_ms": summary(server_ms),
        "how": "schedule_broadcast(audience=everyone, send_at=now) in-process, then "
        "GET /api/v1/broadcasts as each person with a token, 8 at a time, until listed",
    }


async def measure(
    port: int, tokens: dict[str, Any], args: argparse.Namespace, session_cookie: str = ""
) -> dict[str, Any]:
    plan = workloads(tokens, args, session_cookie)
    repeats: list[dict[str, Any]] = []
    for repeat in range(args.repeats):
        results: dict[str, Any] = {}
        for workload in plan:
            result = await run_workload(
                port, workload, args.duration, args.warmup, args.max_requests
            )
            result["group"] = workload.group
            results[workload.name] = result
            print(
                f"  [{repeat + 1}/{args.repeats}] {workload.name}: {result['per_second']}/s, "
                f"server p50/p99 {result['server_ms']['p50']}/{result['server_ms']['p99']} ms, "
                f"client p99 {result['client_ms']['p99']} ms, errors {result['errors']}, "
                "CPU ms per request: "
                + ", ".join(f"{side} {ms}" for side, ms in result["cpu_ms_per_request"].items()),
                flush=True,
            )
        floor = results[plan[0].name]["per_second"]
        for result in results.values():
            result["share_of_floor"] = round(result["per_second"] / floor, 4) if floor else None
        repeats.append(results)
    medians: dict[str, Any] = {}
    for workload in plan:
        runs = [repeat[workload.name] for repeat in repeats]
        medians[workload.name] = {
            "group": workload.group,
            "concurrency": workload.concurrency,
            "requests": sum(run["requests"] for run in runs),
            "errors": sum(run["errors"] for run in runs),
            "per_second": median([run["per_second"] for run in runs]),
            "share_of_floor": median([run["share_of_floor"] for run in runs]),
            "cpu_ms_per_request": {
                side: median([run["cpu_ms_per_request"][side] for run in runs])
                for side in runs[0]["cpu_ms_per_request"]
            },
            **{
                f"{side}_{stat}_ms": median([run[f"{side}_ms"][stat] for run in runs])
                for side in ("server", "client")
                for stat in ("p50", "p99")
            },
        }
    realtime: dict[str, Any] = {"available": False, "why": "not asked for (--only)"}
    notice: dict[str, Any] = {"available": False, "why": "not asked for (--only)"}
    alone = args.clients or args.names
    if wanted(args, "realtime") and not alone:
        realtime = await realtime_latency(port, tokens, args.realtime_messages)
    if wanted(args, "notice") and not alone:
        notice = await notice_to_everyone(port, tokens)
    return {"repeats": repeats, "median": medians, "realtime": realtime, "notice": notice}


# --- report ------------------------------------------------------------------------------


def table(document: dict[str, Any]) -> str:
    lines = [
        "| workload | clients | requests/s | share of floor | server p50 / p99 (ms) "
        "| client p50 / p99 (ms) | CPU ms per request: server / database | errors |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, row in document["median"].items():
        share = row["share_of_floor"]
        # Results written before the CPU was measured have none.
        cpu = row.get("cpu_ms_per_request") or {}
        worker = f" (worker {cpu['worker']})" if "worker" in cpu else ""
        lines.append(
            f"| {name} | {row['concurrency']} | {row['per_second']:,.0f} | "
            f"{'' if share is None else f'{share:.1%}'} | "
            f"{row['server_p50_ms']} / {row['server_p99_ms']} | "
            f"{row['client_p50_ms']} / {row['client_p99_ms']} | "
            f"{cpu.get('server')} / {cpu.get('database')}{worker} | {row['errors']} |"
        )
    realtime = document["realtime"]
    if realtime.get("available"):
        delivery = realtime["delivery_ms"]
        lines.append(
            f"| realtime: send → open stream ({realtime['streams']} streams, "
            f"{realtime['rate_per_second']:.0f}/s) | – | – | – | – | "
            f"{delivery['p50']} / {delivery['p99']} | – | lost {realtime['lost']} |"
        )
    notice = document["notice"]
    if not notice.get("available"):
        lines.append(f"| notice to every user | not available: {notice['why']} | | | | | | |")
    else:
        listing = notice["broadcasts_list_server_ms"]
        lines.append(
            f"| notice to every user: visible to all {notice['seen_by']} checked in "
            f"{notice['visible_to_all_checked_s']} s (action {notice['schedule_action_ms']} ms)"
            f" | 8 | – | – | {listing['p50']} / {listing['p99']} (list) | – | – | "
            f"failures {notice['failures']} |"
        )
    return "\n".join(lines)


def pages_table(document: dict[str, Any]) -> str:
    """Each page beside the API calls that give an app the same screen (their times
    added: one after the other), and the page's p50 and p99 as multiples of theirs (the
    goal: p99 ≤ 2×)."""
    rows = document["median"]
    lines = [
        "| page | clients | page server p50 / p99 (ms) | API calls | API server p50 / p99 "
        "(ms, added) | page ÷ API: p50 / p99 |",
        "|---|---|---|---|---|---|",
    ]
    for page_name, calls in PAGE_API_CALLS.items():
        for name in rows:
            if CLIENTS_SUFFIX.sub("", name) != page_name:
                continue
            suffix = name[len(page_name) :]
            found = [rows.get(call + suffix) for call in calls]
            if any(row is None for row in found):
                continue
            page = rows[name]
            api = {
                stat: sum(row[f"server_{stat}_ms"] or 0 for row in found if row)
                for stat in ("p50", "p99")
            }
            ratios = [
                f"{page[f'server_{stat}_ms'] / api[stat]:.2f}" if api[stat] else "–"
                for stat in ("p50", "p99")
            ]
            lines.append(
                f"| {name} | {page['concurrency']} | {page['server_p50_ms']} / "
                f"{page['server_p99_ms']} | {' + '.join(calls)} | {api['p50']:.2f} / "
                f"{api['p99']:.2f} | {' / '.join(ratios)} |"
            )
    return "\n".join(lines) if len(lines) > 2 else ""


def plot_sweep(document: dict[str, Any], prefix: Path) -> list[Path]:
    """Throughput, and server p50 / p99, against the number of clients."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = document["median"]
    clients = document["settings"]["clients"]
    label = f"{document['database']}, {document['dataset']['messages']:,} messages"
    figure, (throughput, latency) = plt.subplots(1, 2, figsize=(11, 4.5))
    for name, color in (("send a message", "#c44e52"), (HISTORY_PAGE, "#4c72b0")):
        found = [rows.get(f"{name} ({count} clients)") for count in clients]
        counts = [count for count, row in zip(clients, found, strict=True) if row]
        found = [row for row in found if row]
        throughput.plot(counts, [row["per_second"] for row in found], "o-", color=color, label=name)
        for stat, style in (("p50", "o--"), ("p99", "s-")):
            latency.plot(
                counts,
                [row[f"server_{stat}_ms"] for row in found],
                style,
                color=color,
                label=f"{name}: {stat}",
            )
    throughput.set_xlabel("clients")
    throughput.set_ylabel("requests per second (median of repeats)")
    throughput.set_title(f"Throughput ({label})", fontsize=10)
    latency.set_xlabel("clients")
    latency.set_ylabel("server-side ms (Server-Timing), log scale")
    latency.set_yscale("log")
    latency.set_title(f"p50 / p99 ({label})", fontsize=10)
    for axis in (throughput, latency):
        axis.set_xscale("log", base=2)
        axis.set_xticks(clients, [str(count) for count in clients])
        axis.legend(fontsize=7)
        axis.grid(True, alpha=0.3)
    figure.tight_layout()
    path = prefix.with_name(prefix.name + "-clients.png")
    figure.savefig(path, dpi=100)
    plt.close(figure)
    return [path]


def plot(document: dict[str, Any], prefix: Path) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = document["median"]
    names = list(rows)
    label = f"{document['database']}, {document['dataset']['messages']:,} messages"
    written = []
    figure, axis = plt.subplots(figsize=(9.5, 5.5))
    shares = [(rows[name]["share_of_floor"] or 0) * 100 for name in names]
    axis.barh(names[::-1], shares[::-1], color="#4c72b0")
    axis.axvline(100 / 3, color="grey", linestyle="--", linewidth=1, label="send goal: 1/3")
    axis.set_xlabel("throughput, % of GET /healthz on the same server (median of repeats)")
    axis.set_title(f"Throughput as a share of the floor ({label})")
    axis.legend(fontsize=8)
    figure.tight_layout()
    path = prefix.with_name(prefix.name + "-throughput.png")
    figure.savefig(path, dpi=100)
    written.append(path)
    plt.close(figure)

    figure, axis = plt.subplots(figsize=(9.5, 5.5))
    positions = range(len(names))
    axis.barh(
        [p + 0.2 for p in positions][::-1],
        [rows[n]["server_p50_ms"] or 0 for n in names],
        height=0.4,
        label="server p50",
        color="#55a868",
    )
    axis.barh(
        [p - 0.2 for p in positions][::-1],
        [rows[n]["server_p99_ms"] or 0 for n in names],
        height=0.4,
        label="server p99",
        color="#c44e52",
    )
    axis.set_yticks(list(positions)[::-1], names)
    for goal, text in ((20, "inbox goal"), (30, "conversation goal"), (100, "search/send goal")):
        axis.axvline(goal, color="grey", linestyle=":", linewidth=1)
        axis.text(goal, len(names) - 0.5, text, fontsize=7, rotation=90, va="top")
    axis.set_xscale("log")
    axis.set_xlabel("Server-Timing (ms, log scale), median of repeats")
    axis.set_title(f"Server-side latency ({label})")
    axis.legend(fontsize=8)
    figure.tight_layout()
    path = prefix.with_name(prefix.name + "-latency.png")
    figure.savefig(path, dpi=100)
    written.append(path)
    plt.close(figure)
    return written


# --- main --------------------------------------------------------------------------------


def smoke_dataset(tokens_path: Path, fresh: bool) -> None:
    """A tiny dataset in DATABASE_URL, made by bench/generate.py in its own process."""
    command = [
        sys.executable,
        str(ROOT / "bench" / "generate.py"),
        "--users",
        "400",
        "--sellers",
        "20",
        "--agents",
        "3",
        "--messages",
        "4000",
        "--long-conversations",
        "2",
        "--tokens",
        str(tokens_path),
    ]
    subprocess.run([*command, *(["--fresh"] if fresh else [])], check=True)


def numbers(text: str) -> list[int]:
    return [int(number) for number in text.split(",")]


def misspelt(word: str) -> str:
    """The word with its middle letter left out: "delivery" → "deliery"."""
    middle = len(word) // 2
    return word[:middle] + word[middle + 1 :]


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=Path, help="the JSON file bench/generate.py wrote")
    parser.add_argument(
        "--smoke",
        action="store_true",
        help="tiny dataset, short workloads: --duration 0.3 --warmup 0.1 --repeats 1 --workers 1 "
        "--realtime-messages 10, unless given",
    )
    parser.add_argument(
        "--no-fresh", action="store_true", help="smoke: load into the (empty) database as is"
    )
    parser.add_argument(
        "--workers", type=int, default=os.cpu_count() or 1, help="server processes (one per core)"
    )
    parser.add_argument("--concurrency", type=int, default=32, help="floor and send clients")
    parser.add_argument(
        "--read-concurrency",
        type=numbers,
        default=[1, 4],
        help="clients of the reads, each read once per number (default 1,4)",
    )
    parser.add_argument(
        "--only",
        type=lambda text: set(text.split(",")),
        default=set(),
        help="workload groups: send, inbox, conversation, search, pages, realtime, notice",
    )
    parser.add_argument(
        "--names",
        type=lambda text: set(text.split(";")),
        default=set(),
        help="only these reads, by name, separated by ';' (with --only's groups)",
    )
    parser.add_argument(
        "--clients",
        type=numbers,
        default=[],
        help="the client sweep instead of the workloads: the send and the history page at "
        "each number of clients, e.g. 1,8,32,64 (--plot-prefix: throughput and latency "
        "against clients)",
    )
    parser.add_argument("--server-args", default="", help="more arguments for `serve`")
    parser.add_argument(
        "--worker",
        action="store_true",
        help="run `messagecenter worker` beside the server (its CPU reported apart)",
    )
    parser.add_argument("--duration", type=float, default=10, help="seconds per workload")
    parser.add_argument("--warmup", type=float, default=2, help="seconds, not recorded")
    parser.add_argument("--max-requests", type=int, default=10**9, help="per workload")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--realtime-messages", type=int, default=200)
    parser.add_argument("--output", type=Path, help="JSON (default: bench/results/)")
    parser.add_argument("--plot-prefix", type=Path, help="e.g. docs/benchmarks-sqlite")
    parser.add_argument("--label", default="", help="a note stored in the JSON")
    args = parser.parse_args(argv)
    if args.smoke:
        # One process: no Redis needed for the realtime workload's wake-ups.
        # A third of a second per workload is hundreds of requests: enough to see each work.
        # --smoke's defaults: an option given on the command line still wins
        # (tests/bench/test_smoke.py runs each workload for less).
        parser.set_defaults(duration=0.3, warmup=0.1, repeats=1, workers=1, realtime_messages=10)
        args = parser.parse_args(argv)
    # Stopped from outside: stop the server too (the context manager's finally).
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    if "MESSAGECENTER_VAR_DIR" not in os.environ:
        os.environ["MESSAGECENTER_VAR_DIR"] = tempfile.mkdtemp(prefix="mc-bench-")
    var_dir = Path(os.environ["MESSAGECENTER_VAR_DIR"])
    var_dir.mkdir(parents=True, exist_ok=True)
    tokens_path = args.tokens
    generated = args.smoke and tokens_path is None
    if generated:
        tokens_path = var_dir / "bench-smoke-tokens.json"
        smoke_dataset(tokens_path, fresh=not args.no_fresh)
    if tokens_path is None:
        parser.error("--tokens is required (run bench/generate.py first), or --smoke")
    tokens = json.loads(tokens_path.read_text())
    database_url = os.environ.get("DATABASE_URL", "")
    environment = {
        "LOG_LEVEL": "WARNING",
        "EMAIL_URL": "console:",
        # Several processes share wake-ups through Redis, as in production.
        "PUBSUB_URL": "memory://" if args.workers == 1 else "redis://127.0.0.1:6379/13",
        **LIFTED_SEND_LIMITS,
    }
    print(
        f"benchmark: {tokens['database']}, {tokens['messages']:,} messages, "
        f"{args.workers} server process(es)",
        flush=True,
    )
    # Migrations added since the dataset was generated: their columns get their defaults.
    # (A dataset generated a moment ago, --smoke's, is migrated: bench/generate.py did it.)
    if not generated:
        subprocess.run(
            [sys.executable, "-m", "messagecenter", "migrate", "--noinput", "-v0"],
            env={**os.environ, **environment},
            check=True,
        )
    # The pages' signed-in browser: the biggest seller, whose conversation is the long one.
    session_cookie = (
        page_session(tokens["biggest_seller"]["token"]) if wanted(args, "pages") else ""
    )
    began = time.perf_counter()
    server_args = shlex.split(args.server_args)
    worker: dict[str, Any] | None = None
    with contextlib.ExitStack() as running:
        if args.worker:
            worker = running.enter_context(
                running_worker(var_dir / "bench-worker.log", environment)
            )
        port = running.enter_context(
            running_server(args.workers, var_dir / "bench-server.log", environment, server_args)
        )
        # The clients share the machine with the server: uvloop keeps their cost low.
        measured = uvloop.run(measure(port, tokens, args, session_cookie))
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "label": args.label,
        "machine": {
            "nproc": os.cpu_count(),
            "mem_total_kib": int(Path("/proc/meminfo").read_text().split()[1]),
            "python": platform.python_version(),
            "kernel": platform.release(),
            "load_average_at_end": os.getloadavg(),
        },
        "database": tokens["database"],
        "database_url": without_password(database_url),
        "dataset": {
            key: tokens.get(key) for key in ("users", "sellers", "messages", "conversations")
        }
        | {
            "biggest_seller_conversations": tokens["biggest_seller"]["conversations"],
            "small_buyer_conversations": tokens["small_buyer"]["conversations"],
            "generation_seconds": tokens.get("seconds", {}).get("total"),
        },
        "settings": {
            key: getattr(args, key)
            for key in (
                "workers",
                "concurrency",
                "read_concurrency",
                "duration",
                "warmup",
                "repeats",
                "realtime_messages",
                "server_args",
                "clients",
            )
        }
        | {"only": sorted(args.only)},
        "goals": GOALS,
        "worker": worker,
        "seconds": round(time.perf_counter() - began, 1),
        **measured,
    }
    output = args.output or RESULTS_DIR / (
        f"marketplace-{tokens['database']}-{tokens['messages']}-"
        f"{datetime.now(UTC):%Y-%m-%dT%H%M}.json"
    )
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=1) + "\n")
    print(table(document))
    if pages := pages_table(document):
        print(pages)
    print(f"results: {output}")
    if args.plot_prefix:
        for path in (plot_sweep if args.clients else plot)(document, args.plot_prefix):
            print(f"plot: {path}")


if __name__ == "__main__":
    main()
