"""Broadcasts (important notices, promotions) are searchable: a document per broadcast
(search.models.BroadcastDocument) and its full-text index, built like the messages' one
(0002) — FTS5 `broadcast_search_index` with triggers on SQLite, a generated tsvector column
with a GIN index on PostgreSQL (reusing 0002's search_document_vector) — and the documents
of the broadcasts that already exist."""

import django.db.models.deletion
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.utils import NotSupportedError

SQLITE = (
    """
    CREATE VIRTUAL TABLE broadcast_search_index USING fts5(
        tokens,
        content='search_broadcastdocument',
        content_rowid='broadcast_id',
        tokenize='ascii',
        prefix='2 3'
    )
    """,
    """
    CREATE TRIGGER broadcast_document_inserted AFTER INSERT ON search_broadcastdocument BEGIN
        INSERT INTO broadcast_search_index (rowid, tokens) VALUES (new.broadcast_id, new.tokens);
    END
    """,
    """
    CREATE TRIGGER broadcast_document_deleted AFTER DELETE ON search_broadcastdocument BEGIN
        INSERT INTO broadcast_search_index (broadcast_search_index, rowid, tokens)
        VALUES ('delete', old.broadcast_id, old.tokens);
    END
    """,
    """
    CREATE TRIGGER broadcast_document_updated AFTER UPDATE ON search_broadcastdocument BEGIN
        INSERT INTO broadcast_search_index (broadcast_search_index, rowid, tokens)
        VALUES ('delete', old.broadcast_id, old.tokens);
        INSERT INTO broadcast_search_index (rowid, tokens) VALUES (new.broadcast_id, new.tokens);
    END
    """,
)

SQLITE_REVERSE = (
    "DROP TRIGGER broadcast_document_updated",
    "DROP TRIGGER broadcast_document_deleted",
    "DROP TRIGGER broadcast_document_inserted",
    "DROP TABLE broadcast_search_index",
)

POSTGRESQL = (
    """
    ALTER TABLE search_broadcastdocument
    ADD COLUMN vector tsvector GENERATED ALWAYS AS (search_document_vector(tokens)) STORED
    """,
    "CREATE INDEX broadcast_document_vector ON search_broadcastdocument USING gin (vector)",
)

POSTGRESQL_REVERSE = (
    "DROP INDEX broadcast_document_vector",
    "ALTER TABLE search_broadcastdocument DROP COLUMN vector",
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


def index_existing_broadcasts(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    # The same document as search.actions.index_broadcast writes (the triggers or the
    # generated column index it).
    from messagecenter.search.actions import broadcast_document

    Broadcast = apps.get_model("notifications", "Broadcast")
    BroadcastDocument = apps.get_model("search", "BroadcastDocument")
    BroadcastDocument.objects.bulk_create(
        BroadcastDocument(**broadcast_document(pk, subject, body))
        for pk, subject, body in Broadcast.objects.order_by("pk")
        .values_list("pk", "subject", "body")
        .iterator()
    )


class Migration(migrations.Migration):
    dependencies = [
        ("notifications", "0001_initial"),
        ("search", "0003_mailbox"),
    ]

    operations = [
        migrations.CreateModel(
            name="BroadcastDocument",
            fields=[
                (
                    "broadcast",
                    models.OneToOneField(
                        on_delete=django.db.models.deletion.CASCADE,
                        primary_key=True,
                        related_name="+",
                        serialize=False,
                        to="notifications.broadcast",
                    ),
                ),
                ("tokens", models.TextField()),
                ("subject_tokens", models.TextField()),
            ],
        ),
        migrations.RunPython(create_index, drop_index),
        migrations.RunPython(index_existing_broadcasts, migrations.RunPython.noop),
    ]
