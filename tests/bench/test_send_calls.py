"""bench/send_calls.py end to end on a tiny marketplace, so the count of a batched send's
calls never rots (docs/benchmarks.md, "Sends: what one statement for a batch's writes
could save at most")."""

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent.parent


def test_the_calls_of_batched_sends_are_counted_by_part(
    tmp_path: Path, migrated_sqlite: Path
) -> None:
    # Migrated and without a row of the marketplace (conftest.py): generated into as it is,
    # not --fresh, which would remove the file and migrate a new one.
    environment = os.environ | {
        "MESSAGECENTER_VAR_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{migrated_sqlite}",
    }
    tokens = tmp_path / "tokens.json"
    tiny = ["--users", "200", "--sellers", "4", "--agents", "1", "--messages", "400"]
    for script, arguments in (
        ("bench/generate.py", [*tiny, "--long-conversations", "1", "--tokens"]),
        ("bench/send_calls.py", ["--threads", "4", "--sends", "3", "--tokens"]),
    ):
        finished = subprocess.run(
            [sys.executable, script, *arguments, str(tokens)],
            cwd=ROOT,
            env=environment,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )

    lines = finished.stdout.splitlines()
    assert re.fullmatch(r"12 sends in \d+ batches \(\d+\.\d a batch\)", lines[0])
    calls = int(re.fullmatch(r"([\d,]+) calls a send .*", lines[1])[1].replace(",", ""))  # type: ignore[index]
    parts = {line[18:].strip(): int(line[:10].replace(",", "")) for line in lines[2:]}
    assert len(parts) == 4
    # Every send runs the safety check and executes statements; no part exceeds the whole.
    assert all(0 < count < calls for count in parts.values()), parts
