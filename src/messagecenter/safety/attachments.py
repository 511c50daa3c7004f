"""Attachments cleaned before they are stored (docs/safety.md#attachments): images decoded
and encoded again with Pillow, so only their pixels pass — no metadata (EXIF with its GPS
position, comments, text chunks) and nothing hidden after or between the image's own parts;
PDFs with JavaScript, automatic actions, launch actions or embedded files refused; then
every scanner registered (messagecenter/safety/scanning.py: ClamAV's clamd when
configured). Called by conversations' store_attachments through its upload_checks registry.
"""

import io
import re
import warnings
import zlib
from collections.abc import Iterator

import pypdf
from django.conf import settings
from PIL import Image, ImageOps, ImageSequence, UnidentifiedImageError
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from messagecenter.errors import AttachmentRefused
from messagecenter.safety import scanning

FORMATS = {"image/jpeg": "JPEG", "image/png": "PNG", "image/gif": "GIF", "image/webp": "WEBP"}
# The names that make a PDF run something or carry other files (PDF 32000-1 §12.6, §7.11.4):
# JavaScript (an action, the document's name tree), additional actions (/AA: on opening a
# page, on focus …), a document's open action only when it is one of these, launching a
# program, embedded files and their name tree.
PDF_ACTIVE_KEYS = {"/JS", "/JavaScript", "/AA", "/Launch", "/EmbeddedFile", "/EmbeddedFiles"}
PDF_ACTIVE_ACTIONS = {"/JavaScript", "/Launch", "/RichMediaExecute"}
_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
# A name ends at white space or a delimiter (PDF 32000-1 §7.2.2).
_ACTIVE_NAME = re.compile(
    rb"/(JS|JavaScript|AA|Launch|EmbeddedFiles?|RichMediaExecute)(?=[\s()<>\[\]{}/%]|$)"
)
_STREAM = re.compile(rb"stream\r?\n")
# Decompressing a PDF's streams to look inside them stops at this many bytes in all.
_INFLATE_LIMIT = 64 * 1024 * 1024


def clean(content: bytes, content_type: str, name: str) -> bytes:
    """The bytes to store for an upload of this type, or AttachmentRefused."""
    label = (name or "attachment").rsplit("/", 1)[-1][:100]
    found = scanning.scan(content, label)
    if found:
        raise AttachmentRefused(
            f"{label} was refused: our virus scanner found {found} in it.",
            code="attachment_infected",
        )
    if content_type in FORMATS:
        return reencode_image(content, content_type, label)
    if content_type == "application/pdf":
        refuse_active_pdf(content, label)
    return content


def reencode_image(content: bytes, content_type: str, label: str) -> bytes:
    """The image's pixels in a new file of the same format: turned upright as its EXIF
    orientation said, then every piece of metadata left behind except the colour profile
    (ICC: how to show the colours, no text a person wrote or a place); animations keep their
    frames and timing."""
    unreadable = AttachmentRefused(
        f"{label} could not be read as an image; it may be damaged.",
        code="attachment_unreadable",
    )
    try:
        width, height = _stated_size(content, FORMATS[content_type])
        if width * height > settings.SAFETY_IMAGE_MAX_PIXELS:
            raise AttachmentRefused(
                f"{label} is {width} × {height} pixels: images may have at most "
                f"{settings.SAFETY_IMAGE_MAX_PIXELS // 1_000_000} million pixels.",
                code="attachment_too_many_pixels",
            )
        with warnings.catch_warnings():
            warnings.simplefilter("error", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(content), formats=[FORMATS[content_type]]) as image:
                return _encode(image, FORMATS[content_type])
    except AttachmentRefused:
        raise
    except (
        UnidentifiedImageError,
        Image.DecompressionBombError,
        Image.DecompressionBombWarning,
        OSError,
        ValueError,
        SyntaxError,
        EOFError,
        zlib.error,
    ) as error:
        raise unreadable from error


def _stated_size(content: bytes, fmt: str) -> tuple[int, int]:
    """The width and height the file's header states, nothing decoded. Read through the
    format's own opener rather than Image.open: Image.open's decompression-bomb check runs
    first and refuses anything over Pillow's MAX_IMAGE_PIXELS (≈ 89 million) as an error, so
    a huge image would read as a damaged one instead of one with too many pixels. Image.open
    still decodes the image after this, with that check in place."""
    Image.init()
    opener, accepts = Image.OPEN[fmt]
    accepted = accepts is None or accepts(content[:16])
    if not accepted or isinstance(accepted, str):  # a string is Pillow's reason to refuse
        raise UnidentifiedImageError(f"not a {fmt} file")
    with opener(io.BytesIO(content), "") as header:
        return header.size


def _encode(image: Image.Image, fmt: str) -> bytes:
    out = io.BytesIO()
    options: dict[str, object] = {}
    icc = image.info.get("icc_profile")
    if icc and fmt != "GIF":
        options["icc_profile"] = icc
    frames = getattr(image, "n_frames", 1)
    if frames > 1 and fmt in ("GIF", "WEBP"):
        images = [frame.copy() for frame in ImageSequence.Iterator(image)]
        for frame in images:
            frame.info = {}
        durations = [frame.info.get("duration", 100) for frame in ImageSequence.Iterator(image)]
        options.update(save_all=True, append_images=images[1:], duration=durations)
        options["loop"] = image.info.get("loop", 0)
        if fmt == "GIF" and "transparency" in image.info:
            options["transparency"] = image.info["transparency"]
        if fmt == "WEBP":
            options["quality"] = 90
        images[0].save(out, fmt, **options)
        return out.getvalue()
    upright = ImageOps.exif_transpose(image)
    turned = upright is not image
    if fmt == "JPEG":
        if turned:
            options["quality"] = 90
        else:
            # The original's quantisation tables: no second loss of quality.
            options.update(quality="keep", subsampling="keep")
    elif fmt == "PNG" or fmt == "GIF":
        if "transparency" in image.info:
            options["transparency"] = image.info["transparency"]
    elif fmt == "WEBP":
        options["quality"] = 90
    picture = upright if turned else image
    # Pillow writes some of what it read back (a JPEG's comment); nothing passes.
    picture.info = {}
    picture.save(out, fmt, exif=b"", **options)
    return out.getvalue()


def refuse_active_pdf(content: bytes, label: str) -> None:
    """Refuses a PDF that has JavaScript, automatic or launch actions, or embedded files,
    looked for twice: in the bytes (names with #xx escapes decoded, and inside every
    deflated stream, where object streams hide objects), and in every object pypdf finds.
    A PDF pypdf cannot read is refused too: a viewer may still read it, in its own way."""
    found = _active_names(content)
    if found is None:
        try:
            reader = pypdf.PdfReader(io.BytesIO(content), strict=False)
            found = _active_objects(reader)
        except Exception as error:  # pypdf raises many kinds on a damaged file
            raise AttachmentRefused(
                f"{label} could not be read as a PDF; it may be damaged.",
                code="attachment_unreadable",
            ) from error
    if found is not None:
        what = "embedded files" if "Embedded" in found else "scripts or automatic actions"
        raise AttachmentRefused(
            f"{label} was refused: it is a PDF with {what} ({found}), which could harm "
            "the reader's computer. Send the document without them (print it to a new PDF).",
            code="attachment_active_content",
        )


def _active_names(content: bytes) -> str | None:
    for chunk in _with_inflated_streams(content):
        plain = _NAME_ESCAPE.sub(lambda match: bytes([int(match.group(1), 16)]), chunk)
        match = _ACTIVE_NAME.search(plain)
        if match:
            return "/" + match.group(1).decode()
    return None


def _with_inflated_streams(content: bytes) -> Iterator[bytes]:
    yield content
    budget = _INFLATE_LIMIT
    view = memoryview(content)
    for match in _STREAM.finditer(content):
        if budget <= 0:
            return
        inflater = zlib.decompressobj()
        try:
            data = inflater.decompress(view[match.end() :], budget)
        except zlib.error:
            continue
        budget -= len(data)
        yield data


def _active_objects(reader: pypdf.PdfReader) -> str | None:
    seen: set[int] = set()
    pending: list[object] = [reader.trailer]
    for generation, numbers in reader.xref.items():
        pending.extend(IndirectObject(number, generation, reader) for number in numbers)
    pending.extend(IndirectObject(number, 0, reader) for number in reader.xref_objStm)
    while pending:
        item = pending.pop()
        if isinstance(item, IndirectObject):
            key = (item.idnum << 16) | item.generation
            if key in seen:
                continue
            seen.add(key)
            item = item.get_object()
        if isinstance(item, DictionaryObject):
            for name in item:
                if name in PDF_ACTIVE_KEYS:
                    return str(name)
            action = item.get("/S")
            if isinstance(action, NameObject) and action in PDF_ACTIVE_ACTIONS:
                return str(action)
            pending.extend(item.values())
        elif isinstance(item, ArrayObject):
            pending.extend(item)
    return None
