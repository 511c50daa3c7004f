"""What checks an attachment's content before it is stored: a small registry the safety app
fills (messagecenter/safety/apps.py), so conversations never imports the apps above it.

Every upload — a web page's, the API's, a reply by e-mail's, a return's photos, a claim's
evidence — goes through `store_attachments`, which calls these checks once the type is
known from the content: a check returns the bytes to store (an image re-encoded without its
metadata) or raises `errors.AttachmentRefused` (a PDF with JavaScript, a virus), and then
nothing of the message is stored.
"""

from collections.abc import Callable

# (content, content type decided from the content, the file's name as it is stored — without
# controls, `attachments.upload_name` — for a refusal to name it) → the content to store, of
# the same type.
Check = Callable[[bytes, str, str], bytes]
_checks: list[Check] = []


def register(check: Check) -> None:
    if check not in _checks:
        _checks.append(check)


def check_upload(content: bytes, content_type: str, name: str) -> bytes:
    for check in _checks:
        content = check(content, content_type, name)
    return content
