from typing import Any

from django.db import migrations


def claim_waits_follow_the_claim(apps: Any, schema_editor: Any) -> None:
    """A claim's seller used to stop "awaiting a response" with any reply in the claim's
    conversation, and to start again with any buyer message. Now the claim alone starts
    and ends the wait (conversations/actions/claim_waits.py), so existing claims are set
    as it would have: a claim waiting for the seller's response waits since its filing
    (back in their Response needed, even if they only replied), and any other claim's
    conversation waits for nobody (a seller reply no longer clears what a buyer message
    started there)."""
    claim_model = apps.get_model("support", "Claim")
    participant_model = apps.get_model("conversations", "Participant")
    for conversation_id, stage, filed_at in claim_model.objects.filter(
        case__conversation__isnull=False
    ).values_list("case__conversation_id", "stage", "filed_at"):
        sellers = participant_model.objects.filter(conversation_id=conversation_id, role="seller")
        if stage == "seller_response":
            sellers.filter(awaiting_response_since__isnull=True).update(
                awaiting_response_since=filed_at
            )
        else:
            sellers.exclude(awaiting_response_since__isnull=True).update(
                awaiting_response_since=None, response_due_at=None, is_response_overdue=False
            )


class Migration(migrations.Migration):
    dependencies = [
        ("support", "0006_case_kind_appeal"),
        ("conversations", "0010_saved_reply_title_unique_without_case"),
    ]

    operations = [
        migrations.RunPython(claim_waits_follow_the_claim, migrations.RunPython.noop),
    ]
