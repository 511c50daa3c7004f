"""Reads, an older commit's code against this checkout's, in short alternating windows on two
servers that run side by side (docs/benchmarks.md, "Old code against new, in alternating
windows").

    git worktree add /tmp/old 612239c
    .venv/bin/python bench/old_new.py --old /tmp/old \\
        --old-database postgres://postgres@127.0.0.1:5432/mc_old \\
        --new-database postgres://postgres@127.0.0.1:5432/mc_new --windows 40

Issue 19's read goal compares the same reads on old and new code "in the same run". Run as
whole benchmarks one after the other (bench/run.py once per side), each side's figures were
its half-minute's: on this shared two-core machine the old code's badges measured 1.7 to
2.8 ms p50 from one run to the next, and the ratio moved with them (0.40 to 0.68). Here
both servers run for the whole measurement, each on its own database with the dataset its
own bench/generate.py made (the same seeded rows; each side's schema), and each read runs
bench/run.py's one-client closed loop on one side, then on the other, for `--window`
seconds at a time, `--windows` times, the side that goes first alternating: a slow phase of
the machine falls on both sides alike. The first `--settle` seconds of each window are not
recorded (a server that sat idle while the other answered runs its first requests cold).

Both servers are started from this checkout's interpreter with the side's `src` first on
PYTHONPATH, `--workers` processes each. Reported per read and side: the client's and the
server's (Server-Timing) p50 and p99 over every window, new ÷ old, and the same ratio in
each half of the run (the measurement's own spread).
"""

import argparse
import contextlib
import json
import os
import shlex
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import uvloop

# Run as a script: the repository's root, for the bench package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench import run

ROOT = Path(__file__).resolve().parent.parent
# Issue 19's small dataset: 200 people, 5,000 messages.
SMALL_DATASET = "--users 200 --sellers 20 --agents 2 --messages 5000 --long-conversations 2"
# The reads of the goal (bench/run.py's names).
GOAL_READS = (
    "badges, biggest seller",
    run.HISTORY_PAGE,
    "search, biggest seller: common word 'delivery'",
)
SIDES = ("old", "new")


@dataclass
class Side:
    name: str
    checkout: Path
    database_url: str
    var_dir: Path
    tokens: dict[str, Any] = field(default_factory=dict)

    def socket_per_process(self) -> bool:
        """Whether the side's `serve` binds a socket in each process (SO_REUSEPORT) or,
        older, shares one: how run.running_server knows every process is up."""
        serve = self.checkout / "src/messagecenter/server/management/commands/serve.py"
        return serve.exists() and "SO_REUSEPORT" in serve.read_text()

    def environment(self) -> dict[str, str]:
        return {
            "PYTHONPATH": str(self.checkout / "src"),
            "DATABASE_URL": self.database_url,
            "MESSAGECENTER_VAR_DIR": str(self.var_dir),
        }


@dataclass
class Timings:
    client_ms: list[float] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    # The window each sample came from, to split the run in halves.
    window: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def generate(side: Side, dataset: str) -> None:
    """The side's own bench/generate.py into the side's database (its schema, its rows)."""
    tokens = side.var_dir / "tokens.json"
    subprocess.run(
        [
            sys.executable,
            str(side.checkout / "bench" / "generate.py"),
            "--fresh",
            *shlex.split(dataset),
            "--tokens",
            str(tokens),
        ],
        env={**os.environ, **side.environment()},
        check=True,
        stdout=subprocess.DEVNULL,
    )
    side.tokens = json.loads(tokens.read_text())


def reads_of(side: Side, names: list[str]) -> dict[str, run.Workload]:
    """bench/run.py's reads of these names, with the side's tokens, one client each."""
    plan = argparse.Namespace(
        clients=[],
        read_concurrency=[1],
        only=set(),
        names=set(names),
        concurrency=1,
    )
    found = {
        workload.name: workload
        for workload in run.workloads(side.tokens, plan)
        if workload.name in names
    }
    missing = set(names) - set(found)
    if missing:
        raise SystemExit(f"no such reads in bench/run.py: {sorted(missing)}")
    return found


async def window(
    connection: run.Connection,
    workload: run.Workload,
    number: int,
    seconds: float,
    settle: float,
    timings: Timings,
) -> None:
    """One client's closed loop for `seconds`, the first `settle` of them not recorded."""
    began = time.perf_counter()
    recording_from, until = began + settle, began + seconds
    count = 0
    while (now := time.perf_counter()) < until:
        method, path, token, body, headers = workload.make(0, count)
        count += 1
        status, server_ms, content = await connection.request(method, path, token, body, headers)
        elapsed = (time.perf_counter() - now) * 1000
        good = status in workload.expect and (workload.check is None or workload.check(content))
        if not good:
            if len(timings.errors) < 3:
                timings.errors.append(f"{status}: {content[:200]!r}")
            continue
        if now >= recording_from:
            timings.client_ms.append(elapsed)
            timings.window.append(number)
            if server_ms is not None:
                timings.server_ms.append(server_ms)


async def measure(
    ports: dict[str, int],
    reads: dict[str, dict[str, run.Workload]],
    args: argparse.Namespace,
) -> dict[str, dict[str, Timings]]:
    timings = {name: {side: Timings() for side in SIDES} for name in args.reads}
    connections = {side: run.Connection(port) for side, port in ports.items()}
    try:
        for number in range(args.windows):
            order = SIDES if number % 2 == 0 else tuple(reversed(SIDES))
            for name in args.reads:
                for side in order:
                    await window(
                        connections[side],
                        reads[side][name],
                        number,
                        args.window,
                        args.settle,
                        timings[name][side],
                    )
    finally:
        for connection in connections.values():
            await connection.close()
    return timings


def ratios(old: list[float], new: list[float]) -> dict[str, float | None]:
    """new ÷ old at the median and at the 99th percentile."""
    first, second = run.summary(old), run.summary(new)
    return {
        key: round(second[key] / first[key], 3) if first[key] and second[key] else None
        for key in ("p50", "p99")
    }


def report(timings: dict[str, dict[str, Timings]], windows: int) -> dict[str, Any]:
    reads: dict[str, Any] = {}
    for name, by_side in timings.items():
        old, new = by_side["old"], by_side["new"]
        halves = []
        for half in (range(0, windows // 2), range(windows // 2, windows)):
            kept = set(half)
            halves.append(
                ratios(
                    [ms for ms, n in zip(old.client_ms, old.window, strict=True) if n in kept],
                    [ms for ms, n in zip(new.client_ms, new.window, strict=True) if n in kept],
                )
            )
        reads[name] = {
            side: {
                "requests": len(by_side[side].client_ms),
                "errors": by_side[side].errors,
                "client_ms": run.summary(by_side[side].client_ms),
                "server_ms": run.summary(by_side[side].server_ms),
            }
            for side in SIDES
        } | {
            "new_over_old": {
                "client": ratios(old.client_ms, new.client_ms),
                "server": ratios(old.server_ms, new.server_ms),
                "client_by_half": halves,
            }
        }
    return reads


def table(reads: dict[str, Any]) -> str:
    lines = [
        "| read | old p50 / p99 (ms) | new p50 / p99 (ms) | **new ÷ old** p50 / p99 "
        "| server: new ÷ old | halves (client p50 / p99) |",
        "|---|---|---|---|---|---|",
    ]
    for name, found in reads.items():
        old, new = found["old"]["client_ms"], found["new"]["client_ms"]
        ratio = found["new_over_old"]
        halves = "; ".join(f"{half['p50']} / {half['p99']}" for half in ratio["client_by_half"])
        lines.append(
            f"| {name} | {old['p50']} / {old['p99']} | {new['p50']} / {new['p99']} "
            f"| **{ratio['client']['p50']} / {ratio['client']['p99']}** "
            f"| {ratio['server']['p50']} / {ratio['server']['p99']} | {halves} |"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--old", type=Path, required=True, help="a checkout of the old commit")
    parser.add_argument("--new", type=Path, default=ROOT, help="default: this checkout")
    parser.add_argument("--old-database", required=True, help="a database URL for the old side")
    parser.add_argument("--new-database", required=True, help="another for the new side")
    parser.add_argument(
        "--dataset", default=SMALL_DATASET, help="bench/generate.py's arguments, for both sides"
    )
    parser.add_argument(
        "--reads",
        type=lambda text: text.split(";"),
        default=list(GOAL_READS),
        help="bench/run.py's read names, separated by ';' (default: issue 19's three)",
    )
    parser.add_argument("--workers", type=int, default=2, help="server processes per side")
    parser.add_argument("--windows", type=int, default=40, help="windows per read and side")
    parser.add_argument("--window", type=float, default=0.5, help="seconds per window")
    parser.add_argument("--settle", type=float, default=0.05, help="seconds not recorded")
    parser.add_argument("--output", type=Path, help="JSON (default: bench/results/)")
    parser.add_argument("--label", default="", help="a note stored in the JSON")
    args = parser.parse_args(argv)
    if args.windows < 2:
        parser.error("--windows: at least 2 (the report compares the run's halves)")
    if args.settle >= args.window:
        parser.error("--settle must be shorter than --window")
    if args.old_database == args.new_database:
        parser.error("each side needs a database of its own (its schema, its dataset)")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    var = Path(tempfile.mkdtemp(prefix="mc-old-new-"))
    sides = {
        name: Side(name, checkout.resolve(), url, var / name)
        for name, checkout, url in (
            ("old", args.old, args.old_database),
            ("new", args.new, args.new_database),
        )
    }
    began = time.perf_counter()
    for side in sides.values():
        side.var_dir.mkdir(parents=True)
        print(f"{side.name}: generating into {run.without_password(side.database_url)}", flush=True)
        generate(side, args.dataset)
    reads = {name: reads_of(side, args.reads) for name, side in sides.items()}
    with contextlib.ExitStack() as running:
        ports = {
            name: running.enter_context(
                run.running_server(
                    args.workers,
                    side.var_dir / "server.log",
                    {
                        **side.environment(),
                        "LOG_LEVEL": "WARNING",
                        "EMAIL_URL": "console:",
                        # Each side's wake-ups on a Redis database of its own.
                        "PUBSUB_URL": "memory://"
                        if args.workers == 1
                        else f"redis://127.0.0.1:6379/{13 + SIDES.index(name)}",
                    },
                    sockets=args.workers if side.socket_per_process() else 1,
                )
            )
            for name, side in sides.items()
        }
        print(
            f"measuring: {len(args.reads)} reads × {args.windows} windows of {args.window} s "
            "per side",
            flush=True,
        )
        timings = uvloop.run(measure(ports, reads, args))
    measured = report(timings, args.windows)
    errors = {
        f"{name}, {side}": found[side]["errors"]
        for name, found in measured.items()
        for side in SIDES
        if found[side]["errors"]
    }
    document = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "label": args.label,
        "sides": {
            name: {
                "checkout": str(side.checkout),
                "commit": _commit(side.checkout),
                "database": side.tokens["database"],
                "database_url": run.without_password(side.database_url),
                "messages": side.tokens["messages"],
            }
            for name, side in sides.items()
        },
        "settings": {
            key: getattr(args, key) for key in ("dataset", "workers", "windows", "window", "settle")
        },
        "machine": {"nproc": os.cpu_count(), "load_average_at_end": os.getloadavg()},
        "seconds": round(time.perf_counter() - began, 1),
        "reads": measured,
    }
    output = args.output or run.RESULTS_DIR / f"old-new-{datetime.now(UTC):%Y-%m-%dT%H%M}.json"
    output.parent.mkdir(parents=True, exist_ok=True)
    output.write_text(json.dumps(document, indent=1) + "\n")
    print(table(measured))
    print(f"results: {output}")
    if errors:
        raise SystemExit(f"reads answered wrongly: {errors}")


def _commit(checkout: Path) -> str | None:
    """The checkout's commit, "+ changes" when its files differ from it."""

    def git(*command: str) -> str:
        found = subprocess.run(
            ["git", "-C", str(checkout), *command], capture_output=True, text=True
        )
        return found.stdout.strip()

    commit = git("rev-parse", "HEAD")
    if commit and git("status", "--porcelain", "--untracked-files=no"):
        commit += " + changes"
    return commit or None


if __name__ == "__main__":
    main()
