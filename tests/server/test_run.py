"""`messagecenter run` (server/management/commands/run.py): Ctrl-C at any moment after the
children started stops them and ends the command without a traceback."""

import io
import os
import signal
import subprocess
import sys
import time
from typing import Any

import pytest

from messagecenter.server.management.commands import run


def _interrupted_while_the_hints_are_read(
    monkeypatch: pytest.MonkeyPatch, child_code: str, signal_number: int, settle: float = 0
) -> list[subprocess.Popen[bytes]]:
    """`run` whose children run `child_code`, and a Ctrl-C as it reads the sign-in hints:
    `signal_number` to each child (what Ctrl-C does to the whole process group, `settle`
    seconds after they started) and a KeyboardInterrupt in `run`. Its children, stopped."""
    started: list[subprocess.Popen[bytes]] = []
    popen = subprocess.Popen

    def child(arguments: list[str], **options: Any) -> subprocess.Popen[bytes]:
        process = popen([sys.executable, "-c", child_code])
        started.append(process)
        return process

    def interrupted() -> None:
        time.sleep(settle)
        for process in started:
            process.send_signal(signal_number)
        raise KeyboardInterrupt

    monkeypatch.setattr(subprocess, "Popen", child)
    monkeypatch.setattr(run, "_accepting", lambda *arguments: True)
    monkeypatch.setattr(run, "sign_in_hints", interrupted)
    try:
        run.Command(stdout=io.StringIO()).handle(host="127.0.0.1", port=8000)
    finally:
        for process in started:
            if process.poll() is None:
                process.kill()
    return started


def test_ctrl_c_while_the_sign_in_hints_are_read_stops_the_children_cleanly(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Under load the database pool may still be connecting when `run` reads the demo's
    sign-in hints; a Ctrl-C then came as a KeyboardInterrupt outside the part that stops
    the children, and `run` ended with a traceback (a CI run of the process test)."""
    try:
        # Children that stop on SIGINT or SIGTERM, as serve, worker and inbound-smtp do.
        started = _interrupted_while_the_hints_are_read(
            monkeypatch, "import time; time.sleep(60)", signal.SIGTERM
        )
    except KeyboardInterrupt:
        pytest.fail("Ctrl-C escaped `run`: it ended with a traceback")

    assert len(started) == 3
    assert all(process.returncode is not None for process in started)


def test_ctrl_c_while_a_child_still_starts_ends_run_without_an_error(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A Ctrl-C that lands while a child still imports (the worker's system checks) can
    make that child exit with an error of its own (pydantic's validator building turned
    the interrupt into a SchemaError in a CI run): `run` was stopped as asked, exit 0."""
    # Children that exit 1 on SIGINT, as one interrupted inside native code did; the
    # signal comes once they have set their handler.
    started = _interrupted_while_the_hints_are_read(
        monkeypatch,
        "import signal, sys, time\n"
        "signal.signal(signal.SIGINT, lambda *_: sys.exit(1))\n"
        "time.sleep(60)",
        signal.SIGINT,
        settle=1,
    )

    assert [process.returncode for process in started] == [1, 1, 1]


def _children_environments(
    monkeypatch: pytest.MonkeyPatch, port: int, host: str = "127.0.0.1"
) -> tuple[list[dict[str, str]], str]:
    """The environment each child of `run --host host --port port` was started with, and
    what `run` printed; the children are stand-ins that stop at once."""
    environments: list[dict[str, str]] = []
    popen = subprocess.Popen

    def child(arguments: list[str], **options: Any) -> subprocess.Popen[bytes]:
        environments.append(dict(options.get("env") or os.environ))
        return popen([sys.executable, "-c", "pass"])

    monkeypatch.setattr(subprocess, "Popen", child)
    monkeypatch.setattr(run, "_accepting", lambda *arguments: True)
    monkeypatch.setattr(run, "sign_in_hints", lambda: None)
    output = io.StringIO()
    run.Command(stdout=output).handle(host=host, port=port)
    return environments, output.getvalue()


def test_the_children_link_to_the_port_run_serves_on(monkeypatch: pytest.MonkeyPatch) -> None:
    """`run --port 8141` left SITE_URL at its default, port 8000: every link in e-mails
    (View it, E-mail preferences, List-Unsubscribe) and in the marketplace's messages
    pointed at a server that was not there."""
    monkeypatch.delenv("SITE_URL", raising=False)

    environments, output = _children_environments(monkeypatch, 8141)

    # serve, worker and inbound-smtp: every one of them writes links.
    assert [environment["SITE_URL"] for environment in environments] == [
        "http://127.0.0.1:8141"
    ] * 3
    assert "Links in e-mails and messages: http://127.0.0.1:8141 (SITE_URL)" in output


def test_an_explicit_site_url_wins(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SITE_URL", "https://messages.example.com")

    environments, output = _children_environments(monkeypatch, 8141)

    assert [environment["SITE_URL"] for environment in environments] == [
        "https://messages.example.com"
    ] * 3
    assert "Links in e-mails and messages: https://messages.example.com (SITE_URL)" in output


@pytest.mark.parametrize(
    ("host", "link"),
    [
        ("127.0.0.1", "http://127.0.0.1:8141"),
        ("localhost", "http://localhost:8141"),
        ("messages.internal", "http://messages.internal:8141"),
        ("0.0.0.0", "http://127.0.0.1:8141"),
        ("::", "http://[::1]:8141"),
        ("::1", "http://[::1]:8141"),
    ],
)
def test_the_site_url_of_an_address(host: str, link: str) -> None:
    assert run.site_url(host, 8141) == link
