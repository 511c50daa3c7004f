"""The messages from the marketplace that its events and its returns become: what an order
event's, a return's or a membership's message says (actions.py and return_actions.py
change the rows and call these), which conversation each goes to, and how times and
orders read in them. Topic keys
(conversations/topics.py): the buyer's updates and returns of one order each share one
conversation; a seller's notes about the order are that seller's own conversation."""

from collections.abc import Sequence
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
from messagecenter.marketplace.models import Order, OrderItem, ReturnRequest, Storefront
from messagecenter.marketplace.presentation import money
from messagecenter.web import dates

# --- what each order event says --------------------------------------------------------


def order_placed(
    order: Order, items: list[OrderItem], occurred_at: datetime
) -> list[tuple[User, Message]]:
    """Its confirmation to the buyer, and a note to each of its sellers."""
    buyer = order.buyer
    lines = "\n".join(
        f"• {item.quantity} × {item.title} — "
        f"{money(item.unit_price_cents * item.quantity, order.currency)} "
        f"(sold by {item.storefront.name})"
        for item in items
    )
    sent = [
        order_update(
            order,
            f"Thank you for your order #{order.number}, placed on "
            f"{when(occurred_at, buyer)}."
            f"\n\n{lines}\n\nTotal: {money(order.total_cents, order.currency)}\n\n"
            "We'll write to you here when it ships.",
            [item.title for item in items],
        )
    ]
    for storefront in storefronts_of(items):
        own = "\n".join(
            f"• {item.quantity} × {item.title}"
            for item in items
            if item.storefront_id == storefront.pk
        )
        sent.append(
            to_seller(
                order,
                storefront,
                Kind.ORDER_UPDATES,
                "updates",
                f"New order #{order.number}",
                f"{buyer.public_name} placed order #{order.number} on "
                f"{when(occurred_at, storefront.seller)}. Your items:\n\n{own}",
            )
        )
    return sent


def order_shipped(
    order: Order,
    *,
    carrier: str,
    tracking_number: str,
    tracking_url: str,
    estimated_delivery: date | None,
    occurred_at: datetime,
) -> list[tuple[User, Message]]:
    text = (
        f"Your order #{order.number} has shipped with {carrier}, tracking "
        f"{tracking_number} ({when(occurred_at, order.buyer)})."
    )
    if estimated_delivery is not None:
        text += f"\n\nEstimated delivery: {day(estimated_delivery, order.buyer)}."
    if tracking_url:
        text += f"\n\nTrack your package: {tracking_url}"
    return [order_update(order, text)]


def order_out_for_delivery(
    order: Order, tracking_number: str | None, occurred_at: datetime
) -> list[tuple[User, Message]]:
    return [
        order_update(
            order,
            f"Your order #{order.number}{_tracking(tracking_number)} is out for "
            "delivery and should arrive today (update of "
            f"{when(occurred_at, order.buyer)}).",
        )
    ]


def order_delivered(
    order: Order, tracking_number: str | None, occurred_at: datetime
) -> list[tuple[User, Message]]:
    return [
        order_update(
            order,
            f"Your order #{order.number}{_tracking(tracking_number)} was delivered "
            f"on {when(occurred_at, order.buyer)}.\n\nIf anything is wrong with it, you "
            "can return "
            "it or contact the seller from the order page.",
        )
    ]


def order_delayed(
    order: Order, reason: str, new_estimate: date, occurred_at: datetime
) -> list[tuple[User, Message]]:
    return [
        order_update(
            order,
            f"Your order #{order.number} is running late: {reason}\n\n"
            f"It should now arrive by {day(new_estimate, order.buyer)} "
            f"(update of {when(occurred_at, order.buyer)}). We're sorry for the wait.",
        )
    ]


def order_problem(
    order: Order, description: str, occurred_at: datetime
) -> list[tuple[User, Message]]:
    return [
        order_update(
            order,
            f"There is a problem with your order #{order.number} "
            f"({when(occurred_at, order.buyer)}):\n\n{description}\n\n"
            "If you need help, contact customer service from the order page.",
        )
    ]


def membership_renewed(
    user: User, until: date, occurred_at: datetime
) -> list[tuple[User, Message]]:
    return [
        membership_update(
            user,
            "Your membership was renewed",
            f"Your membership was renewed on {when(occurred_at, user)}. It now runs "
            f"until {day(until, user)}.",
        )
    ]


def membership_expiring(
    user: User, until: date, occurred_at: datetime
) -> list[tuple[User, Message]]:
    return [
        membership_update(
            user,
            "Your membership is ending",
            f"Your membership ends on {day(until, user)}. To keep its benefits, "
            f"renew it under Your Account > Memberships. (Notice of "
            f"{when(occurred_at, user)}.)",
        )
    ]


def account_notice(
    user: User, subject: str, body: str, occurred_at: datetime
) -> list[tuple[User, Message]]:
    # Each notice is a conversation of its own: they are about different things.
    message = send_marketplace_message(
        user,
        kind=Kind.NOTICE,
        subject=subject,
        body=f"{body}\n\n— The marketplace, {when(occurred_at, user)}",
    )
    return [(user, message)]


# --- what each step of a return says -----------------------------------------------------


def return_requested(
    return_request: ReturnRequest,
    chosen: Sequence[tuple[OrderItem, int]],
    titles: list[str],
    *,
    has_note: bool,
    photos: int,
    now: datetime,
) -> list[tuple[User, Message]]:
    """A return the buyer started on the order page: to the buyer, and to the seller who
    decides it."""
    order = return_request.order
    storefront = return_request.storefront
    assert storefront is not None  # a return started here is always one shop's
    what = "\n".join(f"• {quantity} × {item.title}" for item, quantity in chosen)
    resolution = return_request.get_resolution_display().lower()
    return [
        returns_update(
            order,
            f"We received your request on {when(now, order.buyer)} to return items from order "
            f"#{order.number} (return {return_request.reference}):\n\n{what}\n\n"
            f"Reason: {return_request.reason}. You asked for a "
            f"{resolution}. {storefront.name} will "
            "approve or decline it; we'll write to you here.",
            titles,
        ),
        to_seller(
            order,
            storefront,
            Kind.RETURNS,
            "returns",
            f"Return requested for order #{order.number}",
            f"{order.buyer.public_name} asked on "
            f"{when(now, storefront.seller)} to return items from order "
            f"#{order.number} (return {return_request.reference}) for a "
            f"{resolution}:\n\n{what}\n\n"
            f"Reason: {return_request.reason}."
            + (" The buyer added a note." if has_note else "")
            + (f" The buyer added {photos} photo(s)." if photos else "")
            + f"\n\nApprove or decline it on the order page: {order_path(order)}#returns",
        ),
    ]


def return_approved(
    return_request: ReturnRequest,
    instructions: str,
    *,
    written_by_seller: bool,
    is_auto_approved: bool,
    now: datetime,
) -> list[tuple[User, Message]]:
    # The seller's own words are quoted as theirs: a message from the marketplace must
    # not lend its Official badge to what a seller wrote (docs/safety.md).
    heading = (
        f"How to send it back (written by {seller_name(return_request)}):"
        if written_by_seller
        else "How to send it back:"
    )
    how = "was approved automatically" if is_auto_approved else "was approved"
    order = return_request.order
    return _tell_both(
        return_request,
        f"Your return {return_request.reference} for order #{order.number} "
        f"{how} on {when(now, _buyer(return_request))}.\n\n{heading}\n{instructions}\n\n"
        f"{return_label(return_request)}",
        f"Return {return_request.reference} (order #{order.number}) "
        f"{how} on "
        f"{when(now, _seller(return_request))}. Mark it received on the order page when the parcel "
        f"arrives: {order_path(order)}#returns",
    )


def return_declined(
    return_request: ReturnRequest, reason: str, now: datetime
) -> list[tuple[User, Message]]:
    order = return_request.order
    return _tell_both(
        return_request,
        f"{seller_name(return_request)} declined your return {return_request.reference} "
        f"for order #{order.number} on "
        f"{when(now, _buyer(return_request))}. Their reason, in their "
        f"words: “{reason}”\n\nIf you "
        "think this is wrong, contact customer service from the order page.",
        f"You declined return {return_request.reference} (order "
        f"#{order.number}) on {when(now, _seller(return_request))}: {reason}",
    )


def replacement_on_its_way(
    return_request: ReturnRequest, now: datetime
) -> list[tuple[User, Message]]:
    return _tell_both(
        return_request,
        f"{seller_name(return_request)} received the items of your return "
        f"{return_request.reference} on "
        f"{when(now, _buyer(return_request))} and shipped your replacement.",
        f"You marked the items of return {return_request.reference} (order "
        f"#{return_request.order.number}) received on "
        f"{when(now, _seller(return_request))}: ship the replacement.",
    )


def refunded_on_receipt(
    return_request: ReturnRequest, amount_cents: int, now: datetime
) -> list[tuple[User, Message]]:
    order = return_request.order
    amount = money(amount_cents, order.currency)
    return _tell_both(
        return_request,
        f"{seller_name(return_request)} received the items of your return "
        f"{return_request.reference} on "
        f"{when(now, _buyer(return_request))}. We issued a refund of "
        f"{amount} to your original payment method.",
        f"You marked the items of return {return_request.reference} (order "
        f"#{order.number}) received on "
        f"{when(now, _seller(return_request))}. The buyer was refunded "
        f"{amount}.",
    )


def return_closed_order_refunded(
    return_request: ReturnRequest, now: datetime
) -> list[tuple[User, Message]]:
    """An open return whose order was refunded in full by other means (a guarantee claim,
    the marketplace, another return): those refunds cover its items."""
    order = return_request.order
    return _tell_both(
        return_request,
        f"Your return {return_request.reference} for order #{order.number} was closed on "
        f"{when(now, _buyer(return_request))}: the order has been refunded in full, which "
        "covers the items of this return, so there is nothing more to refund or replace. "
        "If you have a question about it, contact customer service from the order page.",
        f"Return {return_request.reference} (order #{order.number}) was closed on "
        f"{when(now, _seller(return_request))}: the order has been refunded in full, which "
        "covers its items. There is nothing left to mark received, refund or replace.",
    )


def return_label(return_request: ReturnRequest) -> str:
    """The words the buyer puts on (or in) the parcel: enough for the seller to match it."""
    return (
        f"Return label — RETURN {return_request.reference}\n"
        f"Order #{return_request.order.number}\n"
        f"From: {return_request.order.buyer.public_name}\n"
        f"To: {seller_name(return_request)}, returns"
    )


def return_announced(
    order: Order,
    items: list[OrderItem],
    reference: str,
    reason: str,
    occurred_at: datetime,
    *,
    chosen: Sequence[tuple[OrderItem, int]] | None = None,
) -> list[tuple[User, Message]]:
    """A return the marketplace announced (return.requested): to the buyer, and a note to
    each shop whose items it names (without items: each shop on the order)."""
    what = (
        "\n\n" + "\n".join(f"• {quantity} × {item.title}" for item, quantity in chosen) + "\n\n"
        if chosen
        else " "
    )
    sent = [
        returns_update(
            order,
            f"We received your request to return items from order #{order.number} on "
            f"{when(occurred_at, order.buyer)} (return {reference}, reason: "
            f"{reason}).{what}We'll write to you here when it is approved.",
            [item.title for item in items],
        )
    ]
    for storefront in storefronts_of([item for item, _ in chosen] if chosen else items):
        own = "\n".join(
            f"• {quantity} × {item.title}"
            for item, quantity in chosen or []
            if item.storefront_id == storefront.pk
        )
        sent.append(
            to_seller(
                order,
                storefront,
                Kind.RETURNS,
                "returns",
                f"Return requested for order #{order.number}",
                f"{order.buyer.public_name} asked on "
                f"{when(occurred_at, storefront.seller)} to return "
                f"items from order #{order.number} (return {reference}). "
                f"Reason: {reason}" + (f"\n\n{own}" if own else ""),
            )
        )
    return sent


def return_approved_by_marketplace(
    return_request: ReturnRequest, note: str | None, occurred_at: datetime
) -> list[tuple[User, Message]]:
    order = return_request.order
    return _tell_both(
        return_request,
        f"Your return {return_request.reference} for order #{order.number} was approved "
        f"on {when(occurred_at, _buyer(return_request))}.{_note(note)}",
        f"Return {return_request.reference} (order #{order.number}) was approved by the "
        f"marketplace on {when(occurred_at, _seller(return_request))}.",
    )


def return_received_by_marketplace(
    return_request: ReturnRequest, note: str | None, occurred_at: datetime
) -> list[tuple[User, Message]]:
    order = return_request.order
    return _tell_both(
        return_request,
        f"We received the items of your return {return_request.reference} for order "
        f"#{order.number} on "
        f"{when(occurred_at, _buyer(return_request))}. We'll write to you here about "
        f"your refund.{_note(note)}",
        f"The marketplace received the items of return {return_request.reference} "
        f"(order #{order.number}) on {when(occurred_at, _seller(return_request))}.",
    )


def refund_failed(
    order: Order, amount: str, reason: str, occurred_at: datetime
) -> list[tuple[User, Message]]:
    return [
        returns_update(
            order,
            f"We could not refund {amount} for order #{order.number} "
            f"({when(occurred_at, order.buyer)}): {reason}\n\nWe'll try again; "
            "if it keeps failing, contact customer service from the order page.",
        )
    ]


def refund_issued(
    order: Order,
    return_request: ReturnRequest | None,
    amount: str,
    reason: str,
    occurred_at: datetime,
) -> list[tuple[User, Message]]:
    """A refund the marketplace's payments made: to the buyer, and to the seller of the
    return it is for (a refund of no return: the buyer alone)."""
    text = (
        f"We issued a refund of {amount} for order #{order.number} on "
        f"{when(occurred_at, order.buyer)} ({reason})."
    )
    if return_request is None:
        return [returns_update(order, text)]
    return _tell_both(
        return_request,
        text,
        f"The marketplace refunded {amount} for return {return_request.reference} (order "
        f"#{order.number}) on {when(occurred_at, _seller(return_request))}.",
    )


def seller_name(return_request: ReturnRequest) -> str:
    storefront = return_request.storefront
    return storefront.name if storefront is not None else "The seller"


def _tell_both(
    return_request: ReturnRequest, to_buyer: str, to_seller_text: str
) -> list[tuple[User, Message]]:
    """A step in both Message Centers, in Returns & refunds: the buyer's conversation
    about the order's returns, and the seller's (a return an event announced without
    items has no seller of its own: only the buyer hears of it)."""
    order = return_request.order
    sent = [returns_update(order, to_buyer)]
    storefront: Storefront | None = return_request.storefront
    if storefront is not None:
        sent.append(
            to_seller(
                order,
                storefront,
                Kind.RETURNS,
                "returns",
                f"Return requested for order #{order.number}",
                to_seller_text,
            )
        )
    return sent


def _buyer(return_request: ReturnRequest) -> User:
    return return_request.order.buyer


def _seller(return_request: ReturnRequest) -> User | None:
    """Who reads the seller's side of a step (None: a return without a shop of its own,
    which only the buyer hears of)."""
    storefront = return_request.storefront
    return storefront.seller if storefront is not None else None


def _note(note: str | None) -> str:
    return f"\n\n{note}" if note else ""


def _tracking(tracking_number: str | None) -> str:
    return f" (tracking {tracking_number})" if tracking_number else ""


# --- which conversation each goes to ----------------------------------------------------


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
