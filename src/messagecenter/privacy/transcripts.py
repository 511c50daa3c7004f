"""A conversation's transcript, to keep or to hand to someone else (docs/privacy.md): plain
text, an e-mail file (EML, with the attachments) or a PDF.

Only what the person asking may see goes in: a buyer's or seller's own copy of the
conversation (conversations.queries.conversation_messages, so nothing from before they
deleted it), or, for an agent, the case's conversation as the console shows it
(support.queries.case_messages). Times are in the reader's time zone (the middleware and
ApiTokenAuth activate it); senders carry the names the conversation shows. Every format
leaves without bidirectional overrides, as the pages and e-mails do (bidi.neutralise): a
body's "invoice\u202efdp.exe" must not read as "invoiceexe.pdf" in a transcript either.
"""

import io
from dataclasses import dataclass, field
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from enum import StrEnum
from pathlib import Path
from typing import Any

import reportlab
from django.conf import settings
from django.http import HttpResponse
from django.template.loader import render_to_string
from django.utils import timezone
from xhtml2pdf import pisa

from messagecenter.accounts.models import User
from messagecenter.bidi import neutralise
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations.models import Attachment, Message
from messagecenter.conversations.presentation import counterpart
from messagecenter.delivery.templatetags.safety_warnings import as_delivered, warning_reasons
from messagecenter.errors import InvalidInput
from messagecenter.support import queries as support_queries
from messagecenter.support.models import Case
from messagecenter.web.dates import email_time, full_time


class Format(StrEnum):
    PDF = "pdf"
    TEXT = "txt"
    EML = "eml"


CONTENT_TYPES = {
    Format.PDF: "application/pdf",
    Format.TEXT: "text/plain; charset=utf-8",
    Format.EML: "message/rfc822",
}


def parse_format(value: Any) -> Format:
    try:
        return Format(value)
    except ValueError:
        raise InvalidInput(
            "Choose the transcript's format: pdf, txt or eml.", code="invalid_transcript_format"
        ) from None


@dataclass(frozen=True)
class Reported:
    """Someone in the conversation reported the message: hidden for them, as the console's
    note says (support/_message_reported.html). Only a case's transcript, for its agents,
    says so: a customer's own copy never tells who reported what."""

    # As the console names them: "Alice Buyer", and their part in the case, "customer"
    # ("" for an agent).
    name: str
    part: str
    reported_at: datetime


@dataclass(frozen=True)
class Entry:
    sender: str
    sent_at: datetime
    body: str
    attachments: list[Attachment]
    sent_by_email: bool = False
    # Removed by customer service after a report: only its sender (and the case's agents)
    # still read it, so a transcript says so rather than pass it off as delivered.
    removed_at: datetime | None = None
    reported: list[Reported] = field(default_factory=list)
    # The safety check's reasons for a warned message, whose body is then defanged: a
    # transcript — an e-mail file "From" our address, a PDF — carries the warning its
    # pages and e-mail copies carry, never the scam's links live.
    warnings: list[str] = field(default_factory=list)


# Above a warned message, as its e-mail copy says it (delivery/email/safety_warning.txt).
WARNING = (
    "!! BE CAREFUL: THIS MESSAGE MAY BE A SCAM. The marketplace never asks for your "
    "password, codes or card details in a message."
)


@dataclass(frozen=True)
class Transcript:
    # The file's name without its extension: "conversation-12-transcript".
    name: str
    subject: str
    # What the conversation is, one line each: our words and what they name — ("With",
    # "Acme Kitchen"), ("About order", "113-…"), ("Case", "CS-4") — so that the HTML gives
    # a name or a product's title a direction of its own.
    about: list[tuple[str, str]]
    reader: User
    made_at: datetime
    entries: list[Entry] = field(default_factory=list)


def conversation_transcript(user: User, conversation_id: Any) -> Transcript:
    """A buyer's or seller's (or a case's customer's) own copy of a conversation."""
    participant = conversation_queries.access_conversation(user, conversation_id)
    conversation = participant.conversation
    about = [("With", counterpart(participant))]
    if conversation.order is not None:
        about.append(("About order", conversation.order.number))
    elif conversation.product is not None:
        about.append(("About", conversation.product.title))
    return Transcript(
        name=f"conversation-{conversation.pk}-transcript",
        subject=conversation.subject,
        about=about,
        reader=user,
        made_at=timezone.now(),
        entries=_entries(conversation_queries.conversation_messages(participant)),
    )


def case_transcript(agent: User, case_id: Any) -> Transcript:
    """A case's conversation for the agents working it (its team's, or an admin), with the
    messages of the duplicates merged into it — what the console's case page shows. Internal
    notes are not messages and never appear."""
    case = support_queries.access_case(agent, case_id, for_agent=True)
    about = [("Case", case.number), ("Customer:", case.customer.public_name)]
    if case.order is not None:
        about.append(("About order", case.order.number))
    return Transcript(
        name=f"{case.number}-transcript",
        subject=case.subject,
        about=about,
        reader=agent,
        made_at=timezone.now(),
        # Who reported which: one statement for the case, none when nobody did.
        entries=_entries(support_queries.with_reporters(support_queries.case_messages(case)), case),
    )


def _entries(messages: Any, case: Case | None = None) -> list[Entry]:
    """Each message with what the reader may know of it; who reported it only for a case's
    agents (`case`: the messages read through support.queries.with_reporters)."""
    return [
        Entry(
            # A seller's away message was posted for them, not written to this buyer.
            sender=f"{message.sender_name} (automatic reply)"
            if message.is_automatic_reply
            else message.sender_name,
            sent_at=message.created_at,
            body=as_delivered(message),
            warnings=warning_reasons(message) if message.is_warned else [],
            attachments=_attachments(message),
            sent_by_email=message.sent_by_email,
            removed_at=message.removed_at,
            reported=[
                Reported(
                    name=support_queries.name_in_console(hidden.user, case),
                    part=_part_named(hidden.user, case),
                    reported_at=hidden.hidden_at,
                )
                for hidden in message.reporters
            ]
            if case is not None
            else [],
        )
        for message in messages
    ]


def _part_named(person: User, case: Case) -> str:
    """The part the console writes after a name: none for agents (person_in_console)."""
    part = support_queries.part_in_case(person, case)
    return "" if part in ("agent", "marketplace") else part


def removed_line(entry: Entry) -> str:
    """The marker under a removed message, as the console says it."""
    if entry.removed_at is None:
        return ""
    return (
        f"[Removed by customer service on {email_time(entry.removed_at)}; "
        "only its sender still sees it]"
    )


def reported_lines(entry: Entry) -> list[str]:
    """The marker under a reported message, one for each who reported it, as the console
    says it (support/_message_reported.html)."""
    others = "" if entry.removed_at is not None else "; the others in the conversation still see it"
    lines = []
    for reported in entry.reported:
        who = f"{reported.name} ({reported.part})" if reported.part else reported.name
        lines.append(
            f"[{who} reported this message on {email_time(reported.reported_at)}: "
            f"it is hidden for them{others}]"
        )
    return lines


def _attachments(message: Message) -> list[Attachment]:
    fetched = getattr(message, "fetched_attachments", None)
    if fetched is not None:
        return list(fetched)
    return sorted(message.attachments.all(), key=lambda attachment: attachment.pk)


# --- the three formats ----------------------------------------------------------------------


def as_text(transcript: Transcript) -> str:
    lines = [
        transcript.subject,
        *(f"{label} {named}" for label, named in transcript.about),
        f"{_made_for(transcript)} {transcript.reader.public_name}",
        "",
    ]
    for entry in transcript.entries:
        by_email = " (sent by e-mail)" if entry.sent_by_email else ""
        lines.append(f"[{email_time(entry.sent_at)}] {entry.sender}{by_email}:")
        if entry.warnings:
            lines += [WARNING, *(f"- {reason}" for reason in entry.warnings)]
        lines.append(entry.body)
        if entry.removed_at is not None:
            lines.append(removed_line(entry))
        lines += reported_lines(entry)
        lines += [f"Attached: {attachment.download_name}" for attachment in entry.attachments]
        lines.append("")
    if not transcript.entries:
        lines.append("No messages.")
    # Subjects, names, bodies and file names come from people: without overrides.
    return neutralise("\n".join(lines))


def _made_for(transcript: Transcript) -> str:
    """The line under the subject, but for the reader's name that ends it."""
    return f"Transcript made {email_time(transcript.made_at)} for"


def as_eml(transcript: Transcript) -> bytes:
    """One e-mail (RFC 5322) an e-mail program opens and files: the text transcript as the
    body, an HTML alternative, and every attachment of the messages, as files."""
    email = EmailMessage()
    email["Subject"] = neutralise(f"Transcript: {transcript.subject}")
    email["From"] = settings.DEFAULT_FROM_EMAIL
    if transcript.reader.email:
        email["To"] = transcript.reader.email
    email["Date"] = format_datetime(transcript.made_at)
    email["Message-ID"] = make_msgid(domain=settings.EMAIL_MESSAGE_ID_DOMAIN)
    email.set_content(as_text(transcript))
    email.add_alternative(as_html(transcript, for_pdf=False), subtype="html")
    for entry in transcript.entries:
        for attachment in entry.attachments:
            content = _stored_bytes(attachment)
            if content is None:
                continue
            maintype, _, subtype = attachment.content_type.partition("/")
            email.add_attachment(
                content,
                maintype=maintype or "application",
                subtype=subtype or "octet-stream",
                filename=neutralise(attachment.download_name),
            )
    return bytes(email)


def _stored_bytes(attachment: Attachment) -> bytes | None:
    """The file, or None when storage lost it (the transcript still names it)."""
    try:
        with attachment.file.open("rb") as handle:
            content: bytes = handle.read()
    except FileNotFoundError:
        return None
    return content


# ReportLab's own Bitstream Vera: a TrueType font embedded in the PDF, so the text is
# Unicode (accents, €, typographic quotes) and searchable; PDF's standard Helvetica has
# no glyphs past Latin-1. Characters Vera lacks (CJK, emoji) show as empty boxes in the
# PDF: the text and EML transcripts have them all.
FONTS = {
    "font:regular": "Vera.ttf",
    "font:bold": "VeraBd.ttf",
}
FONT_DIRECTORY = Path(reportlab.__file__).parent / "fonts"


def _link_callback(uri: str, rel: str) -> str:
    """The only files the PDF may load are its fonts: a transcript never fetches anything a
    message names (no URL, no path on the server)."""
    font = FONTS.get(uri)
    return str(FONT_DIRECTORY / font) if font else ""


def as_pdf(transcript: Transcript) -> bytes:
    output = io.BytesIO()
    result = pisa.CreatePDF(
        as_html(transcript, for_pdf=True),
        dest=output,
        link_callback=_link_callback,
        encoding="utf-8",
    )
    if result.err:
        raise RuntimeError(f"The transcript's PDF could not be made ({result.err} errors).")
    return output.getvalue()


def as_html(transcript: Transcript, *, for_pdf: bool) -> str:
    """The HTML the EML carries beside its text, and the PDF is drawn from: without
    overrides, as the pages are (BidiControlsMiddleware)."""
    html = render_to_string(
        "privacy/transcript.html",
        {
            "transcript": transcript,
            "made_for": _made_for(transcript),
            "warning": WARNING,
            "entries": [
                (
                    entry,
                    full_time(entry.sent_at),
                    [a.download_name for a in entry.attachments],
                    removed_line(entry),
                    [(reported, email_time(reported.reported_at)) for reported in entry.reported],
                )
                for entry in transcript.entries
            ],
            "for_pdf": for_pdf,
        },
    )
    return neutralise(html)


def response(transcript: Transcript, format: Format) -> HttpResponse:
    """The transcript as a download, for the pages and the API alike."""
    content: str | bytes
    if format == Format.PDF:
        content = as_pdf(transcript)
    elif format == Format.EML:
        content = as_eml(transcript)
    else:
        content = as_text(transcript)
    answer = HttpResponse(content, content_type=CONTENT_TYPES[format])
    answer["Content-Disposition"] = f'attachment; filename="{transcript.name}.{format}"'
    answer["X-Content-Type-Options"] = "nosniff"
    answer["Cache-Control"] = "private, no-store"
    return answer
