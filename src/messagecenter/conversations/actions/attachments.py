"""Attachments are checked and stored before the sending transaction opens."""

import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import connection

from messagecenter.bidi import neutralise
from messagecenter.conversations import upload_checks
from messagecenter.conversations.models import EXTENSIONS, filename_for_type
from messagecenter.errors import InvalidInput


@dataclass(frozen=True)
class StoredFile:
    """An attachment checked and stored before the transaction (see store_attachments)."""

    name: str
    filename: str
    content_type: str
    size: int
    sha256: str
    # Kept until the message is committed: to store the file again if a purge of another
    # message with the same bytes deleted it meanwhile (keep_files).
    content: bytes = field(repr=False, default=b"")


def store_attachments(uploads: Sequence[Any]) -> list[StoredFile]:
    """Check and store uploaded files before the transaction opens, so a slow disk never
    holds the database's write lock. Type is decided by content, never by the name; then
    the safety checks (conversations/upload_checks.py) may re-encode the content or refuse
    it. Every file is checked before any is stored: a refusal stores nothing."""
    if not uploads:
        return []
    if len(uploads) > settings.ATTACHMENTS_PER_MESSAGE:
        raise InvalidInput(
            f"At most {settings.ATTACHMENTS_PER_MESSAGE} attachments per message.",
            code="too_many_attachments",
        )
    checked = []
    for upload in uploads:
        # A refusal names the file as it would be stored: the name as given repeated an
        # override in it ("invoice\u202egpj.exe.png is not an image" reads "invoicegnp.exe.jpg
        # is not an image").
        given = upload_name(upload)
        size = upload.size
        if size > settings.ATTACHMENT_MAX_BYTES:
            raise InvalidInput(
                f"{given} is larger than {settings.ATTACHMENT_MAX_BYTES // 2**20} MB.",
                code="attachment_too_large",
            )
        if size == 0:
            raise InvalidInput(f"{given} is empty.", code="attachment_empty")
        upload.seek(0)
        content = upload.read()
        kind = filetype.guess(content[:8192])
        content_type = kind.mime if kind is not None else "unknown"
        if content_type not in settings.ATTACHMENT_TYPES:
            raise InvalidInput(
                f"{given} is not an image (JPEG, PNG, GIF, WebP) or a PDF.",
                code="attachment_type_not_allowed",
            )
        content = upload_checks.check_upload(content, content_type, given)
        checked.append((given, content, content_type))
    stored = []
    for given, content, content_type in checked:
        sha256 = hashlib.sha256(content).hexdigest()
        # Named for its type on disk too: a server or tool that goes by the extension
        # never takes it for something else.
        name = f"attachments/{sha256[:2]}/{sha256}{EXTENSIONS[content_type][0]}"
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(content))
        filename = filename_for_type(given, content_type)
        stored.append(StoredFile(name, filename, content_type, len(content), sha256, content))
    return stored


# C0 and C1 control characters: a bell, an escape sequence that recolours a terminal.
_CONTROL_CHARACTERS = re.compile(r"[\x00-\x1f\x7f-\x9f]")


def upload_name(upload: Any) -> str:
    """The name an upload is stored and listed under, and named by when it is refused: the
    last part of the name given, without bidirectional controls — "invoice\u202efdp.exe"
    shows as "invoiceexe.pdf" on any page, app or file manager that lists it (bidi.py) —
    or control characters, at most 255 characters; "attachment" when nothing is left.
    Django's form parser takes both off a web page's or the API's file name already; a
    reply by e-mail's attachment and a caller's own file come as they were named."""
    given = _CONTROL_CHARACTERS.sub("", neutralise(str(upload.name or "")))
    return given.rsplit("/", 1)[-1][:255] or "attachment"


def keep_files(files: Sequence[StoredFile]) -> list[str]:
    """In the send's transaction: hold each file's content against a purge until commit,
    and store again a file a purge deleted since store_attachments found it (a purge once
    deleted the file of an acknowledged message: a 404 for ever). Returns the names to
    record."""
    lock_contents([stored.sha256 for stored in files], shared=True)
    names = []
    for stored in files:
        name = stored.name
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(stored.content))
        names.append(name)
    return names


def lock_contents(sha256s: Sequence[str], *, shared: bool) -> None:
    """Transaction-long locks on file contents: shared by sends, exclusive for a purge.
    On SQLite every write transaction already excludes every other (BEGIN IMMEDIATE)."""
    if connection.vendor != "postgresql" or not sha256s:
        return
    function = "pg_advisory_xact_lock_shared" if shared else "pg_advisory_xact_lock"
    # 60 bits of the hash: a collision only makes two contents wait for each other.
    keys = sorted({int(sha256[:15], 16) for sha256 in sha256s})
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {function}(key) FROM unnest(%s::bigint[]) AS key", [keys])
