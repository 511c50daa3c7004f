"""bench/old_new.py end to end, so the comparison of old code with new never rots: this
checkout against itself, each side generating its own tiny dataset into its own SQLite
file, both servers up, every read answered in alternating windows (docs/benchmarks.md)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench import old_new

ROOT = Path(__file__).resolve().parent.parent.parent
# bench/run.py's smoke dataset: enough people and messages for every read's checks.
TINY = "--users 400 --sellers 20 --agents 3 --messages 4000 --long-conversations 2"


def test_old_and_new_code_are_measured_in_alternating_windows(tmp_path: Path) -> None:
    output = tmp_path / "old-new.json"
    environment = {key: value for key, value in os.environ.items() if key != "DATABASE_URL"}
    subprocess.run(
        [
            sys.executable,
            "bench/old_new.py",
            "--old",
            str(ROOT),
            "--old-database",
            f"sqlite:///{tmp_path / 'old.sqlite3'}",
            "--new-database",
            f"sqlite:///{tmp_path / 'new.sqlite3'}",
            "--dataset",
            TINY,
            "--workers",
            "1",
            "--windows",
            "2",
            "--window",
            "0.15",
            "--settle",
            "0.05",
            "--output",
            str(output),
        ],
        cwd=ROOT,
        env={**environment, "MESSAGECENTER_VAR_DIR": str(tmp_path)},
        check=True,
        timeout=300,
        stdout=subprocess.DEVNULL,
    )
    result = json.loads(output.read_text())
    assert set(result["reads"]) == set(old_new.GOAL_READS)
    for read in result["reads"].values():
        for side in old_new.SIDES:
            # Answered (each checked as bench/run.py checks it) and timed on both sides.
            assert read[side]["requests"] > 0
            assert read[side]["errors"] == []
            assert read[side]["server_ms"]["p50"] > 0
        assert read["new_over_old"]["client"]["p50"] > 0
        assert len(read["new_over_old"]["client_by_half"]) == 2
    assert {side["database"] for side in result["sides"].values()} == {"sqlite"}


def test_each_side_needs_a_database_of_its_own() -> None:
    same = "sqlite:////tmp/one.sqlite3"
    with pytest.raises(SystemExit) as stopped:
        old_new.main(["--old", str(ROOT), "--old-database", same, "--new-database", same])
    assert stopped.value.code == 2
