"""An attachment as the answer to a download, for the page and the API alike."""

from typing import Protocol

from django.db.models.fields.files import FieldFile
from django.http import FileResponse

from messagecenter.errors import NotFound


class StoredUpload(Protocol):
    """A file checked and stored as attachments are: a message's Attachment, a return's
    photo (marketplace.ReturnPhoto)."""

    @property
    def file(self) -> FieldFile: ...
    @property
    def download_name(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def is_image(self) -> bool: ...


def attachment_response(attachment: StoredUpload, *, inline: bool = False) -> FileResponse:
    """A download; with `inline`, an image opens in the browser instead. The stored type was
    checked by content, nosniff stops a browser from guessing a different one, and the
    sandbox keeps anything else from running. A file missing from storage is not found."""
    try:
        handle = attachment.file.open("rb")
    except FileNotFoundError:
        raise NotFound("No such attachment.", code="attachment_not_found") from None
    is_inline = inline and attachment.is_image
    response = FileResponse(
        handle,
        as_attachment=not is_inline,
        filename=attachment.download_name,
        content_type=attachment.content_type,
    )
    if is_inline:
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
