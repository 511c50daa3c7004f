"""Reads of the safety app, always starting from the person asking."""

from django.db.models import Count, Q

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Message
from messagecenter.safety.models import Block, HeldMessage, SendingCount


def blocks_of(user: User) -> list[Block]:
    return list(
        Block.objects.filter(blocker=user)
        .select_related("blocked__storefront")
        .order_by("-created_at", "-pk")
    )


def sender_record(sender: User) -> dict[str, int | bool]:
    """What the safety app knows of a person, for customer service reviewing a report of
    them (docs/safety.md#reports): their messages the check warned about, those it held,
    how many people blocked them, and whether they are restricted or suspended."""
    held = HeldMessage.objects.filter(sender=sender).aggregate(
        held=Count("pk"), rejected=Count("pk", filter=Q(status=HeldMessage.Status.REJECTED))
    )
    restricted = SendingCount.objects.filter(user=sender, restricted_at__isnull=False).exists()
    return {
        "warned_messages": Message.objects.filter(sender=sender, safety_verdict="warn").count(),
        "held_messages": held["held"],
        "rejected_messages": held["rejected"],
        "blocked_by": Block.objects.filter(blocked=sender).count(),
        "restricted": restricted,
        "suspended": not sender.is_active,
    }
