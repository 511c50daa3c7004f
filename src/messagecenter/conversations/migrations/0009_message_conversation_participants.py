# Message.conversation_participants: a relation with no column. Recorded in the migrations'
# state only: the schema is unchanged, and SQLite would otherwise copy the whole message
# table to "add" it (its schema editor rebuilds a table for any field it cannot ALTER in).

import django.db.models.deletion
from django.db import migrations

import messagecenter.conversations.models


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0008_reports_hide_messages"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddField(
                    model_name="message",
                    name="conversation_participants",
                    field=messagecenter.conversations.models._JoinedOnConversation(
                        from_fields=["conversation"],
                        on_delete=django.db.models.deletion.DO_NOTHING,
                        related_name="+",
                        to="conversations.participant",
                        to_fields=["conversation"],
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
