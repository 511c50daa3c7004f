"""The messages from the marketplace that its events and its returns become: which
conversation each goes to, and how times and orders read in them. Topic keys
(conversations/topics.py): the buyer's updates and returns of one order each share one
conversation; a seller's notes about the order are that seller's own conversation."""

from datetime import date, datetime
from typing import Any

from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.accounts.time_zones import zone_of
from messagecenter.conversations import topics
from messagecenter.conversations.actions import send_marketplace_message
from messagecenter.conversations.models import Kind, Message
from messagecenter.delivery.links import absolute
from messagecenter.marketplace.models import Order, OrderItem, Storefront
from messagecenter.web import dates


def order_update(order: Order, text: str, titles: list[str] | None = None) -> tuple[User, Message]:
    message = send_marketplace_message(
        order.buyer,
        kind=Kind.ORDER_UPDATES,
        # As the demo names them: people know their orders by what is in them.
        subject=f"Your order of {what_was_ordered(order, titles)}",
        body=f"{text}\n\nOrder details: {order_path(order)}",
        topic_key=topics.order_updates(order.pk),
        order=order,
    )
    return order.buyer, message


def returns_update(
    order: Order, text: str, titles: list[str] | None = None
) -> tuple[User, Message]:
    message = send_marketplace_message(
        order.buyer,
        kind=Kind.RETURNS,
        subject=f"Returns and refunds: {what_was_ordered(order, titles)}",
        body=f"{text}\n\nReturn and refund status: {order_path(order)}",
        topic_key=topics.order_returns(order.pk),
        order=order,
    )
    return order.buyer, message


def to_seller(
    order: Order, storefront: Storefront, kind: str, topic: str, subject: str, text: str
) -> tuple[User, Message]:
    message = send_marketplace_message(
        storefront.seller,
        kind=kind,
        subject=subject,
        body=text,
        topic_key=topics.order_notice_to_seller(order.pk, storefront.pk, topic),
        order=order,
    )
    return storefront.seller, message


def membership_update(user: User, subject: str, text: str) -> tuple[User, Message]:
    message = send_marketplace_message(
        user, kind=Kind.MEMBERSHIP, subject=subject, body=text, topic_key=topics.membership(user.pk)
    )
    return user, message


def storefronts_of(items: Any) -> list[Storefront]:
    """Each seller on the order once, in the order of the items."""
    seen: dict[int, Storefront] = {}
    for item in items:
        seen.setdefault(item.storefront_id, item.storefront)
    return list(seen.values())


def what_was_ordered(order: Order, titles: list[str] | None = None) -> str:
    """ "Espresso machine", or "Espresso machine and 2 more items"."""
    if titles is None:
        titles = list(
            OrderItem.objects.filter(order=order).order_by("id").values_list("title", flat=True)
        )
    if not titles:
        return f"#{order.number}"
    others = len(titles) - 1
    more = f" and {others} more item{'s' if others > 1 else ''}" if others else ""
    return f"{titles[0]}{more}"


def order_path(order: Order) -> str:
    """Absolute: the same text goes out by e-mail (docs/email.md)."""
    return absolute(reverse("order", args=[order.number]))


def when(moment: datetime, reader: User | None = None) -> str:
    """ "Mon 3 Nov 2025, 2:05 PM CET": as an e-mail says it (web/dates.py email_time, the
    zone named: the text goes out by e-mail too, read away from the site), in the reader's
    own time zone (accounts/time_zones.py); without a reader, in the zone active now (a
    page's: its reader's)."""
    if reader is None:
        return dates.email_time(moment)
    with timezone.override(zone_of(reader)):
        return dates.email_time(moment)


def day(moment: datetime | date, reader: User | None = None) -> str:
    """ "3 Nov 2025" (web/dates.py day): a datetime on the reader's calendar, a date as it
    is."""
    if reader is None or not isinstance(moment, datetime):
        return dates.day(moment)
    with timezone.override(zone_of(reader)):
        return dates.day(moment)
