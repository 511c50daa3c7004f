"""Reads of the safety app, always starting from the person asking."""

from django.db.models import Count, Q

from messagecenter.accounts.models import User
from messagecenter.conversations import topics
from messagecenter.conversations.models import Kind, Message, Participant
from messagecenter.conversations.queries import access_conversation, visible_conversations
from messagecenter.rows import unique_row
from messagecenter.safety.models import Block, HeldMessage, SendingCount


def blocked_in_conversation(user: User, participant: Participant) -> Block | None:
    """The person's block of the other side of one of their buyer–seller conversations —
    the shop's seller for its buyer, the buyer for the shop's seller — or None (one query:
    "Unblock" on the conversation page)."""
    conversation = participant.conversation
    blocks = Block.objects.filter(blocker=user)
    if conversation.buyer_id == user.pk:
        if conversation.storefront_id is None:
            return None
        blocks = blocks.filter(blocked__storefront__id=conversation.storefront_id)
    else:
        blocks = blocks.filter(blocked_id=conversation.buyer_id)
    return unique_row(blocks.only("pk"))


def blocks_of(user: User) -> list[Block]:
    return list(
        Block.objects.filter(blocker=user)
        .select_related("blocked__storefront")
        .order_by("-created_at", "-pk")
    )


def where_blocking_works(user: User, claim_conversation_id: int) -> int | None:
    """The person's conversation about a guarantee claim's order with the other side of
    the claim (buyer and shop), where a block works and the claim's conversation refuses
    one (`cannot_block_in_claim`); None when there is none they can see (never written,
    or deleted)."""
    conversation = access_conversation(user, claim_conversation_id).conversation
    order_id, storefront_id = conversation.order_id, conversation.storefront_id
    if conversation.kind != Kind.CLAIM or order_id is None or storefront_id is None:
        return None
    key = topics.order_with_seller(order_id, storefront_id)
    found = (
        visible_conversations(user)
        .filter(conversation__topic_key=key, conversation__kind=Kind.BUYER_SELLER)
        .values_list("conversation_id", flat=True)[:1]
    )
    return found[0] if found else None


def sender_record(sender: User) -> dict[str, int | bool]:
    """What the safety app knows of a person, for customer service reviewing a report of
    them (docs/safety.md#reports): their messages the check warned about, those it held,
    how many people blocked them, and whether they are restricted or suspended."""
    held = HeldMessage.objects.filter(sender=sender).aggregate(
        held=Count("pk"),
        waiting=Count("pk", filter=Q(status=HeldMessage.Status.HELD)),
        rejected=Count("pk", filter=Q(status=HeldMessage.Status.REJECTED)),
    )
    restricted = SendingCount.objects.filter(user=sender, restricted_at__isnull=False).exists()
    return {
        "warned_messages": Message.objects.filter(sender=sender, safety_verdict="warn").count(),
        "held_messages": held["held"],
        "waiting_messages": held["waiting"],
        "rejected_messages": held["rejected"],
        "blocked_by": Block.objects.filter(blocked=sender).count(),
        "restricted": restricted,
        "suspended": not sender.is_active,
    }
