"""Products and orders through the API: "Ask a question", Your Orders with shipments,
returns and refunds, "Contact seller" — and sellers writing to their orders' buyers."""

from datetime import date, timedelta

import pytest
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.marketplace.models import (
    Order,
    Product,
    Refund,
    ReturnRequest,
    Shipment,
)
from tests import factories
from tests.api.conftest import SignIn
from tests.api.helpers import error_of, with_token
from tests.conversations.helpers import snapshot
from tests.web.helpers import png

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(buyer: User, product: Product) -> Order:
    """Alice's delivered espresso machine, returned and refunded."""
    order = factories.order_with_item(buyer, product, status="delivered")
    now = timezone.now()
    Shipment.objects.create(
        order=order,
        carrier="UPS",
        tracking_number="1Z999",
        shipped_at=now - timedelta(days=2),
        estimated_delivery=date(2026, 5, 1),
        delivered_at=now - timedelta(days=1),
    )
    return_request = ReturnRequest.objects.create(
        order=order, status="refunded", reason="Too loud", requested_at=now
    )
    Refund.objects.create(
        order=order,
        return_request=return_request,
        amount_cents=12999,
        status="issued",
        created_at=now,
    )
    return order


# --- products -----------------------------------------------------------------------------


def test_a_product_says_who_sells_it(sign_in: SignIn, buyer: User, product: Product) -> None:
    response = sign_in(buyer).get(f"/products/{product.sku}")

    assert response.json() == {
        "sku": product.sku,
        "title": "Espresso machine",
        "description": "",
        "price_cents": 12999,
        "currency": "USD",
        "sold_by": {"id": product.storefront_id, "name": "Acme Kitchen"},
    }


def test_a_missing_product_is_not_found(buyer: User) -> None:
    assert error_of(with_token(buyer).get("/products/NOPE")) == (404, "product_not_found")


def test_a_buyer_asks_a_question_once_whatever_the_retries(
    sign_in: SignIn, buyer: User, seller: User, product: Product
) -> None:
    caller = sign_in(buyer)
    key = {"Idempotency-Key": "ask-1"}

    first = caller.post(f"/products/{product.sku}/questions", {"body": "Is it loud?"}, headers=key)
    retry = caller.post(f"/products/{product.sku}/questions", {"body": "Is it loud?"}, headers=key)

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    message = Message.objects.get()
    assert first.json()["conversation_id"] == message.conversation_id
    assert Participant.objects.get(user=seller).unread_count == 1


def test_a_question_can_carry_a_photo(buyer: User, product: Product) -> None:
    response = with_token(buyer).post_form(
        f"/products/{product.sku}/questions", {"body": "Like this one?", "attachments": [png()]}
    )

    assert response.status_code == 201
    assert [a["filename"] for a in response.json()["attachments"]] == ["photo.png"]


@pytest.mark.parametrize("asker", ["seller", "other_seller", "agent"])
def test_only_buyers_ask_questions(
    request: pytest.FixtureRequest, product: Product, asker: str
) -> None:
    user: User = request.getfixturevalue(asker)

    response = with_token(user).post(f"/products/{product.sku}/questions", {"body": "Hi"})

    assert error_of(response) == (403, "buyers_only")
    assert Message.objects.count() == 0


# --- Your Orders --------------------------------------------------------------------------


def test_your_orders_lists_each_order_with_its_items_and_sellers(
    sign_in: SignIn, buyer: User, other_buyer: User, product: Product, order: Order
) -> None:
    factories.order_with_item(other_buyer, product)

    response = sign_in(buyer).get("/orders")

    assert response.json() == {
        "items": [
            {
                "number": order.number,
                "status": "delivered",
                "status_label": "Delivered",
                "placed_at": response.json()["items"][0]["placed_at"],
                "total_cents": 12999,
                "currency": "USD",
                "items": [
                    {
                        "title": "Espresso machine",
                        "quantity": 1,
                        "unit_price_cents": 12999,
                        "product_sku": product.sku,
                        "sold_by": {"id": product.storefront_id, "name": "Acme Kitchen"},
                    }
                ],
                "sellers": [{"id": product.storefront_id, "name": "Acme Kitchen"}],
            }
        ],
        "next_cursor": None,
    }


def test_orders_page_newest_first_from_a_cursor(sign_in: SignIn, buyer: User) -> None:
    numbers = [
        factories.OrderFactory(buyer=buyer, placed_at=timezone.now() - timedelta(days=days)).number
        for days in (3, 1, 2)
    ]
    caller = sign_in(buyer)

    first = caller.get("/orders", {"limit": 2}).json()
    second = caller.get("/orders", {"limit": 2, "cursor": first["next_cursor"]}).json()

    assert [o["number"] for o in first["items"]] == [numbers[1], numbers[2]]
    assert [o["number"] for o in second["items"]] == [numbers[0]]
    assert second["next_cursor"] is None


def test_orders_cursor_needs_no_escaping_and_an_old_form_one_still_pages(
    sign_in: SignIn, buyer: User
) -> None:
    """The cursor was written with "+00:00", which an unescaped query string turns into a
    space (docs/api.md promises cursors need no escaping): now the lists' own `Z` form
    (hub/cursors.py), while a cursor a client got before the change still pages on."""
    placed = [timezone.now() - timedelta(days=days) for days in (3, 1, 2)]
    orders = [factories.OrderFactory(buyer=buyer, placed_at=when) for when in placed]
    caller = sign_in(buyer)

    first = caller.get("/orders", {"limit": 2}).json()
    cursor = first["next_cursor"]
    assert "+" not in cursor
    assert all(character.isalnum() or character in "-:.~Z" for character in cursor)
    pasted = caller.get(f"/orders?limit=2&cursor={cursor}").json()
    assert [o["number"] for o in pasted["items"]] == [orders[0].number]

    # The old form, as the last order of the first page gave it out before.
    last_shown = orders[2]
    old_form = f"{last_shown.placed_at.isoformat()}~{last_shown.pk}"
    assert "+00:00" in old_form
    from_old = caller.get("/orders", {"limit": 2, "cursor": old_form}).json()
    assert [o["number"] for o in from_old["items"]] == [orders[0].number]
    assert from_old["next_cursor"] is None
    # Pasted unescaped, the old form's "+" reads as a space: refused, not a wrong page.
    assert error_of(caller.get(f"/orders?limit=2&cursor={old_form}")) == (400, "invalid_cursor")


@pytest.mark.parametrize("person", ["seller", "agent"])
def test_sellers_and_agents_have_no_orders(
    request: pytest.FixtureRequest, order: Order, person: str
) -> None:
    user: User = request.getfixturevalue(person)

    assert with_token(user).get("/orders").json() == {"items": [], "next_cursor": None}


def test_an_order_shows_its_shipments_returns_refunds_and_conversations(
    sign_in: SignIn, buyer: User, seller: User, order: Order
) -> None:
    message = actions.contact_seller_about_order(
        buyer,
        order.pk,
        seller.storefront.pk,  # type: ignore[attr-defined]
        "Where is my refund?",
    )
    return_request = ReturnRequest.objects.get()

    body = sign_in(buyer).get(f"/orders/{order.number}").json()

    assert body["number"] == order.number
    assert body["shipments"] == [
        {
            "carrier": "UPS",
            "tracking_number": "1Z999",
            "shipped_at": body["shipments"][0]["shipped_at"],
            "estimated_delivery": "2026-05-01",
            "delivered_at": body["shipments"][0]["delivered_at"],
        }
    ]
    assert body["returns"] == [
        {
            "id": return_request.pk,
            "reference": return_request.reference,
            "status": "refunded",
            "status_label": "Refunded",
            "reason": "Too loud",
            "requested_at": body["returns"][0]["requested_at"],
        }
    ]
    assert body["refunds"] == [
        {
            "amount_cents": 12999,
            "currency": "USD",
            "status": "issued",
            "status_label": "Refund issued",
            "created_at": body["refunds"][0]["created_at"],
            "return_id": return_request.pk,
        }
    ]
    assert body["conversations"] == [
        {
            "id": message.conversation_id,
            "subject": f"Order {order.number}",
            "counterpart": "Acme Kitchen",
            "unread_count": 0,
            "box": "inbox",
        }
    ]


@pytest.mark.parametrize("person", ["other_buyer", "seller", "other_seller", "agent"])
def test_someone_elses_order_looks_missing(
    request: pytest.FixtureRequest, sign_in: SignIn, order: Order, person: str
) -> None:
    caller = sign_in(request.getfixturevalue(person))

    foreign = caller.get(f"/orders/{order.number}")
    missing = caller.get("/orders/000-0000000-0000000")

    assert error_of(foreign) == (404, "order_not_found")
    assert foreign.json() == missing.json()


# --- writing about an order -------------------------------------------------------------------


def test_the_buyer_contacts_the_seller_of_an_order(
    sign_in: SignIn, buyer: User, seller: User, order: Order
) -> None:
    response = sign_in(buyer).post(
        f"/orders/{order.number}/messages",
        {"storefront_id": seller.storefront.pk, "body": "It arrived scratched."},  # type: ignore[attr-defined]
    )

    assert response.status_code == 201
    seller_view = Participant.objects.get(user=seller)
    assert seller_view.conversation.order == order
    assert seller_view.unread_count == 1
    assert response.json()["conversation_id"] == seller_view.conversation_id


def test_contacting_a_seller_who_sold_nothing_on_the_order_is_refused(
    buyer: User, other_seller: User, order: Order
) -> None:
    before = snapshot()

    response = with_token(buyer).post(
        f"/orders/{order.number}/messages",
        {"storefront_id": other_seller.storefront.pk, "body": "Hello"},  # type: ignore[attr-defined]
    )

    assert error_of(response) == (400, "seller_not_on_order")
    assert snapshot() == before


def test_a_form_gives_the_seller_by_its_id_in_digits(
    buyer: User, seller: User, order: Order
) -> None:
    """A multipart form (for attachments) has its fields as text: the storefront's id in the
    digits 0–9, as a number in the query string; "1_0", "+5" or " 7" are no id."""
    storefront_id = seller.storefront.pk  # type: ignore[attr-defined]
    before = snapshot()
    for written in (f"+{storefront_id}", f" {storefront_id}", f"0_{storefront_id}", "", "٣"):
        refused = with_token(buyer).post_form(
            f"/orders/{order.number}/messages", {"storefront_id": written, "body": "Hello"}
        )
        assert error_of(refused) == (422, "invalid_input"), written
        assert [f["field"] for f in refused.json()["error"]["fields"]] == ["storefront_id"]
    assert snapshot() == before

    sent = with_token(buyer).post_form(
        f"/orders/{order.number}/messages",
        {"storefront_id": str(storefront_id), "body": "Hello", "attachments": [png()]},
    )

    assert sent.status_code == 201
    assert Participant.objects.get(user=seller).unread_count == 1


@pytest.mark.parametrize("person", ["other_buyer", "seller", "agent"])
def test_only_the_orders_buyer_contacts_its_seller(
    request: pytest.FixtureRequest, seller: User, order: Order, person: str
) -> None:
    before = snapshot()

    response = with_token(request.getfixturevalue(person)).post(
        f"/orders/{order.number}/messages",
        {"storefront_id": seller.storefront.pk, "body": "Hello"},  # type: ignore[attr-defined]
    )

    assert error_of(response) == (404, "order_not_found")
    assert snapshot() == before


def test_a_seller_writes_to_the_buyer_in_the_buyers_own_conversation(
    sign_in: SignIn, buyer: User, seller: User, order: Order
) -> None:
    asked = actions.contact_seller_about_order(
        buyer,
        order.pk,
        seller.storefront.pk,  # type: ignore[attr-defined]
        "When will it ship?",
    )

    response = sign_in(seller).post(
        f"/orders/{order.number}/buyer-messages",
        {"body": "Tomorrow morning."},
        headers={"Idempotency-Key": "reply-1"},
    )

    assert response.status_code == 201
    assert response.json()["conversation_id"] == asked.conversation_id
    assert Participant.objects.get(user=buyer).unread_count == 1


@pytest.mark.parametrize("person", ["buyer", "other_buyer", "other_seller", "agent"])
def test_only_a_seller_on_the_order_writes_to_its_buyer(
    request: pytest.FixtureRequest, order: Order, person: str
) -> None:
    before = snapshot()

    response = with_token(request.getfixturevalue(person)).post(
        f"/orders/{order.number}/buyer-messages", {"body": "Buy more!"}
    )

    assert error_of(response) == (404, "order_not_found")
    assert snapshot() == before
