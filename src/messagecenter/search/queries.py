"""Full-text search over the messages a person can see, and the broadcasts (important
notices, promotions) that apply to them (docs/search.md)."""

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from enum import Enum, auto
from typing import Any, NamedTuple

from django.db import connection
from django.db.models import (
    BigIntegerField,
    Case,
    DateTimeField,
    Exists,
    ExpressionWrapper,
    F,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    TextField,
    Value,
    When,
)
from django.db.models.functions import Coalesce, Concat, StrIndex
from django.db.models.lookups import Exact, GreaterThan
from django.utils import timezone
from django.utils.safestring import SafeString

from messagecenter.accounts.models import Role, User, public_name
from messagecenter.conversations.models import Attachment, Conversation, Message
from messagecenter.conversations.queries import visible_messages
from messagecenter.errors import InvalidInput
from messagecenter.hub.boxes import VISIBLE_BOXES, Box, Folder
from messagecenter.hub.cursors import cursor_time
from messagecenter.rows import MAX_ID, CompiledRows
from messagecenter.search import spelling
from messagecenter.search.actions import MARKETPLACE_NAME
from messagecenter.search.backends import (
    Unindexed,
    broadcast_matching_sql,
    containing_patterns,
    counted_matches,
    index_query,
    matching_query,
    planned_for_its_values,
    position_of_sql,
    token_pattern,
)
from messagecenter.search.broadcasts import VISIBLE_COLUMNS, broadcast_source
from messagecenter.search.highlight import highlighted, snippet
from messagecenter.search.models import MailboxMessage, SearchDocument
from messagecenter.search.terms import MAX_TERMS, Term, parse_terms
from messagecenter.search.tokens import folded

PAGE_SIZE = 25
MAX_PAGE_SIZE = 100
# The longest name a sender can have (accounts.User.display_name, username).
MAX_NAME_CHARS = 150
_FIRST_DAY = date.min + timedelta(days=1)
_LAST_DAY = date.max - timedelta(days=1)
_BEFORE_EVERYTHING = datetime(1, 1, 1, tzinfo=UTC)
# In results of one time and relevance, messages come before broadcasts (as in the Message
# Center's lists); a cursor after a broadcast says so with a "b" before its id.
MESSAGE_RANK, BROADCAST_RANK = 1, 0
BROADCAST_MARKER = "b"
# Where a page continues from: (time, relevance, rank, id) of the last result shown.
Position = tuple[datetime, int, int, int]


class _MessageFound(NamedTuple):
    """A message that matches, as the search statement reads it: the columns a result
    shows, not the models (≈ 120 of them a page cost more than the statement)."""

    message_id: int
    relevance: int
    # The person's box, from the Participant row the statement joined.
    box: str
    created_at: datetime
    # SQLite's walk only: when the walk's last message was sent (None: a shorter mailbox,
    # or no walk).
    walk_end: datetime | None
    # What the page shows, joined for its rows only (_joined_for_the_page).
    conversation_id: int
    subject: str
    body: str
    # The sender's columns User.public_name and Message.is_official read; None: the
    # marketplace.
    sender_id: int | None
    sender_role: str | None
    display_name: str | None
    first_name: str | None
    last_name: str | None
    username: str | None
    storefront_name: str | None


# On SQLite: how many of a person's newest messages a search reads one by one before it
# turns to the text index, and how many matches it starts from at most (each costs ~5 µs;
# past that, checking the person's own messages costs less). docs/search.md#cost.
WALK_LENGTH = 1000
MATCHES_LIMIT = 20_000


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
    # A message: its id and its conversation's; a broadcast: None, and broadcast_id.
    message_id: int | None
    conversation_id: int | None
    subject: str
    # The subject with matches marked, HTML-escaped.
    subject_html: SafeString
    sender_name: str
    is_official: bool
    is_from_you: bool
    created_at: datetime
    # A short window of the body around the first match, matches in <mark>, HTML-escaped.
    snippet: SafeString
    # Where it is for the person: inbox, archive or trash.
    box: str = Box.INBOX
    # An important notice or a promotion from the marketplace (docs/notifications.md).
    broadcast_id: int | None = None

    @property
    def kind(self) -> str:
        return "broadcast" if self.broadcast_id is not None else "message"


@dataclass(frozen=True)
class _BroadcastFound:
    """A broadcast the person may see that matches, as the broadcast search reads it."""

    id: int
    kind: str
    subject: str
    body: str
    sent_at: datetime
    box: str
    is_read: bool
    relevance: int


@dataclass(frozen=True)
class SearchPage:
    results: list[SearchResult]
    next_cursor: str | None
    # What the text was read as (empty when it had no letters or digits).
    terms: tuple[Term, ...]
    # Nothing to search for: no words and no filter. Nothing was looked up.
    needs_input: bool = False
    # The words as typed, when they found nothing and `terms`, one edit away, found these
    # results instead ("ketle" → kettle; spelling.py). The next pages search for `terms`.
    corrected_from: tuple[Term, ...] | None = None


def search_messages(
    user: User,
    filters: SearchFilters,
    cursor: str | None = None,
    limit: int = PAGE_SIZE,
) -> SearchPage:
    """The person's messages and broadcasts that match, newest first (then the most
    relevant, then messages before broadcasts), one page from a keyset cursor. Only
    conversations they take part in and have not deleted, only messages after what they
    deleted (history_after_message_id), only broadcasts that apply to them now and that
    they have not deleted.

    Words are looked up by walking the person's mailbox newest first and stopping at a
    page of matches, or through the full-text index when they are rare; one query on
    PostgreSQL (its planner chooses; its planner setting is sent before it and taken back
    after it, in the same pipeline), two or three on SQLite (docs/search.md#cost). The
    broadcasts are one more query (none when the filters rule them out).
    """
    if not 1 <= limit <= MAX_PAGE_SIZE:
        raise InvalidInput(f"A page has 1 to {MAX_PAGE_SIZE} results.", code="invalid_limit")
    terms = parse_terms(filters.text)
    narrows = _narrows(filters)
    if not terms and not narrows:
        return SearchPage(results=[], next_cursor=None, terms=terms, needs_input=True)
    position = _decode_cursor(cursor) if cursor else None
    corrected_from = None
    rows = _page(user, filters, terms, position, limit)
    if terms and not rows and position is None:
        # Only a search that found nothing pays for spelling (spelling.py).
        with planned_for_its_values():
            alternatives = spelling.alternatives(terms)
        for alternative in alternatives:
            rows = _page(user, filters, alternative, position, limit)
            if rows:
                corrected_from, terms = terms, alternative
                break
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        next_cursor = _cursor(rows[-1])
    return SearchPage(
        results=[_result(user, row, terms) for row in rows],
        next_cursor=next_cursor,
        terms=terms,
        corrected_from=corrected_from,
    )


def _page(
    user: User,
    filters: SearchFilters,
    terms: tuple[Term, ...],
    position: Position | None,
    limit: int,
) -> "list[_MessageFound | _BroadcastFound]":
    """The first limit + 1 results after the position: the messages' and the broadcasts'
    pages merged in search order."""
    after = _message_position(position)
    if terms:
        messages = _matching_documents(user, filters, terms, after, limit)
    else:
        messages = _messages(user, filters, terms, after, limit, match=Match.NONE)
    broadcasts = _matching_broadcasts(user, filters, terms, position, limit)
    if not broadcasts:
        return list(messages)
    merged: list[_MessageFound | _BroadcastFound] = [*messages, *broadcasts]
    return sorted(merged, key=_sort_key, reverse=True)[: limit + 1]


def _sort_key(row: "_MessageFound | _BroadcastFound") -> tuple[datetime, int, int, int]:
    if isinstance(row, _BroadcastFound):
        return (row.sent_at, row.relevance, BROADCAST_RANK, row.id)
    return (row.created_at, row.relevance, MESSAGE_RANK, row.message_id)


def _cursor(row: "_MessageFound | _BroadcastFound") -> str:
    sent_at, relevance, rank, identifier = _sort_key(row)
    marker = BROADCAST_MARKER if rank == BROADCAST_RANK else ""
    return f"{cursor_time(sent_at)}~{relevance}~{marker}{identifier}"


def _message_position(position: Position | None) -> tuple[datetime, int, int] | None:
    """Where the messages continue: after a broadcast, no message of its time and
    relevance is left (they come first), so no id is after it."""
    if position is None:
        return None
    sent_at, relevance, rank, identifier = position
    return (sent_at, relevance, identifier if rank == MESSAGE_RANK else 0)


def _matching_broadcasts(
    user: User,
    filters: SearchFilters,
    terms: tuple[Term, ...],
    position: Position | None,
    limit: int,
) -> list[_BroadcastFound]:
    """The first limit + 1 broadcasts that match, in search order: those the person sees
    now (the audience rule and their state, from notifications: search/broadcasts.py)
    joined to their documents, matched by the broadcasts' text index; promotions only when
    the person has them shown. One query; none when a filter rules broadcasts out (an
    attachment, an order, another sender)."""
    sender = folded(filters.sender[:MAX_NAME_CHARS])
    if (
        filters.has_attachment
        or filters.order_number.strip()
        or (sender and sender not in folded(MARKETPLACE_NAME))
    ):
        return []
    return _broadcasts(user, filters, terms, position, limit)


def _broadcasts(
    user: User,
    filters: SearchFilters,
    terms: tuple[Term, ...],
    position: Position | None,
    limit: int,
) -> list[_BroadcastFound]:
    visible = broadcast_source().visible_sql(user, timezone.now(), filters.folder)
    if visible is None:
        return []
    visible_sql, visible_params = visible
    # Relevance as for messages: how many terms the subject matches on its own.
    relevance = " + ".join(
        [f"CASE WHEN {position_of_sql()}(' ' || d.subject_tokens || ' ', %s) > 0 THEN 1 ELSE 0 END"]
        * len(terms)
        or ["0"]
    )
    relevance_params = [
        " " + " ".join(term.tokens) + ("" if term.is_prefix else " ") for term in terms
    ]
    where, where_params = ["1 = 1"], []
    if terms:
        matches, match_params = broadcast_matching_sql(terms, "d")
        where.append(matches)
        where_params += match_params
    if filters.box is not None:
        where.append("v.box = %s")
        where_params.append(filters.box)
    if filters.unread_only:
        where.append("v.is_read = 0")
    if filters.date_from is not None:
        where.append("v.sent_at >= %s")
        where_params.append(_adapted(_start_of(filters.date_from)))
    if filters.date_to is not None:
        where.append("v.sent_at < %s")
        where_params.append(_adapted(_start_of(filters.date_to, days_later=1)))
    after, after_params = "1 = 1", []
    if position is not None:
        sent_at, position_relevance, rank, identifier = position
        # After a message, every broadcast of its time and relevance is still to come.
        if rank == MESSAGE_RANK:
            identifier = MAX_ID
        after = (
            "(sent_at < %s OR (sent_at = %s AND (relevance < %s"
            f" OR (relevance = %s AND id {'<=' if rank == MESSAGE_RANK else '<'} %s))))"
        )
        after_params = [_adapted(sent_at)] * 2 + [position_relevance] * 2 + [identifier]
    columns = ", ".join(f"v.{column}" for column in VISIBLE_COLUMNS)
    # The relevance is computed in a derived table, so the cursor's condition can use it.
    sql = (
        f"SELECT * FROM (SELECT {columns}, {relevance} AS relevance"
        f" FROM ({visible_sql}) v JOIN search_broadcastdocument d ON d.broadcast_id = v.id"
        f" WHERE {' AND '.join(where)}) found WHERE {after}"
        " ORDER BY sent_at DESC, relevance DESC, id DESC LIMIT %s"
    )
    params = [
        *relevance_params,
        *visible_params,
        *where_params,
        *after_params,
        limit + 1,
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [
            _BroadcastFound(
                id=int(row[0]),
                kind=str(row[1]),
                subject=str(row[2]),
                body=str(row[3]),
                sent_at=_aware(row[4]),
                box=str(row[5]),
                is_read=bool(row[6]),
                relevance=int(row[7]),
            )
            for row in cursor.fetchall()
        ]


def _adapted(moment: datetime) -> Any:
    return connection.ops.adapt_datetimefield_value(moment)


def _aware(value: datetime | str) -> datetime:
    """A raw query's datetime as the ORM gives it (SQLite returns text, in UTC)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def _matching_documents(
    user: User,
    filters: SearchFilters,
    terms: tuple[Term, ...],
    position: tuple[datetime, int, int] | None,
    limit: int,
) -> list[_MessageFound]:
    """The page of documents that match the words, found through the person's mailbox.

    PostgreSQL estimates from its statistics how common the words are and either walks the
    mailbox newest first, checking each document and stopping at a page, or starts from
    the text index (with filters other than dates: the query search used before the
    mailbox, from the Participant rows). SQLite's planner cannot know (FTS5 gives it no
    estimate), so on SQLite:

    1. walk the person's WALK_LENGTH newest messages (from the cursor on): a page found
       there is final, since every message newer than the walk's end was read;
    2. otherwise the words are rare for this person (or the filters narrow a lot): when the
       text index has at most MATCHES_LIMIT matches, start from them;
    3. otherwise (a common word the filters make rare): when the filters name a folder,
       Archive or Trash, start from those Participant rows (the query search used before
       the mailbox); otherwise walk on through the whole mailbox.
    """
    if connection.vendor != "sqlite":
        # Other filters point the planner at the Participant rows (box, folder, unread) or
        # at one order; from there the mailbox would only add a lookup per message.
        start = Start.ANY if _only_words_and_dates(filters) else Start.PARTICIPANTS
        return _messages(user, filters, terms, position, limit, start=start)
    # The walk's end comes along with the page (a subquery SQLite runs once), so a search
    # that finds its page in the walk is one query.
    rows = _messages(
        user, filters, terms, position, limit, start=Start.MAILBOX, match=Match.TOKENS, walk=True
    )
    if len(rows) > limit:
        return rows
    end = rows[0].walk_end if rows else _walk_end(user, filters, position)
    if end is None:
        # Fewer messages than a walk: all were read.
        return rows
    if counted_matches(terms, up_to=MATCHES_LIMIT + 1) <= MATCHES_LIMIT:
        return _messages(user, filters, terms, position, limit, start=Start.MATCHES)
    if filters.folder is not None or filters.box in (Box.ARCHIVE, Box.TRASH):
        # A common word in a part of the mailbox the Participant indexes find (a folder,
        # Archive, Trash): start from those conversations, checking each of their messages
        # against the matches.
        return _messages(user, filters, terms, position, limit, match=Match.INDEX_ROW_BY_ROW)
    # A common word other filters make rare: walk on through the whole mailbox.
    return _messages(user, filters, terms, position, limit, start=Start.MAILBOX, match=Match.TOKENS)


def _only_words_and_dates(filters: SearchFilters) -> bool:
    return filters == SearchFilters(
        text=filters.text, date_from=filters.date_from, date_to=filters.date_to
    )


def _newest_first(
    user_id: int, position_at: datetime | None, date_to: datetime | None
) -> QuerySet[MailboxMessage]:
    """The person's mailbox from the cursor (or the end of the date range) on, newest
    first."""
    entries = MailboxMessage.objects.filter(user_id=user_id)
    if position_at is not None:
        entries = entries.filter(created_at__lte=position_at)
    if date_to is not None:
        entries = entries.filter(created_at__lt=date_to)
    return entries.order_by("-created_at", "-message_id")


def _walk_end(
    user: User, filters: SearchFilters, position: tuple[datetime, int, int] | None
) -> datetime | None:
    """When the WALK_LENGTH-th newest message of the person's mailbox (from the cursor on)
    was sent; None when there are not that many."""
    values: list[int | datetime] = [user.pk]
    if position is not None:
        values.append(position[0])
    if filters.date_to is not None:
        values.append(_start_of(filters.date_to, days_later=1))
    shape = (position is not None, filters.date_to is not None, WALK_LENGTH)
    ends = _WALK_END(*values, shape=shape)
    return ends[0][0] if ends else None


def _walk_end_statement(*values: Any, shape: tuple[bool, bool, int]) -> QuerySet[Any]:
    given = iter(values)
    user_id = next(given)
    has_position, has_date_to, walk_length = shape
    position_at = next(given) if has_position else None
    date_to = next(given) if has_date_to else None
    return _newest_first(user_id, position_at, date_to).values_list("created_at")[
        walk_length - 1 : walk_length
    ]


_WALK_END = CompiledRows(_walk_end_statement)


class Start(Enum):
    """Where a search query starts reading (SQLite follows this; PostgreSQL chooses)."""

    # The person's Participant rows, then each conversation's messages (no mailbox).
    PARTICIPANTS = auto()
    # The person's mailbox, newest first.
    MAILBOX = auto()
    # The text index's matches.
    MATCHES = auto()
    # Through the mailbox, wherever the planner likes (PostgreSQL).
    ANY = auto()


class Match(Enum):
    """How a search query checks the words."""

    # No words: the filters alone.
    NONE = auto()
    # Each document's own tokens (backends.containing): a walk.
    TOKENS = auto()
    # The text index (backends.matching).
    INDEX = auto()
    # The text index, each row read checked against its list (`row_by_row`).
    INDEX_ROW_BY_ROW = auto()


@dataclass(frozen=True)
class _Shape:
    """What makes one search statement's SQL differ from another's: everything but the
    values, which are its parameters (the person, the words' patterns, the filters'
    values, the cursor's). Compiled once per process and shape (rows.CompiledRows): Django
    built and compiled the statement on every call, more CPU than SQLite took to run it."""

    start: Start
    match: Match
    # SQLite's walk: the walk's end read along, and the page stopped there; its length.
    walk: int | None
    terms: int
    shows_promotions: bool
    box: str | None
    folder: bool
    date_from: bool
    date_to: bool
    unread_only: bool
    has_attachment: bool
    order_number: bool
    sender: bool
    position: bool
    limit: int


def _messages(
    user: User,
    filters: SearchFilters,
    terms: tuple[Term, ...],
    position: tuple[datetime, int, int] | None,
    limit: int,
    *,
    start: Start = Start.PARTICIPANTS,
    match: Match = Match.INDEX,
    walk: bool = False,
) -> list[_MessageFound]:
    """The first limit + 1 messages in search order (one more tells whether a next page
    exists) that pass the filters and match the words as `match` says, after the cursor,
    with what a result shows. One statement, compiled once per shape."""
    values, shape = _statement_for(
        user, filters, terms, position, limit, start=start, match=match, walk=walk
    )
    # Planned for each call's words. The broadcasts' statement, over a table of one row
    # per broadcast, is prepared like any other: planning it took ten times its run.
    with planned_for_its_values():
        rows = _SEARCH(*values, shape=shape)
    return [_MessageFound(*row) for row in rows]


def _statement_for(
    user: User,
    filters: SearchFilters,
    terms: tuple[Term, ...],
    position: tuple[datetime, int, int] | None,
    limit: int,
    *,
    start: Start,
    match: Match,
    walk: bool,
) -> tuple[list[int | str | datetime], _Shape]:
    """The values of a search statement, in the order _search_statement takes them, and
    its shape."""
    order_number = _order_number(filters)
    sender = _sender(filters)
    shape = _Shape(
        start=start,
        match=match,
        walk=WALK_LENGTH if walk else None,
        terms=len(terms),
        shows_promotions=user.shows_promotions,
        box=filters.box,
        folder=filters.folder is not None,
        date_from=filters.date_from is not None,
        date_to=filters.date_to is not None,
        unread_only=filters.unread_only,
        has_attachment=filters.has_attachment,
        order_number=bool(order_number),
        sender=bool(sender),
        position=position is not None,
        limit=limit,
    )
    values: list[int | str | datetime] = [user.pk, *(token_pattern(term) for term in terms)]
    if match in (Match.INDEX, Match.INDEX_ROW_BY_ROW):
        values.append(index_query(terms))
    if filters.folder is not None:
        values.append(filters.folder)
    if filters.date_from is not None:
        values.append(_start_of(filters.date_from))
    if filters.date_to is not None:
        values.append(_start_of(filters.date_to, days_later=1))
    if order_number:
        values.append(order_number)
    if sender:
        values.append(sender)
    if position is not None:
        values.extend(position)
    return values, shape


def _search_statement(*values: Any, shape: _Shape) -> QuerySet[Any]:
    """The statement _messages runs, for these values (stand-ins when compiled)."""
    given = iter(values)
    user_id = next(given)
    patterns = [next(given) for _ in range(shape.terms)]
    query = next(given) if shape.match in (Match.INDEX, Match.INDEX_ROW_BY_ROW) else None
    folder = next(given) if shape.folder else None
    date_from = next(given) if shape.date_from else None
    date_to = next(given) if shape.date_to else None
    order_number = next(given) if shape.order_number else None
    sender = next(given) if shape.sender else None
    position = (next(given), next(given), next(given)) if shape.position else None
    narrowing = Q()
    if folder is not None:
        narrowing &= Q(message__conversation_participants__folder=folder)
    if date_from is not None:
        narrowing &= Q(message__created_at__gte=date_from)
    if date_to is not None:
        narrowing &= Q(message__created_at__lt=date_to)
    if shape.unread_only:
        # After what the person last read; a conversation marked unread by hand counts its
        # last message as unread. Never their own messages.
        narrowing &= Q(message__conversation_participants__unread_count__gt=0) & (
            Q(
                message_id__gt=Coalesce(
                    F("message__conversation_participants__last_read_message_id"), 0
                )
            )
            | Q(message_id=F("message__conversation__last_message_id"))
        )
        narrowing &= ~Q(message__sender_id=user_id)
    if shape.has_attachment:
        narrowing &= Q(Exists(Attachment.objects.filter(message_id=OuterRef("message_id"))))
    if order_number is not None:
        narrowing &= Q(message__conversation__order__number=order_number)
    if sender is not None:
        # instr()/strpos(), where LIKE (`contains`) would make the name a pattern: the
        # names and the name asked for are both folded tokens, nothing LIKE would read
        # otherwise, and the name stays a parameter as it is.
        narrowing &= Q(GreaterThan(StrIndex("sender_names", Value(sender)), 0))
    # Only the person's id and their promotions switch reach visible_messages.
    user = User(pk=user_id, shows_promotions=shape.shows_promotions)
    documents = _documents(
        user, shape.box, narrowing, patterns, position, shape.start, date_from, date_to
    )
    if shape.match is Match.TOKENS:
        documents = documents.filter(containing_patterns(patterns))
    elif query is not None:
        documents = documents.filter(
            matching_query(query, row_by_row=shape.match is Match.INDEX_ROW_BY_ROW)
        )
    # The columns the page is chosen and ordered by; what it shows is joined around it.
    columns = ["message_id", "relevance", "box", "message__created_at", "walk_end"]
    if shape.walk is not None:
        walk_end = Subquery(
            _newest_first(user_id, None if position is None else position[0], date_to).values(
                "created_at"
            )[shape.walk - 1 : shape.walk]
        )
        documents = documents.annotate(walk_end=walk_end).filter(
            sent_at__gt=Coalesce("walk_end", Value(_BEFORE_EVERYTHING))
        )
    else:
        documents = documents.annotate(walk_end=Value(None, output_field=DateTimeField()))
    page: QuerySet[Any] = documents.order_by("-sent_at", "-relevance", "-message_id")
    return page.values_list(*columns)[: shape.limit + 1]


def _joined_for_the_page(page: str) -> tuple[str, int]:
    """The search statement around `page` (_search_statement's): the conversation's
    subject, the body and the sender's names joined for the page's rows only. Joined
    inside, with the tables that choose the page, they made a statement of eight tables
    whose plan PostgreSQL searched for 11 ms on every call — more than running it took
    (docs/benchmarks.md, "Search planned apart from what it shows"); here it plans
    the page's tables (four, and the hidden messages' anti-join) and these four apart.
    The page keeps its order: sent_at is the message's created_at (copied into the
    mailbox)."""
    name = connection.ops.quote_name
    message, conversation = Message._meta, Conversation._meta
    # The sender's shop, by the relation User knows (search sits below marketplace).
    sender, storefront = User._meta, User._meta.get_field("storefront").related_model._meta

    def column(table: str, model: Any, field: str) -> str:
        return f"{table}.{name(model.get_field(field).column)}"

    shown = [
        column("m", message, "conversation"),
        column("c", conversation, "subject"),
        column("m", message, "body"),
        column("m", message, "sender"),
        column("u", sender, "role"),
        column("u", sender, "display_name"),
        column("u", sender, "first_name"),
        column("u", sender, "last_name"),
        column("u", sender, "username"),
        column("s", storefront, "name"),
    ]
    found = [
        f"found.{name(alias)}"
        for alias in ("message_id", "relevance", "box", "message__created_at", "walk_end")
    ]
    sql = (
        f"SELECT {', '.join(found + shown)} FROM ({page}) found"
        f" INNER JOIN {name(message.db_table)} m ON {column('m', message, 'id')} = {found[0]}"
        f" INNER JOIN {name(conversation.db_table)} c"
        f" ON {column('c', conversation, 'id')} = {column('m', message, 'conversation')}"
        f" LEFT OUTER JOIN {name(sender.db_table)} u"
        f" ON {column('u', sender, 'id')} = {column('m', message, 'sender')}"
        f" LEFT OUTER JOIN {name(storefront.db_table)} s"
        f" ON {column('s', storefront, 'seller')} = {column('u', sender, 'id')}"
        f" ORDER BY {found[3]} DESC, {found[1]} DESC, {found[0]} DESC"
    )
    return sql, len(shown)


_SEARCH = CompiledRows(_search_statement, around=_joined_for_the_page)


def _documents(
    user: User,
    box: str | None,
    narrowing: Q,
    patterns: list[str],
    position: tuple[datetime, int, int] | None,
    start: Start,
    date_from: datetime | None,
    date_to: datetime | None,
) -> QuerySet[Any]:
    """The person's documents that pass the filters, after the cursor, with their relevance
    and `sent_at` (the message's created_at; from the mailbox when it is joined)."""
    through_mailbox = start is not Start.PARTICIPANTS
    boxes = [box] if box else VISIBLE_BOXES
    mailbox: Q | Exact = Q(message__mailbox_entries__user=user)
    # SQLite's statistics (when it has any) say a person has a handful of conversations, the
    # average; without any it guesses that few rows are in a box. Either way, left to itself
    # it would start from a big seller's 25,000 Participant rows, or from everyone's in a box.
    # `+column` is no index key, which keeps it from starting there (and, from the matches,
    # at the mailbox's index).
    steered = start in (Start.MAILBOX, Start.MATCHES)
    if start is Start.MATCHES:
        mailbox = Exact(Unindexed(F("message__mailbox_entries__user_id")), user.pk)
    # Which messages the person may see is conversations' one rule (promotions switched off,
    # reported and removed messages included). One filter() call: every condition on the
    # participant (and on the mailbox row) is about the same row.
    visible = visible_messages(
        user, to_message="message__", boxes=boxes, column=Unindexed if steered else None
    )
    if through_mailbox:
        visible &= Q(mailbox)
    documents = SearchDocument.objects.filter(visible & narrowing).alias(
        sent_at=F(
            "message__mailbox_entries__created_at" if through_mailbox else "message__created_at"
        ),
        padded_subject=Concat(Value(" "), "subject_tokens", Value(" "), output_field=TextField()),
    )
    # The person's box, from the Participant row the filter above joined.
    documents = documents.annotate(
        relevance=_relevance(patterns), box=F("message__conversation_participants__box")
    )
    if through_mailbox:
        # The date range again, on the mailbox's time: where a walk starts and ends.
        if date_from is not None:
            documents = documents.filter(sent_at__gte=date_from)
        if date_to is not None:
            documents = documents.filter(sent_at__lt=date_to)
    if position is not None:
        created_at, relevance, message_id = position
        # The first condition alone lets a walk start at the cursor in the index.
        documents = documents.filter(sent_at__lte=created_at).filter(
            Q(sent_at__lt=created_at)
            | Q(sent_at=created_at, relevance__lt=relevance)
            | Q(sent_at=created_at, relevance=relevance, message_id__lt=message_id)
        )
    return documents


def _narrows(filters: SearchFilters) -> bool:
    """Whether the filters narrow anything (a search without words needs one); raises
    InvalidInput for a filter that is not valid."""
    if filters.folder is not None and filters.folder not in Folder.values:
        raise InvalidInput(f"Unknown folder {filters.folder!r}.", code="invalid_folder")
    if filters.box is not None and filters.box not in VISIBLE_BOXES:
        raise InvalidInput(f"Unknown box {filters.box!r}.", code="invalid_box")
    if filters.date_from and filters.date_to and filters.date_from > filters.date_to:
        raise InvalidInput("The start date is after the end date.", code="invalid_date_range")
    return bool(
        filters.folder is not None
        or filters.date_from is not None
        or filters.date_to is not None
        or filters.unread_only
        or filters.has_attachment
        or _order_number(filters)
        or _sender(filters)
        or filters.box is not None
    )


def _order_number(filters: SearchFilters) -> str:
    # PostgreSQL refuses text with NUL characters; no order number has one.
    return filters.order_number.replace("\x00", "").strip()


def _sender(filters: SearchFilters) -> str:
    # No name is longer (and SQLite refuses LIKE patterns over 50,000 bytes).
    return folded(filters.sender[:MAX_NAME_CHARS])


def _start_of(day: date, *, days_later: int = 0) -> datetime:
    """Midnight in the person's time zone (the site's when none is active). The first and
    last days a date can be are moved in by one, so that midnight stays a datetime in UTC
    too (year 1 to 9999)."""
    day = min(max(day, _FIRST_DAY), _LAST_DAY) + timedelta(days=days_later)
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_current_timezone())


def _relevance(patterns: list[str]) -> Any:
    """How many of the terms (their token_patterns) the subject (or order number) matches
    on its own. Computed the same way on both databases, so results come in the same order
    on both: instr()/strpos() (as backends.containing and the broadcasts' relevance), the
    pattern a parameter as it is. Typed as a big integer: Django drops a comparison with a
    number out of its field's range, and a compiled statement's stand-in for the cursor's
    relevance is a large number (rows.CompiledRows)."""
    score: Any = Value(0, output_field=IntegerField())
    for pattern in patterns:
        score += Case(
            When(GreaterThan(StrIndex("padded_subject", Value(pattern)), 0), then=Value(1)),
            default=Value(0),
            output_field=IntegerField(),
        )
    return ExpressionWrapper(score, output_field=BigIntegerField())


def _decode_cursor(cursor: str) -> Position:
    """`time~relevance~id` after a message, `time~relevance~b<id>` after a broadcast."""
    try:
        created_at, relevance, identifier = cursor.split("~")
        rank = MESSAGE_RANK
        if identifier.startswith(BROADCAST_MARKER):
            rank, identifier = BROADCAST_RANK, identifier.removeprefix(BROADCAST_MARKER)
        parsed = (datetime.fromisoformat(created_at), int(relevance), rank, int(identifier))
        # Numbers the database could not hold must not reach it.
        if parsed[0].tzinfo is None or not (
            0 <= parsed[1] <= MAX_TERMS and 0 < parsed[3] <= MAX_ID
        ):
            raise ValueError(cursor)
        return parsed
    except ValueError:
        raise InvalidInput("The page cursor is not valid.", code="invalid_cursor") from None


def _result(
    user: User, document: "_MessageFound | _BroadcastFound", terms: tuple[Term, ...]
) -> SearchResult:
    if isinstance(document, _BroadcastFound):
        return SearchResult(
            message_id=None,
            conversation_id=None,
            broadcast_id=document.id,
            subject=document.subject,
            subject_html=highlighted(document.subject, terms),
            sender_name=MARKETPLACE_NAME,
            is_official=True,
            is_from_you=False,
            created_at=document.sent_at,
            snippet=snippet(document.body, terms),
            box=document.box,
        )
    subject = document.subject
    # Message.sender_name and Message.is_official, from the columns they read.
    if document.sender_id is None:
        sender_name, is_official = MARKETPLACE_NAME, True
    else:
        sender_name = public_name(
            storefront_name=document.storefront_name,
            role=str(document.sender_role),
            display_name=str(document.display_name),
            first_name=str(document.first_name),
            last_name=str(document.last_name),
            username=str(document.username),
        )
        is_official = document.sender_role in (Role.AGENT, Role.ADMIN)
    return SearchResult(
        message_id=document.message_id,
        conversation_id=document.conversation_id,
        subject=subject,
        subject_html=highlighted(subject, terms),
        sender_name=sender_name,
        is_official=is_official,
        is_from_you=document.sender_id == user.pk,
        created_at=document.created_at,
        snippet=snippet(document.body, terms),
        box=document.box,
    )
