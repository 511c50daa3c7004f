"""`messagecenter run` (server/management/commands/run.py): Ctrl-C at any moment after the
children started stops them and ends the command without a traceback."""

import io
import subprocess
import sys
from typing import Any

import pytest

from messagecenter.server.management.commands import run


def test_ctrl_c_while_the_sign_in_hints_are_read_stops_the_children_cleanly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under load the database pool may still be connecting when `run` reads the demo's
    sign-in hints; a Ctrl-C then came as a KeyboardInterrupt outside the part that stops
    the children, and `run` ended with a traceback (a CI run of the process test)."""
    started: list[subprocess.Popen[bytes]] = []
    popen = subprocess.Popen

    def child(arguments: list[str], **options: Any) -> subprocess.Popen[bytes]:
        # A child that stops on SIGINT or SIGTERM, as serve, worker and inbound-smtp do.
        process = popen([sys.executable, "-c", "import time; time.sleep(60)"])
        started.append(process)
        return process

    def interrupted() -> None:
        for process in started:
            process.terminate()  # what Ctrl-C does to the whole process group
        raise KeyboardInterrupt

    monkeypatch.setattr(subprocess, "Popen", child)
    monkeypatch.setattr(run, "_accepting", lambda *arguments: True)
    monkeypatch.setattr(run, "sign_in_hints", interrupted)

    try:
        run.Command(stdout=io.StringIO()).handle(host="127.0.0.1", port=8000)
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped `run`: it ended with a traceback")
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()

    assert len(started) == 3
    assert all(process.returncode is not None for process in started)
