"""Request bodies sent without a Content-Length (`Transfer-Encoding: chunked`).

WSGI gives Django such a body with no CONTENT_LENGTH, and Django then reads it as empty: a
signed order event arrived with no body and was refused as unsigned, a message as missing
its text. The server has already taken the chunks apart; this reads the body once, up to
the largest body any route accepts (API_REQUEST_MAX_BYTES), and hands it on with its
length — or answers 413 without going further. Both entry points (asgi.py, wsgi.py) wrap
Django's handler in it.
"""

import json
import tempfile
from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings

# What stays in memory; the rest of a large upload goes to a temporary file.
IN_MEMORY_BYTES = 1024 * 1024
READ_BYTES = 64 * 1024

WsgiApplication = Callable[[dict[str, Any], Any], Iterable[bytes]]


class ChunkedBodies:
    def __init__(self, application: WsgiApplication) -> None:
        self.application = application

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Iterable[bytes]:
        is_chunked = "chunked" in environ.get("HTTP_TRANSFER_ENCODING", "").lower()
        if not is_chunked or environ.get("CONTENT_LENGTH"):
            return self.application(environ, start_response)
        limit: int = settings.API_REQUEST_MAX_BYTES
        # Handed on as the request's input: closed with it, when the request is collected.
        body = tempfile.SpooledTemporaryFile(max_size=IN_MEMORY_BYTES)  # noqa: SIM115
        length = 0
        while chunk := environ["wsgi.input"].read(READ_BYTES):
            length += len(chunk)
            if length > limit:
                body.close()
                return _too_large(limit, start_response)
            body.write(chunk)
        body.seek(0)
        environ["wsgi.input"] = body
        environ["CONTENT_LENGTH"] = str(length)
        return self.application(environ, start_response)


def _too_large(limit: int, start_response: Any) -> list[bytes]:
    content = json.dumps(
        {
            "error": {
                "code": "request_too_large",
                "message": f"A request body is at most {limit // 2**20} MB.",
            }
        }
    ).encode()
    start_response(
        "413 Content Too Large",
        [
            ("Content-Type", "application/json"),
            ("Content-Length", str(len(content))),
            ("Connection", "close"),
        ],
    )
    return [content]
