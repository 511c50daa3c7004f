"""The safety check as the send path sees it (registered in apps.py into
conversations.send_checks): buyer↔seller messages get a verdict; a hold is kept for review."""

from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.conversations.models import Kind
from messagecenter.conversations.send_checks import SendDecision
from messagecenter.safety.detector import Sender, SenderRole, check
from messagecenter.safety.models import HeldMessage
from messagecenter.safety.vocabulary import configured


def check_before_sending(sender: User, kind: str, body: str) -> SendDecision:
    # Customer service and the marketplace's own messages are not people writing to each
    # other: agents must be able to ask for a phone number.
    if kind != Kind.BUYER_SELLER or sender.role not in (Role.BUYER, Role.SELLER):
        return SendDecision(body)
    role: SenderRole = "seller" if sender.role == Role.SELLER else "buyer"
    verdict = check(body, Sender(sender.public_name, role), configured())
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
