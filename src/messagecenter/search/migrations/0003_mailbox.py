"""Each person's mailbox, newest first (search.models.MailboxMessage), filled for the
messages that already exist: one row per message and per participant of its conversation
(every participant, whatever their box: visibility is read from Participant at search
time). On a database with a million messages this takes 10–20 seconds.

On PostgreSQL the table is never scanned in parallel: a search walks a few dozen rows of
one person's index and stops, and the planner, expecting to read far more, would start
workers for it (40 ms instead of 3 for "delivery" as the biggest seller)."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

FILL = """
    INSERT INTO search_mailboxmessage (message_id, user_id, created_at)
    SELECT message.id, participant.user_id, message.created_at
    FROM conversations_message AS message
    JOIN conversations_participant AS participant
        ON participant.conversation_id = message.conversation_id
"""




def tune_for_postgresql(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("ALTER TABLE search_mailboxmessage SET (parallel_workers = 0)")
        # Statistics now, not at autovacuum's next pass: the planner needs them to choose
        # between walking the mailbox and the text index.
        schema_editor.execute("ANALYZE search_mailboxmessage")


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0002_seen_response_times_saved_replies"),
        ("search", "0002_full_text_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="MailboxMessage",
            fields=[
                (
                    "pk",
                    models.CompositePrimaryKey(
                        "message_id",
                        "user_id",
                        blank=True,
                        editable=False,
                        primary_key=True,
                        serialize=False,
                    ),
                ),
                ("created_at", models.DateTimeField()),
                (
                    "message",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="mailbox_entries",
                        to="conversations.message",
                    ),
                ),
                (
                    "user",
                    models.ForeignKey(
                        db_index=False,
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(
                        fields=["user", "-created_at", "-message"], name="mailbox_newest_first"
                    )
                ],
            },
        ),
        migrations.RunSQL(FILL, reverse_sql=migrations.RunSQL.noop),
        migrations.RunPython(tune_for_postgresql, migrations.RunPython.noop),
    ]
