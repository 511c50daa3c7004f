"""Benchmark of the realtime stream (GET /api/v1/sync/stream), issue 5's "Must show".

    .venv/bin/python bench/realtime.py --streams 10000 --latency-streams 1000 \
        --messages 200 --rate 20 --repeats 3

Measures, against real `messagecenter serve` processes on loopback:

- memory per idle stream: the server's RSS (VmRSS) before and after opening N streams;
- delivery latency: a seller POSTs replies through the HTTP API; each reply's receipt is
  the moment its `message.created` event arrives on the buyer's open stream. Send time is
  taken just before the request is written, receipt when the event is parsed; both are
  this process's monotonic clock;
- the same latency with two processes over Redis: sends to process A, streams on B;
- a reference measured in the same run: the round-trip time of GET /api/v1/me on the same
  server with the same streams open, paced like the sends.

The script prepares its own database (SQLite under a temporary MESSAGECENTER_VAR_DIR, or
--database-url for an empty PostgreSQL database), raises its open-file limit to the hard
limit (inherited by the servers it starts), bounds every loop by count and time, stops
its server processes, and writes JSON to bench/results/. Not a test: numbers depend on
the machine.
"""

import argparse
import asyncio
import contextlib
import hashlib
import json
import os
import platform
import resource
import secrets
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

# Run as a script: the repository's root, for the bench package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.limits import lift_send_limits

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
REDIS_URL = "redis://127.0.0.1:6379/14"
HOST = "127.0.0.1"
# Streams opened at once: uvicorn's listen backlog is 2048; stay well below it.
OPEN_CONCURRENCY = 100


# --- database ----------------------------------------------------------------------------


@dataclass
class Fixture:
    stream_tokens: list[str]  # one per buyer, index = buyer number
    seller_token: str
    # conversation id per buyer number, for the first len(conversations) buyers
    conversations: list[int]


def prepare_database(streams: int, conversations: int) -> Fixture:
    """Migrate; bulk-create `streams` buyers with one API token each, a seller with a
    product, and one conversation (a buyer's question) for each of the first buyers."""
    import django

    lift_send_limits()
    django.setup()
    from django.core.management import call_command
    from django.db import connections
    from django.utils import timezone

    from messagecenter.accounts.actions import API_TOKEN_SHOWN_CHARS, hash_api_token_secret
    from messagecenter.accounts.models import ApiToken, Role, User
    from messagecenter.conversations.actions import ask_seller_about_product
    from messagecenter.marketplace.models import Product, Storefront

    call_command("migrate", verbosity=0, interactive=False)
    run = secrets.token_hex(3)  # unique names, should --database-url point at used data
    now = timezone.now()
    buyers = User.objects.bulk_create(
        [
            User(username=f"bench-{run}-{n}", password="!", role=Role.BUYER, display_name=f"B{n}")
            for n in range(streams)
        ],
        batch_size=1000,
    )
    if buyers[0].pk is None:  # a backend without RETURNING on bulk insert
        buyers = list(User.objects.filter(username__startswith=f"bench-{run}-").order_by("pk"))
    seller = User.objects.create(username=f"bench-{run}-seller", password="!", role=Role.SELLER)
    storefront = Storefront.objects.create(seller=seller, name="Bench", slug=f"bench-{run}")
    product = Product.objects.create(
        storefront=storefront, title="Bench", sku=f"BENCH{run}", price_cents=100
    )

    def token_for(user: User) -> tuple[ApiToken, str]:
        secret = "mc_" + secrets.token_urlsafe(32)
        return (
            ApiToken(
                user=user,
                name="bench",
                prefix=secret[:API_TOKEN_SHOWN_CHARS],
                secret_hash=hash_api_token_secret(secret),
                created_at=now,
            ),
            secret,
        )

    pairs = [token_for(user) for user in [*buyers, seller]]
    ApiToken.objects.bulk_create([token for token, _ in pairs], batch_size=1000)
    secrets_ = [secret for _, secret in pairs]
    conversation_ids = [
        ask_seller_about_product(buyers[n], product.pk, "Still available?").conversation_id
        for n in range(min(conversations, streams))
    ]
    assert hashlib.sha256(secrets_[0].encode()).hexdigest() == pairs[0][0].secret_hash
    connections.close_all()
    return Fixture(secrets_[:-1], secrets_[-1], conversation_ids)


# --- server processes --------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return int(probe.getsockname()[1])


@dataclass
class Server:
    port: int
    process: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.process.pid


def start_server(name: str, log_dir: Path, **environment: str) -> Server:
    port = free_port()
    log = log_dir / f"server-{name}.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "messagecenter", "serve", "--host", HOST, "--port", str(port)],
        env={**os.environ, **environment},
        stdout=subprocess.DEVNULL,
        stderr=log.open("wb"),
        start_new_session=True,
    )
    server = Server(port, process, log)
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection((HOST, port), timeout=1):
                return server
        except OSError:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            stop_server(server)
            raise RuntimeError(f"server {name} did not start:\n{log.read_text()[-2000:]}")
        time.sleep(0.1)


def stop_server(server: Server) -> None:
    if server.process.poll() is None:
        server.process.send_signal(signal.SIGTERM)
        try:
            server.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            server.process.kill()
            server.process.wait(timeout=10)


@contextlib.contextmanager
def servers(log_dir: Path, names: list[str], **environment: str) -> Iterator[list[Server]]:
    started: list[Server] = []
    try:
        for name in names:
            started.append(start_server(name, log_dir, **environment))
        yield started
    finally:
        for server in started:
            stop_server(server)


def rss_kib(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise RuntimeError("no VmRSS")


def threads_and_files(pid: int) -> dict[str, int]:
    """The server's threads and open file descriptors: what each open stream holds
    besides its socket shows here."""
    threads = next(
        int(line.split()[1])
        for line in Path(f"/proc/{pid}/status").read_text().splitlines()
        if line.startswith("Threads:")
    )
    return {"threads": threads, "open_files": len(os.listdir(f"/proc/{pid}/fd"))}


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    # utime and stime are fields 14 and 15 of the full line: 12 and 13 after "(comm)".
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


# --- HTTP client (raw asyncio streams, HTTP/1.1) -----------------------------------------


async def request(
    port: int, method: str, path: str, token: str, body: Any = None, timeout: float = 10
) -> tuple[int, bytes]:
    """One request on its own connection (Connection: close)."""
    payload = json.dumps(body).encode() if body is not None else b""
    head = (
        f"{method} {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
        f"Authorization: Bearer {token}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(payload)}\r\n\r\n"
    )
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(HOST, port)
        try:
            writer.write(head.encode() + payload)
            await writer.drain()
            response = await reader.read(-1)
        finally:
            writer.close()
    status = int(response.split(b" ", 2)[1])
    return status, response.partition(b"\r\n\r\n")[2]


@dataclass
class Stream:
    writer: asyncio.StreamWriter
    task: asyncio.Task[None]


@dataclass
class Receipts:
    """When each message.created event arrived, by its preview (the unique message body)."""

    at: dict[str, float] = field(default_factory=dict)
    events: int = 0
    ended: int = 0


async def open_stream(port: int, token: str, receipts: Receipts, timeout: float = 60) -> Stream:
    async with asyncio.timeout(timeout):
        reader, writer = await asyncio.open_connection(HOST, port, limit=1 << 20)
        writer.write(
            (
                f"GET /api/v1/sync/stream HTTP/1.1\r\nHost: {HOST}:{port}\r\n"
                f"Authorization: Bearer {token}\r\nAccept: text/event-stream\r\n\r\n"
            ).encode()
        )
        await writer.drain()
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200"):
            writer.close()
            raise RuntimeError(f"stream refused: {head[:200]!r}")
        if b"transfer-encoding: chunked" not in head.lower():
            writer.close()
            raise RuntimeError(f"expected a chunked response: {head!r}")
        # The first message (the retry hint) proves the stream is being served.
        first = await read_chunk(reader)
        if first is None or b"retry:" not in first:
            writer.close()
            raise RuntimeError(f"unexpected first chunk: {first!r}")
    return Stream(writer, asyncio.create_task(read_stream(reader, receipts)))


async def read_chunk(reader: asyncio.StreamReader) -> bytes | None:
    size = int((await reader.readline()).split(b";")[0].strip() or b"0", 16)
    if size == 0:
        return None
    return (await reader.readexactly(size + 2))[:-2]


async def read_stream(reader: asyncio.StreamReader, receipts: Receipts) -> None:
    buffer = b""
    try:
        while (chunk := await read_chunk(reader)) is not None:
            now = time.perf_counter()
            buffer += chunk
            while b"\n\n" in buffer:
                message, buffer = buffer.split(b"\n\n", 1)
                fields: dict[str, str] = {}
                for line in message.decode().split("\n"):
                    if line and not line.startswith(":"):
                        name, _, value = line.partition(":")
                        fields[name] = value.removeprefix(" ")
                if fields.get("event") == "message.created":
                    receipts.events += 1
                    preview = json.loads(fields["data"]).get("preview", "")
                    receipts.at.setdefault(preview, now)
    except (asyncio.IncompleteReadError, ConnectionError, ValueError):
        pass
    receipts.ended += 1


async def open_streams(
    port: int, tokens: list[str], receipts: Receipts, deadline_seconds: float
) -> tuple[list[Stream], float]:
    gate = asyncio.Semaphore(OPEN_CONCURRENCY)
    started = time.perf_counter()

    async def one(token: str) -> Stream:
        async with gate:
            return await open_stream(port, token, receipts)

    # Bounded: what has not opened by the deadline is given up and reported as missing.
    tasks = [asyncio.create_task(one(token)) for token in tokens]
    if tasks:
        await asyncio.wait(tasks, timeout=deadline_seconds)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    streams = [t.result() for t in tasks if not t.cancelled() and t.exception() is None]
    if len(streams) < len(tokens):
        print(f"  only {len(streams)} of {len(tokens)} streams opened in time", flush=True)
    return streams, time.perf_counter() - started


async def close_streams(streams: list[Stream]) -> None:
    for stream in streams:
        stream.task.cancel()
        stream.writer.close()
    await asyncio.gather(*(stream.task for stream in streams), return_exceptions=True)


# --- measurements ------------------------------------------------------------------------


def summary(samples_ms: list[float]) -> dict[str, float | int | None]:
    if not samples_ms:
        return {"n": 0, "p50": None, "p90": None, "p99": None, "max": None}
    ordered = sorted(samples_ms)

    def pick(q: float) -> float:  # nearest rank
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered)) - 1))]

    return {
        "n": len(ordered),
        "p50": round(statistics.median(ordered), 2),
        "p90": round(pick(0.90), 2),
        "p99": round(pick(0.99), 2),
        "max": round(ordered[-1], 2),
    }


async def latency_run(
    send_port: int,
    seller_token: str,
    conversations: list[int],
    receipts: Receipts,
    messages: int,
    rate: float,
    label: str,
    wait_seconds: float = 10,
) -> dict[str, Any]:
    """`messages` replies, paced at `rate` per second, round-robin over the conversations;
    send-to-receipt latency of each."""
    sent_at: dict[str, float] = {}
    post_ms: list[float] = []
    failures = 0
    failure_statuses: dict[str, int] = {}
    start = time.perf_counter()
    for number in range(messages):
        await asyncio.sleep(max(0.0, start + number / rate - time.perf_counter()))
        body = f"{label}-{number}"
        conversation = conversations[number % len(conversations)]
        sent_at[body] = before = time.perf_counter()
        answer = b""
        try:
            status, answer = await request(
                send_port,
                "POST",
                f"/api/v1/conversations/{conversation}/messages",
                seller_token,
                {"body": body},
            )
        except (OSError, TimeoutError):
            status = 0
        post_ms.append((time.perf_counter() - before) * 1000)
        if status != 201:
            failures += 1
            if not failure_statuses:
                print(f"  send failed: {status} {answer[:300]!r}", flush=True)
            failure_statuses[str(status)] = failure_statuses.get(str(status), 0) + 1
            sent_at.pop(body)
    deadline = time.perf_counter() + wait_seconds
    while time.perf_counter() < deadline and any(body not in receipts.at for body in sent_at):
        await asyncio.sleep(0.05)
    latencies = [(receipts.at[b] - t) * 1000 for b, t in sent_at.items() if b in receipts.at]
    return {
        "sent": len(sent_at),
        "send_failures": failures,
        "send_failure_statuses": failure_statuses,
        "lost": sum(1 for body in sent_at if body not in receipts.at),
        "delivery_ms": summary(latencies),
        "post_ms": summary(post_ms),
        "samples_ms": [round(value, 3) for value in latencies],
    }


async def reference_run(port: int, token: str, count: int, rate: float) -> dict[str, Any]:
    """GET /api/v1/me round trips, paced like the sends."""
    rtts: list[float] = []
    start = time.perf_counter()
    for number in range(count):
        await asyncio.sleep(max(0.0, start + number / rate - time.perf_counter()))
        before = time.perf_counter()
        status, _ = await request(port, "GET", "/api/v1/me", token)
        if status == 200:
            rtts.append((time.perf_counter() - before) * 1000)
    return {"get_me_ms": summary(rtts)}


async def idle_cpu(pids: list[int], seconds: float) -> float:
    """Server CPU (% of one core, summed over pids) while the streams sit idle."""
    before = sum(cpu_seconds(pid) for pid in pids)
    await asyncio.sleep(seconds)
    return round((sum(cpu_seconds(pid) for pid in pids) - before) / seconds * 100, 1)


def _median(values: list[float]) -> float | None:
    return round(statistics.median(values), 2) if values else None


def median_of(runs: list[dict[str, Any]], key: str, stat: str) -> float | None:
    values = [run[key][stat] for run in runs if run[key][stat] is not None]
    return round(statistics.median(values), 2) if values else None


async def latency_phase(
    args: argparse.Namespace,
    fixture: Fixture,
    receipts: Receipts,
    send_port: int,
    reference_port: int,
    label: str,
) -> dict[str, Any]:
    runs = []
    references = []
    for repeat in range(args.repeats):
        runs.append(
            await latency_run(
                send_port,
                fixture.seller_token,
                fixture.conversations,
                receipts,
                args.messages,
                args.rate,
                f"{label}-r{repeat}",
            )
        )
        references.append(
            await reference_run(reference_port, fixture.stream_tokens[0], args.messages, args.rate)
        )
        print(
            f"  {label} repeat {repeat + 1}: delivery {runs[-1]['delivery_ms']}, "
            f"lost {runs[-1]['lost']}; GET /me {references[-1]['get_me_ms']}",
            flush=True,
        )
    # The machine is shared and noisy: each repeat's delivery against the reference taken
    # right after it, on the same server, is the figure that travels between runs.
    ratios = [
        {
            stat: round(run["delivery_ms"][stat] / reference["get_me_ms"][stat], 2)
            for stat in ("p50", "p99")
            if run["delivery_ms"][stat] and reference["get_me_ms"][stat]
        }
        for run, reference in zip(runs, references, strict=True)
    ]
    return {
        "runs": runs,
        "references": references,
        "ratios_to_reference": ratios,
        "median": {
            "delivery_p50_to_get_me_p50": _median([r["p50"] for r in ratios if "p50" in r]),
            "delivery_p99_to_get_me_p99": _median([r["p99"] for r in ratios if "p99" in r]),
            "delivery_p50_ms": median_of(runs, "delivery_ms", "p50"),
            "delivery_p99_ms": median_of(runs, "delivery_ms", "p99"),
            "delivery_max_ms": median_of(runs, "delivery_ms", "max"),
            "post_p50_ms": median_of(runs, "post_ms", "p50"),
            "post_p99_ms": median_of(runs, "post_ms", "p99"),
            "get_me_p50_ms": median_of(references, "get_me_ms", "p50"),
            "get_me_p99_ms": median_of(references, "get_me_ms", "p99"),
            "lost": sum(run["lost"] for run in runs),
            "send_failures": sum(run["send_failures"] for run in runs),
        },
    }


async def one_process(args: argparse.Namespace, fixture: Fixture, log_dir: Path) -> dict[str, Any]:
    result: dict[str, Any] = {}
    with servers(log_dir, ["single"], PUBSUB_URL="memory://") as (server,):
        receipts = Receipts()
        # Warm up: imports, connections, the first streams' code paths.
        warm, _ = await open_streams(server.port, fixture.stream_tokens[:10], receipts, 60)
        await reference_run(server.port, fixture.stream_tokens[0], 20, 100)
        await close_streams(warm)
        await asyncio.sleep(1)
        rss_base = rss_kib(server.pid)
        held_base = threads_and_files(server.pid)
        first = args.latency_streams
        streams, seconds = await open_streams(
            server.port, fixture.stream_tokens[:first], receipts, args.open_timeout
        )
        await asyncio.sleep(2)
        rss_first = rss_kib(server.pid)
        held_first = threads_and_files(server.pid)
        print(
            f"  {len(streams)} streams open in {seconds:.1f} s; RSS {rss_first} KiB; {held_first}",
            flush=True,
        )
        result["latency_streams"] = first
        result["latency"] = await latency_phase(
            args, fixture, receipts, server.port, server.port, f"one-{first}"
        )
        rss_after_latency = rss_kib(server.pid)
        more, more_seconds = await open_streams(
            server.port, fixture.stream_tokens[first:], receipts, args.open_timeout
        )
        streams += more
        await asyncio.sleep(2)
        rss_all = rss_kib(server.pid)
        held_all = threads_and_files(server.pid)
        total = len(streams)
        print(
            f"  {total} streams open (+{more_seconds:.1f} s); RSS {rss_all} KiB; {held_all}",
            flush=True,
        )
        cpu = await idle_cpu([server.pid], args.idle_seconds)
        rss_idle = rss_kib(server.pid)
        result["memory"] = {
            "streams": total,
            "rss_before_kib": rss_base,
            "rss_with_latency_streams_kib": rss_first,
            "rss_after_latency_runs_kib": rss_after_latency,
            "rss_with_all_streams_kib": rss_all,
            "rss_after_idle_kib": rss_idle,
            "per_stream_kib": round((rss_all - rss_base) / total, 1),
            "per_stream_kib_first_streams": round((rss_first - rss_base) / first, 1),
            "open_seconds": round(seconds + more_seconds, 1),
            "threads_and_files_before": held_base,
            "threads_and_files_with_latency_streams": held_first,
            "threads_and_files_with_all_streams": held_all,
            "idle_cpu_percent": cpu,
            "idle_seconds": args.idle_seconds,
        }
        print(f"  idle CPU with {total} streams: {cpu} % of a core", flush=True)
        if args.latency_at_all and total > first:
            result["latency_all_streams"] = await latency_phase(
                args, fixture, receipts, server.port, server.port, f"one-{total}"
            )
        # Streams the server ended on its own before we closed them (cancelled readers
        # do not count themselves).
        result["memory"]["streams_ended_by_server"] = receipts.ended
        await close_streams(streams)
        await asyncio.sleep(3)
        result["memory"]["rss_after_close_kib"] = rss_kib(server.pid)
        result["memory"]["threads_and_files_after_close"] = threads_and_files(server.pid)
    return result


async def two_processes(
    args: argparse.Namespace, fixture: Fixture, log_dir: Path
) -> dict[str, Any]:
    import redis

    redis.Redis.from_url(REDIS_URL).flushdb()
    with servers(log_dir, ["a", "b"], PUBSUB_URL=REDIS_URL) as (a, b):
        receipts = Receipts()
        warm, _ = await open_streams(b.port, fixture.stream_tokens[:10], receipts, 60)
        await reference_run(a.port, fixture.stream_tokens[0], 20, 100)
        await reference_run(b.port, fixture.stream_tokens[0], 20, 100)
        await close_streams(warm)
        count = args.latency_streams
        streams, seconds = await open_streams(
            b.port, fixture.stream_tokens[:count], receipts, args.open_timeout
        )
        await asyncio.sleep(2)
        print(f"  {count} streams open on B in {seconds:.1f} s", flush=True)
        result = {
            "latency_streams": count,
            "latency": await latency_phase(args, fixture, receipts, a.port, b.port, "redis"),
            "rss_a_kib": rss_kib(a.pid),
            "rss_b_kib": rss_kib(b.pid),
            "threads_and_files_b": threads_and_files(b.pid),
        }
        await close_streams(streams)
    return result


def table(results: dict[str, Any]) -> str:
    rows = [
        "| measurement | value |",
        "|---|---|",
    ]
    one = results.get("one_process")
    if one:
        memory = one["memory"]
        rows += [
            f"| idle streams open on one process | {memory['streams']} "
            f"(in {memory['open_seconds']} s) |",
            f"| RSS before → with all streams | {memory['rss_before_kib'] / 1024:.0f} MiB → "
            f"{memory['rss_with_all_streams_kib'] / 1024:.0f} MiB |",
            f"| memory per idle stream | {memory['per_stream_kib']} KiB |",
            f"| server CPU with all streams idle | {memory['idle_cpu_percent']} % of a core |",
            f"| RSS after closing them all | {memory['rss_after_close_kib'] / 1024:.0f} MiB |",
        ]
        phases = [("one process", one["latency_streams"], one["latency"])]
        if "latency_all_streams" in one:
            phases.append(("one process", memory["streams"], one["latency_all_streams"]))
    else:
        phases = []
    two = results.get("two_processes")
    if two:
        phases.append(("two processes, Redis", two["latency_streams"], two["latency"]))
    for name, count, phase in phases:
        m = phase["median"]
        rows += [
            f"| {name}, {count} streams: delivery p50 / p99 / max | "
            f"{m['delivery_p50_ms']} / {m['delivery_p99_ms']} / {m['delivery_max_ms']} ms |",
            f"| {name}, {count} streams: POST round trip p50 / p99 | "
            f"{m['post_p50_ms']} / {m['post_p99_ms']} ms |",
            f"| {name}, {count} streams: reference GET /api/v1/me p50 / p99 | "
            f"{m['get_me_p50_ms']} / {m['get_me_p99_ms']} ms |",
            f"| {name}, {count} streams: delivery ÷ GET /me, p50 / p99 | "
            f"{m['delivery_p50_to_get_me_p50']} / {m['delivery_p99_to_get_me_p99']} |",
            f"| {name}, {count} streams: lost / failed sends | "
            f"{m['lost']} / {m['send_failures']} |",
        ]
    return "\n".join(rows)


def plot(results: dict[str, Any], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    figure, axis = plt.subplots(figsize=(7, 4))
    series = []
    one = results.get("one_process") or {}
    if one:
        series.append((f"one process, {one['latency_streams']} streams", one["latency"]))
        if "latency_all_streams" in one:
            streams = one["memory"]["streams"]
            series.append((f"one process, {streams} streams", one["latency_all_streams"]))
    if results.get("two_processes"):
        two = results["two_processes"]
        series.append((f"two processes + Redis, {two['latency_streams']} streams", two["latency"]))
    for name, phase in series:
        samples = sorted(s for run in phase["runs"] for s in run["samples_ms"])
        if samples:
            axis.plot(samples, [(i + 1) / len(samples) for i in range(len(samples))], label=name)
    axis.axvline(100, color="grey", linestyle="--", linewidth=1, label="goal: p99 < 100 ms")
    axis.set_xscale("log")
    axis.set_xlabel("send → receipt (ms, log scale)")
    axis.set_ylabel("fraction of messages")
    axis.set_title("Stream delivery latency (CDF, all repeats)")
    axis.grid(True, which="both", alpha=0.3)
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=110)


async def main_async(args: argparse.Namespace, fixture: Fixture, log_dir: Path) -> dict[str, Any]:
    results: dict[str, Any] = {}
    if "one" in args.phases:
        print("one process (memory://)", flush=True)
        results["one_process"] = await one_process(args, fixture, log_dir)
    if "redis" in args.phases:
        print("two processes (Redis)", flush=True)
        results["two_processes"] = await two_processes(args, fixture, log_dir)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--streams", type=int, default=10_000, help="idle streams (memory)")
    parser.add_argument("--latency-streams", type=int, default=1_000)
    parser.add_argument("--messages", type=int, default=200, help="sends per repeat")
    parser.add_argument("--rate", type=float, default=20, help="sends per second")
    parser.add_argument("--conversations", type=int, default=200, help="receiving buyers")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--idle-seconds", type=float, default=10)
    parser.add_argument("--open-timeout", type=float, default=600)
    parser.add_argument("--latency-at-all", action="store_true", help="also at --streams")
    parser.add_argument("--phases", default="one,redis", help="one,redis")
    parser.add_argument("--database-url", default="", help="an empty PostgreSQL database")
    parser.add_argument("--output", type=Path, help="JSON file (default: bench/results/)")
    parser.add_argument("--plot", type=Path, help="PNG latency CDF (needs matplotlib)")
    parser.add_argument("--keep", action="store_true", help="keep the temporary directory")
    parser.add_argument(
        "--server-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a setting for the servers, e.g. REALTIME_AUTH_CHECK_SECONDS=60 (repeatable)",
    )
    args = parser.parse_args()
    args.latency_streams = min(args.latency_streams, args.streams)
    args.conversations = min(args.conversations, args.latency_streams)

    # Each stream is a socket here and one in the server (messagecenter.asgi raises its own
    # soft limit to the hard limit too). Raise the limit: past the hard limit only as root.
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    wanted = args.streams + 1000
    with contextlib.suppress(ValueError, OSError):
        resource.setrlimit(resource.RLIMIT_NOFILE, (max(hard, wanted),) * 2)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft < hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if hard < wanted:
        print(f"warning: open-file limit {hard} < {wanted} needed for {args.streams} streams")

    var_dir = Path(tempfile.mkdtemp(prefix="mc-bench-"))
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "messagecenter.settings",
            "MESSAGECENTER_VAR_DIR": str(var_dir),
            "DATABASE_URL": args.database_url,
            "SECRET_KEY": secrets.token_urlsafe(40),
            "LOG_LEVEL": "WARNING",
            "EMAIL_URL": "console:",
        }
    )
    os.environ.update(dict(item.split("=", 1) for item in args.server_env))
    try:
        began = time.perf_counter()
        fixture = prepare_database(args.streams, args.conversations)
        setup_seconds = time.perf_counter() - began
        print(f"database ready in {setup_seconds:.1f} s ({var_dir})", flush=True)
        results = asyncio.run(main_async(args, fixture, var_dir))
    finally:
        if not args.keep:
            shutil.rmtree(var_dir, ignore_errors=True)

    from django.db import connection

    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": {
            "nproc": os.cpu_count(),
            "mem_total_kib": int(Path("/proc/meminfo").read_text().split()[1]),
            "python": platform.python_version(),
            "kernel": platform.release(),
        },
        "database": connection.vendor,
        "open_files_limit": resource.getrlimit(resource.RLIMIT_NOFILE)[0],
        "settings": {
            key: getattr(args, key)
            for key in (
                "streams",
                "latency_streams",
                "messages",
                "rate",
                "conversations",
                "repeats",
                "idle_seconds",
            )
        },
        "server_env": args.server_env,
        "setup_seconds": round(setup_seconds, 1),
        **results,
    }
    output = args.output or RESULTS_DIR / f"realtime-{datetime.now(UTC):%Y-%m-%d}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=1) + "\n")
    print(table(results))
    print(f"results: {output}")
    if args.plot:
        plot(results, args.plot)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
