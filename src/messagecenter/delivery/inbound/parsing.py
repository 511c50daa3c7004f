"""Reading an e-mail as it arrives, whatever its shape: any MIME nesting, any charset
(declared or not, known or not), broken headers. Nothing here raises on bad mail: what
cannot be read becomes empty text, and the action decides what that means.

The new text of a reply is what remains once the quoted history and the signature are
taken out by mail-parser-reply (it knows the "On … wrote:" lines of many mail apps in
several languages); HTML-only mail is turned into text first, with its quoted blocks
marked as quotes so the same parser removes them.
"""

import bisect
import contextlib
import hashlib
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from email import message_from_bytes
from email.header import decode_header, make_header
from email.message import Message
from email.utils import getaddresses
from html.parser import HTMLParser

import filetype
from django.conf import settings
from mailparser_reply import EmailMessage, EmailReply, EmailReplyParser
from mailparser_reply.constants import MAIL_LANGUAGES

from messagecenter.bidi import neutralise

# mail-parser-reply's languages (their "On … wrote:" and signature patterns); English is
# always included.
REPLY_LANGUAGES = ["en", "de", "fr", "es", "it", "nl", "pl", "sv", "da", "cs", "ja", "zh", "ko"]
_reply_parser = EmailReplyParser(languages=REPLY_LANGUAGES)

# Charsets that mail apps write but Python does not know by these names.
CHARSET_ALIASES = {
    "unicode-1-1-utf-7": "utf-7",
    "x-unknown": "latin-1",
    "unknown-8bit": "latin-1",
    "x-user-defined": "latin-1",
    "ks_c_5601-1987": "cp949",
    "windows-874": "cp874",
    "x-mac-roman": "mac_roman",
    "iso-8859-8-i": "iso-8859-8",
    "gb2312": "gb18030",
    "gbk": "gb18030",
}

_LINE_BREAKS = re.compile(r"\r\n?")
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


@dataclass
class InboundAttachment:
    filename: str
    content: bytes
    declared_type: str


@dataclass
class Content:
    """What an e-mail says: its full text (for agents and the reply parser), the new text
    alone, and its attached files."""

    text: str = ""
    new_text: str = ""
    attachments: list[InboundAttachment] = field(default_factory=list)


def parse_message(raw: bytes) -> Message:
    # compat32 (the default) reads headers lazily and tolerantly: a malformed header is
    # kept as text instead of raising when it is first looked at.
    return message_from_bytes(raw)


def message_key(message: Message, raw: bytes) -> str:
    """What makes two deliveries the same e-mail: its Message-ID, or its bytes' hash when
    it has none (a provider that re-posts a webhook sends the same bytes)."""
    value = header_text(message, "Message-ID").strip()
    match = re.search(r"<([^<>\s]{1,240})>", value)
    if match is not None:
        return f"id:{match.group(1).lower()}"
    if value and len(value) < 240 and " " not in value:
        return f"id:{value.lower()}"
    return f"sha256:{hashlib.sha256(raw).hexdigest()}"


def header_text(message: Message, name: str) -> str:
    """A header decoded to text (RFC 2047 encoded words, unknown charsets replaced),
    or "" when absent or unreadable."""
    texts = header_texts(message, name)
    return texts[0] if texts else ""


def header_texts(message: Message, name: str) -> list[str]:
    """Every occurrence of a header, each decoded as header_text decodes it."""
    try:
        values = message.get_all(name) or []
    except (TypeError, ValueError, LookupError):
        return []
    return [_decoded(value) for value in values]


def _decoded(value: object) -> str:
    try:
        text = str(make_header(decode_header(str(value))))
    except (LookupError, ValueError, UnicodeError, TypeError, AssertionError):
        text = str(value)
    return _CONTROL.sub("", text.encode("utf-8", "replace").decode("utf-8", "replace"))


def header_values(message: Message, name: str) -> list[str]:
    try:
        return [str(value) for value in message.get_all(name) or []]
    except (TypeError, ValueError, LookupError):
        return []


def addresses(message: Message, name: str) -> list[str]:
    """The bare addresses of an address header, lower-cased — of every occurrence of it:
    an e-mail with a second From names two senders, not the first one. DMARC (authheaders)
    reads them all and may pass for the second one's domain; reading only the first let a
    forger whose own domain passes put an account's address above theirs and be taken for
    that account."""
    found = []
    for _, address in getaddresses(header_texts(message, name)):
        address = address.strip().lower()
        if "@" in address:
            found.append(address)
    return found


def read_content(
    message: Message, names: Sequence[str] = (), business_names: Sequence[str] = ()
) -> Content:
    """The e-mail's text, new text and attachments. `names` are the replier's (their
    account's); the display names of its From header are added when they read as a
    person's (`is_personal_name`; `business_names` are the replier's shop's): a name signed
    with a dash under the reply is cut only when it is one of theirs (`_is_signed_name`)."""
    text_part: Message | None = None
    html_part: Message | None = None
    attachments: list[InboundAttachment] = []
    for part in _leaf_parts(message):
        content_type = part.get_content_type()
        disposition = (part.get_content_disposition() or "").lower()
        filename = _filename(part)
        is_body = disposition != "attachment" and filename is None
        if is_body and content_type == "text/plain" and text_part is None:
            text_part = part
        elif is_body and content_type == "text/html" and html_part is None:
            html_part = part
        elif is_body and content_type.startswith(("text/", "multipart/")):
            # Another text part of the body (a calendar, an alternative we did not pick).
            continue
        else:
            payload = _payload_bytes(part)
            if payload:
                attachments.append(
                    InboundAttachment(
                        filename or _default_filename(content_type), payload, content_type
                    )
                )
    text = decode_text(text_part) if text_part is not None else ""
    text = _unescaped_from_lines(_LINE_BREAKS.sub("\n", text))
    from_html = False
    if not text.strip() and html_part is not None:
        # No plain part, or an empty one beside the HTML that holds the reply (some mail
        # apps and web forms send the alternative empty): the HTML is the reply. A ">"
        # before "From " at a line's start in HTML source is only ever the escape below.
        html = _ESCAPED_FROM.sub("From ", _LINE_BREAKS.sub("\n", decode_text(html_part)))
        text = html_to_text(html)
        from_html = True
    text = _CONTROL.sub("", text).strip()
    names = [
        *names,
        *(name for name in _sender_names(message) if is_personal_name(name, business_names)),
    ]
    written = new_text(text, names)
    if from_html:
        written = _with_nested_items_indented(written, text)
    return Content(text=text, new_text=written, attachments=attachments)


# A nested list's item as `html_to_text` writes it: indented two spaces a level (the text
# between tags never begins so: its runs of spaces are one).
_NESTED_ITEM = re.compile(r"^(?P<indent>(?:  )+)(?:- |\d+\. )")


def _with_nested_items_indented(written: str, text: str) -> str:
    """The new text with each nested list item indented as `html_to_text` wrote it in
    `text`: the reply parser reads every line without its indentation, and a nested item was
    posted at its parent's level ("- Kettle\n- Lid" for "- Kettle\n  - Lid"). Each line
    written is found in `text` after the line before it; only a nested item's indentation
    comes back. A plain part's indentation is its mail app's layout (Gmail's indents a
    list's items by three spaces), and is left out as before."""
    source = text.split("\n")
    # Where each line stands in `text`: a long e-mail is not searched again for each line.
    places: dict[str, list[int]] = {}
    for at, line in enumerate(source):
        places.setdefault(line.strip(), []).append(at)
    position = 0
    lines = written.split("\n")
    for index, line in enumerate(lines):
        candidates = places.get(line.strip(), []) if line.strip() else []
        following = bisect.bisect_left(candidates, position)
        if following == len(candidates):
            continue
        found = candidates[following]
        position = found + 1
        nested = _NESTED_ITEM.match(source[found])
        if nested is not None:
            lines[index] = nested.group("indent") + line.lstrip()
    return "\n".join(lines)


def _sender_names(message: Message) -> list[str]:
    """The display names of the From header ("Anna Schmidt" of "Anna Schmidt <anna@…>")."""
    values = [header_text(message, "From")] if message.get("From") is not None else []
    return [name for name, _ in getaddresses(values) if name.strip()]


# Words of a business's name, not a person's: a team's or a mailbox's ("Trailhead
# Outfitters Support", "Acme Sales Team", "Customer Service", "Info"), a shop's ("The Kettle
# Shop"), a company's legal form ("Acme GmbH").
BUSINESS_NAME_WORDS = (
    frozenset({"support", "team", "customer", "customers", "service", "services", "care", "help"})
    | frozenset({"helpdesk", "desk", "sales", "info", "information", "office", "contact", "admin"})
    | frozenset({"orders", "order", "billing", "accounts", "accounting", "enquiries", "inquiries"})
    | frozenset({"shipping", "returns", "dispatch", "warehouse", "marketing", "newsletter"})
    | frozenset({"notifications", "noreply", "reply", "official", "shop", "store", "boutique"})
    | frozenset({"outlet", "company", "group", "inc", "ltd", "llc", "gmbh", "corp", "plc", "co"})
)


def is_personal_name(name: str, business_names: Sequence[str] = ()) -> bool:
    """A display name that reads as a person's, whose words the replier may sign with a
    dash: none of its words a business's (`BUSINESS_NAME_WORDS`), no digit, and not their
    shop's name (`business_names`, its legal form aside: "Trailhead Outfitters" for
    "Trailhead Outfitters Ltd"). "Trailhead Outfitters Support" made "Support" and
    "Outfitters" the replier's names, and a reply's list of one item ("Who answers?\n-
    Support") was cut as their signature."""
    words = [word.casefold() for word in _NAME_WORD.findall(name)]
    if not words or any(character.isdigit() for character in name):
        return False
    if any(word in BUSINESS_NAME_WORDS for word in words):
        return False
    for business in business_names:
        shop = [
            word.casefold()
            for word in _NAME_WORD.findall(business)
            if word.casefold() not in BUSINESS_NAME_WORDS
        ]
        if shop and any(words[start : start + len(shop)] == shop for start in range(len(words))):
            return False
    return True


# A line that starts "From " reaches us as ">From " when a program on its way wrote the
# e-mail mbox-style (Python's smtplib.send_message does, as do mbox mail stores): the ">"
# is that escape, not a quote, and taking it for one cut the person's own sentence ("From
# Monday I'm away…") out of their reply, or refused a reply that began with one as empty.
_ESCAPED_FROM = re.compile(r"^>From ", re.MULTILINE)


def _unescaped_from_lines(text: str) -> str:
    """Lines starting ">From " back to "From ", except inside a quote written without a space
    after its ">" (">From Monday…" between other quoted lines is the quote's own line)."""
    lines = text.split("\n")
    for index, line in enumerate(lines):
        if line.startswith(">From ") and not _beside_a_quote(lines, index):
            lines[index] = line[1:]
    return "\n".join(lines)


def _beside_a_quote(lines: list[str], index: int) -> bool:
    neighbours = lines[max(index - 1, 0) : index] + lines[index + 1 : index + 2]
    return any(
        line.lstrip().startswith(">") and not line.startswith(">From ") for line in neighbours
    )


def new_text(text: str, names: Sequence[str] = ()) -> str:
    """The reply alone: quoted history and signature removed — "" when nothing new was
    written (refused as `empty`). The parser's first reply is the newest part; it used to
    fall through to the next one when that was empty, so a reply of nothing but the quote
    was posted as the quote: the other side's own words, as if the replier wrote them.
    `names` are the replier's, for a name they signed with a dash (`_is_signed_name`)."""
    if not text:
        return ""
    replies = _read_replies(text)
    if not replies:
        return ""
    newest = replies[0]
    written = _unquoted(_without_signature(newest, names), names)
    if written:
        return written
    # All quote: nothing new, or the reply was written below the quote (bottom-posting),
    # which the parser leaves out of the body but keeps in the content after the header —
    # its signature taken off as above: "Sure.\n\nCheers,\nAnna" below a quote was
    # posted with "Cheers,\nAnna".
    below = str(newest.content).removeprefix(str(newest.headers))
    return _unquoted(_before_signature(below, names), names)


def _read_replies(text: str) -> list[EmailReply]:
    """The parser's replies, newest first. Read through its EmailMessage with
    `keep_hyphen_lists`, which `EmailReplyParser.read` does not pass on: without it a line
    starting "- " began a signature, so a reply's list ("Sure.\n- Kettle ships Monday")
    was posted as "Sure." alone."""
    return list(_reply_message(text).read().replies)


def _reply_message(text: str) -> EmailMessage:
    # A copy of the languages: the message adds English to the list it is given.
    return EmailMessage(text=text, languages=list(_reply_parser.languages), keep_hyphen_lists=True)


# Sign-offs the parser does not know: its English ones are "Best regards", "Kind regards",
# "Thanks,", "Thank you,", "Best,", "All the best" and "regards,", so "Cheers,\nAnna",
# "Regards\nAnna", "Thanks\nAnna" or "Warm regards, Anna" at a reply's end was posted.
# Matched like the parser's, and cut only when they are a sign-off (`_is_sign_off`): "Thanks
# for the photos", "Thx for the photos", "Love the colour", "Best I can do is 40" and "Take
# care of it" are the reply's own words.
MORE_SIGN_OFFS = [
    "Cheers",
    "Regards",
    "Warm(?:est)? regards",
    "Best wishes",
    "Best",
    "Many thanks",
    # Before "Thanks", which would match first and read "& regards" as the reply's words.
    "Thanks (?:&|and) (?:best |kind )?regards",
    "Thanks",
    "Thank you",
    "Sincerely",
    "Yours (?:sincerely|truly|faithfully)",
    "Take care",
    "Thx",
    # Only as a sign-off is written, a comma or nothing after: "Love Paris!" and "Yours
    # is packed" are sentences.
    "Yours(?=[ \t]*(?:,|$))",
    "Love(?=[ \t]*(?:,|$))",
]

# The sign-off phrases ("Thanks,", "Best regards", "Mit freundlichen Grüßen", "Cheers"): the
# parser's in its languages, then ours, at a line's start: as it matches them (a prefix:
# Danish "Tak" in "Take"), and as a sign-off is written (the phrase as a whole word, then
# the rest of the line).
_SIGN_OFF_PHRASES = "|".join(
    [
        phrase
        for language in REPLY_LANGUAGES
        for phrase in MAIL_LANGUAGES[language].get("signatures", [])
        if phrase
    ]
    + MORE_SIGN_OFFS
)
_SIGN_OFF_START = re.compile(r"^(?:> ?)*(?:" + _SIGN_OFF_PHRASES + ")", re.IGNORECASE)
_SIGN_OFF = re.compile(
    r"^(?:> ?)*(?:" + _SIGN_OFF_PHRASES + r")(?:(?<=\W)|(?!\w))(?P<rest>.*)$", re.IGNORECASE
)


# The parser's own signature pattern, with the same options as the replies are read with,
# and a line starting with one of our sign-offs (not the reply's first line, as the
# parser's own: "Cheers, will do" alone is an answer).
_PARSER_SIGNATURE = _reply_message("").SIGNATURE_REGEX
_SIGNATURE = re.compile(
    _PARSER_SIGNATURE.pattern + r"|(?<!\A)^(?:> ?)*(?:" + "|".join(MORE_SIGN_OFFS) + r")(?:.|\s)*",
    _PARSER_SIGNATURE.flags,
)


def _without_signature(reply: EmailReply, names: Sequence[str] = ()) -> str:
    """The newest reply up to its signature, by the parser's signature patterns — except
    that a line starting with a sign-off phrase begins a signature only when it is a
    sign-off ("Thanks,", "Thanks, Anna", "Best regards,\nAnna"), not a sentence: "Thanks,
    I will ship on Monday…" was cut with everything after it, and the reply posted as the
    line before. `names` are the replier's: their name in lower case signs off too
    ("cheers,\nbob")."""
    content = _before_signature(reply.content, names)
    # Not the parser's disclaimers (`reply.disclaimers`): its pattern is a heading word
    # ("Warning:", "Caution:", "Confidential:", "Important note:", "Achtung:", "Uwaga:"…) at
    # a sentence's start with "mail" further on its line, so "Warning: the mail room is
    # closed on Monday." was cut out of the reply, and of a real disclaimer it took a line
    # or two. `_without_disclaimer` judges by what a disclaimer says instead.
    return content.replace(reply.headers or "", "").strip()


# A postscript's start: "P.S.", "PS:", "P.P.S.", "pps" at a line's start.
_POSTSCRIPT = re.compile(r"^[ \t]*P\.?[ \t]?(?:P\.?[ \t]?)?S\b", re.MULTILINE | re.IGNORECASE)


def _before_signature(content: str, names: Sequence[str] = ()) -> str:
    """The text up to its signature; a postscript under a sign-off is the reply's own and
    follows it ("Will do.\n\nCheers,\nAnna\n\nP.S. The lid is in a separate box." was
    posted as "Will do."), itself up to a signature of its own. A quoted line ("> Thanks,",
    "> --") is the quoted e-mail's signature, not the replier's: taken for theirs, it cut
    a reply written below the quote (bottom-posting) away with the quote, or left only its
    postscript."""
    start = 0
    while (match := _SIGNATURE.search(content, start)) is not None:
        line_start = match.start() + len(match.group()) - len(match.group().lstrip())
        line_end = content.find("\n", line_start)
        line_end = len(content) if line_end < 0 else line_end
        line = content[line_start:line_end]
        if line.startswith(">"):
            start = line_end
            continue
        signs_off = _SIGN_OFF_START.match(line) is not None
        if not signs_off or _is_sign_off(line, content[line_end:], names):
            postscript = _POSTSCRIPT.search(content, line_end) if signs_off else None
            if postscript is None:
                return content[: match.start()]
            after = _before_signature(content[postscript.start() :], names)
            return content[: match.start()].rstrip() + "\n\n" + after.strip()
        start = line_end
    return content


def _is_sign_off(line: str, below: str, names: Sequence[str] = ()) -> bool:
    """A sign-off phrase with at most a name after it ("Thanks, Anna"), or on its own with
    a name, not the reply's own words, on the next line written. A name is capitalised;
    one in lower case is taken for one only when it is the replier's own ("cheers,\nbob",
    "thanks, anna" — posted with the reply, as lower-case words read as the reply's):
    whether "thanks, done" signs off or answers, only the name can tell."""
    match = _SIGN_OFF.match(line)
    if match is None:
        return False
    rest = match.group("rest").strip(" ,;:-!")
    if not rest:
        rest = next((text for text in below.splitlines() if text.strip()), "").strip()
    return not _reads_as_written_text(rest) or _is_one_of_their_names(rest, names)


# "I" is capitalised but no one's name: "Thanks, I will" is a sentence begun.
_PRONOUN_I = re.compile(r"^I(?:['\u2019](?:m|ll|ve|d))?$")


def _reads_as_written_text(text: str) -> bool:
    """The reply's own words, not a name: more than half of its words lower-case ("will
    do", "got it" — "Thanks, will do" was cut as a sign-off, and a reply saying just that
    after a greeting was posted as the greeting), or a sentence: three words or more, half
    of them lower-case or ending as a sentence ends ("I will ship on Monday."). A name, a
    team or a company is capitalised ("Anna Schmidt", "Head of Sales | Acme Kitchen GmbH";
    "Viele Grüße aus Berlin" signs off too). A name written in lower case ("thanks, anna")
    reads as text here, and signs off only as the replier's own (`_is_sign_off`): a sign-off
    posted costs the reader a line, the reply's words cut cost them what was said."""
    words = [word for word in re.findall(r"\w[\w'\u2019.-]*", text) if word[0].isalpha()]
    if not words:
        return False
    lower = sum(1 for word in words if word[0].islower() or _PRONOUN_I.match(word))
    if lower * 2 > len(words):
        return True
    return len(words) >= 3 and (lower * 2 >= len(words) or text.rstrip().endswith((".", "!", "?")))


# A signature starts at "-- " (or "--") on a line of its own; Outlook's quote at its line
# of underscores (which the parser leaves in when no blank line comes before it).
_SIGNATURE_START = re.compile(r"^(?:-- ?|\s*_{30,}\s*)$", re.MULTILINE)

# What mail apps on phones add under what was written ("Sent from my iPhone", "Get Outlook
# for Android"): the parser's own phrases in its languages, and the ones it lacks.
_MOBILE_PHRASES = [
    MAIL_LANGUAGES[language].get("sent_from", "") for language in REPLY_LANGUAGES
] + [
    r"Sent from (?:Outlook|Mail|Yahoo Mail|Samsung|AOL)",
    r"Von meinem \S+(?: \S+)? gesendet",
    r"Envoy\u00e9 de mon",
    r"Verstuurd vanaf mijn",
]
# The phrase and a few words (the device, a link): a longer line is a sentence of the reply.
_MOBILE_SIGNATURE = re.compile(
    r"^\s*(?:" + "|".join(phrase for phrase in _MOBILE_PHRASES if phrase) + r")"
    r"(?:[ \t]+\S+){0,4}[ \t]*$",
    re.IGNORECASE,
)


def _unquoted(text: str, names: Sequence[str] = ()) -> str:
    """Without its quoted lines ("> …"), anything from a signature's start on, and a phone
    mail app's line, a virus scanner's footer (`_scanner_footer_start`), a disclaimer
    (`_without_disclaimer`) or a name signed with a dash at its end."""
    text = _SIGNATURE_START.split(text, maxsplit=1)[0]
    kept = [line for line in text.splitlines() if not line.lstrip().startswith(">")]
    kept = _without_disclaimer("\n".join(kept)).splitlines()
    while kept:
        if not kept[-1].strip() or _is_mobile_signature(kept[-1]) or _is_signed_name(kept, names):
            kept.pop()
        elif (footer := _scanner_footer_start(kept)) is not None:
            del kept[footer:]
        else:
            break
    return "\n".join(kept).strip()


# The virus scanners whose footer mail apps and mail servers add under what was written.
VIRUS_SCANNERS = (
    r"Avast|AVG|Norton|McAfee|Kaspersky|ESET|Symantec|Sophos|Bitdefender|Avira|Trend Micro"
    r"|F-Secure|Panda|Comodo|Webroot|MailScanner|MessageLabs"
)
# A scanner's stamp, a line of its own: "This email has been checked for viruses by Avast
# antivirus software.", "Scanned by McAfee", "Checked by Kaspersky Anti-Virus", "This
# message has been scanned for viruses and dangerous content by MailScanner, and is
# believed to be clean.", Avast's and AVG's "Virus-free. www.avast.com", ESET's
# "Information from ESET NOD32 Antivirus, version of virus signature database …". Only the
# stamp as the scanners write it: it names the scanner, and after its name only the words
# of a product's name ("Internet Security", "antivirus software") — "Checked by Kaspersky,
# it is clean." and "Scanned by McAfee at the depot" are a person's, as is any sentence
# that mentions a virus ("My laptop had a virus so I replied late.").
_SCANNER_PRODUCT_WORD = r"(?:[A-Z0-9][\w.-]*|(?i:anti-?virus|software|service|security|system))"
_SCANNER_STAMP = re.compile(
    r"^(?:(?i:(?:this|the) (?:e-?mail|message)(?: and any attachments?)?"
    r" (?:has been|was|is|have been) ))?"
    r"(?i:checked|scanned)(?i: for (?:all )?viruses(?: and (?:spam|malware|dangerous content))?)?"
    r" (?i:by|with) (?i:the )?(?i:" + VIRUS_SCANNERS + r")\b"
    r"(?: " + _SCANNER_PRODUCT_WORD + r"){0,4}"
    r"(?i:,? and is believed to be clean)?\.?$"
    r"|^(?i:virus-free)\.? ?(?:(?:www\.)?(?i:avast|avg)\.com)?$"
    r"|^_*[ ]?(?i:information from (?:" + VIRUS_SCANNERS + r")\b.*virus signature database).*$"
)
# A link as mail apps write it in the plain part ("<https://…>", "Mail<https://…>", an
# anchor "<#DAB4…>") and as `html_to_text` writes it after a link's text ("Mail (https://…)").
_LINK = re.compile(r"<(?:https?://|mailto:|#)[^<>\s]*>|\(https?://[^()\s]*\)")
_BARE_LINK = re.compile(r"(?:https?://|www\.)\S+")
# A rule above a footer ("---", "________"; "-- " alone starts a signature already).
_RULE = re.compile(r"^\s*(?:-{2,}|_{2,}|={2,}|\*{2,})\s*$")


def _without_links(line: str) -> str:
    return " ".join(_LINK.sub(" ", line).split())


def _scanner_footer_start(lines: list[str]) -> int | None:
    """Where a virus scanner's footer at the end of the lines starts, or None: its stamps
    (`_SCANNER_STAMP`), the links and blank lines below them, and above them a rule and the
    scanner's own links (Avast's logo's, which Gmail writes on a line of its own) — never
    the replier's link above it ("Tracking:\nhttps://track.example/123")."""
    stamp = None
    index = len(lines)
    while index > 0:
        line = lines[index - 1]
        if _SCANNER_STAMP.match(_without_links(line)):
            stamp = index - 1
        elif not (
            not line.strip()
            or _RULE.match(line)
            or (_is_link_only(line) and (stamp is None or _SCANNER_NAME.search(line)))
        ):
            break
        index -= 1
    return None if stamp is None else index


_SCANNER_NAME = re.compile(VIRUS_SCANNERS, re.IGNORECASE)


def _is_link_only(line: str) -> bool:
    rest = _without_links(line)
    return not rest or _BARE_LINK.fullmatch(rest) is not None


# What a disclaimer says, one pattern a thing, in the languages replies come in most. A
# paragraph is one when it says three of these things, one of them what only a disclaimer
# says (`DISCLAIMER_OWN_TERMS`; `_is_disclaimer`): "it was sent to me in error, please
# delete it and contact the sender" is a buyer's. A heading alone ("Warning:",
# "Confidential:", "Important note:") says nothing: people begin their own sentences so.
DISCLAIMER_TERMS = {
    "confidential": r"confidential|vertraulich|confidentiel|confidencial|riservat|vertrouwelijk",
    "privileged": r"privileged|legally protected|rechtlich gesch\w+|privil[eé]gi|protegid",
    "recipient": r"intended (?:solely |only |exclusively )?(?:for|recipient)|addressee"
    r"|named recipient|adressat|destinataire|destinatari[oa]|geadresseerde",
    "virus": r"virus|viren",
    "disclaimer": r"disclaimer|haftungsausschluss",
    "in error": r"in error|by mistake|erroneously|irrt[üu]mlich|versehentlich|par erreur"
    r"|por error|per errore|abusievelijk|per vergissing",
    "the sender": r"(?:notify|inform|contact|advise) (?:us|the sender)|absender|exp[ée]diteur"
    r"|remitente|mittente|afzender",
    "delete": r"delete|destroy|l[öo]schen|vernichten|supprimer|d[ée]truire|eliminar|destruir"
    r"|borrar|cancellar|distrugger|verwijder|vernietig",
    "forbidden": r"unauthori[sz]ed|prohibited|forbidden|unbefugt|unerlaubt|untersagt"
    r"|nicht gestattet|interdit|non autoris|prohibid|no autorizad|vietat|verboden"
    r"|niet toegestaan",
    "passing on": r"dissemination|distribution|disclosure|copying|weitergabe|kopieren|diffusion"
    r"|divulga|openbaarmaking|verspreiding",
    "liability": r"liabilit|liable|haftung|responsabilit|aansprakelijk",
}
DISCLAIMER_OWN_TERMS = frozenset({"confidential", "privileged", "recipient", "virus", "disclaimer"})
_DISCLAIMER_TERMS = {
    name: re.compile(r"\b(?:" + term + ")", re.IGNORECASE)
    for name, term in DISCLAIMER_TERMS.items()
}
# A disclaimer's length at least, in words: a person's sentence that says three of its
# things is shorter (and rare enough).
DISCLAIMER_MIN_WORDS = 15
_PARAGRAPH = re.compile(r"^[ \t]*\S.*(?:\n[ \t]*\S.*)*", re.MULTILINE)
_SENTENCE_END = re.compile(r"[.!?;]+\s+")
# A disclaimer's heading on lines of its own above it ("DISCLAIMER", "Confidentiality
# notice:", "*** Important ***"), or a line of stars or dashes.
_DISCLAIMER_HEADING = re.compile(
    r"^\W*(?:(?:legal |important |privacy |confidentiality |confidential )?(?:notice|note)"
    r"|disclaimer|confidential(?:ity)?|caution|warning|important|haftungsausschluss"
    r"|(?:wichtiger )?hinweis)?\W*$",
    re.IGNORECASE,
)


def _without_disclaimer(text: str) -> str:
    """The text up to a disclaimer that a mail server or the company added under what was
    written: from the first paragraph below the reply's first that is one
    (`_is_disclaimer`) — from its first sentence that says a disclaimer's thing, so "Ships
    Monday. This e-mail is confidential…" keeps "Ships Monday." — to the end: what follows
    is more of the footer ("Please consider the environment before printing"), and a
    person writes nothing under it. Its heading on lines of its own above it goes too. The
    reply's first paragraph is never one: it is what was written."""
    paragraphs = list(_PARAGRAPH.finditer(text))
    for index, paragraph in enumerate(paragraphs[1:], start=1):
        words = paragraph.group()
        starts = [0] + [end.end() for end in _SENTENCE_END.finditer(words)]
        ends = [*starts[1:], len(words)]
        start = next(
            (
                start
                for start, end in zip(starts, ends, strict=True)
                if any(term.search(words[start:end]) for term in _DISCLAIMER_TERMS.values())
            ),
            None,
        )
        if start is None or not _is_disclaimer(words[start:]):
            continue
        cut = paragraph.start() + start
        while index > 1 and _DISCLAIMER_HEADING.match(paragraphs[index - 1].group().strip()):
            index -= 1
            cut = paragraphs[index].start()
        return text[:cut].rstrip()
    return text


def _is_disclaimer(text: str) -> bool:
    """Legal boilerplate: `DISCLAIMER_MIN_WORDS` words or more that say three of a
    disclaimer's things (`DISCLAIMER_TERMS`), one of them its own (confidential,
    privileged, the intended recipient, viruses, "disclaimer")."""
    if len(text.split()) < DISCLAIMER_MIN_WORDS:
        return False
    said = {name for name, term in _DISCLAIMER_TERMS.items() if term.search(text)}
    return len(said) >= 3 and bool(said & DISCLAIMER_OWN_TERMS)


def _is_mobile_signature(line: str) -> bool:
    """A phone or desktop mail app's line, its link aside: Windows' Mail app writes "Sent
    from Mail<https://go.microsoft.com/fwlink/?LinkId=550986> for Windows 10"."""
    line = _without_links(line)
    return len(line) <= 60 and _MOBILE_SIGNATURE.match(line) is not None


# A name signed with a dash ("- Anna", "-- Anna Schmidt", "— A. S."), and a list's line.
_SIGNED_NAME = re.compile(r"^\s*(?P<dash>--?|\u2013|\u2014)[ \t]?(?P<name>[^\W\d_].*)$")
_LIST_LINE = re.compile(r"^\s*(?:[-*\u2013\u2014\u2022]|\d+[.)])\s")
_NAME_PARTICLES = frozenset({"von", "van", "de", "der", "den", "da", "di", "du", "la", "le", "bin"})
_NAME_WORD = re.compile(r"[^\W\d_]+")


def _is_signed_name(lines: list[str], names: Sequence[str] = ()) -> bool:
    """The last line is a name signed with a dash under the reply ("Sure.\n- Anna"), not an
    item of its list: the parser's `keep_hyphen_lists` keeps every "- " line, so "- Anna" was
    posted with the reply. A capitalised line under a dash is as often a list of one item
    ("Available sizes\n- Large", "Yes.\n- Not Yet Shipped", cut as names when any
    capitalised words were), so it is a name only when it is the replier's own (`names`:
    first, last or display name, their initials — "- Anna", "- A. S.") or written "-- "
    as a signature's dashes are, never as a list's. Even then it is a list's item directly
    under another item or a line ending in ":" ("Who collects it:\n- Anna"); after a blank
    line below a list it is the replier's name ("Options:\n- Blue\n\n- Anna"). A last
    line with nothing written above it is the reply itself."""
    match = _SIGNED_NAME.match(lines[-1])
    if match is None or not _reads_as_a_name(match.group("name")):
        return False
    is_theirs = _is_one_of_their_names(match.group("name"), names)
    if not is_theirs and match.group("dash") != "--":
        return False
    above = next((line for line in reversed(lines[:-1]) if line.strip()), None)
    if above is None:
        return False
    under_a_list = bool(_LIST_LINE.match(above) or above.rstrip().endswith(":"))
    return not under_a_list or (is_theirs and not lines[-2].strip())


# The commonest English nicknames, by the given name they shorten: Robert signs "- Bob"
# as often as "- Robert", and "Bob" was posted under his reply. Only a signature's word is
# looked up here, and only for the replier's own names, so a nickname counts for the
# person whose account or From header has the full name (and the full name for a "Bob").
# Left out on purpose: nicknames that are everyday words, which a list's one item or a
# lower-case line under a sign-off may well be ("Bill", "Will", "Jack", "Sue", "Pat",
# "Rich", "Chuck", "Drew", "Peg", "Ed"), and anything beyond these: a nickname missed is
# a line too many, a word taken for one is an answer cut.
NICKNAMES = {
    "alexander": ("alex", "alec", "sandy"),
    "alexandra": ("alex", "sandra", "sandy"),
    "andrew": ("andy",),
    "anthony": ("tony",),
    "benjamin": ("ben", "benny"),
    "catherine": ("cathy", "kate", "katie"),
    "charles": ("charlie",),
    "christina": ("chris", "tina"),
    "christine": ("chris",),
    "christopher": ("chris", "kit"),
    "daniel": ("dan", "danny"),
    "david": ("dave", "davey"),
    "deborah": ("deb", "debbie"),
    "edward": ("eddie", "ted", "ned"),
    "elizabeth": ("liz", "lizzie", "beth", "betty", "eliza"),
    "james": ("jim", "jimmy", "jamie"),
    "jennifer": ("jen", "jenny"),
    "jessica": ("jess", "jessie"),
    "john": ("johnny",),
    "jonathan": ("jon", "jonny"),
    "joseph": ("joe", "joey"),
    "katherine": ("kate", "katie", "kathy", "kat"),
    "margaret": ("maggie", "meg", "peggy"),
    "matthew": ("matt",),
    "michael": ("mike", "mikey", "mick"),
    "nicholas": ("nick", "nicky"),
    "patricia": ("patty", "trish", "tricia"),
    "peter": ("pete",),
    "rebecca": ("becky", "becca"),
    "richard": ("rick", "ricky", "richie"),
    "robert": ("bob", "bobby", "rob", "robbie"),
    "samantha": ("sam", "sammy"),
    "samuel": ("sam", "sammy"),
    "stephen": ("steve",),
    "steven": ("steve",),
    "susan": ("susie", "suzy"),
    "thomas": ("tom", "tommy"),
    "timothy": ("tim", "timmy"),
    "victoria": ("vicky", "tori"),
    "william": ("billy", "willie", "liam"),
}


def _same_names() -> dict[str, frozenset[str]]:
    """Each name to the names that may be its bearer's: a full name to its nicknames, a
    nickname to the full names it shortens ("Chris" to Christopher, Christina and Christine,
    not to Christopher's "Kit")."""
    same: dict[str, set[str]] = {}
    for full, nicknames in NICKNAMES.items():
        same.setdefault(full, set()).update(nicknames)
        for nickname in nicknames:
            same.setdefault(nickname, set()).add(full)
    return {name: frozenset(names) for name, names in same.items()}


_SAME_NAME = _same_names()


def _is_one_of_their_names(signed: str, names: Sequence[str]) -> bool:
    """Every word signed is a word of the replier's names, or its initial ("Anna",
    "Anna Schmidt", "Anna S.", "A. S." for Anna Schmidt), with a whole name among them or
    two initials: a particle ("von") or one letter alone is no one's signature. A common
    nickname of one of their names is theirs too ("Bob" for Robert: `NICKNAMES`)."""
    known = {word.casefold() for name in names for word in _NAME_WORD.findall(name)}
    known |= {same for word in known for same in _SAME_NAME.get(word, ())}
    words = [word.casefold() for word in _NAME_WORD.findall(signed)]
    whole = [word for word in words if len(word) > 1]
    initials = [word for word in words if len(word) == 1]
    if not words or not (any(word not in _NAME_PARTICLES for word in whole) or len(initials) >= 2):
        return False
    return all(word in known for word in whole) and all(
        any(word.startswith(initial) for word in known) for initial in initials
    )


def _reads_as_a_name(text: str) -> bool:
    """One to four words, each capitalised or a name's particle ("Anna", "Anna von Berg",
    "A. S."), without digits or a question's or exclamation's end."""
    words = text.strip().rstrip(".").split()
    if not 1 <= len(words) <= 4 or any(character.isdigit() for character in text):
        return False
    if text.rstrip().endswith(("?", "!", ":", ";")):
        return False
    return all(
        word[0].isalpha() and (not word[0].islower() or word in _NAME_PARTICLES) for word in words
    )


def decode_text(part: Message) -> str:
    payload = _payload_bytes(part)
    charset = (part.get_content_charset() or "").strip().lower()
    charset = CHARSET_ALIASES.get(charset, charset)
    if charset:
        try:
            return payload.decode(charset, errors="replace")
        except LookupError:
            pass
    # No charset, or one Python does not know: UTF-8 if it is, else the Western default
    # that every byte decodes in.
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("cp1252", errors="replace")


def attachment_problem(attachment: InboundAttachment) -> str | None:
    """The web's attachment policy (type by content, size caps) for one attached file:
    why it cannot be posted, or None."""
    if len(attachment.content) > settings.ATTACHMENT_MAX_BYTES:
        return f"{attachment.filename} is larger than {settings.ATTACHMENT_MAX_BYTES // 2**20} MB."
    kind = filetype.guess(attachment.content[:8192])
    if kind is None or kind.mime not in settings.ATTACHMENT_TYPES:
        if attachment.declared_type == "application/ms-tnef":
            return f"{attachment.filename} is Outlook's rich-text wrapper, not an image or a PDF."
        return f"{attachment.filename} is not an image (JPEG, PNG, GIF, WebP) or a PDF."
    return None


def html_to_text(html: str) -> str:
    converter = _HtmlText()
    try:
        converter.feed(html)
        converter.close()
    except (AssertionError, ValueError):
        pass
    lines = "".join(converter.pieces).split("\n")
    # Runs of spaces are one space in HTML, across tags too ("See <img> and").
    text = "\n".join(re.sub(r"(?<=\S)  +", " ", line).rstrip() for line in lines)
    return re.sub(r"\n{3,}", "\n\n", text).strip()


# Punctuation that follows a word directly: no space is left before it where an image was.
_CLOSING_PUNCTUATION = re.compile(r"^\s*[.,;:!?)]")


class _HtmlText(HTMLParser):
    """HTML to plain text: block elements break lines, scripts and styles vanish, and
    quoted blocks (blockquote, Gmail's and Outlook's quote containers) become "> " lines
    so the reply parser removes them like quoted plain text. A link keeps its address
    ("tracking page (https://…)"; the address alone when it is the link's text), or it was
    lost with the markup; an image leaves nothing (a remote picture the reader cannot see,
    or an inline one that arrives as an attachment), nor a space before the punctuation
    after it ("and <img>." was "and ."). A list's items are written as in plain text, "- "
    or "1. " before each, one a line, a nested list's indented: "<ul><li>Large</li>
    <li>Medium</li></ul>" was "Large" and "Medium" as paragraphs, a list no longer."""

    BLOCKS = frozenset(
        {"p", "div", "br", "li", "tr", "h1", "h2", "h3", "h4", "h5", "h6", "table", "hr", "pre"}
    )
    HIDDEN = frozenset({"script", "style", "head", "title"})
    VOID = frozenset({"br", "hr", "img", "meta", "link", "input", "wbr", "col", "area", "base"})
    LISTS = frozenset({"ul", "ol", "menu"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.pieces: list[str] = []
        self.hidden = 0
        self.stack: list[tuple[str, bool]] = []
        self.quote_depth = 0
        # The open link: its address and where its text starts in pieces.
        self.link: tuple[str, int] | None = None
        self.after_image = False
        # The open lists, innermost last: each one's next number, None for bullets.
        self.lists: list[int | None] = []
        # Where an item's "- " was written in pieces while its text is not yet: a
        # paragraph that opens the item ("<li><p>Large</p></li>", as web editors write
        # items) stays on its line, and an empty item leaves no "-" alone.
        self.item_opened: int | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in self.HIDDEN:
            self.hidden += 1
        if tag == "a":
            self._close_link()
            href = (dict(attrs).get("href") or "").strip()
            if href.lower().startswith(("http://", "https://")) and not self.hidden:
                self.link = (href, len(self.pieces))
        if tag == "img":
            self.after_image = True
        classes = " ".join(value or "" for name, value in attrs if name in ("class", "id"))
        is_quote = tag == "blockquote" or "gmail_quote" in classes or "divRplyFwdMsg" in classes
        if tag not in self.VOID:
            self.stack.append((tag, is_quote))
        if is_quote:
            self.quote_depth += 1
        if tag in self.LISTS:
            self._list_start(tag, attrs)
        elif tag == "li":
            self._item_start(attrs)
        elif (tag in self.BLOCKS and self.item_opened is None) or is_quote:
            self._line_break()

    def handle_endtag(self, tag: str) -> None:
        if tag in self.HIDDEN and self.hidden:
            self.hidden -= 1
        if tag == "a":
            self._close_link()
        while self.stack:
            open_tag, was_quote = self.stack.pop()
            if was_quote:
                self.quote_depth -= 1
            if open_tag == tag:
                break
        if tag in self.LISTS:
            if self.lists:
                self.lists.pop()
            self._new_line()
        elif tag == "li":
            if self.item_opened is not None:
                del self.pieces[self.item_opened :]
                self.item_opened = None
            self._new_line()
        elif tag in self.BLOCKS:
            self._line_break()

    def handle_data(self, data: str) -> None:
        if self.hidden:
            return
        data = re.sub(r"\s+", " ", data)
        if self.after_image and data.strip():
            self.after_image = False
            if _CLOSING_PUNCTUATION.match(data) and self.pieces:
                data = data.lstrip()
                self.pieces[-1] = self.pieces[-1].rstrip(" ")
        if not data.strip() and (not self.pieces or self.pieces[-1].endswith("\n")):
            return
        if self.quote_depth and (not self.pieces or self.pieces[-1].endswith("\n")):
            data = "> " * self.quote_depth + data.lstrip()
        self.pieces.append(data)
        if data.strip():
            self.item_opened = None

    def _line_break(self) -> None:
        self.pieces.append("\n")

    def _new_line(self) -> None:
        """A line break unless a line has just begun: a list's items follow one another
        without a blank line between, as in plain text."""
        if self.pieces and not self.pieces[-1].endswith("\n"):
            self._line_break()

    def _list_start(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.item_opened is not None:
            # A list that opens an item ("<li><ul>…"): its own items, no empty one above.
            del self.pieces[self.item_opened :]
            self.item_opened = None
        self._new_line()
        if tag != "ol":
            self.lists.append(None)
            return
        start = (dict(attrs).get("start") or "").strip()
        self.lists.append(int(start) if start.isdecimal() and len(start) < 7 else 1)

    def _item_start(self, attrs: list[tuple[str, str | None]]) -> None:
        """The item's "- " or number ("<li value=…>" sets it, and the next follow on),
        indented two spaces a level below the first, on a line of its own; a quote's "> "
        first, as `handle_data` would have written it."""
        self._new_line()
        number = self.lists[-1] if self.lists else None
        value = (dict(attrs).get("value") or "").strip()
        if number is not None and value.isdecimal() and len(value) < 7:
            number = int(value)
        if number is not None:
            self.lists[-1] = number + 1
        marker = "- " if number is None else f"{number}. "
        indent = "  " * max(len(self.lists) - 1, 0)
        self.item_opened = len(self.pieces)
        self.pieces.append("> " * self.quote_depth + indent + marker)

    def _close_link(self) -> None:
        """After a link's text, its address in brackets — unless the text is the address
        (or it without its scheme), or there is no text (a linked logo or icon)."""
        if self.link is None:
            return
        href, start = self.link
        self.link = None
        shown = "".join(self.pieces[start:]).strip()
        if not shown:
            return
        if _bare(shown) == _bare(href):
            return
        self.pieces.append(f" ({href})")


def _bare(address: str) -> str:
    return re.sub(r"^https?://(www\.)?", "", address.strip().lower()).rstrip("/")


def _leaf_parts(message: Message, depth: int = 0) -> list[Message]:
    """Every non-multipart part, depth first; an attached e-mail (message/rfc822) is one
    part, not opened. Nesting deeper than 20 levels is not followed."""
    if depth > 20:
        return []
    if message.get_content_maintype() == "multipart":
        payload = message.get_payload()
        if not isinstance(payload, list):
            return []
        leaves = []
        for part in payload:
            if isinstance(part, Message):
                leaves.extend(_leaf_parts(part, depth + 1))
        return leaves
    return [message]


def _payload_bytes(part: Message) -> bytes:
    if part.get_content_type() == "message/rfc822" or part.is_multipart():
        inner = part.get_payload()
        if isinstance(inner, list) and inner and isinstance(inner[0], Message):
            try:
                return inner[0].as_bytes()
            except (UnicodeError, LookupError, ValueError, TypeError):
                return b""
        return b""
    try:
        payload = part.get_payload(decode=True)
    except (ValueError, TypeError, LookupError, AssertionError):
        return b""
    return payload if isinstance(payload, bytes) else b""


def _filename(part: Message) -> str | None:
    try:
        name = part.get_filename()
    except (ValueError, TypeError, LookupError, UnicodeError):
        return "attachment"
    if name is None:
        return None
    with contextlib.suppress(LookupError, ValueError, UnicodeError, TypeError, AssertionError):
        name = str(make_header(decode_header(name)))
    # Never a path, never a control character nor a bidirectional one (bidi.py: a note on a
    # file left out, or a refusal, repeated "invoice\u202egpj.exe.png", which reads
    # "invoicegnp.exe.jpg"); at most 255 characters.
    name = _CONTROL.sub("", neutralise(name.replace("\\", "/").rsplit("/", 1)[-1])).strip()
    return name.encode("utf-8", "replace").decode("utf-8", "replace")[:255] or "attachment"


def _default_filename(content_type: str) -> str:
    if content_type == "message/rfc822":
        return "forwarded-message.eml"
    return "attachment"
