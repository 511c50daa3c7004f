"""The two full-text indexes behind one condition (docs/search.md): FTS5 on SQLite, a
tsvector on PostgreSQL. Both are handed the same tokens and the same terms, written in
each one's query language here; no text typed by a person reaches either as syntax."""

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, Expression, F, Func, Q, TextField, Value
from django.db.models.expressions import RawSQL
from django.db.models.functions import Concat, StrIndex
from django.db.models.lookups import GreaterThan, In
from django.db.models.sql.compiler import SQLCompiler
from django.db.utils import NotSupportedError

from messagecenter.db import plans
from messagecenter.search.terms import Term


def fts5_query(terms: Sequence[Term]) -> str:
    """Each term a quoted FTS5 string (a phrase when it has several tokens), `*` marking the
    last token as a prefix. Tokens are letters and digits only: nothing to escape."""
    return " AND ".join(
        '"' + " ".join(term.tokens) + '"' + ("*" if term.is_prefix else "") for term in terms
    )


def tsquery(terms: Sequence[Term]) -> str:
    """The same terms as a PostgreSQL tsquery: `<->` for "next token", `:*` for a prefix."""
    written = []
    for term in terms:
        lexemes = [f"'{token}'" for token in term.tokens]
        if term.is_prefix:
            lexemes[-1] += ":*"
        written.append("(" + " <-> ".join(lexemes) + ")")
    return " & ".join(written)


def matching(terms: Sequence[Term], *, row_by_row: bool = False) -> Q:
    """The search documents (the query's base table) that match every term, by the text
    index. On SQLite: `message_id IN (the FTS5 matches)`, which the planner may start from
    (queries.Start says how the query keeps it from starting anywhere else); `row_by_row`
    writes `+message_id`, so that it cannot, and checks each row it reads against the
    list. Without the plus, a query that starts from the person's Participant rows would
    probe (conversation, id) for every match in every one of their conversations — for a
    common word and a seller with 25,000 conversations, 25,000 × 300,000 probes (minutes;
    docs/benchmarks.md)."""
    return matching_query(index_query(terms), row_by_row=row_by_row)


def index_query(terms: Sequence[Term]) -> str:
    """The terms in the text index's query language: FTS5's on SQLite, a tsquery on
    PostgreSQL."""
    if connection.vendor == "sqlite":
        return fts5_query(terms)
    if connection.vendor == "postgresql":
        return tsquery(terms)
    raise NotSupportedError(
        f"Full-text search supports SQLite and PostgreSQL, not {connection.vendor}."
    )


def matching_query(query: str, *, row_by_row: bool = False) -> Q:
    """`matching`, given the terms as index_query wrote them: the query is a parameter as
    it is, so a statement compiled once can take any terms' (queries.py)."""
    if connection.vendor == "sqlite":
        matches = RawSQL("SELECT rowid FROM search_index WHERE search_index MATCH %s", (query,))
        message_id = Unindexed(F("message_id")) if row_by_row else F("message_id")
        return Q(In(message_id, matches))
    if connection.vendor == "postgresql":
        return Q(_TsvectorMatches(query))
    raise NotSupportedError(
        f"Full-text search supports SQLite and PostgreSQL, not {connection.vendor}."
    )


def token_pattern(term: Term) -> str:
    """What a term is looked for as in space-separated tokens with a space added at both
    ends: " " + its tokens, and for a phrase a space after (a word's last token is a
    beginning)."""
    return " " + " ".join(term.tokens) + ("" if term.is_prefix else " ")


def containing(terms: Sequence[Term]) -> Q:
    """The same match as `matching`, read from each document's own tokens instead of the
    text index, for walking a person's newest messages one by one (queries.py): each
    term's token_pattern looked for in the tokens with a space added at both ends. FTS5
    asked about one row at a time would build a prefix's whole match list again for every
    row (20 ms each for "delivery" among a million messages); this costs microseconds a
    row."""
    return containing_patterns([token_pattern(term) for term in terms])


def containing_patterns(patterns: Sequence[str]) -> Q:
    """`containing`, given the terms' token_patterns (each a parameter as it is)."""
    padded = Concat(Value(" "), "tokens", Value(" "), output_field=TextField())
    condition = Q()
    for pattern in patterns:
        # instr() on SQLite, strpos() on PostgreSQL: exact, where LIKE would read `_` and
        # `%` as wildcards and, on SQLite, ignore ASCII case.
        condition &= Q(GreaterThan(StrIndex(padded, Value(pattern)), 0))
    return condition


def counted_matches(terms: Sequence[Term], up_to: int) -> int:
    """How many documents the text index finds (SQLite), counting no further than `up_to`.
    A rare word costs nothing; a common prefix costs what FTS5 takes to merge its match
    list (17 ms for "delivery" among a million messages)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM (SELECT rowid FROM search_index WHERE search_index MATCH %s"
            " LIMIT %s)",
            [fts5_query(terms), up_to],
        )
        row = cursor.fetchone()
    return int(row[0])


def known_words(words: Sequence[str], *, prefix: bool = False) -> set[str]:
    """Which of these words the text indexes have, in anyone's message or broadcast
    (spelling.py): as whole tokens, or with `prefix` as the beginning of one. One
    statement, an index probe a word and index; the words are folded tokens (letters and
    digits), nothing to escape."""
    if not words:
        return set()
    suffix = ":*" if prefix else ""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                "SELECT word.value FROM json_each(%s) AS word WHERE EXISTS ("
                " SELECT 1 FROM search_index"
                " WHERE search_index MATCH '\"' || word.value || '\"' || %s) OR EXISTS ("
                " SELECT 1 FROM broadcast_search_index"
                " WHERE broadcast_search_index MATCH '\"' || word.value || '\"' || %s)",
                [json.dumps(list(words)), *["*" if prefix else ""] * 2],
            )
        elif connection.vendor == "postgresql":
            cursor.execute(_KNOWN_WORDS_POSTGRESQL, [suffix, list(words), prefix, NEWEST_SAMPLE])
        else:
            raise NotSupportedError(
                f"Full-text search supports SQLite and PostgreSQL, not {connection.vendor}."
            )
        return {str(row[0]) for row in cursor.fetchall()}


# How many of the newest search documents a common word is looked for in first.
NEWEST_SAMPLE = 1000

# Which words a text index has, on PostgreSQL (known_words). A GIN index answers "is this
# word anywhere?" only by building the word's whole match list: 0.3 ms for a word nobody
# wrote, 290 ms for "delivery" (in 450,000 of a million documents), which a misspelling's
# neighbours often include ("deliery"). So a word the planner's statistics count among the
# column's most common elements (pg_stats.most_common_elems; for a prefix, one they begin)
# is first looked for in the NEWEST_SAMPLE newest documents, a read that stops at the first
# match (a few rows for such a word); only the words not found there probe the index. The
# statistics only choose the road: a word missing from them, or from the sample, is looked
# up in the index, so the answer is the index's either way. The CASE keeps the sample's scan
# to those words; the index's probes are semi-joins (as EXISTS … OR EXISTS … subplans, the
# planner scanned every document for every word).
_KNOWN_WORDS_POSTGRESQL = """
WITH word AS (
    SELECT word, (quote_literal(word) || %s)::tsquery AS query FROM unnest(%s::text[]) AS word
), common AS (
    SELECT unnest(most_common_elems::text::text[]) AS lexeme FROM pg_stats
    WHERE schemaname = current_schema() AND tablename = 'search_searchdocument'
        AND attname = 'vector'
), in_newest AS MATERIALIZED (
    SELECT word.word FROM word WHERE CASE
        WHEN EXISTS (
            SELECT 1 FROM common WHERE common.lexeme = word.word
                OR (%s AND starts_with(common.lexeme, word.word))
        ) THEN EXISTS (
            SELECT 1 FROM (
                SELECT vector FROM search_searchdocument ORDER BY message_id DESC LIMIT %s
            ) newest WHERE newest.vector @@ word.query
        )
        ELSE false END
)
SELECT word FROM in_newest
UNION SELECT word.word FROM word WHERE word.word NOT IN (SELECT word FROM in_newest)
    AND EXISTS (SELECT 1 FROM search_searchdocument d WHERE d.vector @@ word.query)
UNION SELECT word.word FROM word
    WHERE EXISTS (SELECT 1 FROM search_broadcastdocument b WHERE b.vector @@ word.query)
"""


def broadcast_matching_sql(terms: Sequence[Term], document: str) -> tuple[str, list[str]]:
    """A WHERE condition: the broadcast document `document` (an alias of
    search_broadcastdocument) matches every term, by its text index — FTS5's matches on
    SQLite (a short list: one document per broadcast), the GIN-indexed vector on
    PostgreSQL."""
    if connection.vendor == "sqlite":
        return (
            f"{document}.broadcast_id IN (SELECT rowid FROM broadcast_search_index"
            " WHERE broadcast_search_index MATCH %s)",
            [fts5_query(terms)],
        )
    if connection.vendor == "postgresql":
        return f"{document}.vector @@ %s::tsquery", [tsquery(terms)]
    raise NotSupportedError(
        f"Full-text search supports SQLite and PostgreSQL, not {connection.vendor}."
    )


def position_of_sql() -> str:
    """The function giving where a text occurs in another (1-based, 0 when it does not):
    exact on both databases, where LIKE reads `_` and `%` as wildcards."""
    return "instr" if connection.vendor == "sqlite" else "strpos"


class Unindexed(Func):
    """`+column` (SQLite's documented way to steer a plan): the same value, but not an
    index key, so the planner cannot start from an index on that column."""

    template = "+%(expressions)s"


class _TsvectorMatches(Expression):
    """`vector @@ query` on the generated column, which the model does not know about."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, query: str) -> None:
        super().__init__()
        self.query = query

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[str | int, ...]]:
        document = compiler.quote_name(compiler.query.get_initial_alias())
        return f"{document}.vector @@ %s::tsquery", (self.query,)


def optimize_index() -> None:
    """After a rebuild: FTS5 merges the index's segments into one. PostgreSQL's GIN index
    needs nothing (autovacuum cleans its pending list)."""
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("INSERT INTO search_index (search_index) VALUES ('optimize')")
            cursor.execute(
                "INSERT INTO broadcast_search_index (broadcast_search_index) VALUES ('optimize')"
            )


@contextmanager
def planned_for_its_values() -> Iterator[None]:
    """Run the queries inside unprepared on PostgreSQL. The project lets psycopg prepare
    statements that run often (settings: `prepare_threshold`), and PostgreSQL may then
    reuse one generic plan whatever the values; for a search the values decide the plan (a
    rare word wants the text index, a common one does not): a generic plan turned 55 ms
    searches into 1 s ones (docs/benchmarks.md). With an index probe priced as what it
    costs here (db/plans.py): at the default price the planner joined a rare word's few
    matches to a big mailbox by reading all of it (150 ms at 10M messages, against 5)."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    previous = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        with plans.index_probes_priced_as_reads_from_memory():
            yield
    finally:
        raw.prepare_threshold = previous
