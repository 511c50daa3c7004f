"""The blocks made before a block set the seller's waits aside (docs/safety.md#blocking):
written on the rows of the buyer–seller conversations between the two people, as
safety.actions.block now writes them, and the waits there set aside — their deadlines and
overdue marks cleared, so the sweep posts no "No answer yet" and no late response counts
for a wait the seller could not end. `awaiting_response_since` stays for the unblock,
which brings the wait back with a new deadline. No events: nobody has a page open on a
migration's data."""

from django.db import migrations
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps
from django.db.models import Q


def write_blocks(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor | None) -> None:
    Block = apps.get_model("safety", "Block")
    Participant = apps.get_model("conversations", "Participant")
    pairs = Block.objects.values_list("blocker_id", "blocked_id").order_by("id")
    for blocker_id, blocked_id in pairs.iterator():
        between = Q(
            conversation__buyer_id=blocker_id, conversation__storefront__seller_id=blocked_id
        ) | Q(conversation__buyer_id=blocked_id, conversation__storefront__seller_id=blocker_id)
        rows = Participant.objects.filter(
            between, conversation__kind="buyer_seller", role__in=("buyer", "seller")
        )
        rows.filter(user_id=blocker_id).update(has_blocked_other_side=True)
        rows.filter(user_id=blocked_id).update(is_blocked_by_other_side=True)
        rows.filter(role="seller", user_id__in=(blocker_id, blocked_id)).update(
            response_due_at=None, is_response_overdue=False
        )


class Migration(migrations.Migration):
    dependencies = [
        ("conversations", "0013_block_sets_aside_waits"),
        ("safety", "0004_vocabulary"),
    ]

    operations = [migrations.RunPython(write_blocks, migrations.RunPython.noop)]
