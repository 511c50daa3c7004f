"""Reads for escalations and sellers' claim rate (docs/escalation.md)."""

from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet

from messagecenter.accounts.models import User
from messagecenter.conversations.hooks import SellerRate
from messagecenter.marketplace.models import Order
from messagecenter.rows import unique_row
from messagecenter.support.models import ACTIVE, Case, CaseKind


def open_escalation(user: User, conversation_id: int) -> Case | None:
    """The person's open (or pending) request about a buyer–seller conversation."""
    return unique_row(_open_escalations(conversation_id).filter(customer=user))


def open_escalation_about(conversation_id: int) -> Case | None:
    """Any open (or pending) request about a buyer–seller conversation: what its seller is
    told (the request itself, and its number, stay the buyer's)."""
    return unique_row(_open_escalations(conversation_id))


def _open_escalations(conversation_id: int) -> QuerySet[Case]:
    return Case.objects.filter(
        kind=CaseKind.REQUEST,
        about_conversation_id=conversation_id,
        status__in=ACTIVE,
        merged_into__isnull=True,
    ).order_by("-id")


def claim_rates(seller: User, now: datetime, windows_days: tuple[int, ...]) -> list[SellerRate]:
    """Per period: guarantee claims about orders with the seller's items, of the seller's
    orders placed in it (claims counted by when they were filed). Two queries."""
    if not seller.is_seller:
        return []
    longest = now - timedelta(days=max(windows_days))
    sold = Q(items__storefront__seller=seller)
    orders = Order.objects.filter(sold, placed_at__gte=longest).aggregate(
        **{
            f"orders_{days}": Count(
                "pk", distinct=True, filter=Q(placed_at__gte=now - timedelta(days=days))
            )
            for days in windows_days
        }
    )
    claims = Case.objects.filter(
        kind=CaseKind.CLAIM,
        merged_into__isnull=True,
        created_at__gte=longest,
        order__items__storefront__seller=seller,
    ).aggregate(
        **{
            f"claims_{days}": Count(
                "pk", distinct=True, filter=Q(created_at__gte=now - timedelta(days=days))
            )
            for days in windows_days
        }
    )
    return [
        SellerRate(
            days=days,
            name="Claim rate",
            count=claims[f"claims_{days}"],
            total=orders[f"orders_{days}"],
            detail="guarantee claims filed about your orders, of your orders placed in the period",
        )
        for days in windows_days
    ]
