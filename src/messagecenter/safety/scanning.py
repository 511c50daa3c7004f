"""Virus scanners for attachments (docs/safety.md#attachments): a hook any app or
deployment can plug a scanner into (`register`), and ClamAV's clamd, used whenever
SAFETY_CLAMD names its socket ("unix:/run/clamav/clamd.ctl") or address
("tcp:127.0.0.1:3310"). clamd is spoken to with its INSTREAM command (clamd(8)): the file
in length-prefixed chunks, one answer line — no client library, none is kept up.

A scanner returns the name of what it found, or None. A configured scanner that cannot be
reached refuses the upload ("try again in a few minutes"): an unscanned file never passes.
"""

import socket
import struct
from collections.abc import Callable

from django.conf import settings

from messagecenter.errors import AttachmentRefused

Scanner = Callable[[bytes], str | None]
_scanners: list[Scanner] = []
CHUNK = 64 * 1024


def register(scanner: Scanner) -> None:
    if scanner not in _scanners:
        _scanners.append(scanner)


def unregister(scanner: Scanner) -> None:
    if scanner in _scanners:
        _scanners.remove(scanner)


def scan(content: bytes, label: str) -> str | None:
    scanners = list(_scanners)
    if settings.SAFETY_CLAMD:
        scanners.append(scan_with_clamd)
    for scanner in scanners:
        try:
            found = scanner(content)
        except ScannerUnavailable as error:
            raise AttachmentRefused(
                f"{label} could not be checked for viruses just now, so it was not sent. "
                "Try again in a few minutes.",
                code="attachment_not_scanned",
            ) from error
        if found:
            return found
    return None


class ScannerUnavailable(Exception):
    pass


def scan_with_clamd(content: bytes, address: str | None = None) -> str | None:
    """clamd's verdict on these bytes: None when clean, else the signature's name."""
    address = address or settings.SAFETY_CLAMD
    try:
        with _connect(address) as connection:
            connection.sendall(b"zINSTREAM\0")
            for start in range(0, len(content), CHUNK):
                chunk = content[start : start + CHUNK]
                connection.sendall(struct.pack("!L", len(chunk)) + chunk)
            connection.sendall(struct.pack("!L", 0))
            answer = b""
            while not answer.endswith(b"\0"):
                data = connection.recv(4096)
                if not data:
                    break
                answer += data
    except OSError as error:
        raise ScannerUnavailable(f"clamd at {address}: {error}") from error
    reply = answer.rstrip(b"\0").decode("utf-8", "replace").strip()
    # "stream: OK", "stream: Eicar-Signature FOUND", "INSTREAM size limit exceeded. ERROR"
    if reply.endswith(" FOUND"):
        return reply.removeprefix("stream:").removesuffix(" FOUND").strip()
    if reply.endswith(" OK"):
        return None
    raise ScannerUnavailable(f"clamd at {address} answered {reply!r}")


def _connect(address: str) -> socket.socket:
    timeout = settings.SAFETY_CLAMD_TIMEOUT
    if address.startswith("unix:"):
        connection = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        connection.settimeout(timeout)
        try:
            connection.connect(address.removeprefix("unix:"))
        except OSError:
            connection.close()
            raise
        return connection
    host, _, port = address.removeprefix("tcp:").rpartition(":")
    return socket.create_connection((host.strip("[]"), int(port or 3310)), timeout=timeout)
