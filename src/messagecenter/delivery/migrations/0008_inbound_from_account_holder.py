from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import F


def mark_the_account_holders_own(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """E-mails received before the flag: from the account holder when their From is the
    account's address (as it is now: the best there is). A refused `sender_mismatch` with
    that From named other senders too, so it stays someone else's."""
    inbound_email = apps.get_model("delivery", "InboundEmail")
    inbound_email.objects.filter(user__isnull=False, from_address__iexact=F("user__email")).exclude(
        reason_code="sender_mismatch"
    ).update(from_account_holder=True)


class Migration(migrations.Migration):
    dependencies = [
        ("delivery", "0007_email_kinds_for_address_changes"),
    ]

    operations = [
        migrations.AddField(
            model_name="inboundemail",
            name="from_account_holder",
            field=models.BooleanField(default=False),
        ),
        migrations.RunPython(mark_the_account_holders_own, migrations.RunPython.noop),
    ]
