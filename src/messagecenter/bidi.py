"""Bidirectional control characters in what people write, made harmless where it is shown.

An override (U+202E RIGHT-TO-LEFT OVERRIDE) shows the characters after it in reverse:
"invoice\u202egpj.exe" reads as "invoiceexe.jpg", a subject or a shop name can pretend to
be another. Natural right-to-left text (Arabic, Hebrew) needs none of these controls — the
Unicode bidirectional algorithm orders it from its letters — so the embeddings, overrides
and isolates are removed from everything shown: every HTML page (BidiControlsMiddleware)
and every e-mail (delivery/rendering.py). The stored text keeps what was sent, and the
JSON API returns it as stored (docs/api.md): an app shows it through `neutralise` or its
own equal. What takes the controls' place is markup: the templates give each message,
subject, name, preview and snippet its own direction (dir="auto", <bdi>).
"""

import re
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

# LRE RLE PDF LRO RLO (U+202A–U+202E) and LRI RLI FSI PDI (U+2066–U+2069).
CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")
# The same characters in UTF-8, to clean a page without decoding it.
_CONTROLS_UTF8 = re.compile(b"\xe2\x80[\xaa-\xae]|\xe2\x81[\xa6-\xa9]")


def neutralise(text: str) -> str:
    return CONTROLS.sub("", text)


class BidiControlsMiddleware:
    """Every HTML page leaves without the controls, whichever template or field put them
    there; one pass over the page's bytes (C speed, and nothing to do for a page without
    any)."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if (
            not response.streaming
            and response.get("Content-Type", "").startswith("text/html")
            and _CONTROLS_UTF8.search(response.content)
        ):
            response.content = _CONTROLS_UTF8.sub(b"", response.content)
        return response
