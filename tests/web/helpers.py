"""What the page tests share: uploads, and where a signed-out visitor is sent."""

import struct
import zlib
from urllib.parse import quote

from django.core.files.uploadedfile import SimpleUploadedFile

# The PNG signature is what the server checks; the name and the browser's type are ignored.
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


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
