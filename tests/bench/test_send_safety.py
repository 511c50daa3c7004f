"""bench/send_safety.py end to end on a tiny run, so the benchmark of the safety check's
cost on a send never rots (docs/benchmarks.md#trust-and-safety-issue-16)."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_send_benchmark_measures_the_check_on_and_off(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    output = tmp_path / "send-safety.json"
    # SQLite whichever pass runs it (the check's cost is CPU), migrated already (conftest.py).
    environment = os.environ | {
        "MESSAGECENTER_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{migrated_sqlite}",
    }

    arguments = ["--rounds", "2", "--sends", "3", "--conversations", "2", "--output", str(output)]
    subprocess.run(
        [sys.executable, "bench/send_safety.py", *arguments],
        cwd=ROOT,
        env=environment,
        check=True,
        capture_output=True,
        timeout=300,
    )

    document = json.loads(output.read_text())
    assert set(document["median"]) == {"floor", "on", "off"}
    assert [len(document["runs"][mode]) for mode in ("floor", "on", "off")] == [2, 2, 2]
    assert document["off_over_on"]["per_second"] > 0
    # Ordinary messages: delivered as written, whether the check ran or not.
    assert document["warned_sends"] == 0
