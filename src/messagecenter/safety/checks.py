"""The safety check as the send path sees it (registered in apps.py into
conversations.send_checks): buyer↔seller messages get a verdict; a hold is kept for review."""

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.conversations.models import Conversation, Kind
from messagecenter.conversations.send_checks import SendDecision
from messagecenter.errors import NotAllowed
from messagecenter.rows import CompiledQuery, CompiledRows
from messagecenter.safety import vocabulary_cache
from messagecenter.safety.detector import Sender, SenderRole, check
from messagecenter.safety.models import Block, HeldMessage

# Customer service and the marketplace's own messages are not people writing to each
# other: agents must be able to ask for a phone number.
CHECKED_KINDS = (Kind.BUYER_SELLER,)


def check_before_sending(sender: User, kind: str, body: str) -> SendDecision:
    if kind not in CHECKED_KINDS or sender.role not in (Role.BUYER, Role.SELLER):
        return SendDecision(body)
    if settings.SAFETY_DETECTOR == "off":
        # Only a benchmark measuring the check's cost runs without it (settings.py).
        return SendDecision(body)
    role: SenderRole = "seller" if sender.role == Role.SELLER else "buyer"
    verdict = check(body, Sender(sender.public_name, role), vocabulary_cache.current())
    return SendDecision(
        body=verdict.masked_body if verdict.masked_body is not None else body,
        verdict=verdict.level,
        reasons=[reason.as_dict() for reason in verdict.reasons],
        is_masked=verdict.is_masked,
        version=verdict.version,
    )


def record_held(
    sender: User,
    held_as: dict[str, Any],
    body: str,
    decision: SendDecision,
    idempotency_key: str | None,
) -> None:
    try:
        with transaction.atomic():
            HeldMessage.objects.create(
                sender=sender,
                held_as=held_as,
                body=body,
                reasons=decision.reasons,
                safety_version=decision.version,
                idempotency_key=idempotency_key,
                created_at=timezone.now(),
            )
    except IntegrityError:
        # A retry with the same idempotency key: it is already waiting.
        if idempotency_key is None:
            raise


def check_recipients(
    sender: User,
    conversation: Conversation,
    recipient_ids: list[int],
    blocks: frozenset[tuple[int, int]] | None = None,
) -> list[dict[str, str]]:
    """A person who blocked the sender does not get the message, except a seller's message
    about the person's own order, which arrives marked (docs/safety.md#blocking).
    `blocks`: (blocker, blocked) among the people of the send's batch (`blocks_among`);
    read here when None."""
    if conversation.kind != Kind.BUYER_SELLER or sender.role not in (Role.BUYER, Role.SELLER):
        return []
    if not recipient_ids:
        return []
    if blocks is not None:
        blocked = any((recipient, sender.pk) in blocks for recipient in recipient_ids)
    else:
        blocked = bool(_BLOCKED_BY(sender.pk, *recipient_ids, shape=len(recipient_ids)))
    if not blocked:
        return []
    if conversation.order is not None and sender.role == Role.SELLER:
        return [
            {
                "category": "blocked",
                "code": "from_blocked_sender",
                "text": f"You blocked {sender.public_name}. This message still reached you "
                f"because it is about your order {conversation.order.number}.",
            }
        ]
    raise NotAllowed(
        f"{_counterpart_word(sender)} does not accept messages from you any more, so this "
        "message was not delivered.",
        code="blocked",
    )


# On every send: compiled once per process and number of recipients (rows.CompiledQuery).
_BLOCKED_BY = CompiledQuery(
    lambda blocked_id, *recipient_ids, shape: Block.objects.filter(
        blocker_id__in=recipient_ids, blocked_id=blocked_id
    ).only("id")[:1]
)


def blocks_among(people: list[int]) -> frozenset[tuple[int, int]]:
    """(blocker, blocked) for every block between two of these people: what
    `check_recipients` reads for each send of a batch, read once for the batch."""
    return frozenset(_BLOCKS_AMONG(*people, *people, shape=len(people)))


_BLOCKS_AMONG = CompiledRows(
    lambda *people, shape: Block.objects.filter(
        blocker_id__in=people[:shape], blocked_id__in=people[shape:]
    ).values_list("blocker_id", "blocked_id")
)


def _counterpart_word(sender: User) -> str:
    return "This seller" if sender.role == Role.BUYER else "This buyer"
