"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the e-mail
tests: every test here checks what actually went over the wire."""

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

from tests.test_processes import free_port


@dataclass
class Received:
    mail_from: str
    recipients: list[str]
    raw: bytes
    at: float

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.raw, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed

    def text(self) -> str:
        part = self.message.get_body(preferencelist=("plain",))
        assert part is not None
        return str(part.get_content())

    def html(self) -> str:
        part = self.message.get_body(preferencelist=("html",))
        assert part is not None
        return str(part.get_content())


@dataclass
class Handler:
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Answer for RCPT TO, by address: e.g. "550 5.1.1 No such user" or "451 Try later".
    refuse: dict[str, str] = field(default_factory=dict)
    # Called with each message as it arrives (from the server's thread).
    on_message: Callable[[Received], None] | None = None

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        answer = self.refuse.get(address)
        if answer is not None:
            return answer
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        item = Received(
            envelope.mail_from, list(envelope.rcpt_tos), bytes(envelope.content), time.monotonic()
        )
        with self.lock:
            self.received.append(item)
        if self.on_message is not None:
            self.on_message(item)
        return "250 Message accepted"

    def to(self, address: str) -> list[Received]:
        with self.lock:
            return [item for item in self.received if address in item.recipients]

    def wait_for(self, count: int, timeout: float = 30) -> list[Received]:
        deadline = time.monotonic() + timeout
        while len(self.received) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{len(self.received)} e-mails received, {count} expected")
            time.sleep(0.02)
        return list(self.received)


class SmtpServer:
    def __init__(self) -> None:
        self.handler = Handler()
        self.port = free_port()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    def start(self) -> None:
        self.controller.start()

    def stop(self) -> None:
        self.controller.stop()

    @property
    def url(self) -> str:
        return f"smtp://127.0.0.1:{self.port}"

    def mailer(self) -> dict[str, Any]:
        return {
            "BACKEND": "messagecenter.delivery.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": self.port, "timeout": 10},
        }
