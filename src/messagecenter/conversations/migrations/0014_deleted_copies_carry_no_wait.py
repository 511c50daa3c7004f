"""A buyer's message in a conversation the seller had muted, then deleted for ever, started
a wait on the seller's deleted copy, which they could neither see, answer nor dismiss
(fixed in actions/sending.py): such waits are cleared, as deleting the copy cleared them."""

from django.db import migrations


def clear_waits_on_deleted_copies(apps, schema_editor):  # type: ignore[no-untyped-def]
    Participant = apps.get_model("conversations", "Participant")
    Participant.objects.filter(box="deleted").exclude(
        awaiting_response_since=None, response_due_at=None, is_response_overdue=False
    ).update(awaiting_response_since=None, response_due_at=None, is_response_overdue=False)


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0013_block_sets_aside_waits"),
    ]

    operations = [
        migrations.RunPython(clear_waits_on_deleted_copies, migrations.RunPython.noop),
    ]
