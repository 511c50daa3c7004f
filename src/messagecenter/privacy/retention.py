"""How long Message Center keeps messages, per kind (docs/privacy.md#how-long-we-keep-messages):
the operator's rules from settings, read by the page and the API that tell people, and by
the worker's purge (retention_actions.py)."""

from dataclasses import dataclass

from django.conf import settings

from messagecenter.conversations.models import Kind
from messagecenter.notifications.models import BroadcastKind


@dataclass(frozen=True)
class RetentionRule:
    # Stable name, also the API's: promotions, notices, buyer_seller, customer_service.
    kind: str
    label: str
    # What "its age" is counted from, for people reading the rule.
    counted_from: str
    # None: kept until the person deletes it (Trash) or their account is erased.
    days: int | None
    conversation_kinds: tuple[str, ...]
    broadcast_kind: str | None


def retention_rules() -> list[RetentionRule]:
    """The rules in force (settings are read on every call, so tests can change them)."""
    return [
        RetentionRule(
            "promotions",
            "Promotions",
            "sent, or from when the offer ended",
            settings.RETENTION_PROMOTIONS_DAYS,
            (Kind.PROMOTION,),
            BroadcastKind.PROMOTION,
        ),
        RetentionRule(
            "notices",
            "Notices (account notices, membership, important notices)",
            "sent, or from when the notice ended",
            settings.RETENTION_NOTICES_DAYS,
            (Kind.NOTICE, Kind.MEMBERSHIP),
            BroadcastKind.NOTICE,
        ),
        RetentionRule(
            "buyer_seller",
            "Buyer/Seller messages",
            "the conversation's last message",
            settings.RETENTION_BUYER_SELLER_DAYS,
            (Kind.BUYER_SELLER,),
            None,
        ),
        RetentionRule(
            "customer_service",
            "Customer service",
            "the conversation's last message",
            settings.RETENTION_CUSTOMER_SERVICE_DAYS,
            (Kind.CUSTOMER_SERVICE,),
            None,
        ),
    ]
