"""Durability of sends through a real server killed with SIGKILL: clients send concurrently
with idempotency keys and retry each send until it is acknowledged, while the server is
killed and restarted several times. Afterwards every acknowledged message is stored, each
key made exactly one message, and every counter equals a recount (DESIGN: "a process
killed at any moment loses nothing that was acknowledged and sends nothing twice")."""

import http.client
import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from django.conf import settings
from django.db.models import Count

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Conversation, Message, Participant
from messagecenter.marketplace.models import Product
from tests.conversations.helpers import event_sequences, maintained_unread, recounted_unread
from tests.test_processes import LIFTED_SEND_LIMITS, database_url, free_port

pytestmark = pytest.mark.django_db(transaction=True)

SENDERS = 4
SENDS_PER_SENDER = 30
KILLS = 3


class Server:
    """`messagecenter serve` on one port, killed and started again."""

    def __init__(self, var_dir: Path) -> None:
        self.port = free_port()
        self.var_dir = var_dir
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.process = subprocess.Popen(
            [sys.executable, "-m", "messagecenter", "serve", "--port", str(self.port)],
            env={
                **os.environ,
                "DATABASE_URL": database_url(),
                "MESSAGECENTER_VAR_DIR": str(self.var_dir),
                "SECRET_KEY": settings.SECRET_KEY,
                "LOG_LEVEL": "WARNING",
                **LIFTED_SEND_LIMITS,
            },
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )

    def kill(self) -> None:
        assert self.process is not None
        os.killpg(self.process.pid, signal.SIGKILL)
        self.process.wait(timeout=10)

    def post(self, path: str, body: dict[str, Any], headers: dict[str, str]) -> int:
        """The status, or 0 when the connection failed (the server is down or was killed
        while answering)."""
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
        try:
            connection.request(
                "POST", path, json.dumps(body), {"Content-Type": "application/json", **headers}
            )
            response = connection.getresponse()
            response.read()
            return response.status
        except (OSError, http.client.HTTPException):
            return 0
        finally:
            connection.close()


def test_acknowledged_sends_survive_sigkill_once_each_with_exact_counters(
    tmp_path: Path, buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Is it loud?")
    path = f"/api/v1/conversations/{question.conversation_id}/messages"
    people = [buyer, seller] * (SENDERS // 2)
    tokens = [account_actions.create_api_token(person, "Phone")[1] for person in people]
    acknowledged: list[str] = []
    lock = threading.Lock()
    server = Server(tmp_path)
    server.start()

    def send_all(number: int) -> None:
        headers = {"Authorization": f"Bearer {tokens[number]}"}
        for send in range(SENDS_PER_SENDER):
            key = f"sender{number}-send{send}"
            deadline = time.monotonic() + 120
            # Retried with the same key until acknowledged, as an app does after a timeout.
            while server.post(path, {"body": key}, {**headers, "Idempotency-Key": key}) not in (
                200,
                201,
            ):
                assert time.monotonic() < deadline, f"{key} was never acknowledged"
                time.sleep(0.05)
            with lock:
                acknowledged.append(key)

    senders = [threading.Thread(target=send_all, args=(number,)) for number in range(SENDERS)]
    for thread in senders:
        thread.start()
    total = SENDERS * SENDS_PER_SENDER
    try:
        for kill in range(KILLS):
            target = total * (kill + 1) // (KILLS + 1)
            deadline = time.monotonic() + 120
            while len(acknowledged) < target and time.monotonic() < deadline:
                time.sleep(0.01)
            server.kill()
            server.start()
    finally:
        for thread in senders:
            thread.join(timeout=300)
        server.kill()

    assert sorted(acknowledged) == sorted(
        f"sender{number}-send{send}"
        for number in range(SENDERS)
        for send in range(SENDS_PER_SENDER)
    )
    # Acknowledged = stored, each key once.
    stored = dict(
        Message.objects.exclude(idempotency_key=None)
        .values_list("idempotency_key")
        .annotate(count=Count("id"))
        .values_list("idempotency_key", "count")
    )
    assert stored == dict.fromkeys(acknowledged, 1)
    assert all(
        Message.objects.filter(idempotency_key=key, body=key).exists() for key in acknowledged
    )
    # Counters equal a recount.
    conversation = Conversation.objects.get(pk=question.conversation_id)
    messages = Message.objects.filter(conversation=conversation)
    assert conversation.message_count == messages.count() == total + 1
    for participant in Participant.objects.filter(conversation=conversation):
        unread = messages.exclude(sender=participant.user_id).filter(
            id__gt=participant.last_read_message_id or 0
        )
        assert participant.unread_count == unread.count()
    for person in (buyer, seller):
        assert maintained_unread(person) == recounted_unread(person)
        sequences = event_sequences(person)
        assert sequences == list(range(1, len(sequences) + 1))
