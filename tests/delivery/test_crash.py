"""A worker killed with SIGKILL in the middle of sending: after a restart every queued
e-mail is delivered, and no one gets two e-mails with different Message-IDs."""

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
from django.conf import settings

from messagecenter.delivery.models import Email, EmailStatus
from messagecenter.notifications.models import Audience
from tests.delivery.helpers import many_buyers, send_broadcast
from tests.delivery.smtp import Handler, SmtpServer
from tests.test_processes import database_url

pytestmark = pytest.mark.django_db(transaction=True)

RECIPIENTS = 3000


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


def test_a_killed_sender_loses_nothing_and_repeats_only_with_the_same_message_id(
    smtp_server: SmtpServer, inbox: Handler, tmp_path: Path
) -> None:
    many_buyers(RECIPIENTS)
    send_broadcast(audience=Audience.BUYERS)
    expected = {
        f"<mc.broadcast.{pk}@localhost>": email
        for pk, email in Email.objects.values_list("pk", "user__email")
    }
    assert len(expected) == RECIPIENTS

    first = start_worker(smtp_server, tmp_path)
    try:
        wait_until(lambda: len(inbox.received) >= 300, 60, "the first e-mails")
    finally:
        os.killpg(first.pid, signal.SIGKILL)
        first.wait(timeout=10)
    killed_at = len(inbox.received)
    assert killed_at < RECIPIENTS, "the worker finished before it could be killed"

    second = start_worker(smtp_server, tmp_path)
    try:
        wait_until(
            lambda: not Email.objects.filter(status=EmailStatus.QUEUED).exists(),
            120,
            "the restarted worker to send the rest",
        )
    finally:
        second.terminate()
        second.wait(timeout=10)

    assert set(Email.objects.values_list("status", flat=True)) == {EmailStatus.SENT}
    ids_by_recipient: dict[str, set[str]] = defaultdict(set)
    for item in inbox.received:
        ids_by_recipient[item.recipients[0]].add(item.message["Message-ID"])
    # Everyone got theirs, each under exactly one Message-ID: the one their row fixes.
    assert len(ids_by_recipient) == RECIPIENTS
    assert all(len(ids) == 1 for ids in ids_by_recipient.values())
    assert {next(iter(ids)): address for address, ids in ids_by_recipient.items()} == expected
    # Repeats are at most the batch the killed worker had claimed.
    assert len(inbox.received) - RECIPIENTS <= 200
