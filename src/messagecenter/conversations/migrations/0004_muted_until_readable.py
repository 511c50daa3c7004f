import datetime
from typing import Any

from django.conf import settings
from django.db import migrations, models

# conversations.models.MUTED_INDEFINITELY, as it was when this migration was written.
MUTED_INDEFINITELY = datetime.datetime(9999, 12, 31, 0, 0, tzinfo=datetime.UTC)


def repair_unreadable_mutes(apps: Any, schema_editor: Any) -> None:
    """A mute stored past the end of Python's time (PostgreSQL accepted "until
    9999-12-31T23:59:59-14:00", the year 10000 in UTC) becomes "until unmuted", which it
    meant; filtered and set in SQL, since such a value cannot be read."""
    participant = apps.get_model("conversations", "Participant")
    participant.objects.filter(muted_until__gt=MUTED_INDEFINITELY).update(
        muted_until=MUTED_INDEFINITELY
    )


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0003_message_safety_verdict"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RunPython(repair_unreadable_mutes, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="participant",
            constraint=models.CheckConstraint(
                condition=models.Q(("muted_until__lte", MUTED_INDEFINITELY)),
                name="participant_muted_until_readable",
            ),
        ),
    ]
