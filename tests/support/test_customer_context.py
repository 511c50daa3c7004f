"""Beside a case, the console lists the customer's orders (docs/support.md): an agent
answering "where is my money?" reads what each order cost and what each refund paid back,
not only that a refund was issued."""

from html import unescape

import pytest
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.marketplace.models import (
    OrderItem,
    Product,
    Refund,
    RefundStatus,
    ReturnReason,
    ReturnRequest,
    ReturnStatus,
)
from messagecenter.support import actions
from tests import factories

pytestmark = pytest.mark.django_db


def test_the_customers_orders_show_their_totals_returns_and_refund_amounts(
    buyer: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)
    returned = ReturnRequest.objects.create(
        order=order,
        storefront=product.storefront,
        reference="RET-0A1B2C3D4E",
        reason=ReturnReason.DEFECTIVE.label,
        reason_code=ReturnReason.DEFECTIVE,
        status=ReturnStatus.REFUNDED,
        requested_at=timezone.now(),
    )
    Refund.objects.create(
        order=order,
        return_request=returned,
        amount_cents=4550,
        status=RefundStatus.ISSUED,
        created_at=timezone.now(),
    )
    Refund.objects.create(
        order=order, amount_cents=1234, status=RefundStatus.FAILED, created_at=timezone.now()
    )
    OrderItem.objects.filter(order=order).update(quantity=2)
    agent = factories.agent_in_team()
    case = actions.open_request(buyer, "Refund", "Where is my money?", order_number=order.number)

    page = factories.signed_in(agent).get(f"/console/cases/{case.pk}/")

    assert page.status_code == 200
    orders = unescape(page.content.decode()).split('id="orders-title"')[1].split("</section>")[0]
    assert "$129.99" in orders  # the order's total
    assert f"2 × {product.title} · $129.99 each" in orders
    assert "Return RET-0A1B2C3D4E: Refunded" in orders
    assert "Refund: $45.50 · Refund issued" in orders
    assert "Refund: $12.34 · Refund failed" in orders
