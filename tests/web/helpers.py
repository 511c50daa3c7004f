"""What the page tests share: uploads, where a signed-out visitor is sent, and whether a
person's words are shown in a bidirectional isolate of their own."""

import io
import struct
import zlib
from html.parser import HTMLParser
from urllib.parse import quote

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image


def image_bytes(
    fmt: str = "PNG", size: tuple[int, int] = (8, 8), colour: tuple[int, int, int] = (200, 30, 30)
) -> bytes:
    """A real image, encoded by Pillow as the server encodes every uploaded image again
    (docs/safety.md#attachments): stored as it is, byte for byte."""
    out = io.BytesIO()
    Image.new("RGB", size, colour).save(out, fmt)
    return out.getvalue()


# The content decides the type (the name and the browser's type are ignored).
PNG_BYTES = image_bytes()


def unique_png(tag: str) -> bytes:
    """A PNG of its own for each tag (its pixels are the tag's bytes, compressed): two files
    of the same content are stored once, so a test that needs its own file uses this."""
    data = tag.encode()
    out = io.BytesIO()
    Image.frombytes("L", (len(data), 1), data).save(out, "PNG")
    return out.getvalue()


def pdf_bytes(text: str = "Receipt", catalog: str = "", objects: tuple[str, ...] = ()) -> bytes:
    """A valid one-page PDF showing `text` (uncompressed: the text is in the bytes), with
    `catalog` added to its catalog's entries and `objects` numbered from 6 on."""
    shown = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
    stream = f"BT /F1 12 Tf 20 50 Td ({shown}) Tj ET".encode("latin-1")
    bodies = [
        f"<< /Type /Catalog /Pages 2 0 R {catalog}>>".encode(),
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 300 100] /Contents 4 0 R"
        b" /Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
        *(body.encode("latin-1") for body in objects),
    ]
    out = bytearray(b"%PDF-1.7\n")
    offsets = []
    for number, body in enumerate(bodies, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(bodies) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(bodies) + 1,
        xref,
    )
    return bytes(out)


def pdf(name: str = "receipt.pdf", text: str = "Receipt") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, pdf_bytes(text), content_type="application/pdf")


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def picture_png(width: int = 64, height: int = 48) -> bytes:
    """A PNG a browser can draw (one colour), for pages that show images."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = b"".join(b"\x00" + b"\x2a\x7f\xd0" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


def text_named_png(name: str = "photo.png") -> SimpleUploadedFile:
    """A text file dressed up as an image by its name and declared type."""
    return SimpleUploadedFile(name, b"this is not an image at all", content_type="image/png")


def sign_in_url(path: str) -> str:
    return f"/accounts/login/?next={quote(path)}"


# Elements whose content is no text on the page: the tab's title, scripts, styles.
NOT_SHOWN = {"title", "script", "style", "template"}
VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source"}


class _Texts(HTMLParser):
    """Each text of a page with the elements it is in, innermost last."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.open: list[tuple[str, dict[str, str | None]]] = []
        self.texts: list[tuple[str, list[tuple[str, dict[str, str | None]]]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in VOID:
            self.open.append((tag, dict(attrs)))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.open) - 1, -1, -1):
            if self.open[index][0] == tag:
                del self.open[index:]
                return

    def handle_data(self, data: str) -> None:
        self.texts.append((data, list(self.open)))


def not_isolated(html: str, subject: str) -> list[str]:
    """Where the page shows `subject` other than as an isolate of its own: the text is the
    subject alone, directly in a <bdi> or an element with dir="auto". What it is in, and
    the text around it, for each place that is not."""
    parser = _Texts()
    parser.feed(html)
    found = [(data, open_) for data, open_ in parser.texts if subject in data]
    if not found:
        return ["not on the page"]
    return [
        f"<{open_[-1][0]} {open_[-1][1]}>{data.strip()!r}"
        for data, open_ in found
        if not NOT_SHOWN & {tag for tag, _ in open_}
        and not (
            data.strip() == subject and (open_[-1][0] == "bdi" or open_[-1][1].get("dir") == "auto")
        )
    ]
