"""Promotions in the Message Center moved from a Preference row to the user row
(accounts.User.shows_promotions, delivery/preferences.py ON_USER_ROW): the people who had
switched them off keep them off."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

CHOICE = {"category": "promotions", "channel": "message_center"}


def to_user_row(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Preference = apps.get_model("delivery", "Preference")
    User = apps.get_model("accounts", "User")
    off = Preference.objects.filter(**CHOICE, is_enabled=False).values("user_id")
    User.objects.filter(pk__in=off).update(shows_promotions=False)
    Preference.objects.filter(**CHOICE).delete()


def to_preference(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    Preference = apps.get_model("delivery", "Preference")
    User = apps.get_model("accounts", "User")
    from django.utils import timezone

    now = timezone.now()
    Preference.objects.bulk_create(
        Preference(user_id=pk, is_enabled=False, updated_at=now, **CHOICE)
        for pk in User.objects.filter(shows_promotions=False).values_list("pk", flat=True)
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0006_user_shows_promotions"),
        ("delivery", "0005_alter_email_kind"),
    ]

    operations = [migrations.RunPython(to_user_row, to_preference)]
