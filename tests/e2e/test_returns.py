"""A return in Chromium (docs/returns.md): alice starts it from her order page, the seller
approves it from theirs, and alice finds the instructions and the label in Returns &
refunds."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.marketplace.models import Order, Product, ReturnRequest, ReturnStatus, Shipment
from tests import factories
from tests.e2e.conftest import watch_content_security_policy
from tests.e2e.helpers import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def order(buyer: User, product: Product) -> Order:
    order = factories.order_with_item(buyer, product, number="112-5550001-0000077")
    Shipment.objects.create(
        order=order,
        carrier="UPS",
        tracking_number="1Z999",
        shipped_at=timezone.now() - timedelta(days=3),
        delivered_at=timezone.now() - timedelta(days=1),
    )
    return order


def test_a_return_from_the_order_page_approved_by_the_seller(
    live_server: LiveServer,
    page: Page,
    browser: Browser,
    csp_violations: list[str],
    order: Order,
    seller: User,
) -> None:
    # Alice asks to return her espresso machine: it does not work.
    sign_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    returns = page.locator("#return-items")
    expect(returns.get_by_role("heading", name="Return or replace items")).to_be_visible()
    returns.get_by_label(re.compile("Espresso machine")).fill("1")
    returns.get_by_label("Refund").check()
    returns.get_by_label("Why are you returning them?").select_option(
        label="Doesn't work or is defective"
    )
    returns.get_by_label("A note for the seller").fill("It does not heat up.")
    returns.get_by_role("button", name="Request return").click()
    status = page.locator("#returns")
    expect(status).to_contain_text("Return requested")
    reference = ReturnRequest.objects.get().reference
    expect(status).to_contain_text(reference)

    # The seller, in a browser of their own, approves it from the order page.
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    watch_content_security_policy(context, csp_violations)
    seller_page = context.new_page()
    sign_in(seller_page, live_server, "seller", PASSWORD)
    seller_page.goto(f"{live_server.url}/orders/{order.number}/")
    seller_returns = seller_page.locator("#returns")
    expect(seller_returns).to_contain_text("It does not heat up.")
    seller_returns.get_by_role("button", name="Approve return").click()
    expect(seller_page.locator("#returns")).to_contain_text("Return approved")
    context.close()

    # Alice finds the instructions and the label in Returns & refunds.
    page.goto(f"{live_server.url}/message-center/?folder=returns")
    page.get_by_role("link", name=re.compile("Returns and refunds: Espresso machine")).first.click()
    expect(page.get_by_text(re.compile("was approved on"))).to_be_visible()
    expect(page.get_by_text(re.compile("How to send it back"))).to_be_visible()
    expect(page.get_by_text(re.compile(f"RETURN {reference}"))).to_be_visible()
    assert ReturnRequest.objects.get().status == ReturnStatus.APPROVED


def test_a_refused_return_request_is_in_view_on_a_phone_with_what_was_chosen(
    live_server: LiveServer, phone: Page, order: Order
) -> None:
    """A request the server refuses (here a note asking to be paid outside the
    marketplace) came back at the top of the order page: on a phone the reason was two
    screens down, beside a "Return/refund status" that looked as if nothing had gone
    wrong, and the quantity chosen was back at 0, so sending again without looking made
    "choose the items" the next refusal."""
    sign_in(phone, live_server, "alice", PASSWORD)
    phone.goto(f"{live_server.url}/orders/{order.number}/")
    returns = phone.locator("#return-items")
    returns.get_by_label(re.compile("Espresso machine")).fill("1")
    returns.get_by_label("Replacement").check()
    returns.get_by_label("Why are you returning them?").select_option(label="Arrived damaged")
    returns.get_by_label("A note for the seller").fill("Just send the refund via Zelle instead")
    returns.get_by_role("button", name="Request return").click()

    refusal = returns.get_by_role("alert")
    expect(refusal).to_contain_text("Your note is shown to the seller")
    expect(refusal).to_be_focused()
    expect(refusal).to_be_in_viewport()
    expect(returns.get_by_label(re.compile("Espresso machine"))).to_have_value("1")
    expect(returns.get_by_label("Replacement")).to_be_checked()
    assert not ReturnRequest.objects.exists()
