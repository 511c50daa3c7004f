"""What each order event changes and which message it becomes, for whom, where — sent
through the signed endpoint as the marketplace's backend sends them."""

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Conversation, Kind, Message, Participant
from messagecenter.hub.boxes import Folder
from messagecenter.marketplace.models import (
    MarketplaceEvent,
    Order,
    OrderStatus,
    Product,
    Refund,
    RefundStatus,
    ReturnRequest,
    ReturnStatus,
    Shipment,
)
from tests import factories
from tests.marketplace.helpers import OCCURRED, deliver, event

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(buyer: User, product: Product) -> Order:
    return factories.order_with_item(buyer, product, number="112-0000001-0000001")


def send(event_type: str, data: dict[str, Any], event_id: str = "evt-1") -> dict[str, Any]:
    response = deliver(event(event_type, data, event_id))
    assert response.status_code == 201, response.content
    body: dict[str, Any] = response.json()
    return body


def only_message(body: dict[str, Any], recipient: User) -> Message:
    [sent] = [m for m in body["messages"] if m["recipient"] == recipient.username]
    return Message.objects.select_related("conversation").get(pk=sent["message_id"])


def view_of(user: User, message: Message) -> Participant:
    return Participant.objects.get(user=user, conversation_id=message.conversation_id)


def test_order_placed_records_a_new_order_and_confirms_it_to_buyer_and_seller(
    buyer: User, seller: User, product: Product
) -> None:
    body = send(
        "order.placed",
        {
            "order_number": "112-7000000-0000001",
            "buyer": "alice",
            "total_cents": 25998,
            "currency": "USD",
            "items": [{"sku": product.sku, "quantity": 2, "unit_price_cents": 12999}],
        },
    )

    order = Order.objects.get(number="112-7000000-0000001")
    assert (order.buyer, order.status, order.total_cents) == (buyer, OrderStatus.PLACED, 25998)
    assert order.placed_at == datetime(2026, 11, 20, 14, 5, tzinfo=UTC)
    assert list(order.items.values_list("title", "quantity", "storefront__seller")) == [
        ("Espresso machine", 2, seller.pk)
    ]
    confirmation = only_message(body, buyer)
    assert confirmation.sender is None
    assert confirmation.body == (
        f"Thank you for your order #112-7000000-0000001, placed on {OCCURRED}.\n\n"
        "• 2 × Espresso machine — $259.98 (sold by Acme Kitchen)\n\n"
        "Total: $259.98\n\n"
        "We'll write to you here when it ships.\n\n"
        "Order details: http://127.0.0.1:8000/orders/112-7000000-0000001/"
    )
    conversation = confirmation.conversation
    assert (conversation.kind, conversation.topic_key, conversation.order) == (
        Kind.ORDER_UPDATES,
        f"order:{order.pk}:updates",
        order,
    )
    assert conversation.subject == "Your order of Espresso machine"
    assert view_of(buyer, confirmation).folder == Folder.ORDERS
    note = only_message(body, seller)
    assert note.body == (
        f"Alice Buyer placed order #112-7000000-0000001 on {OCCURRED}. Your items:\n\n"
        "• 2 × Espresso machine"
    )
    assert note.conversation.topic_key == (
        f"order:{order.pk}:storefront:{seller.storefront.pk}:updates"
    )
    assert view_of(seller, note).folder == Folder.ORDERS
    # Each person sees only their own conversation.
    assert Participant.objects.filter(conversation=conversation).count() == 1


def test_order_placed_for_a_known_order_confirms_it_without_a_second_order(
    buyer: User, order: Order
) -> None:
    body = send(
        "order.placed",
        {
            "order_number": order.number,
            "buyer": "alice",
            "total_cents": 1,
            "items": [{"sku": "B0-anything", "unit_price_cents": 1}],
        },
    )

    assert Order.objects.count() == 1
    assert len(body["messages"]) == 2
    assert only_message(body, buyer).body.startswith(f"Thank you for your order #{order.number}")


def test_order_placed_with_an_unknown_product_is_refused(buyer: User) -> None:
    response = deliver(
        event(
            "order.placed",
            {
                "order_number": "112-1",
                "buyer": "alice",
                "total_cents": 100,
                "items": [{"sku": "NOPE-1", "unit_price_cents": 100}],
            },
        )
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_product"
    assert Order.objects.count() == 0


def test_order_shipped_records_the_shipment_and_tells_the_buyer(buyer: User, order: Order) -> None:
    body = send(
        "order.shipped",
        {
            "order_number": order.number,
            "carrier": "DHL",
            "tracking_number": "12345",
            "tracking_url": "https://track.example/12345",
            "estimated_delivery": "2026-11-24",
        },
    )

    order.refresh_from_db()
    assert order.status == OrderStatus.SHIPPED
    shipment = Shipment.objects.get(order=order)
    assert (
        shipment.carrier,
        shipment.tracking_number,
        shipment.tracking_url,
        shipment.estimated_delivery,
        shipment.shipped_at,
    ) == (
        "DHL",
        "12345",
        "https://track.example/12345",
        date(2026, 11, 24),
        datetime(2026, 11, 20, 14, 5, tzinfo=UTC),
    )
    message = only_message(body, buyer)
    assert message.body == (
        f"Your order #{order.number} has shipped with DHL, tracking 12345 ({OCCURRED}).\n\n"
        "Estimated delivery: 24 Nov 2026.\n\n"
        "Track your package: https://track.example/12345\n\n"
        f"Order details: http://127.0.0.1:8000/orders/{order.number}/"
    )
    assert view_of(buyer, message).folder == Folder.ORDERS
    assert len(body["messages"]) == 1


def test_every_update_about_one_order_shares_one_conversation(buyer: User, order: Order) -> None:
    shipped = {"order_number": order.number, "carrier": "UPS", "tracking_number": "1Z9"}
    send("order.shipped", shipped, "evt-1")
    send("order.out_for_delivery", {"order_number": order.number}, "evt-2")
    body = send("order.delivered", {"order_number": order.number}, "evt-3")

    conversation = only_message(body, buyer).conversation
    assert (conversation.message_count, conversation.subject) == (
        3,
        "Your order of Espresso machine",
    )
    assert Conversation.objects.count() == 1
    assert view_of(buyer, only_message(body, buyer)).unread_count == 3
    order.refresh_from_db()
    assert order.status == OrderStatus.DELIVERED
    assert Shipment.objects.get().delivered_at == datetime(2026, 11, 20, 14, 5, tzinfo=UTC)


def test_order_out_for_delivery(buyer: User, order: Order) -> None:
    body = send("order.out_for_delivery", {"order_number": order.number, "tracking_number": "1Z9"})

    order.refresh_from_db()
    assert order.status == OrderStatus.OUT_FOR_DELIVERY
    assert only_message(body, buyer).body == (
        f"Your order #{order.number} (tracking 1Z9) is out for delivery and should arrive "
        f"today (update of {OCCURRED}).\n\nOrder details: http://127.0.0.1:8000/orders/{order.number}/"
    )


def test_order_delivered_marks_only_the_named_shipment(buyer: User, order: Order) -> None:
    for number in ("A1", "B2"):
        Shipment.objects.create(
            order=order, carrier="UPS", tracking_number=number, shipped_at=order.placed_at
        )

    body = send("order.delivered", {"order_number": order.number, "tracking_number": "A1"})

    delivered = dict(Shipment.objects.values_list("tracking_number", "delivered_at"))
    assert delivered == {"A1": datetime(2026, 11, 20, 14, 5, tzinfo=UTC), "B2": None}
    assert only_message(body, buyer).body.startswith(
        f"Your order #{order.number} (tracking A1) was delivered on {OCCURRED}."
    )


def test_order_delayed_moves_the_estimate(buyer: User, order: Order) -> None:
    Shipment.objects.create(
        order=order, carrier="UPS", tracking_number="1Z9", shipped_at=order.placed_at
    )

    body = send(
        "order.delayed",
        {"order_number": order.number, "new_estimate": "2026-11-28", "reason": "Storm."},
    )

    order.refresh_from_db()
    assert order.status == OrderStatus.DELAYED
    assert Shipment.objects.get().estimated_delivery == date(2026, 11, 28)
    assert only_message(body, buyer).body == (
        f"Your order #{order.number} is running late: Storm.\n\n"
        f"It should now arrive by 28 Nov 2026 (update of {OCCURRED}). "
        f"We're sorry for the wait.\n\nOrder details: http://127.0.0.1:8000/orders/{order.number}/"
    )


def test_order_problem(buyer: User, order: Order) -> None:
    body = send(
        "order.problem", {"order_number": order.number, "description": "The card was declined."}
    )

    order.refresh_from_db()
    assert order.status == OrderStatus.PROBLEM
    assert (
        f"There is a problem with your order #{order.number} ({OCCURRED}):\n\n"
        + ("The card was declined.")
        in only_message(body, buyer).body
    )


def test_a_return_and_its_refund_share_one_returns_conversation_and_the_seller_hears_of_it(
    buyer: User, seller: User, order: Order
) -> None:
    requested = send(
        "return.requested",
        {"order_number": order.number, "return_reference": "RMA-1", "reason": "Too loud"},
        "evt-1",
    )
    send(
        "return.approved",
        {"order_number": order.number, "return_reference": "RMA-1", "note": "Use the label."},
        "evt-2",
    )
    send("return.received", {"order_number": order.number, "return_reference": "RMA-1"}, "evt-3")
    refunded = send(
        "refund.issued",
        {
            "order_number": order.number,
            "amount_cents": 12999,
            "currency": "USD",
            "reason": "Returned",
            "return_reference": "RMA-1",
        },
        "evt-4",
    )

    return_request = ReturnRequest.objects.get()
    assert (return_request.reference, return_request.status, return_request.reason) == (
        "RMA-1",
        ReturnStatus.REFUNDED,
        "Too loud",
    )
    refund = Refund.objects.get()
    assert (refund.amount_cents, refund.status, refund.return_request) == (
        12999,
        RefundStatus.ISSUED,
        return_request,
    )
    message = only_message(refunded, buyer)
    assert message.body == (
        f"We issued a refund of $129.99 for order #{order.number} on {OCCURRED} (Returned)."
        f"\n\nReturn and refund status: http://127.0.0.1:8000/orders/{order.number}/"
    )
    conversation = message.conversation
    assert (
        conversation.kind,
        conversation.topic_key,
        conversation.message_count,
        conversation.subject,
    ) == (Kind.RETURNS, f"order:{order.pk}:returns", 4, "Returns and refunds: Espresso machine")
    assert view_of(buyer, message).folder == Folder.RETURNS
    bodies = list(conversation.messages.order_by("id").values_list("body", flat=True))
    assert bodies[1].startswith(
        f"Your return RMA-1 for order #{order.number} was approved on {OCCURRED}.\n\nUse the label."
    )
    assert bodies[2].startswith(
        f"We received the items of your return RMA-1 for order #{order.number}"
    )
    note = only_message(requested, seller)
    assert note.body == (
        f"Alice Buyer asked on {OCCURRED} to return items from order #{order.number} "
        "(return RMA-1). Reason: Too loud"
    )
    assert view_of(seller, note).folder == Folder.RETURNS


def test_a_failed_refund_tells_the_buyer(buyer: User, order: Order) -> None:
    body = send(
        "refund.failed",
        {
            "order_number": order.number,
            "amount_cents": 500,
            "currency": "EUR",
            "reason": "The card has expired.",
        },
    )

    assert Refund.objects.get().status == RefundStatus.FAILED
    assert only_message(body, buyer).body.startswith(
        f"We could not refund €5.00 for order #{order.number} ({OCCURRED}): The card has expired."
    )


def test_an_event_about_an_unknown_return_is_refused(order: Order) -> None:
    response = deliver(
        event("return.approved", {"order_number": order.number, "return_reference": "RMA-9"})
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_return"
    assert MarketplaceEvent.objects.count() == 0


def test_order_messages_tell_each_reader_the_time_in_their_own_zone(
    buyer: User, seller: User, product: Product
) -> None:
    User.objects.filter(pk=buyer.pk).update(time_zone="Asia/Tokyo")
    User.objects.filter(pk=seller.pk).update(time_zone="America/New_York")

    placed = send(
        "order.placed",
        {
            "order_number": "112-7000000-0000009",
            "buyer": "alice",
            "total_cents": 12999,
            "currency": "USD",
            "items": [{"sku": product.sku, "quantity": 1, "unit_price_cents": 12999}],
        },
    )
    delayed = send(
        "order.delayed",
        {
            "order_number": "112-7000000-0000009",
            "reason": "Weather.",
            "new_estimate": "2026-11-28",
        },
        "evt-2",
    )

    # 14:05 UTC is 11:05 PM in Tokyo and 9:05 AM in New York; a day stays the day it is.
    assert "placed on Fri 20 Nov 2026, 11:05 PM JST." in only_message(placed, buyer).body
    assert "on Fri 20 Nov 2026, 9:05 AM EST. Your items" in only_message(placed, seller).body
    assert (
        "It should now arrive by 28 Nov 2026 (update of Fri 20 Nov 2026, 11:05 PM JST)."
        in only_message(delayed, buyer).body
    )


def test_membership_events_keep_member_until_and_share_one_conversation(buyer: User) -> None:
    send("membership.renewed", {"user": "alice", "until": "2027-11-20T00:00:00Z"}, "evt-1")
    body = send("membership.expiring", {"user": "alice", "until": "2027-11-20T00:00:00Z"}, "evt-2")

    buyer.refresh_from_db()
    assert buyer.member_until == datetime(2027, 11, 20, tzinfo=UTC)
    message = only_message(body, buyer)
    assert message.body == (
        "Your membership ends on 20 Nov 2027. To keep its benefits, renew it "
        f"under Your Account > Memberships. (Notice of {OCCURRED}.)"
    )
    assert (message.conversation.kind, message.conversation.topic_key) == (
        Kind.MEMBERSHIP,
        f"membership:{buyer.pk}",
    )
    assert message.conversation.message_count == 2
    assert view_of(buyer, message).folder == Folder.NOTICES


def test_account_notice_is_a_conversation_of_its_own(buyer: User) -> None:
    body = send(
        "account.notice",
        {"user": "alice", "subject": "New sign-in", "body": "Someone signed in from Oslo."},
    )

    message = only_message(body, buyer)
    assert message.body == f"Someone signed in from Oslo.\n\n— The marketplace, {OCCURRED}"
    assert (message.conversation.kind, message.conversation.subject) == (Kind.NOTICE, "New sign-in")
    assert message.sender is None
    assert message.is_official
    assert view_of(buyer, message).folder == Folder.NOTICES


def test_an_event_for_an_unknown_user_is_refused(db: None) -> None:
    response = deliver(event("account.notice", {"user": "nobody", "subject": "S", "body": "B"}))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unknown_user"


def test_the_event_is_recorded_with_its_result(buyer: User, order: Order) -> None:
    body = send("order.problem", {"order_number": order.number, "description": "Lost."})

    record = MarketplaceEvent.objects.get()
    message = Message.objects.get()
    assert (record.event_id, record.type, record.occurred_at) == (
        "evt-1",
        "order.problem",
        datetime(2026, 11, 20, 14, 5, tzinfo=UTC),
    )
    assert record.payload == event(
        "order.problem", {"order_number": order.number, "description": "Lost."}
    )
    assert {key: record.result[key] for key in ("id", "type", "messages")} == {
        key: body[key] for key in ("id", "type", "messages")
    }
    assert body["messages"] == [
        {"recipient": "alice", "message_id": message.pk, "conversation_id": message.conversation_id}
    ]


def test_only_system_code_sends_official_messages() -> None:
    """A message without a sender shows the Official badge; only the marketplace's own
    code may make one: no page and no API route reaches send_marketplace_message, and
    nothing else writes a message without a sender (people's messages carry their sender,
    and only agents and admins are official among people)."""
    source = Path(__file__).resolve().parents[2] / "src" / "messagecenter"
    callers = sorted(
        str(path.relative_to(source))
        for path in source.rglob("*.py")
        if "send_marketplace_message" in path.read_text() or "sender=None" in path.read_text()
    )
    system_code = {
        "conversations/actions/__init__.py",
        "conversations/actions/sending.py",
        "marketplace/actions.py",
        # The returns' steps send through it (marketplace/return_actions.py); a person's
        # words in them are quoted as theirs (docs/returns.md).
        "marketplace/messages.py",
        "demo/story.py",
    }
    assert [
        path
        for path in callers
        if path not in system_code and not path.startswith("notifications/")
    ] == []
    assert not [path for path in callers if path.endswith(("views.py", "api.py"))]


def test_a_late_event_about_an_earlier_moment_does_not_turn_the_status_back(
    buyer: User, order: Order
) -> None:
    delivered = event("order.delivered", {"order_number": order.number}, "evt-1")
    shipped = event(
        "order.shipped",
        {"order_number": order.number, "carrier": "UPS", "tracking_number": "1Z9"},
        "evt-2",
    )
    shipped["occurred_at"] = "2026-11-19T08:00:00Z"

    assert deliver(delivered).status_code == 201
    response = deliver(shipped)

    order.refresh_from_db()
    assert (order.status, order.status_changed_at) == (
        OrderStatus.DELIVERED,
        datetime(2026, 11, 20, 14, 5, tzinfo=UTC),
    )
    # The buyer still hears of it, and the shipment is recorded.
    assert len(response.json()["messages"]) == 1
    assert Shipment.objects.get().tracking_number == "1Z9"


def test_an_order_from_two_shops_tells_each_seller_of_their_own_items(
    buyer: User, seller: User, other_seller: User, product: Product
) -> None:
    kettle = factories.ProductFactory(storefront=other_seller.storefront, title="Kettle")
    body = send(
        "order.placed",
        {
            "order_number": "112-7000000-0000002",
            "buyer": "alice",
            "total_cents": 16998,
            "items": [
                {"sku": product.sku, "unit_price_cents": 12999},
                {"sku": kettle.sku, "unit_price_cents": 3999},
            ],
        },
    )

    assert [m["recipient"] for m in body["messages"]] == ["alice", "seller", "other-seller"]
    assert only_message(body, buyer).conversation.subject == (
        "Your order of Espresso machine and 1 more item"
    )
    assert only_message(body, seller).body.endswith("Your items:\n\n• 1 × Espresso machine")
    assert only_message(body, other_seller).body.endswith("Your items:\n\n• 1 × Kettle")
