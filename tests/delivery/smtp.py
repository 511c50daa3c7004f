"""A real SMTP server on loopback (aiosmtpd) that keeps what it receives, for the e-mail
tests: every test here checks what actually went over the wire."""

import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.header import decode_header, make_header
from email.message import EmailMessage
from email.utils import parseaddr
from typing import Any

from aiosmtpd.controller import Controller
from django.conf import settings

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

    def real_addresses_seen(self) -> list[tuple[str, str]]:
        """(recipient, address) for every e-mail address anyone received other than their
        own, the site's sending address and relay addresses: the other party's real
        address must never reach anyone, in a header, a body or an attachment's name."""
        with self.lock:
            received = list(self.received)
        leaks = []
        for item in received:
            own = {address.lower() for address in item.recipients}
            for address in addresses_in(item.raw):
                if address in own or address.endswith("@" + settings.EMAIL_REPLY_DOMAIN):
                    continue
                if address == parseaddr(settings.DEFAULT_FROM_EMAIL)[1].lower():
                    continue
                if address.endswith("@" + settings.EMAIL_MESSAGE_ID_DOMAIN):
                    # Message-IDs look like addresses (<mc.message.1@localhost>).
                    continue
                leaks.append((item.recipients[0], address))
        return leaks

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


_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")


def addresses_in(raw: bytes) -> set[str]:
    """Every address-like string in an e-mail as its reader sees it: decoded headers,
    every part's decoded text, and attachments' file names."""
    # compat32 with the headers decoded by hand reads the same text as policy.default's
    # header objects at a tenth of the cost: a test that sends thousands checks every one
    # (3,000 in tests/delivery/test_crash.py's ten kills).
    message = message_from_bytes(raw, policy=policy.compat32)
    seen: list[str] = []
    for name, value in message.items():
        # A signature's "i=@domain" is not anyone's address.
        if name.lower() != "dkim-signature":
            seen.append(f"{name}: {decoded(value)}")
    for part in message.walk():
        filename = part.get_filename()
        if filename:
            seen.append(decoded(filename))
        if part.get_content_maintype() == "text":
            payload = part.get_payload(decode=True)
            if isinstance(payload, bytes):
                seen.append(payload.decode(part.get_content_charset() or "utf-8", "replace"))
    return {match.lower() for text in seen for match in _ADDRESS.findall(text)}


def decoded(value: str) -> str:
    """A header or file name as its reader sees it: RFC 2047 encoded words decoded."""
    return str(make_header(decode_header(value)))


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
