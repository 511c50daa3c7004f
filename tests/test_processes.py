"""The processes operators run, started for real: `messagecenter run` serves the sign-in
page, listens for replies by e-mail, and stops all of its children on Ctrl-C."""

import os
import signal
import smtplib
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.conf import settings

pytestmark = pytest.mark.django_db(transaction=True)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def database_url() -> str:
    """The URL of the test database pytest-django created, for the child processes."""
    database = settings.DATABASES["default"]
    if database["ENGINE"].endswith("sqlite3"):
        return f"sqlite:///{database['NAME']}"
    return (
        f"postgres://{database['USER']}:{database['PASSWORD']}@{database['HOST']}:"
        f"{database['PORT']}/{database['NAME']}"
    )


# A server started by a test sends for accounts made a moment ago, as the in-process tests do
# (tests/conftest.py lifts the limits there): its environment lifts them too. Without this a
# new account's 6 messages a minute and 60 an hour turned the durability test's 120 sends
# into ten minutes of 429s, and past the hour's 60 into keys never acknowledged.
LIFTED_SEND_LIMITS = {
    name: ""
    for name in (
        "SAFETY_SEND_LIMITS",
        "SAFETY_NEW_ACCOUNT_SEND_LIMITS",
        "SAFETY_FIRST_CONTACT_LIMITS",
        "SAFETY_NEW_ACCOUNT_FIRST_CONTACT_LIMITS",
    )
}


def wait_for(url: str, timeout: float = 90) -> tuple[int, str]:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.status, response.read().decode()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def smtp_answers(port: int, timeout: float = 30) -> int:
    """The listener's answer to EHLO, once it listens."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with smtplib.SMTP("127.0.0.1", port, timeout=5) as smtp:
                return int(smtp.ehlo("test.example")[0])
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def test_run_serves_the_sign_in_page_and_stops_on_ctrl_c(tmp_path: Path) -> None:
    port, smtp_port = free_port(), free_port()
    environment = {
        **os.environ,
        "DATABASE_URL": database_url(),
        "MESSAGECENTER_VAR_DIR": str(tmp_path),
        # As `make run` sets it: the README's order-event example signs with what is shown.
        "MARKETPLACE_EVENTS_SECRETS": "dev-test-secret",
        "INBOUND_SMTP_PORT": str(smtp_port),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "messagecenter", "run", "--port", str(port)],
        env=environment,
        # Unbuffered: the lines read before communicate() are not read ahead of it.
        bufsize=0,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        # Said once the server answers: the page opens at once (it was said seconds before
        # the port took connections, a walkthrough found).
        assert process.stdout is not None
        said = b""
        for line in process.stdout:
            said += line
            if b"Message Center is running on" in line:
                break
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=30):
            pass
        status, page = wait_for(f"http://127.0.0.1:{port}/accounts/login/")
        assert status == 200
        assert "Sign in" in page
        # The SMTP listener for replies by e-mail is up too.
        assert smtp_answers(smtp_port) == 250
        # Ctrl-C in a terminal signals the whole foreground process group.
        os.killpg(process.pid, signal.SIGINT)
        rest, _ = process.communicate(timeout=30)
        output = said + rest
    finally:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
    assert process.returncode == 0, output.decode()
    assert f"Message Center is running on http://127.0.0.1:{port}/" in output.decode()
    assert f"http://127.0.0.1:{port}/mailbox/" in output.decode()
    assert (
        f"Order events: POST http://127.0.0.1:{port}/api/v1/marketplace-events, signed with "
        "dev-test-secret (MARKETPLACE_EVENTS_SECRETS)"
    ) in output.decode()
    assert f"Replies by e-mail: SMTP on 127.0.0.1:{smtp_port}" in output.decode()
    with pytest.raises(urllib.error.URLError, match="Connection refused"):
        urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=2)
    with pytest.raises(ConnectionRefusedError):
        smtplib.SMTP("127.0.0.1", smtp_port, timeout=2)
