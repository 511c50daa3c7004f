from django.core.management.base import CommandError
from django.db import migrations, models
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import Count
from django.db.models.functions import Lower


def refuse_titles_shared_without_case(
    apps: StateApps, schema_editor: BaseDatabaseSchemaEditor
) -> None:
    """A seller's saved replies whose titles differ only in case ("Shipping", "shipping"),
    saved before the constraint: the migration stops, naming the sellers and the replies,
    and changes nothing. Which one keeps the title (or whether one is deleted) is the
    seller's to decide (docs/operations.md, "Upgrading"): a migration that renamed or
    deleted one would change the words a seller chooses from without telling them. The
    titles themselves are not printed: they are the seller's words, and deployment logs
    are no place for them."""
    saved_reply = apps.get_model("conversations", "SavedReply")
    folded = saved_reply.objects.annotate(folded=Lower("title"))
    shared = (
        folded.values("seller", "seller__username", "folded")
        .annotate(replies=Count("pk"))
        .filter(replies__gt=1)
        .values_list("seller", "seller__username", "folded")
        .order_by("seller", "folded")
    )
    groups = [
        f"{username} (id {seller}): saved replies "
        + ", ".join(
            str(pk)
            for pk in folded.filter(seller=seller, folded=title)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        for seller, username, title in shared
    ]
    if groups:
        raise CommandError(
            "Some sellers have saved replies whose titles differ only in case, and from now "
            "on a title is one seller's once, compared without case. Rename or delete each "
            "of these but one (the seller can, on their Saved replies page), then migrate "
            "again:\n" + "\n".join(f"  - {group}" for group in groups)
        )


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0009_message_conversation_participants"),
    ]

    operations = [
        migrations.RunPython(refuse_titles_shared_without_case, migrations.RunPython.noop),
        migrations.RemoveConstraint(model_name="savedreply", name="saved_reply_unique_title"),
        migrations.AddConstraint(
            model_name="savedreply",
            constraint=models.UniqueConstraint(
                models.F("seller"),
                Lower("title"),
                name="saved_reply_unique_title_without_case",
                violation_error_code="title_taken",
                violation_error_message="You already have a saved reply with that title.",
            ),
        ),
    ]
