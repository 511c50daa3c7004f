"""The inbound corpus: real e-mails from the test data that packages ship (corpus/README.md
says which, under which licence) and the edge cases we make here — every MIME shape in
every charset and transfer encoding, broken ones included, huge headers, winmail.dat,
empty bodies. `corpus()` yields (name, bytes, keeps_sender) in a fixed order;
`keeps_sender` False means the test may put the participant's own address in From."""

import base64
import quopri
from collections.abc import Iterator
from pathlib import Path

from tests.web.helpers import pdf_bytes

FOLDER = Path(__file__).parent / "corpus"

TEXTS = {
    "en": "Yes, it is still available. I can ship it tomorrow.",
    "de": "Ja, er ist noch verfügbar. Größe M, Lieferung übermorgen.",
    "fr": "Oui, il est encore disponible. Livraison prévue à Noël, ça vous va ?",
    "ru": "Да, товар в наличии. Отправлю завтра утром.",
    "ja": "はい、在庫があります。明日発送します。",
    "zh": "是的，还有货。明天发货。",
    "ko": "네, 재고 있습니다. 내일 발송하겠습니다.",
    "he": "כן, הפריט עדיין זמין.",
    "emoji": "Yes 👍 shipping tomorrow 📦",
}
CHARSETS = [
    "utf-8",
    "us-ascii",
    "iso-8859-1",
    "windows-1252",
    "iso-8859-15",
    "koi8-r",
    "windows-1251",
    "shift_jis",
    "euc-jp",
    "iso-2022-jp",
    "gb2312",
    "big5",
    "euc-kr",
    "utf-16",
    "utf-7",
    "iso-8859-8-i",
    "x-unknown",
    "bogus-charset",
    "",  # undeclared
    "utf-8-broken",  # declared UTF-8, bytes that are not
]
ENCODINGS = ["7bit", "8bit", "quoted-printable", "base64", "broken-base64"]
QUOTE = (
    "\n\nOn Mon, 30 Nov 2026 at 09:12, Shop via Message Center wrote:\n"
    "> Is it still available?\n> Thanks\n"
)
TINY_PDF = pdf_bytes("Receipt")


def corpus() -> Iterator[tuple[str, bytes, bool]]:
    yield from _real_world()
    yield from _shapes()
    yield from _edge_cases()


def _real_world() -> Iterator[tuple[str, bytes, bool]]:
    for path in sorted(FOLDER.glob("*/*")):
        if path.name == "LICENSE" or path.suffix in (".gif", ".png", ".jpg", ".webp", ".tnef"):
            continue
        raw = path.read_bytes()
        name = f"{path.parent.name}/{path.name}"
        if path.suffix == ".html":
            raw = _headers("text/html; charset=utf-8", "8bit") + raw
        yield name, raw, False
        yield f"{name} (CRLF)", raw.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n"), False
        # Cut off half way: a connection that dropped, a provider that truncated.
        yield f"{name} (truncated)", raw[: max(len(raw) // 2, 1)], False
        yield f"{name} (original sender)", raw, True
    for path in sorted(FOLDER.glob("tnefparse/*.tnef")):
        yield (
            f"tnefparse/{path.name} as winmail.dat",
            _mixed(
                "Here is the file.", [("winmail.dat", path.read_bytes(), "application/ms-tnef")]
            ),
            False,
        )
    images = sorted(FOLDER.glob("cpython/python.*"))
    for path in images:
        yield (
            f"cpython/{path.name} attached",
            _mixed("A photo of the item.", [(path.name, path.read_bytes(), "image/unknown")]),
            False,
        )


def _shapes() -> Iterator[tuple[str, bytes, bool]]:
    languages = list(TEXTS)
    number = 0
    for charset in CHARSETS:
        for encoding in ENCODINGS:
            for shape in SHAPES:
                number += 1
                for language in (languages[number % 9], languages[(number + 4) % 9]):
                    text = TEXTS[language] + QUOTE
                    yield (
                        f"{shape} {charset or 'undeclared'} {encoding} {language}",
                        SHAPES[shape](text, charset, encoding),
                        False,
                    )


def _edge_cases() -> Iterator[tuple[str, bytes, bool]]:
    plain = _part("text/plain", "Thanks!", "utf-8", "8bit")
    yield "empty body", _headers("text/plain; charset=utf-8", "7bit"), False
    yield "whitespace body", _headers("text/plain", "7bit") + b"   \r\n\r\n \t\r\n", False
    yield "only quoted text", _headers("text/plain", "7bit") + QUOTE.encode(), False
    yield "only a signature", _headers("text/plain", "7bit") + b"-- \r\nJane\r\n", False
    yield "no body separator", b"Subject: no blank line\r\nContent-Type: text/plain", False
    yield "zero bytes", b"", False
    yield "not an e-mail", b"\x00\x01\x02\xff\xfe binary noise" * 100, False
    yield "huge subject", _headers("text/plain", "7bit", subject="x" * 200_000) + b"Hi", False
    many_received = "".join(f"Received: from hop{n}.example.test\r\n" for n in range(60))
    yield "60 Received headers", many_received.encode() + plain, False
    many_to = "To: " + ", ".join(f"person{n}@example.test" for n in range(5000)) + "\r\n"
    yield "5,000 recipients", many_to.encode() + plain, False
    long_header = "X-Long: " + ("a" * 998 + "\r\n ") * 200 + "\r\n"
    yield "folded 200 KB header", long_header.encode() + plain, False
    yield "one 1 MB line", _headers("text/plain", "8bit") + b"word " * 200_000, False
    yield "message too long", _headers("text/plain", "8bit") + b"Long text.\n" * 2000, False
    yield (
        "NUL and control characters",
        _headers("text/plain", "8bit") + b"Hi\x00\x07\x1b[31m",
        False,
    )
    yield "lone CR line ends", _headers("text/plain", "8bit") + b"Line one\rLine two\r", False
    yield (
        "broken encoded-word subject",
        (b"Subject: =?utf-8?B?broken?= =?x-nope?Q?abc?= =?utf-8?Q?=ZZ?=\r\n" + plain),
        False,
    )
    yield "8-bit header bytes", b"Subject: Gr\xfc\xdfe \xe2\x82\r\n" + plain, False
    yield "two From headers", b"From: a@example.test\r\nFrom: b@example.test\r\n" + plain, True
    yield "no From", plain, True
    yield "From without address", b"From: just a name\r\n" + plain, True
    yield "encoded From name", b"From: =?koi8-r?B?8NLJ18XU?= <x@example.test>\r\n" + plain, True
    yield "no Message-ID", plain, False
    yield "garbage Message-ID", b"Message-ID: <<<>>> \xff\r\n" + plain, False
    yield (
        "boundary missing",
        (b"Content-Type: multipart/mixed\r\n\r\n--x\r\nContent-Type: text/plain\r\n\r\nHi\r\n"),
        False,
    )
    yield (
        "boundary never closed",
        (
            b'Content-Type: multipart/mixed; boundary="b"\r\n\r\n--b\r\n'
            b"Content-Type: text/plain\r\n\r\nHello there\r\n--b\r\nContent-Type: image/png\r\n"
            b"Content-Transfer-Encoding: base64\r\n\r\niVBORw0KGgo"
        ),
        False,
    )
    yield (
        "multipart without parts",
        (b'Content-Type: multipart/alternative; boundary="q"\r\n\r\n--q--\r\n'),
        False,
    )
    yield "nested 40 deep", _nested("Deep reply.", 40), False
    yield (
        "six attachments (one over the count)",
        _mixed("Photos.", [(f"photo{n}.pdf", TINY_PDF, "application/pdf") for n in range(6)]),
        False,
    )
    yield (
        "attachment over the size cap",
        _mixed("Big file.", [("big.pdf", TINY_PDF + b"0" * (10 * 1024 * 1024), "application/pdf")]),
        False,
    )
    yield (
        "attachment named like a path",
        _mixed("See file.", [("../../etc/passwd.pdf", TINY_PDF, "application/pdf")]),
        False,
    )
    yield (
        "attachment name with an address",
        _mixed("Invoice.", [("invoice for jane@example.org.pdf", TINY_PDF, "application/pdf")]),
        False,
    )
    yield (
        "executable named as a PDF",
        _mixed("Open this.", [("invoice.pdf", b"MZ\x90\x00" + b"\x00" * 200, "application/pdf")]),
        False,
    )
    yield "attachments only", _mixed("", [("receipt.pdf", TINY_PDF, "application/pdf")]), False
    yield (
        "address in the body",
        _headers("text/plain", "8bit") + (b"Write to me at jane.doe@example.org or call."),
        False,
    )


def _headers(content_type: str, encoding: str, *, subject: str = "Re: Your question") -> bytes:
    return (
        f"Subject: {subject}\r\nMIME-Version: 1.0\r\nContent-Type: {content_type}\r\n"
        f"Content-Transfer-Encoding: {encoding}\r\n\r\n"
    ).encode()


def _encode_text(text: str, charset: str) -> bytes:
    if charset == "utf-8-broken":
        return text.encode("utf-8")[:-1] + b"\xc3\x28\xff"
    if charset in ("", "x-unknown", "bogus-charset"):
        return text.encode("utf-8")
    python_charset = {"iso-8859-8-i": "iso-8859-8"}.get(charset, charset)
    return text.encode(python_charset, errors="replace")


def _transfer(payload: bytes, encoding: str) -> bytes:
    if encoding == "quoted-printable":
        return quopri.encodestring(payload)
    if encoding == "base64":
        return base64.encodebytes(payload)
    if encoding == "broken-base64":
        return base64.encodebytes(payload)[:-3] + b"!!*\r\n"
    return payload


def _part(content_type: str, text: str, charset: str, encoding: str) -> bytes:
    declared = {"utf-8-broken": "utf-8"}.get(charset, charset)
    parameters = f"; charset={declared}" if declared else ""
    cte = "base64" if encoding == "broken-base64" else encoding
    return (
        f"Content-Type: {content_type}{parameters}\r\nContent-Transfer-Encoding: {cte}\r\n\r\n"
    ).encode() + _transfer(_encode_text(text, charset), encoding)


def _multipart(subtype: str, parts: list[bytes], boundary: str) -> bytes:
    body = b"".join(f"--{boundary}\r\n".encode() + part + b"\r\n" for part in parts)
    return (
        f'Content-Type: multipart/{subtype}; boundary="{boundary}"\r\n\r\n'.encode()
        + body
        + f"--{boundary}--\r\n".encode()
    )


def _attachment(filename: str, content: bytes, content_type: str, *, inline: bool = False) -> bytes:
    disposition = "inline" if inline else "attachment"
    return (
        f'Content-Type: {content_type}; name="{filename}"\r\n'
        f'Content-Disposition: {disposition}; filename="{filename}"\r\n'
        "Content-Transfer-Encoding: base64\r\nContent-ID: <part1@example.test>\r\n\r\n"
    ).encode() + base64.encodebytes(content)


def _mixed(text: str, files: list[tuple[str, bytes, str]]) -> bytes:
    parts = [_part("text/plain", text, "utf-8", "8bit")] if text else []
    parts += [_attachment(name, content, content_type) for name, content, content_type in files]
    return b"Subject: Re: files\r\nMIME-Version: 1.0\r\n" + _multipart("mixed", parts, "mixed-b")


def _html(text: str) -> str:
    lines = text.split("\n> ")
    quoted = "".join(f"<div>{line}</div>" for line in lines[1:])
    return (
        f"<html><head><style>p{{color:red}}</style></head><body><p>{lines[0]}</p>"
        f'<div class="gmail_quote"><blockquote>{quoted}</blockquote></div></body></html>'
    )


def _nested(text: str, depth: int) -> bytes:
    inner = _part("text/plain", text, "utf-8", "8bit")
    for level in range(depth):
        inner = _multipart("mixed", [inner], f"level{level}")
    return b"Subject: nested\r\nMIME-Version: 1.0\r\n" + inner


PNG = (FOLDER / "cpython" / "python.png").read_bytes() if FOLDER.exists() else b""


def _plain(text: str, charset: str, encoding: str) -> bytes:
    return b"Subject: Re: plain\r\nMIME-Version: 1.0\r\n" + _part(
        "text/plain", text, charset, encoding
    )


def _html_only(text: str, charset: str, encoding: str) -> bytes:
    return b"Subject: Re: html\r\nMIME-Version: 1.0\r\n" + _part(
        "text/html", _html(text), charset, encoding
    )


def _alternative(text: str, charset: str, encoding: str) -> bytes:
    body = _multipart(
        "alternative",
        [
            _part("text/plain", text, charset, encoding),
            _part("text/html", _html(text), charset, encoding),
        ],
        "alt-b",
    )
    return b"Subject: Re: alternative\r\nMIME-Version: 1.0\r\n" + body


def _mixed_image(text: str, charset: str, encoding: str) -> bytes:
    body = _multipart(
        "mixed",
        [_part("text/plain", text, charset, encoding), _attachment("photo.png", PNG, "image/png")],
        "mix-b",
    )
    return b"Subject: Re: photo\r\nMIME-Version: 1.0\r\n" + body


def _related(text: str, charset: str, encoding: str) -> bytes:
    related = _multipart(
        "related",
        [
            _part(
                "text/html", _html(text) + '<img src="cid:part1@example.test">', charset, encoding
            ),
            _attachment("logo.png", PNG, "image/png", inline=True),
        ],
        "rel-b",
    )
    body = _multipart(
        "alternative", [_part("text/plain", text, charset, encoding), related], "alt-r"
    )
    return b"Subject: Re: related\r\nMIME-Version: 1.0\r\n" + body


def _forwarded(text: str, charset: str, encoding: str) -> bytes:
    inner = b"From: someone@example.org\r\nSubject: original\r\n\r\nThe original text.\r\n"
    body = _multipart(
        "mixed",
        [
            _part("text/plain", text, charset, encoding),
            b"Content-Type: message/rfc822\r\n\r\n" + inner,
        ],
        "fwd-b",
    )
    return b"Subject: Fwd: original\r\nMIME-Version: 1.0\r\n" + body


def _signed(text: str, charset: str, encoding: str) -> bytes:
    body = _multipart(
        'signed; protocol="application/pgp-signature"; micalg=pgp-sha256',
        [
            _part("text/plain", text, charset, encoding),
            b"Content-Type: application/pgp-signature; name=signature.asc\r\n\r\n"
            b"-----BEGIN PGP SIGNATURE-----\r\nabc\r\n-----END PGP SIGNATURE-----\r\n",
        ],
        "sig-b",
    )
    return b"Subject: Re: signed\r\nMIME-Version: 1.0\r\n" + body


def _calendar(text: str, charset: str, encoding: str) -> bytes:
    body = _multipart(
        "alternative",
        [
            _part("text/plain", text, charset, encoding),
            _part("text/calendar", "BEGIN:VCALENDAR\nEND:VCALENDAR", "utf-8", "7bit"),
        ],
        "cal-b",
    )
    return b"Subject: Re: meeting\r\nMIME-Version: 1.0\r\n" + body


SHAPES = {
    "text/plain": _plain,
    "text/html": _html_only,
    "alternative": _alternative,
    "mixed with an image": _mixed_image,
    "related with an inline image": _related,
    "forwarded message/rfc822": _forwarded,
    "PGP multipart/signed": _signed,
    "alternative with a calendar": _calendar,
}
