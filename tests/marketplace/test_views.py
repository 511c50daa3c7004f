"""Product pages, Your Orders and an order's page: the places a buyer contacts a seller from.
Orders are reachable only by their buyer; everyone else gets the same 404 as for no order."""

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Conversation, Message, Participant
from messagecenter.marketplace.models import (
    Order,
    OrderItem,
    OrderStatus,
    Product,
    Refund,
    RefundStatus,
    ReturnRequest,
    ReturnStatus,
    Shipment,
)
from tests import factories
from tests.conversations.helpers import snapshot
from tests.web.helpers import png, sign_in_url, text_named_png

pytestmark = pytest.mark.django_db


def signed_in(client: Client, user: User) -> Client:
    client.force_login(user)
    return client


def page_text(response: Any) -> str:
    return str(response.content.decode())


@pytest.fixture
def order(buyer: User, product: Product, other_seller: User) -> Order:
    """Alice's order of the espresso machine (Acme Kitchen) and a mug (Other Goods)."""
    order = factories.order_with_item(buyer, product, status=OrderStatus.SHIPPED)
    mug = factories.ProductFactory(storefront=other_seller.storefront, title="Espresso mug")
    OrderItem.objects.create(
        order=order,
        product=mug,
        storefront=mug.storefront,
        title=mug.title,
        quantity=2,
        unit_price_cents=900,
    )
    return order


def order_url(order: Order) -> str:
    return f"/orders/{order.number}/"


def contact_url(order: Order, storefront_id: int) -> str:
    return f"/orders/{order.number}/contact/{storefront_id}/"


# --- signed out ---------------------------------------------------------------------------

PAGES: dict[str, Callable[[Order, Product], str]] = {
    "product": lambda order, product: f"/products/{product.sku}/",
    "your orders": lambda order, product: "/orders/",
    "order": lambda order, product: order_url(order),
}


@pytest.mark.parametrize("page", PAGES.values(), ids=PAGES.keys())
def test_a_signed_out_visitor_is_sent_to_sign_in(
    client: Client, order: Order, product: Product, page: Callable[[Order, Product], str]
) -> None:
    url = page(order, product)

    response = client.get(url)

    assert (response.status_code, response.url) == (302, sign_in_url(url))  # type: ignore[attr-defined]


POSTS: dict[str, Callable[[Order, Product], str]] = {
    "ask a question": lambda order, product: f"/products/{product.sku}/ask/",
    "contact seller": lambda order, product: contact_url(order, product.storefront_id),
}


@pytest.mark.parametrize("post", POSTS.values(), ids=POSTS.keys())
def test_a_signed_out_visitor_posting_changes_nothing(
    client: Client, order: Order, product: Product, post: Callable[[Order, Product], str]
) -> None:
    url = post(order, product)
    before = snapshot()

    response = client.post(url, {"body": "Hello", "idempotency_key": "k"})

    assert (response.status_code, response.url) == (302, sign_in_url(url))  # type: ignore[attr-defined]
    assert snapshot() == before


# --- product page and "Ask a question" ----------------------------------------------------


def test_a_buyer_sees_the_product_and_can_ask_a_question(
    client: Client, buyer: User, product: Product
) -> None:
    response = signed_in(client, buyer).get(f"/products/{product.sku}/")

    text = page_text(response)
    assert response.status_code == 200
    assert "<h1>Espresso machine</h1>" in text
    assert '<p class="product__price">$129.99</p>' in text
    assert "Sold by <strong>Acme Kitchen</strong>" in text
    assert f'action="/products/{product.sku}/ask/"' in text
    assert 'name="idempotency_key"' in text


def test_a_seller_sees_the_product_without_the_question_form(
    client: Client, other_seller: User, product: Product
) -> None:
    text = page_text(signed_in(client, other_seller).get(f"/products/{product.sku}/"))

    assert "Questions to sellers are asked from buyer accounts." in text
    assert f'action="/products/{product.sku}/ask/"' not in text


def test_a_product_that_does_not_exist_is_not_found(client: Client, buyer: User) -> None:
    assert signed_in(client, buyer).get("/products/NO-SUCH-SKU/").status_code == 404


@pytest.mark.parametrize(
    ("status", "shown"),
    [
        (OrderStatus.PLACED, "Not shipped yet."),
        (OrderStatus.DELIVERED, "No tracking details were shared for this order."),
        (OrderStatus.OUT_FOR_DELIVERY, "No tracking details were shared for this order."),
        (OrderStatus.CANCELLED, "Nothing was shipped."),
    ],
)
def test_an_order_without_a_shipment_on_record_never_says_not_shipped_once_it_was(
    client: Client, buyer: User, product: Product, status: str, shown: str
) -> None:
    """A delivered order whose events brought no shipment said "Delivered" beside "Not
    shipped yet"."""
    order = factories.order_with_item(buyer, product, status=status)

    page = page_text(signed_in(client, buyer).get(order_url(order)))

    assert f'<p class="muted" data-testid="no-shipments">{shown}</p>' in page


def test_asking_a_question_opens_the_conversation_with_the_seller(
    client: Client, buyer: User, seller: User, product: Product
) -> None:
    response = signed_in(client, buyer).post(
        f"/products/{product.sku}/ask/",
        {"body": "Does it come with a tamper?", "idempotency_key": "ask-1"},
    )

    conversation = Conversation.objects.get(product=product)
    assert (response.status_code, response.url) == (  # type: ignore[attr-defined]
        302,
        f"/message-center/conversations/{conversation.pk}/",
    )
    assert list(conversation.messages.values_list("sender", "body")) == [
        (buyer.pk, "Does it come with a tamper?")
    ]
    assert Participant.objects.get(conversation=conversation, user=seller).unread_count == 1


def test_asking_twice_with_the_same_form_sends_once(
    client: Client, buyer: User, product: Product
) -> None:
    form = {"body": "Does it come with a tamper?", "idempotency_key": "ask-double-click"}
    signed_in(client, buyer)

    first = client.post(f"/products/{product.sku}/ask/", form)
    second = client.post(f"/products/{product.sku}/ask/", form)

    assert Message.objects.filter(sender=buyer).count() == 1
    assert first.url == second.url  # type: ignore[attr-defined]


def test_a_seller_cannot_ask_and_is_told_why(
    client: Client, other_seller: User, product: Product
) -> None:
    before = snapshot()

    response = signed_in(client, other_seller).post(
        f"/products/{product.sku}/ask/", {"body": "Can I resell this?", "idempotency_key": "k"}
    )

    assert response.status_code == 403
    assert "Only buyers can ask sellers questions." in page_text(response)
    assert snapshot() == before


def test_a_question_with_a_disguised_file_is_refused_and_nothing_is_sent(
    client: Client, buyer: User, product: Product
) -> None:
    before = snapshot()

    response = signed_in(client, buyer).post(
        f"/products/{product.sku}/ask/",
        {"body": "See my photo", "idempotency_key": "k", "attachments": [text_named_png()]},
    )

    assert response.status_code == 400
    assert "photo.png is not an image (JPEG, PNG, GIF, WebP) or a PDF." in page_text(response)
    assert ">See my photo</textarea>" in page_text(response)
    assert snapshot() == before


def test_a_question_with_a_photo_keeps_the_photo(
    client: Client, buyer: User, product: Product
) -> None:
    signed_in(client, buyer).post(
        f"/products/{product.sku}/ask/",
        {"body": "Is mine the same?", "idempotency_key": "k", "attachments": [png("mine.png")]},
    )

    message = Message.objects.get(sender=buyer)
    assert list(message.attachments.values_list("filename", flat=True)) == ["mine.png"]


# --- Your Orders ---------------------------------------------------------------------------


def test_your_orders_lists_your_orders_newest_first_with_a_contact_link_per_seller(
    client: Client,
    buyer: User,
    other_buyer: User,
    other_seller: User,
    order: Order,
    product: Product,
) -> None:
    older = factories.order_with_item(buyer, product, placed_at=timezone.now() - timedelta(days=40))
    someone_elses = factories.order_with_item(other_buyer, product)

    response = signed_in(client, buyer).get("/orders/")

    text = page_text(response)
    assert response.status_code == 200
    assert text.index(order.number) < text.index(older.number)
    assert someone_elses.number not in text
    assert f'href="/orders/{order.number}/#contact-{product.storefront_id}"' in text
    assert f'href="/orders/{order.number}/#contact-{other_seller.storefront.pk}"' in text
    assert text.count(f'href="/orders/{older.number}/#contact-') == 1
    assert "Contact seller: Acme Kitchen" in text
    assert "Contact seller: Other Goods" in text
    assert f'href="/orders/{order.number}/#returns">View return/refund status' in text


def test_your_orders_are_paged_ten_at_a_time(
    client: Client, buyer: User, order: Order, product: Product
) -> None:
    for days in range(1, 11):
        factories.order_with_item(buyer, product, placed_at=timezone.now() - timedelta(days=days))
    signed_in(client, buyer)

    first = client.get("/orders/").content.decode()
    second = client.get("/orders/?page=2").content.decode()

    assert '<nav class="pager" aria-label="More orders">' in first
    assert 'href="?page=2" rel="next">Older →' in first
    assert "Page 1 of 2" in first
    assert 'href="?page=1" rel="prev">← Newer' in second
    assert 'rel="next"' not in second


@pytest.mark.parametrize("account", ["seller", "agent"])
def test_your_orders_is_for_buyer_accounts(
    client: Client, account: str, request: pytest.FixtureRequest
) -> None:
    response = signed_in(client, request.getfixturevalue(account)).get("/orders/")

    assert response.status_code == 404


# --- an order's page and "Contact seller" --------------------------------------------------


def test_the_order_page_shows_items_shipments_returns_refunds_and_conversations(
    client: Client, buyer: User, order: Order, product: Product
) -> None:
    now = timezone.now()
    Shipment.objects.create(
        order=order, carrier="UPS", tracking_number="1Z999AA10123456784", shipped_at=now
    )
    return_request = ReturnRequest.objects.create(
        order=order, status=ReturnStatus.APPROVED, reason="Arrived damaged", requested_at=now
    )
    Refund.objects.create(
        order=order,
        return_request=return_request,
        amount_cents=12999,
        status=RefundStatus.ISSUED,
        created_at=now,
    )
    message = actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "Has it shipped?"
    )

    response = signed_in(client, buyer).get(order_url(order))

    text = page_text(response)
    assert response.status_code == 200
    assert f"<h1>Order {order.number}</h1>" in text
    assert "Espresso machine</a>" in text
    assert "Espresso mug</a>" in text
    assert '<span class="mono">1Z999AA10123456784</span>' in text
    assert 'status--return-approved">Return approved</span>' in text
    assert "· Arrived damaged" in text
    assert "Refund issued</span> $129.99" in text
    assert (
        f'<a href="/message-center/conversations/{message.conversation_id}/">'
        f"<bdi>Order {order.number}</bdi></a>"
    ) in text
    assert f'action="{contact_url(order, product.storefront_id)}"' in text
    # Two "Contact seller" forms and two "Return or replace items" forms, one per seller.
    assert text.count('name="idempotency_key"') == 4


@pytest.fixture
def third_seller(db: None) -> User:
    """A seller with nothing on the order."""
    return factories.SellerFactory(username="third-seller", storefront__name="Third Shop")


@pytest.mark.parametrize("outsider", ["other_buyer", "third_seller", "agent"])
def test_someone_elses_order_is_not_found(
    client: Client, order: Order, outsider: str, request: pytest.FixtureRequest
) -> None:
    response = signed_in(client, request.getfixturevalue(outsider)).get(order_url(order))

    assert response.status_code == 404
    assert order.number not in page_text(response)


def contact_buyer_url(order: Order) -> str:
    return f"/orders/{order.number}/contact-buyer/"


def test_a_seller_sees_their_part_of_an_order_they_sold_on(
    client: Client, seller: User, order: Order
) -> None:
    Shipment.objects.create(
        order=order, carrier="UPS", tracking_number="1ZOTHERSHOP", shipped_at=timezone.now()
    )

    response = signed_in(client, seller).get(order_url(order))

    text = page_text(response)
    assert response.status_code == 200
    assert f"<h1>Order {order.number}</h1>" in text
    assert "Espresso machine" in text
    # Another seller's items and the order's shipments are not this seller's business.
    assert "Espresso mug" not in text
    assert "1ZOTHERSHOP" not in text
    assert "Contact seller" not in text
    assert "Contact buyer: Alice Buyer" in text
    assert f'action="{contact_buyer_url(order)}"' in text


def test_a_seller_writes_first_to_the_buyer_from_the_order_page(
    client: Client, buyer: User, seller: User, order: Order, product: Product
) -> None:
    response = signed_in(client, seller).post(
        contact_buyer_url(order),
        {"body": "Which colour would you like?", "idempotency_key": "seller-first-1"},
    )

    conversation = Conversation.objects.get(order=order, storefront=product.storefront)
    assert (response.status_code, response.url) == (  # type: ignore[attr-defined]
        302,
        f"/message-center/conversations/{conversation.pk}/",
    )
    assert Participant.objects.get(conversation=conversation, user=buyer).unread_count == 1
    conversation_page = page_text(client.get(f"/message-center/conversations/{conversation.pk}/"))
    assert f'href="{order_url(order)}"' in conversation_page


def test_a_refused_message_to_the_buyer_is_shown_on_the_order_page(
    client: Client, seller: User, order: Order
) -> None:
    before = snapshot()

    response = signed_in(client, seller).post(
        contact_buyer_url(order), {"body": "   ", "idempotency_key": "seller-empty"}
    )

    assert response.status_code == 400
    assert 'role="alert"' in page_text(response)
    assert snapshot() == before


@pytest.mark.parametrize("outsider", ["buyer", "other_buyer", "third_seller", "agent"])
def test_no_one_but_its_sellers_can_write_to_an_orders_buyer_from_the_web(
    client: Client, order: Order, outsider: str, request: pytest.FixtureRequest
) -> None:
    before = snapshot()

    response = signed_in(client, request.getfixturevalue(outsider)).post(
        contact_buyer_url(order), {"body": "Hi", "idempotency_key": "k"}
    )

    assert response.status_code == 404
    assert snapshot() == before


def test_an_order_that_does_not_exist_is_not_found(client: Client, buyer: User) -> None:
    assert signed_in(client, buyer).get("/orders/112-0000000-9999999/").status_code == 404


def test_contacting_a_seller_opens_the_conversation_about_the_order(
    client: Client, buyer: User, seller: User, order: Order, product: Product
) -> None:
    response = signed_in(client, buyer).post(
        contact_url(order, product.storefront_id),
        {"body": "Has it shipped yet?", "idempotency_key": "contact-1"},
    )

    conversation = Conversation.objects.get(order=order, storefront=product.storefront)
    assert (response.status_code, response.url) == (  # type: ignore[attr-defined]
        302,
        f"/message-center/conversations/{conversation.pk}/",
    )
    assert conversation.subject == f"Order {order.number}"
    assert Participant.objects.get(conversation=conversation, user=seller).unread_count == 1


def test_contacting_a_seller_twice_with_the_same_form_sends_once(
    client: Client, buyer: User, order: Order, product: Product
) -> None:
    form = {"body": "Has it shipped yet?", "idempotency_key": "contact-double-click"}
    signed_in(client, buyer)

    first = client.post(contact_url(order, product.storefront_id), form)
    second = client.post(contact_url(order, product.storefront_id), form)

    assert Message.objects.filter(sender=buyer).count() == 1
    assert first.url == second.url  # type: ignore[attr-defined]


@pytest.mark.parametrize("outsider", ["other_buyer", "seller", "other_seller"])
def test_no_one_else_can_contact_a_seller_about_your_order(
    client: Client, order: Order, product: Product, outsider: str, request: pytest.FixtureRequest
) -> None:
    before = snapshot()

    response = signed_in(client, request.getfixturevalue(outsider)).post(
        contact_url(order, product.storefront_id), {"body": "Hi", "idempotency_key": "k"}
    )

    assert response.status_code == 404
    assert snapshot() == before


def test_a_seller_who_sold_nothing_on_the_order_is_refused_on_the_page(
    client: Client, buyer: User, order: Order
) -> None:
    stranger = factories.SellerFactory(storefront__name="Not On This Order")
    before = snapshot()

    response = signed_in(client, buyer).post(
        contact_url(order, stranger.storefront.pk), {"body": "Hi", "idempotency_key": "k"}
    )

    assert response.status_code == 400
    assert (
        '<p class="alert alert--error" role="alert">'
        "That seller did not sell anything on this order.</p>"
    ) in page_text(response)
    assert snapshot() == before


def test_a_refused_message_to_a_seller_is_shown_next_to_that_sellers_form(
    client: Client, buyer: User, order: Order, product: Product
) -> None:
    before = snapshot()

    response = signed_in(client, buyer).post(
        contact_url(order, product.storefront_id),
        {"body": "Photo of the damage", "idempotency_key": "k", "attachments": [text_named_png()]},
    )

    text = page_text(response)
    assert response.status_code == 400
    assert (
        f'<p class="field__error" id="seller-{product.storefront_id}-attachments-error" '
        'role="alert">photo.png is not an image (JPEG, PNG, GIF, WebP) or a PDF.</p>'
    ) in text
    assert ">Photo of the damage</textarea>" in text
    assert snapshot() == before
