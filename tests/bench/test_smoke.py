"""`make bench-smoke` end to end, so the benchmark harness never rots: bench/run.py --smoke
generates a tiny marketplace into the test database, starts a real `messagecenter serve` on
it and runs every workload over HTTP for a moment (docs/benchmarks.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import run
from tests.test_processes import database_url

pytestmark = pytest.mark.django_db(transaction=True)

ROOT = Path(__file__).resolve().parent.parent.parent
READS = {
    "inbox page, small buyer",
    "badges, small buyer",
    "inbox page, biggest seller",
    "badges, biggest seller",
    "conversation (200 messages): detail",
    "conversation (200 messages): latest 100",
    # What the HTML conversation page shows: its newest 50 messages.
    "conversation (200 messages): latest 50",
    "conversation (200 messages): older 100",
    "conversation: history page (25 messages)",
    "search, biggest seller: common word 'delivery'",
    "search, biggest seller: rare word 'tourmaline'",
    "search, biggest seller: order number",
    "search, biggest seller: misspelt common word 'deliery'",
    "search, biggest seller: misspelt rare word 'tourmline'",
    # The HTML pages, signed in with a session cookie, beside their API calls.
    "Message Center page (HTML), biggest seller",
    "conversation (200 messages): page (HTML)",
}
# Each read alone and with 4 clients (--read-concurrency 1,4).
WORKLOADS = {
    "floor: GET /healthz",
    "send a message",
    *READS,
    *(f"{name} (4 clients)" for name in READS),
}


def test_the_smoke_benchmark_measures_every_workload(tmp_path: Path) -> None:
    output = tmp_path / "smoke.json"
    # Each workload for 0.05 s after a 0.05 s warm-up, not --smoke's 0.3 s and 0.1 s: its
    # 34 workloads' windows were 14 s of the test, the server busy throughout. A window
    # records at least the request each client has in flight when it opens (run_workload),
    # so every workload still answers real requests, timed by client and server, which is
    # what is checked here; how fast they are is not.
    windows = ["--duration", "0.05", "--warmup", "0.05"]
    subprocess.run(
        [
            sys.executable,
            "bench/run.py",
            "--smoke",
            "--no-fresh",
            # The worker beside the server, as issue 19's send goal is measured.
            "--worker",
            *windows,
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "MESSAGECENTER_VAR_DIR": str(tmp_path),
        },
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )
    result = json.loads(output.read_text())
    # The windows given win over --smoke's; its one repeat on one server process holds.
    settings = result["settings"]
    assert (settings["duration"], settings["warmup"], settings["repeats"]) == (0.05, 0.05, 1)
    assert settings["workers"] == 1

    assert set(result["median"]) == WORKLOADS
    for name, row in result["median"].items():
        assert (name, row["errors"]) == (name, 0)
        assert row["requests"] > 0, name
        assert row["per_second"] > 0, name
        assert 0 < row["server_p50_ms"] <= row["server_p99_ms"], name
        assert row["share_of_floor"] > 0, name
    assert result["median"]["floor: GET /healthz"]["share_of_floor"] == 1.0
    realtime = result["realtime"]
    assert (realtime["available"], realtime["sent"], realtime["lost"]) == (True, 10, 0)
    assert realtime["delivery_ms"]["p50"] > 0
    notice = result["notice"]
    assert (notice["available"], notice["failures"]) == (True, 0)
    assert notice["seen_by"] == notice["people_checked"] > 0
    assert result["dataset"]["messages"] == 4_000
    # Each page beside its API calls, alone and with 4 clients.
    pages = run.pages_table(result).splitlines()[2:]
    assert [line.split(" | ")[0] for line in pages] == [
        "| Message Center page (HTML), biggest seller",
        "| Message Center page (HTML), biggest seller (4 clients)",
        "| conversation (200 messages): page (HTML)",
        "| conversation (200 messages): page (HTML) (4 clients)",
    ]
    assert result["database"] == database_url().split(":", 1)[0].replace("postgres", "postgresql")
    # The worker ran for the whole run, its CPU counted apart in every window, and the run
    # stopped it: it ended on SIGTERM as a deployment's would, and nothing of it is left.
    worker = result["worker"]
    assert (worker["exit_code"], worker["cpu_seconds"] > 0) == (0, True)
    assert all("worker" in row["cpu_ms_per_request"] for row in result["median"].values())
    with pytest.raises(ProcessLookupError):
        os.kill(worker["pid"], 0)

    # bench/first_request.py on the same dataset: a server started, two sends, stopped.
    first = subprocess.run(
        [
            sys.executable,
            "bench/first_request.py",
            "--tokens",
            str(tmp_path / "bench-smoke-tokens.json"),
            "--rounds",
            "1",
            "--sends",
            "2",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env={**os.environ, "DATABASE_URL": database_url(), "MESSAGECENTER_VAR_DIR": str(tmp_path)},
        check=True,
        timeout=300,
        capture_output=True,
        text=True,
    )
    assert first.stdout.startswith("accepting after "), first.stdout
    assert len(first.stdout.split("sends (ms): ")[1].split(", ")) == 2
