"""What each row of a Message Center list and each message of a conversation's page show,
worked out once per row in Python for the templates (conversations/_list.html,
conversations/_messages.html).

The templates used to work each value out themselves, through filters and lookups on the
rows and their related rows: the counterpart's name twice, three date formats, the same
tests of the sender and the last message again and again, and a lookup that failed on
every list row (each failure lists the object's attributes). That was two thirds of the
Message Center page's CPU (docs/benchmarks.md, "Pages beside their API calls"); here the
values are plain attributes. No value needs a query: everything comes from the page's
statements.
"""

import html
import unicodedata
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from django.template.defaultfilters import linebreaksbr, urlize
from django.urls import reverse
from django.utils import timezone
from django.utils.safestring import SafeString, mark_safe
from django.utils.text import Truncator

from messagecenter.conversations import queries
from messagecenter.conversations.models import (
    MUTED_INDEFINITELY,
    Attachment,
    Message,
    Participant,
)
from messagecenter.conversations.presentation import (
    counterpart,
    counterpart_is_marketplace,
    last_message_preview,
)
from messagecenter.rows import MAX_ID
from messagecenter.web.dates import full_time, local_full_time, local_list_time

# How much of the last message a row shows.
PREVIEW_CHARACTERS = 140


@dataclass(frozen=True)
class Moment:
    """One time as a page shows it: for the machine (`<time datetime>`), in full (a
    tooltip) and as a list's row says it."""

    iso: str
    full: str
    short: str

    @classmethod
    def of(cls, value: datetime, today: date) -> "Moment":
        """`today`: the reader's date (the list's rows find it once)."""
        local = timezone.localtime(value)
        return cls(
            iso=local.isoformat(),
            full=local_full_time(local),
            short=local_list_time(local, today),
        )


@dataclass(frozen=True)
class ConversationRow:
    participant: Participant
    # As text, as the page shows them: a template formats an int through the number
    # formatting of the language.
    conversation_id: str
    url: str
    subject: str
    unread_count: str
    counterpart: str
    # The badge beside the counterpart's name: only when that name is the marketplace's
    # own ("Marketplace", "Customer service"), never beside a buyer's or a storefront's,
    # whoever wrote the last message — a shop named like the marketplace must never be
    # shown as official (docs/safety.md).
    counterpart_is_official: bool
    # The safety check's reasons when the last message is someone else's and was warned
    # (the "Possible scam" chip's tooltip); None for no chip.
    scam_warning: str | None
    # "" when not muted now, else "Muted" or "Muted until <when>".
    muted: str
    last_activity: Moment
    # "You" or the last message's sender, and what it says; None for a conversation
    # without messages.
    preview_from: str
    preview: str | None
    # The badge beside `preview_from`: the last message is official (the marketplace's or
    # customer service's), as the conversation's page badges its sender; not when the
    # counterpart already carries it, nor on one's own message ("You").
    preview_is_official: bool
    # A customer-service case's label for the row (hooks.row_statuses), if any.
    row_status: Any
    is_selected: bool
    # Not a notice or promotion: the list template tells its rows apart by this.
    broadcast: None = None


def _url_pattern(name: str) -> str:
    """A route's URL with `{}` for its one id: reversed once for a page, not per row."""
    return reverse(name, args=[MAX_ID]).replace(str(MAX_ID), "{}")


def list_rows(
    entries: Sequence[Any], user_id: int, *, now: datetime, selected: Collection[int] = ()
) -> list[Any]:
    """The rows of a list page: each conversation's ConversationRow; anything else (a
    notice or promotion of the merged list) as it is."""
    url_pattern = _url_pattern("conversation")
    today = timezone.localtime(now).date()
    return [
        conversation_row(
            entry, user_id, now=now, today=today, url_pattern=url_pattern, selected=selected
        )
        if isinstance(entry, Participant)
        else entry
        for entry in entries
    ]


def conversation_row(
    participant: Participant,
    user_id: int,
    *,
    now: datetime,
    today: date,
    url_pattern: str,
    selected: Collection[int] = (),
) -> ConversationRow:
    conversation = participant.conversation
    last = conversation.last_message
    counterpart_is_official = counterpart_is_marketplace(participant)
    shows_warning = (
        last is not None
        and last.is_warned
        and last.sender_id != user_id
        and not getattr(participant, "last_message_hidden", False)
    )
    preview_from, preview, preview_is_official = "", None, False
    if last is not None:
        is_mine = last.sender_id == user_id
        preview_from = "You" if is_mine else last.sender_name
        preview_is_official = last.is_official and not is_mine and not counterpart_is_official
        preview = truncated(last_message_preview(participant), PREVIEW_CHARACTERS)
    return ConversationRow(
        participant=participant,
        conversation_id=str(conversation.pk),
        url=url_pattern.format(conversation.pk),
        subject=conversation.subject,
        unread_count=str(participant.unread_count) if participant.unread_count else "",
        counterpart=counterpart(participant),
        counterpart_is_official=counterpart_is_official,
        scam_warning="".join(f"{reason.get('text', '')} " for reason in last.safety_reasons)
        if shows_warning and last is not None
        else None,
        muted=muted_label(participant, now),
        last_activity=Moment.of(participant.last_activity_at, today),
        preview_from=preview_from,
        preview=preview,
        preview_is_official=preview_is_official,
        row_status=getattr(participant, "row_status", None),
        is_selected=conversation.pk in selected,
    )


def with_line_breaks(text: str) -> SafeString:
    """The template filter `linebreaksbr` of a person's text (escaped, each line break a
    <br>), without its wrappers and regular expression: a page shows 50 messages."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    return mark_safe(html.escape(text).replace("\n", "<br>"))


def truncated(text: str, characters: int) -> str:
    """The template filter `truncatechars`: what Truncator gives, at once for a text that
    is short enough (Truncator walks every character of it)."""
    text = unicodedata.normalize("NFC", text)
    if len(text) <= characters:
        return text
    return Truncator(text).chars(characters)


def muted_label(participant: Participant, now: datetime) -> str:
    """ "" when not muted now; else "Muted" or "Muted until <when>"."""
    if not participant.is_muted(now) or participant.muted_until is None:
        return ""
    if participant.muted_until >= MUTED_INDEFINITELY:
        return "Muted"
    return f"Muted until {full_time(participant.muted_until)}"


@dataclass(frozen=True)
class MessageRow:
    message: Message
    # As text: a template formats an int through the number formatting of the language.
    message_id: str
    # "message", with "message--mine" and "message--official" as they apply.
    css_class: str
    is_official: bool
    # "You", the sender's public name, or "Marketplace".
    sender: str
    sent_by_email: bool
    # The seller's away message, posted for them (actions/away.py): labelled so.
    is_automatic_reply: bool
    created: Moment
    # The safety check's reasons when someone else's message was warned (shown above it,
    # and its links are never made clickable), else None.
    warning_reasons: list[str] | None
    # Someone else's message sent in spite of a block ("blocked" reasons), each a note.
    blocked_notes: list[str]
    # One's own message that customer service removed after a report.
    is_removed_for_others: bool
    # One's own message whose contact details were taken out: the reasons, else None.
    masked_reasons: list[str] | None
    # Any of the four notes above: most messages have none, and the page asks once.
    has_notes: bool
    # Line breaks as <br>; links clickable only in the marketplace's own messages (a
    # person's message could carry a phishing link).
    body: SafeString
    attachments: list[Attachment]
    # Someone else's message that is not the marketplace's nor an erased person's: it can
    # be reported, here.
    report_url: str | None


def message_rows(messages: Sequence[Message], user_id: int, *, now: datetime) -> list[MessageRow]:
    """The messages of a conversation's page as the page shows them to this person."""
    report_pattern = _url_pattern("report-message")
    today = timezone.localtime(now).date()
    erased = queries.erased_senders(messages)
    return [
        message_row(message, user_id, today, report_pattern, erased_sender_ids=erased)
        for message in messages
    ]


def message_row(
    message: Message,
    user_id: int,
    today: date,
    report_pattern: str,
    *,
    erased_sender_ids: Collection[int] = (),
) -> MessageRow:
    is_mine = message.sender_id == user_id
    is_official = message.is_official
    reasons = message.safety_reasons or []
    texts = [reason.get("text", "") for reason in reasons]
    warning_reasons = texts if message.is_warned and not is_mine else None
    blocked_notes = (
        []
        if is_mine
        else [reason.get("text", "") for reason in reasons if reason.get("category") == "blocked"]
    )
    is_removed_for_others = message.removed_at is not None and is_mine
    masked_reasons = texts if message.is_masked and is_mine else None
    css_class = "message"
    if is_mine:
        css_class += " message--mine"
    if is_official:
        css_class += " message--official"
    return MessageRow(
        message=message,
        message_id=str(message.pk),
        css_class=css_class,
        is_official=is_official,
        sender="You" if is_mine else message.sender_name,
        sent_by_email=message.sent_by_email,
        is_automatic_reply=message.is_automatic_reply,
        created=Moment.of(message.created_at, today),
        warning_reasons=warning_reasons,
        blocked_notes=blocked_notes,
        is_removed_for_others=is_removed_for_others,
        masked_reasons=masked_reasons,
        has_notes=warning_reasons is not None
        or bool(blocked_notes)
        or is_removed_for_others
        or masked_reasons is not None,
        body=linebreaksbr(urlize(message.body, autoescape=True), autoescape=True)
        if is_official
        else with_line_breaks(message.body),
        attachments=message.listed_attachments,
        # Not an erased person's: their messages say "[removed at the person's request]"
        # and a report of one is refused (support.report_actions: sender_erased).
        report_url=report_pattern.format(message.pk)
        if message.sender_id is not None
        and not is_mine
        and not is_official
        and message.sender_id not in erased_sender_ids
        else None,
    )
