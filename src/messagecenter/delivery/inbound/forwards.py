"""A suspicious e-mail someone forwarded to the report address (PHISHING_REPORT_ADDRESS,
docs/safety.md#forwarded-e-mails): found in the forward the way mail apps write one, and
read into what trust and safety needs — its From, Reply-To, Subject and Date, its links
(address and the words shown for it) and any reference of ours it carries.

Mail apps forward in two ways, and both are read:

- as an attachment (Gmail's and Outlook's "Forward as attachment", Apple Mail's
  "Forward as Attachment", Thunderbird's default): a `message/rfc822` part holding the
  e-mail with its own headers — the best evidence, nothing retyped;
- inline (every app's plain "Forward"): the e-mail's headers retyped as lines under a
  marker — "---------- Forwarded message ---------" (Gmail), "-----Original
  Message-----" (Outlook), "Begin forwarded message:" (Apple Mail), "-------- Forwarded
  Message --------" (Thunderbird) — and its text below them.

Nothing here is trusted: the headers and text are the sender's words (a phisher's), kept
as text, never rendered; the attacker chose them, so each is cut to a size.
"""

import hashlib
import re
from dataclasses import dataclass, field
from email.message import Message
from html.parser import HTMLParser

from messagecenter.delivery import references
from messagecenter.delivery.inbound import parsing

ATTACHED, INLINE = "attached", "inline"
# The forward's own words above the forwarded e-mail, its text, and how many links: enough
# for an agent to read, not a place to store a whole mailbox.
NOTE_CHARS = 2000
TEXT_CHARS = 8000
HEADER_CHARS = 300
MAX_LINKS = 50
_MAX_DEPTH = 20

# The lines mail apps write above an e-mail forwarded inline (any case, any number of
# dashes, with or without spaces).
_MARKER = re.compile(
    r"^[ \t>]*(?:-{2,}\s*(?:forwarded message|original message|message transféré|"
    r"weitergeleitete nachricht|mensaje reenviado|messaggio inoltrato)\s*-{2,}|"
    r"begin forwarded message:)[ \t]*$",
    re.IGNORECASE | re.MULTILINE,
)
# A retyped header line under the marker: "From: …", "Sent: …", "*Subject:* …" (Outlook
# writes them in bold when the HTML becomes text).
_HEADER_LINE = re.compile(
    r"^[ \t>]*\*?(?P<name>from|reply-to|sent|date|to|cc|subject)\*?:\*?[ \t]*(?P<value>.*)$",
    re.IGNORECASE,
)
_HEADER_NAMES = {"sent": "date"}
_TEXT_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>\"'()\[\]]+")
_TRAILING = ".,;:!?)]}>'\""


@dataclass(frozen=True)
class Link:
    href: str
    # What the reader was shown for it ("" for an address written out in the text).
    text: str = ""


@dataclass(frozen=True)
class Forwarded:
    """The suspicious e-mail as found in a forward."""

    how: str
    from_header: str
    reply_to: str
    subject: str
    date: str
    message_id: str
    text: str
    links: tuple[Link, ...]
    # Every reference it carries: its X-Message-Center-Reference header first, then the
    # ones in its text, each once, as written.
    references: tuple[str, ...]
    # What the forwarding person wrote above it ("" for none).
    note: str = ""
    attachment_names: tuple[str, ...] = field(default=())

    @property
    def fingerprint(self) -> str:
        """What makes two forwards the same e-mail for one person: its Message-ID when
        it has one (an attached e-mail keeps it), else its sender, subject, date and text
        (an inline forward retypes them the same way each time)."""
        if self.message_id:
            basis = f"id:{self.message_id.strip().strip('<>').lower()}"
        else:
            basis = "\n".join(
                (
                    _squeezed(self.from_header).lower(),
                    _squeezed(self.subject).lower(),
                    _squeezed(self.date).lower(),
                    _squeezed(self.text)[:2000],
                )
            )
        return hashlib.sha256(basis.encode()).hexdigest()


def read_forwarded(message: Message) -> Forwarded | None:
    """The e-mail forwarded in this one: an attached one first (the whole e-mail), else
    one forwarded inline; None when it holds neither."""
    attached = _attached_email(message)
    note = _note(message)
    if attached is not None:
        return _read_attached(attached, note)
    return _read_inline(message)


def _attached_email(message: Message, depth: int = 0) -> Message | None:
    """The first message/rfc822 part, depth first (a forward of a forward: the outer
    attachment is the one the person chose)."""
    if depth > _MAX_DEPTH:
        return None
    if message.get_content_type() == "message/rfc822":
        inner = message.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            return inner[0]
        return None
    if message.get_content_maintype() != "multipart":
        return None
    payload = message.get_payload()
    if not isinstance(payload, list):
        return None
    for part in payload:
        if isinstance(part, Message):
            found = _attached_email(part, depth + 1)
            if found is not None:
                return found
    return None


def _read_attached(email: Message, note: str) -> Forwarded:
    text, html = _bodies(email)
    readable = text or parsing.html_to_text(html)
    references = [parsing.header_text(email, "X-Message-Center-Reference").strip()]
    return Forwarded(
        how=ATTACHED,
        from_header=_header(email, "From"),
        reply_to=_header(email, "Reply-To"),
        subject=_header(email, "Subject"),
        date=_header(email, "Date"),
        message_id=_header(email, "Message-ID"),
        text=readable[:TEXT_CHARS],
        links=_links(html, readable),
        references=_references(references, readable),
        note=note[:NOTE_CHARS],
        attachment_names=tuple(_attachment_names(email)),
    )


def _read_inline(message: Message) -> Forwarded | None:
    text, html = _bodies(message)
    from_html = not text
    if from_html:
        # Gmail's and Outlook's forwards sit in a quote container, which html_to_text
        # marks as quoted lines: the forwarded e-mail is the text, not a quote of it.
        text = re.sub(r"^(?:> ?)+", "", parsing.html_to_text(html), flags=re.MULTILINE)
    marker = _MARKER.search(text)
    if marker is None:
        return None
    note = text[: marker.start()].strip()
    headers, body = _retyped_headers(text[marker.end() :])
    if not headers.get("from") and not headers.get("subject"):
        return None
    return Forwarded(
        how=INLINE,
        from_header=headers.get("from", ""),
        reply_to=headers.get("reply-to", ""),
        subject=headers.get("subject", ""),
        date=headers.get("date", ""),
        message_id="",
        text=body[:TEXT_CHARS],
        links=_links(_after_marker(html) if html else "", body),
        references=_references([], body),
        note=note[:NOTE_CHARS],
    )


def _retyped_headers(text: str) -> tuple[dict[str, str], str]:
    """The header lines right under the marker ("From: …" to the first blank line after
    them), and the forwarded text below."""
    lines = text.lstrip("\n").split("\n")
    headers: dict[str, str] = {}
    index = 0
    while index < len(lines):
        line = lines[index]
        match = _HEADER_LINE.match(line)
        if match is not None:
            name = match.group("name").lower()
            name = _HEADER_NAMES.get(name, name)
            headers.setdefault(name, match.group("value").strip()[:HEADER_CHARS])
        elif line.strip() or headers:
            break
        index += 1
    body = "\n".join(line.removeprefix("> ").removeprefix(">") for line in lines[index:])
    return headers, body.strip()


def _note(message: Message) -> str:
    """What the person wrote in the forward itself, beside an attached e-mail."""
    text, html = _bodies(message)
    return (text or parsing.html_to_text(html)).strip()


def _bodies(message: Message) -> tuple[str, str]:
    """The e-mail's own plain text and HTML (not those of an e-mail attached to it)."""
    text = html = ""
    for part in parsing._leaf_parts(message):
        content_type = part.get_content_type()
        if (part.get_content_disposition() or "").lower() == "attachment":
            continue
        if content_type == "text/plain" and not text:
            text = parsing.decode_text(part)
        elif content_type == "text/html" and not html:
            html = parsing.decode_text(part)
    text = parsing._CONTROL.sub("", re.sub(r"\r\n?", "\n", text))
    return text.strip(), html


def _attachment_names(email: Message) -> list[str]:
    names = []
    for part in parsing._leaf_parts(email):
        name = parsing._filename(part)
        if name is not None or (part.get_content_disposition() or "") == "attachment":
            names.append(f"{name or 'attachment'} ({part.get_content_type()})"[:HEADER_CHARS])
    return names[:20]


def _header(email: Message, name: str) -> str:
    return _squeezed(parsing.header_text(email, name))[:HEADER_CHARS]


def _squeezed(text: str) -> str:
    return re.sub(r"\s+", " ", text).strip()


def _references(first: list[str], text: str) -> tuple[str, ...]:
    """The references in the header values `first`, then in `text` — only what reads as
    one: the header is the sender's to write, and a reference is quoted in the Official
    answer ("its reference … is not one we sent to you"), where a phisher's "sign in at
    …" must never stand."""
    found: list[str] = []
    in_headers = [written for value in first for written in references.WRITTEN.findall(value)]
    for reference in [*in_headers, *references.WRITTEN.findall(text)]:
        reference = _squeezed(reference)[:40]
        if reference and reference.upper() not in {seen.upper() for seen in found}:
            found.append(reference)
    return tuple(found[:10])


def _after_marker(html: str) -> str:
    """The HTML from the forward's marker on (what the person wrote above it is theirs)."""
    text_start = _MARKER.search(html)
    if text_start is not None:
        return html[text_start.start() :]
    lower = html.lower()
    for marker in ("forwarded message", "original message", "begin forwarded message"):
        at = lower.find(marker)
        if at >= 0:
            return html[at:]
    return html


def _links(html: str, text: str) -> tuple[Link, ...]:
    """Each link once: the HTML's anchors (address and the words shown), then addresses
    written out in the text."""
    links: list[Link] = []
    if html:
        collector = _Anchors()
        try:
            collector.feed(html)
            collector.close()
        except (AssertionError, ValueError):
            pass
        links.extend(collector.links)
    seen = {link.href for link in links}
    for match in _TEXT_URL.finditer(text):
        href = match.group(0).rstrip(_TRAILING)
        if href not in seen:
            seen.add(href)
            links.append(Link(href[: HEADER_CHARS * 4]))
    return tuple(links[:MAX_LINKS])


class _Anchors(HTMLParser):
    """Every <a href> and the words inside it (an image's alt text when it has none)."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.links: list[Link] = []
        self.open: tuple[str, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "a":
            self._close()
            href = (values.get("href") or "").strip()
            if href and not href.startswith("#"):
                self.open = (href[: HEADER_CHARS * 4], [])
        elif tag == "img" and self.open is not None and values.get("alt"):
            self.open[1].append(f"[image: {values['alt']}]")

    def handle_endtag(self, tag: str) -> None:
        if tag == "a":
            self._close()

    def handle_data(self, data: str) -> None:
        if self.open is not None:
            self.open[1].append(data)

    def close(self) -> None:
        super().close()
        self._close()

    def _close(self) -> None:
        if self.open is None:
            return
        href, words = self.open
        self.open = None
        link = Link(href, _squeezed("".join(words))[:HEADER_CHARS])
        if link not in self.links:
            self.links.append(link)
