"""Bidirectional control characters in what people write, made harmless where it is shown.

An override (U+202E RIGHT-TO-LEFT OVERRIDE) shows the characters after it in reverse:
"invoice\u202egpj.exe" reads as "invoiceexe.jpg", a subject or a shop name can pretend to
be another. Natural right-to-left text (Arabic, Hebrew) needs none of these controls — the
Unicode bidirectional algorithm orders it from its letters — so the embeddings, overrides
and isolates are removed from everything shown: every HTML page (BidiControlsMiddleware)
and every e-mail (delivery/rendering.py). The stored text keeps what was sent, and the
JSON API returns it as stored (docs/api.md): an app shows it through `neutralise` or its
own equal. What takes the controls' place is markup: the templates give each message,
subject, name, preview and snippet its own direction (dir="auto", <bdi>), and inside Arabic
a number of joined groups its own left-to-right isolate (numbers_left_to_right).
"""

import re
import unicodedata
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.html import conditional_escape
from django.utils.safestring import SafeString, mark_safe

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


# Arabic script (the Unicode blocks of its letters): after such a letter, digits count as
# Arabic numbers (rule W2 of the bidirectional algorithm), which a "-" or "/" does not join
# into one number (W4 joins European ones only), so each group of "111-9045512-2630098" is
# laid out on its own, right to left: "2630098-9045512-111". Hebrew letters do not do this.
_ARABIC_LETTERS = re.compile("[\u0600-\u06ff\u0750-\u077f\u08a0-\u08ff\ufb50-\ufdff\ufe70-\ufeff]")
_JOINED_NUMBER = re.compile(r"\d+(?:[-/]\d+)+")
# A tag of HTML we made (a link, a line break, a highlight): kept as it is.
_TAG = re.compile(r"(<[^>]*>)")


def numbers_left_to_right(text: str) -> SafeString:
    """Text (escaped here unless it is already safe HTML) with each number of groups joined
    by "-" or "/" (an order number, a date) isolated left to right, where the text has
    Arabic letters: `<bdi dir="ltr">111-9045512-2630098</bdi>`. Only the text between tags
    is changed, never a tag or its attributes (a link's address)."""
    html = conditional_escape(text)
    if not _ARABIC_LETTERS.search(html):
        return html
    parts = _TAG.split(html)
    for index in range(0, len(parts), 2):
        parts[index] = _JOINED_NUMBER.sub(
            lambda found: f'<bdi dir="ltr">{found.group(0)}</bdi>', parts[index]
        )
    # Escaped above; the tags are kept as they were.
    return mark_safe("".join(parts))


def isolating(text: str, name: str | None) -> SafeString:
    """One of our sentences that names something people chose ("Contact the seller first:
    you have not written to Acme Kitchen …"), escaped, with each place of that name its own
    isolate: `<bdi>…</bdi>`. As one run of text a Hebrew or Arabic name took the words and
    punctuation beside it into its right-to-left run. A sentence without the name (or no
    name) is only escaped."""
    html = conditional_escape(text)
    if not name or not name.strip():
        return html
    shown = conditional_escape(name)
    # Escaped above; only the name's own escaped text is wrapped.
    return mark_safe(html.replace(shown, f"<bdi>{shown}</bdi>"))


def direction_of(text: str) -> str:
    """What dir="auto" makes of the text, for a renderer that does not work it out (the
    PDF of a transcript, xhtml2pdf): "rtl" when its first strong letter is a right-to-left
    one (Hebrew, Arabic), else "ltr"."""
    for character in text:
        kind = unicodedata.bidirectional(character)
        if kind == "L":
            return "ltr"
        if kind in ("R", "AL"):
            return "rtl"
    return "ltr"
