"""Attachments cleaned before they are stored (docs/safety.md#attachments): images encoded
again without their metadata or anything hidden in them, PDFs with scripts or embedded files
refused, and a virus scanner (clamd) asked about every file when one is configured."""

import asyncio
import io
import os
import socket
import struct
import threading
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from PIL import Image
from pytest_django.fixtures import Settings as SettingsWrapper

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Attachment, Message
from messagecenter.errors import AttachmentRefused
from messagecenter.marketplace.models import Product
from messagecenter.safety import scanning
from tests.api.helpers import error_of, with_token
from tests.conversations.helpers import snapshot
from tests.web.helpers import pdf_bytes, picture_png

pytestmark = pytest.mark.django_db

# The anti-virus test file (eicar.org), put together here so that a scanner on a developer's
# machine does not take this test for a virus.
EICAR = b"X5O!P%@AP[4\\PZX54(P^)7CC)7}$" + b"EICAR-STANDARD-ANTIVIRUS-TEST-FILE!$H+H*"


@pytest.fixture
def question(buyer: User, product: Product) -> Message:
    return actions.ask_seller_about_product(buyer, product.pk, "Does it come in blue?")


def send_file(sender: User, question: Message, name: str, content: bytes) -> Message:
    return actions.send_message(
        sender,
        question.conversation_id,
        "Here is the file.",
        attachments=[SimpleUploadedFile(name, content)],
    )


def stored_files() -> list[str]:
    if not default_storage.exists("attachments"):
        return []
    found = []
    for folder in default_storage.listdir("attachments")[0]:
        found.extend(default_storage.listdir(f"attachments/{folder}")[1])
    return sorted(found)


def stored_content(message: Message) -> bytes:
    attachment = Attachment.objects.get(message=message)
    with attachment.file.open("rb") as opened:
        return bytes(opened.read())


def photo_with_gps() -> bytes:
    """A phone's photo: taken sideways (EXIF orientation 6), with where it was taken (GPS),
    the camera's owner and a comment."""
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: turn 90° clockwise to show
    exif[0x013B] = "Alice Buyer"  # artist
    exif[0x8825] = {1: "N", 2: (52.0, 31.0, 12.5), 3: "E", 4: (13.0, 24.0, 3.2)}
    out = io.BytesIO()
    Image.new("RGB", (40, 20), (30, 120, 200)).save(
        out, "JPEG", exif=exif, comment=b"home-address-note"
    )
    return out.getvalue()


def test_a_photo_is_stored_upright_without_its_gps_position_or_other_metadata(
    seller: User, question: Message
) -> None:
    original = photo_with_gps()
    assert b"Alice Buyer" in original
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)

    message = send_file(seller, question, "blue.jpg", original)

    stored = stored_content(message)
    image = Image.open(io.BytesIO(stored))
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert image.getexif().get_ifd(0x8825) == {}
    assert "comment" not in image.info
    assert b"Alice Buyer" not in stored
    assert b"home-address-note" not in stored
    assert b"Exif" not in stored
    # Turned as the orientation said: 20 wide, 40 high.
    assert image.size == (20, 40)
    attachment = Attachment.objects.get(message=message)
    assert (attachment.size, attachment.content_type) == (len(stored), "image/jpeg")


def test_a_png_with_a_script_after_its_image_is_stored_without_it(
    seller: User, question: Message
) -> None:
    upload = picture_png(4, 4) + b"<html><script>alert(document.cookie)</script></html>"
    text_chunk = b"tEXt" + b"Comment\0" + b"secret-note"
    iend = upload.index(b"IEND") - 4
    chunk = struct.pack(">I", len(text_chunk) - 4) + text_chunk
    chunk += struct.pack(">I", zlib.crc32(text_chunk))
    upload = upload[:iend] + chunk + upload[iend:]
    with Image.open(io.BytesIO(upload)) as original:
        original.load()
        assert original.info["Comment"] == "secret-note"

    message = send_file(seller, question, "x.png", upload)

    stored = stored_content(message)
    assert b"<script" not in stored
    assert b"secret-note" not in stored
    image = Image.open(io.BytesIO(stored))
    assert (image.format, image.size) == ("PNG", (4, 4))
    assert stored.endswith(b"IEND\xaeB`\x82")


def test_an_animated_gif_keeps_its_frames(seller: User, question: Message) -> None:
    frames = [Image.new("RGB", (6, 6), (shade, 0, 0)) for shade in (0, 120, 240)]
    out = io.BytesIO()
    frames[0].save(
        out, "GIF", save_all=True, append_images=frames[1:], duration=80, loop=0, comment=b"c-x"
    )

    message = send_file(seller, question, "spin.gif", out.getvalue())

    stored = stored_content(message)
    assert Image.open(io.BytesIO(stored)).n_frames == 3
    assert b"c-x" not in stored


def test_an_image_that_cannot_be_decoded_is_refused(buyer: User, question: Message) -> None:
    broken = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    before = snapshot()

    response = with_token(buyer).post_form(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Look", "attachments": [SimpleUploadedFile("broken.png", broken)]},
    )

    assert error_of(response) == (422, "attachment_unreadable")
    assert "broken.png could not be read as an image" in response.json()["error"]["message"]
    assert snapshot() == before


def test_an_image_of_too_many_pixels_is_refused_before_it_is_decoded(
    buyer: User, question: Message, settings: SettingsWrapper
) -> None:
    settings.SAFETY_IMAGE_MAX_PIXELS = 100 * 100
    out = io.BytesIO()
    Image.new("L", (101, 100)).save(out, "PNG")

    with pytest.raises(AttachmentRefused) as refused:
        send_file(buyer, question, "big.png", out.getvalue())

    assert refused.value.code == "attachment_too_many_pixels"
    assert stored_files() == []


def huge_png(width: int, height: int) -> bytes:
    """A PNG whose header says width × height black-and-white pixels, a few bytes on disk: its
    pixel data stops after the first row, so decoding it would fail as damaged."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 1, 0, 0, 0, 0)
    first_row = zlib.compressobj().compress(b"\x00" * (1 + (width + 7) // 8))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", first_row)
        + chunk(b"IEND", b"")
    )


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (8_000, 8_000),  # 64 million: over our limit only
        (10_000, 10_000),  # 100 million: over Pillow's own warning (≈ 89 million) too
        (20_000, 20_000),  # 400 million: over twice that, where Pillow's check is an error
        (65_535, 65_535),
    ],
)
def test_an_image_of_any_size_over_the_limit_is_refused_for_its_pixels_not_as_damaged(
    buyer: User, question: Message, width: int, height: int
) -> None:
    before = snapshot()

    response = with_token(buyer).post_form(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Look", "attachments": [SimpleUploadedFile("huge.png", huge_png(width, height))]},
    )

    assert error_of(response) == (422, "attachment_too_many_pixels")
    assert response.json()["error"]["message"] == (
        f"huge.png is {width} × {height} pixels: images may have at most 50 million pixels."
    )
    assert snapshot() == before
    assert stored_files() == []


def test_a_damaged_image_under_the_limit_is_still_decoded_and_refused_as_damaged(
    buyer: User, question: Message
) -> None:
    with pytest.raises(AttachmentRefused) as refused:
        send_file(buyer, question, "cut.png", huge_png(4_000, 4_000))

    assert refused.value.code == "attachment_unreadable"


def test_pillows_own_decompression_bomb_check_still_stands_behind_a_raised_limit(
    buyer: User, question: Message, settings: SettingsWrapper
) -> None:
    settings.SAFETY_IMAGE_MAX_PIXELS = 10**12

    with pytest.raises(AttachmentRefused) as refused:
        send_file(buyer, question, "huge.png", huge_png(20_000, 20_000))

    assert refused.value.code == "attachment_unreadable"
    assert stored_files() == []


def _object_stream_pdf() -> bytes:
    """JavaScript inside a compressed object stream: invisible in the file's bytes."""
    inner = b"<< /S /JavaScript /JS (app.alert(1)) >>"
    packed = zlib.compress(b"7 0 " + inner)
    return pdf_bytes(
        "Invoice",
        "/OpenAction 6 0 R",
        (
            f"<< /Type /ObjStm /N 1 /First 4 /Filter /FlateDecode /Length {len(packed)} >>"
            "\nstream\n" + packed.decode("latin-1") + "\nendstream",
        ),
    ).replace(b"/OpenAction 6 0 R", b"/OpenAction 7 0 R")


ACTIVE_PDFS = {
    "open action": pdf_bytes(
        "Invoice", "/OpenAction 6 0 R", ("<< /S /JavaScript /JS (app.alert(1)) >>",)
    ),
    "document script": pdf_bytes(
        "Invoice",
        "/Names << /JavaScript 6 0 R >>",
        ("<< /Names [(a) << /S /JavaScript /JS (this.print()) >>] >>",),
    ),
    "escaped names": pdf_bytes("Invoice", "/Names << /J#61vaScript 6 0 R >>", ("<< >>",)),
    "additional actions": pdf_bytes("Invoice", "/AA << /WC 6 0 R >>", ("<< /S /Named >>",)),
    "embedded file": pdf_bytes(
        "Invoice",
        "/Names << /EmbeddedFiles 6 0 R >>",
        ("<< /Names [(a.exe) << /Type /Filespec /EF << /F 7 0 R >> >>] >>", "<< >>"),
    ),
    "object stream": _object_stream_pdf(),
}


@pytest.mark.parametrize("kind", list(ACTIVE_PDFS))
def test_a_pdf_with_a_script_or_an_embedded_file_is_refused_and_nothing_is_stored(
    buyer: User, question: Message, kind: str
) -> None:
    before = snapshot()

    response = with_token(buyer).post_form(
        f"/conversations/{question.conversation_id}/messages",
        {
            "body": "The invoice",
            "attachments": [
                SimpleUploadedFile("photo.png", picture_png()),
                SimpleUploadedFile("invoice.pdf", ACTIVE_PDFS[kind]),
            ],
        },
    )

    assert error_of(response) == (422, "attachment_active_content")
    message = response.json()["error"]["message"]
    assert message.startswith("invoice.pdf was refused: it is a PDF with ")
    assert snapshot() == before
    assert stored_files() == []


def test_a_plain_pdf_is_stored_as_it_is(seller: User, question: Message) -> None:
    document = pdf_bytes("Receipt 2041", "/OpenAction [3 0 R /Fit]")

    message = send_file(seller, question, "receipt.pdf", document)

    assert stored_content(message) == document


def test_a_page_says_why_a_pdf_was_refused(buyer: User, question: Message) -> None:
    client = Client()
    client.force_login(buyer)
    before = snapshot()

    response = client.post(
        reverse("conversation", args=[question.conversation_id]),
        {
            "body": "The invoice",
            "idempotency_key": "k",
            "attachments": [SimpleUploadedFile("invoice.pdf", ACTIVE_PDFS["open action"])],
        },
    )

    assert response.status_code == 422
    assert (
        'id="reply-attachments-error" role="alert">invoice.pdf was refused: it is a PDF with '
        "scripts"
    ) in response.content.decode()
    assert snapshot() == before


# --- the virus scanner -------------------------------------------------------------------------


class FakeClamd:
    """A clamd on loopback that speaks INSTREAM (clamd(8)) and finds the EICAR string."""

    def __init__(self) -> None:
        self.commands: list[bytes] = []
        self.streams: list[bytes] = []
        self.loop = asyncio.new_event_loop()
        self.server = self.loop.run_until_complete(
            asyncio.start_server(self.answer, "127.0.0.1", 0)
        )
        self.address = f"tcp:127.0.0.1:{self.server.sockets[0].getsockname()[1]}"
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()

    async def answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.commands.append(await reader.readuntil(b"\0"))
        stream = bytearray()
        while size := struct.unpack("!L", await reader.readexactly(4))[0]:
            stream += await reader.readexactly(size)
        self.streams.append(bytes(stream))
        found = EICAR in stream
        writer.write(b"stream: Eicar-Signature FOUND\0" if found else b"stream: OK\0")
        await writer.drain()
        writer.close()

    def stop(self) -> None:
        self.server.close()
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join()
        self.loop.close()


@pytest.fixture
def clamd(settings: SettingsWrapper) -> Iterator[FakeClamd]:
    fake = FakeClamd()
    settings.SAFETY_CLAMD = fake.address
    yield fake
    fake.stop()


def test_clamd_is_asked_about_every_upload_and_a_virus_is_refused(
    buyer: User, question: Message, clamd: FakeClamd
) -> None:
    clean = pdf_bytes("Receipt")
    infected = clean + EICAR
    before = snapshot()

    response = with_token(buyer).post_form(
        f"/conversations/{question.conversation_id}/messages",
        {
            "body": "Two files",
            "attachments": [
                SimpleUploadedFile("receipt.pdf", clean),
                SimpleUploadedFile("invoice.pdf", infected),
            ],
        },
    )

    assert error_of(response) == (422, "attachment_infected")
    assert response.json()["error"]["message"] == (
        "invoice.pdf was refused: our virus scanner found Eicar-Signature in it."
    )
    assert snapshot() == before
    assert stored_files() == []
    assert clamd.commands == [b"zINSTREAM\0", b"zINSTREAM\0"]
    assert clamd.streams == [clean, infected]

    sent = with_token(buyer).post_form(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Just one", "attachments": [SimpleUploadedFile("receipt.pdf", clean)]},
    )
    assert sent.status_code == 201
    assert len(clamd.streams) == 3


def test_a_configured_scanner_that_cannot_be_reached_lets_no_file_through(
    buyer: User, question: Message, settings: SettingsWrapper
) -> None:
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    settings.SAFETY_CLAMD = f"tcp:127.0.0.1:{port}"

    with pytest.raises(AttachmentRefused) as refused:
        send_file(buyer, question, "receipt.pdf", pdf_bytes())

    assert refused.value.code == "attachment_not_scanned"
    assert stored_files() == []


def test_a_registered_scanner_is_asked_too(seller: User, question: Message) -> None:
    seen: list[bytes] = []

    def scanner(content: bytes) -> str | None:
        seen.append(content)
        return "Test.Finding" if b"bad" in content else None

    scanning.register(scanner)
    try:
        with pytest.raises(AttachmentRefused, match=r"found Test\.Finding"):
            send_file(seller, question, "a.pdf", pdf_bytes("bad"))
    finally:
        scanning.unregister(scanner)
    assert seen == [pdf_bytes("bad")]


def _real_clamd() -> str | None:
    if os.environ.get("SAFETY_TEST_CLAMD"):
        return os.environ["SAFETY_TEST_CLAMD"]
    sockets = ("/run/clamav/clamd.ctl", "/var/run/clamav/clamd.ctl", "/run/clamd.scan/clamd.sock")
    for path in sockets:
        if Path(path).exists():
            return f"unix:{path}"
    return None


@pytest.mark.skipif(
    _real_clamd() is None,
    reason="no clamd on this machine (set SAFETY_TEST_CLAMD=unix:/path or tcp:host:port, or "
    "run clamav-daemon); the scanner's protocol is tested against a fake clamd above",
)
def test_a_real_clamd_finds_the_eicar_test_file() -> None:
    address = _real_clamd()
    assert address is not None

    assert scanning.scan_with_clamd(EICAR, address) is not None
    assert scanning.scan_with_clamd(pdf_bytes("Receipt"), address) is None
