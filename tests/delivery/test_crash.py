"""A worker killed with SIGKILL in the middle of sending: after a restart every queued
e-mail is delivered, and no one gets two e-mails with different Message-IDs."""

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from email import policy
from email.parser import BytesHeaderParser
from pathlib import Path

import pytest
from django.conf import settings

from messagecenter.delivery.models import Email, EmailStatus
from messagecenter.notifications.models import Audience, BroadcastKind
from tests.delivery.helpers import many_buyers, send_broadcast
from tests.delivery.smtp import Handler, SmtpServer
from tests.test_processes import database_url

pytestmark = pytest.mark.django_db(transaction=True)

# The sender claims 200 e-mails at a time (send_due_emails' limit). 600 are enough for the
# one kill, at the 300th e-mail: a batch sent whole before it, the kill halfway through
# the second, whose rest waits for its lease, and a third batch no one had claimed; and
# the 300 still to go when it lands are 0.7 s of sending at the fastest rate seen
# (≈ 420 a second), 14 of the test's 50 ms polls, to a server in the test's own process,
# so the worker cannot finish first unnoticed.
RECIPIENTS = 600
# The ten kills of `make test-slow`: 3,000, a kill every 190 e-mails.
SLOW_RECIPIENTS = 3000


def start_worker(smtp: SmtpServer, var_dir: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [sys.executable, "-m", "messagecenter", "worker", "--no-scheduler"],
        env={
            **os.environ,
            "DATABASE_URL": database_url(),
            "MESSAGECENTER_VAR_DIR": str(var_dir),
            "SECRET_KEY": settings.SECRET_KEY,
            "EMAIL_URL": smtp.url,
            # A claim by the killed worker ends soon, so the test need not wait long.
            "EMAIL_CLAIM_SECONDS": "2",
            "LOG_LEVEL": "WARNING",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def wait_until(condition: object, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def send_with_kills(
    smtp_server: SmtpServer, inbox: Handler, var_dir: Path, *, recipients: int, kills: int
) -> int:
    """`recipients` important notices (mail no one can switch off) sent by a worker killed
    with SIGKILL `kills` times along the way, each time after it sent some; returns how
    many e-mails arrived more than once, after checking that everyone got theirs, each
    under the one Message-ID their row fixes."""
    many_buyers(recipients)
    send_broadcast(BroadcastKind.NOTICE, audience=Audience.BUYERS)
    expected = {
        f"<mc.broadcast.{pk}@localhost>": email
        for pk, email in Email.objects.values_list("pk", "user__email")
    }
    assert len(expected) == recipients
    # Spread over the first two thirds of the run, and off the sender's batches of 200,
    # so that a kill lands mid-batch.
    step = (recipients * 2 // 3 - 100) // kills
    for kill in range(kills):
        worker = start_worker(smtp_server, var_dir)
        target = step * (kill + 1)
        try:
            wait_until(lambda: len(inbox.received) >= target, 300, "more e-mails")  # noqa: B023
        finally:
            os.killpg(worker.pid, signal.SIGKILL)
            worker.wait(timeout=10)
    assert len(inbox.received) < recipients, "the workers finished before the last kill"

    last = start_worker(smtp_server, var_dir)
    try:
        wait_until(
            lambda: not Email.objects.filter(status=EmailStatus.QUEUED).exists(),
            300,
            "the restarted worker to send the rest",
        )
    finally:
        last.terminate()
        last.wait(timeout=10)

    assert set(Email.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    ids_by_recipient: dict[str, set[str]] = defaultdict(set)
    # The headers alone: parsing each whole e-mail (item.message, both its bodies) for
    # its Message-ID was 1.4 ms of CPU an e-mail, seconds for thousands.
    headers = BytesHeaderParser(policy=policy.default)
    for item in inbox.received:
        ids_by_recipient[item.recipients[0]].add(headers.parsebytes(item.raw)["Message-ID"])
    assert len(ids_by_recipient) == recipients
    assert all(len(ids) == 1 for ids in ids_by_recipient.values())
    assert {next(iter(ids)): address for address, ids in ids_by_recipient.items()} == expected
    return len(inbox.received) - recipients


def test_a_killed_sender_loses_nothing_and_repeats_only_the_email_in_flight(
    smtp_server: SmtpServer, tmp_path: Path
) -> None:
    # Each e-mail is recorded as sent right after the server accepts it: a kill repeats
    # at most the one between the two (before, up to the whole claimed batch of 200).
    # The server's handler, not the inbox fixture: its check that no one received another
    # person's address parses every e-mail afterwards (seconds for thousands), and a notice
    # names no one else (tests/delivery/test_broadcast_emails.py checks a notice's text).
    repeats = send_with_kills(
        smtp_server, smtp_server.handler, tmp_path, recipients=RECIPIENTS, kills=1
    )
    assert repeats <= 1


@pytest.mark.slow
def test_a_sender_killed_ten_times_repeats_at_most_one_email_per_kill(
    smtp_server: SmtpServer, inbox: Handler, tmp_path: Path
) -> None:
    repeats = send_with_kills(smtp_server, inbox, tmp_path, recipients=SLOW_RECIPIENTS, kills=10)

    print(f"\n10 kills during {SLOW_RECIPIENTS} e-mails: {repeats} repeated")
    assert repeats <= 10
