"""Fast assembly of personalised broadcast e-mails (docs/decisions/0004-broadcast-mime.md).

Building a message with the email package costs about a millisecond per recipient, more
than the rest of sending together; a promotion to a million people would spend most of
its time there. A broadcast's HTML and text are rendered once with markers where each
person's name and links go; per recipient the markers are replaced and the two parts are
encoded with binascii's quoted-printable (C code) into a fixed multipart/alternative
layout. Headers are folded by the email package's own SMTP policy, once per broadcast
(Subject, From) — only the plain ASCII To and the generated values are written directly.
Tests parse every assembled message with the standard library and check it round-trips.
"""

import binascii
import re
import secrets
from collections.abc import Sequence
from email import policy

ASCII_ADDRESS = re.compile(r"^[A-Za-z0-9.!#$%&'*+/=?^_`{|}~-]+@[A-Za-z0-9.-]+$")


def fold(name: str, value: str) -> str:
    """One header line (or several, folded and encoded as needed), ending in CRLF."""
    return str(policy.SMTP.fold(name, value))


def is_plain_address(address: str) -> bool:
    return bool(ASCII_ADDRESS.match(address))


def quoted_printable(text: str) -> str:
    encoded = binascii.b2a_qp(text.replace("\r\n", "\n").encode("utf-8"), istext=True)
    return encoded.decode("ascii").replace("\n", "\r\n")


def assemble(folded_headers: Sequence[str], text: str, html: str) -> bytes:
    """A multipart/alternative message: the headers (already folded, each ending in CRLF),
    then the plain-text and HTML parts, quoted-printable."""
    boundary = f"=_mc_{secrets.token_hex(12)}"
    return "".join(
        (
            *folded_headers,
            "MIME-Version: 1.0\r\n",
            f'Content-Type: multipart/alternative; boundary="{boundary}"\r\n',
            "\r\n",
            f"--{boundary}\r\n",
            'Content-Type: text/plain; charset="utf-8"\r\n',
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
            quoted_printable(text),
            f"\r\n--{boundary}\r\n",
            'Content-Type: text/html; charset="utf-8"\r\n',
            "Content-Transfer-Encoding: quoted-printable\r\n\r\n",
            quoted_printable(html),
            f"\r\n--{boundary}--\r\n",
        )
    ).encode("ascii")
