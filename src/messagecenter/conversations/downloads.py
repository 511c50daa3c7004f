"""An attachment as the answer to a download, for the page and the API alike (and how
the API describes it)."""

from typing import Any, Protocol

from django.db.models.fields.files import FieldFile
from django.http import FileResponse

from messagecenter.errors import NotFound


def download_openapi() -> dict[str, Any]:
    """What an API route that answers with attachment_response says in the OpenAPI
    document (a new dict each time: ninja merges it into the operation's own). The int key
    merges into the response ninja writes for 200; a "200" string beside it would be the
    same key twice in the served JSON, which Swagger UI refuses."""
    return {
        "responses": {
            200: {
                "description": "The file, as a download",
                "content": {
                    "application/octet-stream": {"schema": {"type": "string", "format": "binary"}}
                },
            }
        }
    }


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
