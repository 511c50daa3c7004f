"""Reads for escalations and sellers' claim rate (docs/escalation.md)."""

from datetime import datetime, timedelta
from typing import Any

from django.db.models import Count, F, Q, QuerySet

from messagecenter.accounts.models import User
from messagecenter.conversations.hooks import SellerRate
from messagecenter.conversations.models import Conversation, Kind
from messagecenter.errors import NotFound
from messagecenter.marketplace.models import Order
from messagecenter.rows import parse_id, unique_row
from messagecenter.support.models import ACTIVE, Case, CaseKind


def open_escalation(user: User, conversation_id: int) -> Case | None:
    """The person's open (or pending) request about a buyer–seller conversation."""
    return unique_row(_open_escalations(conversation_id).filter(customer=user))


def open_escalation_about(conversation_id: int) -> Case | None:
    """Any open (or pending) request about a buyer–seller conversation: what its seller is
    told (the request itself, and its number, stay the buyer's)."""
    return unique_row(_open_escalations(conversation_id))


def latest_escalation_about(conversation_id: int) -> Case | None:
    """The latest request about a buyer–seller conversation, whatever its status (not a
    merged duplicate): where an agent in that conversation writes from."""
    return unique_row(
        Case.objects.filter(
            _BY_THE_BUYER,
            kind=CaseKind.REQUEST,
            about_conversation_id=conversation_id,
            merged_into__isnull=True,
        ).order_by("-id")[:1]
    )


def is_escalation(case: Case) -> bool:
    """A request about one of its customer's buyer–seller conversations ("Ask customer
    service to help"): its agents may write in that conversation."""
    conversation = case.about_conversation
    return (
        case.kind == CaseKind.REQUEST
        and conversation is not None
        and conversation.kind == Kind.BUYER_SELLER
        and conversation.buyer_id == case.customer_id
    )


def escalated_conversation(case: Case, conversation_id: Any) -> Conversation:
    """The buyer–seller conversation an agent may write in from this case: the one the
    request is about, and no other (any other id, or a case that is no such request, is
    the same 404 as a missing conversation)."""
    number = parse_id(conversation_id, code="conversation_not_found")
    if number != case.about_conversation_id or not is_escalation(case):
        raise NotFound("No such conversation.", code="conversation_not_found")
    conversation = case.about_conversation
    assert conversation is not None
    return conversation


# A request for help is the conversation's buyer's (is_escalation): the seller may open a
# request about the same conversation too, which is no request for help — counted as one,
# it read as "the buyer has asked again" and kept the agent from writing there.
_BY_THE_BUYER = Q(customer_id=F("about_conversation__buyer_id"))


def _open_escalations(conversation_id: int) -> QuerySet[Case]:
    return Case.objects.filter(
        _BY_THE_BUYER,
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
