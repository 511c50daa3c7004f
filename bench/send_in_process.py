"""The send action without HTTP: how many replies per second the code and the database can
commit on this machine at all — the ceiling any server in front of them stays under
(docs/benchmarks.md, "Send: the ceiling").

    MESSAGECENTER_VAR_DIR=/tmp/mc-bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/send_in_process.py --tokens /tmp/mc-bench/tokens-postgresql-1m.json

--processes processes (one per core by default) × --threads threads each call
`conversations.actions.send_message` in a closed loop for --seconds, each thread as a
different sender of the dataset in their own conversation (the HTTP workload's senders),
with an idempotency key as the API sends. The reference in the same run: each thread
commits an empty transaction that reads one row (`SELECT 1`), the database round trip and
commit without the send's work. Each process is warmed as a server process is before its
first request (server/warm.py). Prints (and --output writes) sends per second, the
action's p50/p99 in ms, and the CPU a call of the processes and of PostgreSQL.
"""

import argparse
import gc
import json
import multiprocessing
import os
import secrets
import statistics
import sys
import threading
import time
from pathlib import Path
from typing import Any

# Run as a script: the repository's root, for the bench package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.limits import lift_send_limits
from bench.run import cpu_seconds


def worker(
    kind: str,
    senders: list[dict[str, Any]],
    seconds: float,
    results: Any,
    start_at: float,
    measured: Any,
) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    lift_send_limits()
    import django

    django.setup()
    from django.db import connection, transaction

    from messagecenter.accounts.models import User
    from messagecenter.conversations import actions
    from messagecenter.server.warm import warm_up

    users = {sender["user_id"]: User.objects.get(pk=sender["user_id"]) for sender in senders}
    # What a server process loads before its first request (server/warm.py), and then
    # kept out of the garbage collector's walks as it is there (asgi.py): without it the
    # first send of each process imported every country's holiday rules inside the timed
    # window, holding all eight threads and the interpreter for ≈ 0.8 s of the 5.
    warm_up()
    connection.close()
    gc.freeze()
    # Not ready by the start: this process's window would begin late (measure refuses it).
    late = time.time() > start_at
    timings: list[list[float]] = [[] for _ in senders]

    # The body as the HTTP workload's (bench/run.py: a short hex run, the client, the count);
    # the idempotency key unique across runs. A body holding the key's 19-digit clock made
    # every send here pay the phone-number matcher of the contact check (safety/contacts.py),
    # which the HTTP workload's bodies rarely reach (docs/benchmarks.md, "Sends: a batch's
    # callers gathered").
    tag = secrets.token_hex(3)

    def run(number: int, sender: dict[str, Any]) -> None:
        user = users[sender["user_id"]]
        run_id = f"{os.getpid()}-{number}-{time.time_ns()}"
        while time.time() < start_at:
            time.sleep(0.001)
        deadline = time.perf_counter() + seconds
        count = 0
        try:
            while time.perf_counter() < deadline:
                began = time.perf_counter()
                if kind == "send":
                    actions.send_message(
                        user,
                        sender["conversation_id"],
                        f"In-process bench {tag} {number}-{count}: any news about the delivery?",
                        idempotency_key=f"ip-{run_id}-{count}",
                    )
                else:
                    with transaction.atomic(), connection.cursor() as cursor:
                        cursor.execute("SELECT 1")
                        cursor.fetchone()
                timings[number].append((time.perf_counter() - began) * 1000)
                count += 1
        finally:
            connection.close()

    threads = [
        threading.Thread(target=run, args=(number, sender)) for number, sender in enumerate(senders)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0.0, start_at - time.time()))
    cpu_before = time.process_time()
    for thread in threads:
        thread.join()
    results.put(
        (
            late,
            time.process_time() - cpu_before,
            [sample for samples in timings for sample in samples],
        )
    )
    # Until PostgreSQL's CPU is read: the pool's connections, and their server processes
    # with the CPU they used, end with this process.
    measured.wait(timeout=seconds + 300)


def measure(
    kind: str, senders: list[dict[str, Any]], processes: int, threads: int, seconds: float
) -> dict[str, Any]:
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    measured = context.Event()
    start_at = time.time() + 12  # every process has started Django and warmed up by then
    children = [
        context.Process(
            target=worker,
            args=(
                kind,
                senders[number * threads : (number + 1) * threads],
                seconds,
                results,
                start_at,
                measured,
            ),
        )
        for number in range(processes)
    ]
    for child in children:
        child.start()
    time.sleep(max(0.0, start_at - time.time()))
    database_before = cpu_seconds()["database"]
    try:
        answers = [results.get(timeout=seconds + 120) for _ in children]
        database = cpu_seconds()["database"] - database_before
    finally:
        measured.set()
    for child in children:
        child.join()
    if any(late for late, _, _ in answers):
        raise SystemExit("A process was not ready by the start: run again on a quieter machine.")
    samples = sorted(sample for _, _, timed in answers for sample in timed)
    # CPU a call, of the processes' own and of PostgreSQL's (every postgres process, as
    # bench/run.py counts it): where a send's cost is, beside its rate. It too moves with
    # the machine's load (by a quarter between runs on 2026-12-06, docs/benchmarks.md).
    cpu_ms = {
        "processes": round(sum(cpu for _, cpu, _ in answers) * 1000 / len(samples), 3),
        "database": round(database * 1000 / len(samples), 3),
    }
    return {
        "per_second": round(len(samples) / seconds, 1),
        "p50_ms": round(statistics.median(samples), 2),
        "p99_ms": round(samples[int(len(samples) * 0.99) - 1], 2),
        "count": len(samples),
        "cpu_ms_per_call": cpu_ms,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--processes", type=int, default=os.cpu_count() or 1)
    parser.add_argument("--threads", type=int, default=8, help="per process")
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", type=Path)
    args = parser.parse_args()
    tokens = json.loads(args.tokens.read_text())
    senders = tokens["senders"]
    needed = args.processes * args.threads
    if needed > len(senders):
        parser.error(f"the dataset has {len(senders)} senders; asked for {needed}")
    runs: dict[str, list[dict[str, Any]]] = {"reference: empty transaction": [], "send": []}
    for repeat in range(args.repeats):
        for kind, name in (("reference", "reference: empty transaction"), ("send", "send")):
            result = measure(kind, senders, args.processes, args.threads, args.seconds)
            runs[name].append(result)
            print(f"[{repeat + 1}/{args.repeats}] {name}: {result}", flush=True)
    medians = {
        name: {
            key: statistics.median(run[key] for run in results)
            for key in ("per_second", "p50_ms", "p99_ms")
        }
        | {
            "cpu_ms_per_call": {
                side: statistics.median(run["cpu_ms_per_call"][side] for run in results)
                for side in ("processes", "database")
            }
        }
        for name, results in runs.items()
    }
    document = {
        "database": tokens["database"],
        "messages": tokens["messages"],
        "processes": args.processes,
        "threads_per_process": args.threads,
        "seconds": args.seconds,
        "load_average_at_end": os.getloadavg(),
        "runs": runs,
        "median": medians,
    }
    print(json.dumps(medians, indent=1))
    if args.output:
        args.output.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
