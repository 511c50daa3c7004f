from django.core.management.base import CommandError
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import Count
from django.db.models.functions import Upper


def refuse_shared_addresses(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
    """Accounts that share an address (without case) from before the constraint: the
    migration stops, naming them, and changes nothing. Which account keeps the address is
    for the operator to decide (docs/operations.md, "Upgrading"): a migration that chose
    would take an address, and with it the password reset, from a person who may be its
    owner. The addresses themselves are not printed: deployment logs are no place for them."""
    user = apps.get_model("accounts", "User")
    with_address = user.objects.exclude(email="").annotate(address=Upper("email"))
    shared = (
        with_address.values("address")
        .annotate(accounts=Count("pk"))
        .filter(accounts__gt=1)
        .values_list("address", flat=True)
        .order_by("address")
    )
    groups = [
        ", ".join(
            f"{username} (id {pk})"
            for pk, username in with_address.filter(address=address)
            .order_by("pk")
            .values_list("pk", "username")
        )
        for address in shared
    ]
    if groups:
        raise CommandError(
            "Some accounts share an e-mail address (compared without case), and from now on "
            "an address belongs to one account. Give each of these but one another address "
            "(or none) in the admin, then migrate again:\n"
            + "\n".join(f"  - {group}" for group in groups)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0007_passkey"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [
        migrations.RunPython(refuse_shared_addresses, migrations.RunPython.noop),
        migrations.AddConstraint(
            model_name="user",
            constraint=models.UniqueConstraint(
                Upper("email"),
                condition=~models.Q(email=""),
                name="accounts_user_email_unique",
                violation_error_code="email_in_use",
                violation_error_message="This address already belongs to another account.",
            ),
        ),
    ]
