"""The two full-text indexes behind one condition (docs/search.md): FTS5 on SQLite, a
tsvector on PostgreSQL. Both are handed the same tokens and the same terms, written in
each one's query language here; no text typed by a person reaches either as syntax."""

from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from django.db import connection
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.models import BooleanField, Expression, Q
from django.db.models.sql.compiler import SQLCompiler
from django.db.utils import NotSupportedError

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


def matching(terms: Sequence[Term]) -> Q:
    """The search documents (the query's base table) that match every term."""
    if connection.vendor == "sqlite":
        return Q(_Fts5Matches(fts5_query(terms)))
    if connection.vendor == "postgresql":
        return Q(_TsvectorMatches(tsquery(terms)))
    raise NotSupportedError(
        f"Full-text search supports SQLite and PostgreSQL, not {connection.vendor}."
    )


class _Fts5Matches(Expression):
    """`+message_id IN (the FTS5 matches)`. The unary plus keeps SQLite from using the match
    list as an index key on messages: it would otherwise probe (conversation, id) for every
    match in every one of the person's conversations — for a common word and a seller with
    25,000 conversations, 25,000 × 300,000 probes (minutes; docs/benchmarks.md). With it,
    the person's own messages are read once and each is checked against the list."""

    output_field = BooleanField()
    conditional = True

    def __init__(self, query: str) -> None:
        super().__init__()
        self.query = query

    def as_sql(
        self, compiler: SQLCompiler, connection: BaseDatabaseWrapper
    ) -> tuple[str, tuple[str | int, ...]]:
        document = compiler.quote_name(compiler.query.get_initial_alias())
        return (
            f"+{document}.message_id IN "
            "(SELECT rowid FROM search_index WHERE search_index MATCH %s)",
            (self.query,),
        )


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


@contextmanager
def planned_for_its_values() -> Iterator[None]:
    """Run the queries inside unprepared on PostgreSQL. The project lets psycopg prepare
    statements that run often (settings: `prepare_threshold`), and PostgreSQL may then
    reuse one generic plan whatever the values; for a search the values decide the plan (a
    rare word wants the text index, a common one does not): a generic plan turned 55 ms
    searches into 1 s ones (docs/benchmarks.md)."""
    if connection.vendor != "postgresql":
        yield
        return
    connection.ensure_connection()
    raw = connection.connection
    previous = raw.prepare_threshold
    raw.prepare_threshold = None
    try:
        yield
    finally:
        raw.prepare_threshold = previous
