"""Full-text search over the messages a person can see (docs/search.md)."""

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import (
    Case,
    Exists,
    F,
    IntegerField,
    OuterRef,
    Q,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat
from django.utils import timezone
from django.utils.safestring import SafeString

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Attachment, Folder
from messagecenter.conversations.queries import VISIBLE_BOXES
from messagecenter.errors import InvalidInput
from messagecenter.search.backends import matching, planned_for_its_values
from messagecenter.search.highlight import highlighted, snippet
from messagecenter.search.models import SearchDocument
from messagecenter.search.terms import MAX_TERMS, Term, parse_terms
from messagecenter.search.tokens import folded

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
MAX_ID = 2**63 - 1
# The longest name a sender can have (accounts.User.display_name, username).
MAX_NAME_CHARS = 150
_FIRST_DAY = date.min + timedelta(days=1)
_LAST_DAY = date.max - timedelta(days=1)


@dataclass(frozen=True)
class SearchFilters:
    """What a person asks for. Every filter narrows the results; all are optional, but a
    search with nothing to search for returns nothing (SearchPage.needs_input)."""

    # Words and "quoted phrases" (terms.py).
    text: str = ""
    # Part of the sender's public name (shop name or display name); "marketplace".
    sender: str = ""
    # Inclusive, in the site's time zone.
    date_from: date | None = None
    date_to: date | None = None
    # A topical folder (conversations.models.Folder), in any box.
    folder: str | None = None
    # inbox, archive or trash; None: all three.
    box: str | None = None
    unread_only: bool = False
    has_attachment: bool = False
    # The order a conversation is about, e.g. 112-4839201-5521937.
    order_number: str = ""


@dataclass(frozen=True)
class SearchResult:
    message_id: int
    conversation_id: int
    subject: str
    # The subject with matches marked, HTML-escaped.
    subject_html: SafeString
    sender_name: str
    is_official: bool
    is_from_you: bool
    created_at: datetime
    # A short window of the body around the first match, matches in <mark>, HTML-escaped.
    snippet: SafeString


@dataclass(frozen=True)
class SearchPage:
    results: list[SearchResult]
    next_cursor: str | None
    # What the text was read as (empty when it had no letters or digits).
    terms: tuple[Term, ...]
    # Nothing to search for: no words and no filter. Nothing was looked up.
    needs_input: bool = False


def search_messages(
    user: User,
    filters: SearchFilters,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> SearchPage:
    """The person's messages that match, newest first (then the most relevant), one page
    from a keyset cursor. Only conversations they take part in and have not deleted, and
    only messages after what they deleted (history_after_message_id).

    One query: documents, messages, senders and conversations together.
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"A page has 1 to {MAX_PAGE_SIZE} results.", code="invalid_limit")
    terms = parse_terms(filters.text)
    narrowing = _narrowing(user, filters)
    if not terms and narrowing is None:
        return SearchPage(results=[], next_cursor=None, terms=terms, needs_input=True)

    # One filter() call: every condition on the participant is about the same row.
    documents = SearchDocument.objects.filter(
        Q(
            message__conversation__participants__user=user,
            message__conversation__participants__box__in=(
                [filters.box] if filters.box else VISIBLE_BOXES
            ),
            message_id__gt=F("message__conversation__participants__history_after_message_id"),
        )
        & (narrowing or Q())
    )
    if terms:
        documents = documents.filter(matching(terms))
    documents = documents.alias(
        padded_subject=Concat(Value(" "), "subject_tokens", Value(" "), output_field=TextField())
    ).annotate(relevance=_relevance(terms))
    if cursor:
        created_at, relevance, message_id = _decode_cursor(cursor)
        documents = documents.filter(
            Q(message__created_at__lt=created_at)
            | Q(message__created_at=created_at, relevance__lt=relevance)
            | Q(message__created_at=created_at, relevance=relevance, message_id__lt=message_id)
        )
    with planned_for_its_values():
        rows = list(
            documents.select_related("message__conversation", "message__sender__storefront")
            .defer("tokens", "subject_tokens", "sender_names")
            .order_by("-message__created_at", "-relevance", "-message_id")[: limit + 1]
        )
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = f"{last.message.created_at.isoformat()}~{last.relevance}~{last.message_id}"
    return SearchPage(
        results=[_result(user, row, terms) for row in rows], next_cursor=next_cursor, terms=terms
    )


def _narrowing(user: User, filters: SearchFilters) -> Q | None:
    """The filters as one condition on the person's Participant row, the message and its
    conversation; None when no filter narrows anything."""
    if filters.folder is not None and filters.folder not in Folder.values:
        raise InvalidInput(f"Unknown folder {filters.folder!r}.", code="invalid_folder")
    if filters.box is not None and filters.box not in VISIBLE_BOXES:
        raise InvalidInput(f"Unknown box {filters.box!r}.", code="invalid_box")
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InvalidInput("The start date is after the end date.", code="invalid_date_range")
    narrowing = Q()
    if filters.folder is not None:
        narrowing &= Q(message__conversation__participants__folder=filters.folder)
    if filters.date_from is not None:
        narrowing &= Q(message__created_at__gte=_start_of(filters.date_from))
    if filters.date_to is not None:
        narrowing &= Q(message__created_at__lt=_start_of(filters.date_to, days_later=1))
    if filters.unread_only:
        # After what the person last read; a conversation marked unread by hand counts its
        # last message as unread. Never their own messages.
        narrowing &= Q(message__conversation__participants__unread_count__gt=0) & (
            Q(
                message_id__gt=Coalesce(
                    F("message__conversation__participants__last_read_message_id"), 0
                )
            )
            | Q(message_id=F("message__conversation__last_message_id"))
        )
        narrowing &= ~Q(message__sender=user)
    if filters.has_attachment:
        narrowing &= Q(Exists(Attachment.objects.filter(message_id=OuterRef("message_id"))))
    # PostgreSQL refuses text with NUL characters; no order number has one.
    order_number = filters.order_number.replace("\x00", "").strip()
    if order_number:
        narrowing &= Q(message__conversation__order__number=order_number)
    # No name is longer (and SQLite refuses LIKE patterns over 50,000 bytes).
    sender = folded(filters.sender[:MAX_NAME_CHARS])
    if sender:
        narrowing &= Q(sender_names__contains=sender)
    if not narrowing and filters.box is None:
        return None
    return narrowing


def _start_of(day: date, *, days_later: int = 0) -> datetime:
    """Midnight in the site's time zone. The first and last days a date can be are moved in
    by one, so that midnight stays a datetime in UTC too (year 1 to 9999)."""
    day = min(max(day, _FIRST_DAY), _LAST_DAY) + timedelta(days=days_later)
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def _relevance(terms: tuple[Term, ...]) -> Any:
    """How many of the terms the subject (or order number) matches on its own. Computed
    the same way on both databases, so results come in the same order on both."""
    score: Any = Value(0, output_field=IntegerField())
    for term in terms:
        pattern = " " + " ".join(term.tokens) + ("" if term.is_prefix else " ")
        score += Case(
            When(Q(padded_subject__contains=pattern), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    return score


def _decode_cursor(cursor: str) -> tuple[datetime, int, int]:
    try:
        created_at, relevance, message_id = cursor.split("~")
        parsed = (datetime.fromisoformat(created_at), int(relevance), int(message_id))
        # Numbers the database could not hold must not reach it.
        if parsed[0].tzinfo is None or not (
            0 <= parsed[1] <= MAX_TERMS and 0 < parsed[2] <= MAX_ID
        ):
            raise ValueError(cursor)
        return parsed
    except ValueError:
        raise InvalidInput("The page cursor is not valid.", code="invalid_cursor") from None


def _result(user: User, document: SearchDocument, terms: tuple[Term, ...]) -> SearchResult:
    message = document.message
    subject = message.conversation.subject
    return SearchResult(
        message_id=message.pk,
        conversation_id=message.conversation_id,
        subject=subject,
        subject_html=highlighted(subject, terms),
        sender_name=message.sender_name,
        is_official=message.is_official,
        is_from_you=message.sender_id == user.pk,
        created_at=message.created_at,
        snippet=snippet(message.body, terms),
    )
