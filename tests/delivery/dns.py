"""A real DNS server on loopback (dnslib, in this process) serving the TXT records that
SPF, DKIM and DMARC look up: the inbound tests check senders against DNS as in production,
only the records are ours."""

import base64
import subprocess
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from dnslib import QTYPE, RCODE, RR, TXT
from dnslib.server import BaseResolver, DNSLogger, DNSServer

from tests.test_processes import free_port


@dataclass
class Records(BaseResolver):  # type: ignore[misc]
    txt: dict[str, list[str]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def resolve(self, request: Any, handler: Any) -> Any:
        reply = request.reply()
        name = str(request.q.qname).rstrip(".").lower()
        with self.lock:
            values = list(self.txt.get(name, []))
        if request.q.qtype in (QTYPE.TXT, QTYPE.ANY) and values:
            for value in values:
                # Long values (a DKIM key) go as several strings of at most 255 bytes.
                chunks = [value[start : start + 255] for start in range(0, len(value), 255)]
                reply.add_answer(RR(name, QTYPE.TXT, rdata=TXT(chunks), ttl=60))
        elif not values and not any(known.endswith("." + name) for known in self.txt):
            reply.header.rcode = RCODE.NXDOMAIN
        return reply


class DnsServer:
    def __init__(self) -> None:
        self.records = Records()
        self.port = free_port()
        self.server = DNSServer(
            self.records,
            port=self.port,
            address="127.0.0.1",
            logger=DNSLogger(log="-request,-reply,-truncated,-error,-recv,-send,-data"),
        )

    def start(self) -> None:
        # dnslib's start_thread serves with socketserver's default poll interval, so each
        # stop() waited up to half a second for the loop to look: 0.5 s after every test
        # with a DNS server, most of its teardown.
        self.server.thread = threading.Thread(
            target=self.server.server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )
        self.server.thread.start()

    def stop(self) -> None:
        self.server.stop()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def publish(self, name: str, *values: str) -> None:
        with self.records.lock:
            self.records.txt[name.lower()] = list(values)


@dataclass(frozen=True)
class DkimKey:
    private_pem: bytes
    public_base64: str


def make_dkim_key(folder: Path) -> DkimKey:
    key = folder / "dkim.pem"
    subprocess.run(["openssl", "genrsa", "-out", str(key), "2048"], check=True, capture_output=True)
    public = subprocess.run(
        ["openssl", "rsa", "-in", str(key), "-pubout", "-outform", "DER"],
        check=True,
        capture_output=True,
    ).stdout
    return DkimKey(key.read_bytes(), base64.b64encode(public).decode())
