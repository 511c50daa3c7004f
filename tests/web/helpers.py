"""What the page tests share: uploads, and where a signed-out visitor is sent."""

import io
import struct
import zlib
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
