"""What the page tests share: uploads, and where a signed-out visitor is sent."""

from urllib.parse import quote

from django.core.files.uploadedfile import SimpleUploadedFile

# The PNG signature is what the server checks; the name and the browser's type are ignored.
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def png(name: str = "photo.png") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, PNG_BYTES, content_type="image/png")


def text_named_png(name: str = "photo.png") -> SimpleUploadedFile:
    """A text file dressed up as an image by its name and declared type."""
    return SimpleUploadedFile(name, b"this is not an image at all", content_type="image/png")


def sign_in_url(path: str) -> str:
    return f"/accounts/login/?next={quote(path)}"
