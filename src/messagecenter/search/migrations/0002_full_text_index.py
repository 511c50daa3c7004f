"""The full-text index over SearchDocument.tokens, for the database in use (docs/search.md).

The tokens are already lowercased, folded and space-separated (search/tokens.py), so
neither database tokenizes anything:

- SQLite: an FTS5 table reading search_searchdocument (external content), with FTS5's
  `ascii` tokenizer, which splits on spaces and keeps every non-ASCII character as part of
  a token (unicode61 would split or fold some characters differently than Python does).
  Triggers keep it in step with every insert, update and delete of a document.
- PostgreSQL: a tsvector built from the tokens exactly as they are, one position each
  (not to_tsvector, whose parser depends on the database's locale), stored in a generated
  column with a GIN index.
"""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.utils import NotSupportedError

SQLITE = (
    """
    CREATE VIRTUAL TABLE search_index USING fts5(
        tokens,
        content='search_searchdocument',
        content_rowid='message_id',
        tokenize='ascii',
        prefix='2 3'
    )
    """,
    """
    CREATE TRIGGER search_document_inserted AFTER INSERT ON search_searchdocument BEGIN
        INSERT INTO search_index (rowid, tokens) VALUES (new.message_id, new.tokens);
    END
    """,
    """
    CREATE TRIGGER search_document_deleted AFTER DELETE ON search_searchdocument BEGIN
        INSERT INTO search_index (search_index, rowid, tokens)
        VALUES ('delete', old.message_id, old.tokens);
    END
    """,
    """
    CREATE TRIGGER search_document_updated AFTER UPDATE ON search_searchdocument BEGIN
        INSERT INTO search_index (search_index, rowid, tokens)
        VALUES ('delete', old.message_id, old.tokens);
        INSERT INTO search_index (rowid, tokens) VALUES (new.message_id, new.tokens);
    END
    """,
    # Documents that already exist (none on a new database).
    "INSERT INTO search_index (search_index) VALUES ('rebuild')",
)

SQLITE_REVERSE = (
    "DROP TRIGGER search_document_updated",
    "DROP TRIGGER search_document_deleted",
    "DROP TRIGGER search_document_inserted",
    "DROP TABLE search_index",
)

POSTGRESQL = (
    # Tokens contain only letters and digits (no quotes, no backslashes), so each one is a
    # plain quoted lexeme; positions count from 1 as in FTS5.
    """
    CREATE FUNCTION search_document_vector(tokens text) RETURNS tsvector
    LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
    AS $$
        SELECT coalesce(
            string_agg(quote_literal(token) || ':' || position, ' ')::tsvector,
            ''::tsvector
        )
        FROM unnest(string_to_array(tokens, ' ')) WITH ORDINALITY AS t(token, position)
        WHERE token <> ''
    $$
    """,
    """
    ALTER TABLE search_searchdocument
    ADD COLUMN vector tsvector GENERATED ALWAYS AS (search_document_vector(tokens)) STORED
    """,
    "CREATE INDEX search_document_vector ON search_searchdocument USING gin (vector)",
)

POSTGRESQL_REVERSE = (
    "DROP INDEX search_document_vector",
    "ALTER TABLE search_searchdocument DROP COLUMN vector",
    "DROP FUNCTION search_document_vector(text)",
)


def _run(schema_editor: BaseDatabaseSchemaEditor, statements: dict[str, tuple[str, ...]]) -> None:
    vendor = schema_editor.connection.vendor
    if vendor not in statements:
        raise NotSupportedError(f"Full-text search supports SQLite and PostgreSQL, not {vendor}.")
    for statement in statements[vendor]:
        schema_editor.execute(statement, params=None)


def create_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, {"sqlite": SQLITE, "postgresql": POSTGRESQL})


def drop_index(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    _run(schema_editor, {"sqlite": SQLITE_REVERSE, "postgresql": POSTGRESQL_REVERSE})


class Migration(migrations.Migration):
    dependencies = [
        ("search", "0001_initial"),
    ]

    operations = [
        migrations.RunPython(create_index, drop_index),
    ]
