"""An attachment as the answer to a download, for the page and the API alike."""

from django.http import FileResponse

from messagecenter.conversations.models import Attachment
from messagecenter.errors import NotFound


def attachment_response(attachment: Attachment, *, inline: bool = False) -> FileResponse:
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
