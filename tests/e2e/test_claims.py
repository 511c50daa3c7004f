"""A guarantee claim in Chromium (docs/support.md#guarantee-claims): alice files it from her
order page, the seller responds from the claim's page, an agent of the claims team grants
it in the console (after a refund above the order's total is refused in words), and both
alice and the seller read the refund — in their Claims folder and on the claim's page,
alice on her order page too."""

import re
from datetime import timedelta

import pytest
from django.utils import timezone
from playwright.sync_api import Browser, Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message
from messagecenter.marketplace.models import Order, Product, Refund
from messagecenter.support.models import Claim
from tests import factories
from tests.e2e.conftest import watch_content_security_policy
from tests.e2e.helpers import STEP_MS, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def order(buyer: User, product: Product) -> Order:
    """Placed three weeks ago, never arrived (no delivery estimate); alice asked the seller
    about it three days ago, so their time to put it right is over."""
    order = factories.order_with_item(
        buyer, product, number="112-5550001-0000099", placed_at=timezone.now() - timedelta(days=21)
    )
    asked = conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "My espresso machine has not arrived. Where is it?"
    )
    Message.objects.filter(pk=asked.pk).update(created_at=timezone.now() - timedelta(days=3))
    return order


def new_browser(browser: Browser, csp_violations: list[str]) -> Page:
    context = browser.new_context(viewport={"width": 1280, "height": 860})
    context.set_default_timeout(STEP_MS)
    watch_content_security_policy(context, csp_violations)
    return context.new_page()


def test_a_claim_filed_answered_and_granted_shows_its_refund_to_both(
    live_server: LiveServer,
    page: Page,
    browser: Browser,
    csp_violations: list[str],
    order: Order,
    seller: User,
) -> None:
    factories.agent_in_team("claims", username="dana", first_name="Dana")

    # Alice files from her order page: "item not received", with what happened.
    sign_in(page, live_server, "alice", PASSWORD)
    page.goto(f"{live_server.url}/orders/{order.number}/")
    page.get_by_test_id("file-claim").click()
    expect(page.get_by_role("heading", name="File a guarantee claim")).to_be_visible()
    page.get_by_label("Item not received").check()
    page.get_by_label("Tell us what happened").fill(
        "Three weeks and nothing came; the tracking stopped at the depot (quokkaparcel)."
    )
    page.get_by_role("button", name="File the claim").click()
    claim = Claim.objects.get()
    status_line = page.get_by_test_id("case-status-line")
    expect(status_line).to_contain_text(f"{claim.number} · Guarantee claim")
    expect(status_line).to_contain_text("Waiting for the seller")
    expect(page.get_by_role("list", name="Messages")).to_contain_text("quokkaparcel")

    # The seller finds it in their Claims folder and responds from the claim's page.
    seller_page = new_browser(browser, csp_violations)
    sign_in(seller_page, live_server, "seller", PASSWORD)
    seller_page.goto(f"{live_server.url}/message-center/?folder=claims")
    seller_page.get_by_role("link", name=re.compile(r"Claim: item not received")).first.click()
    # A reply here would not be a response: the page says so above the reply box, with
    # the way to the claim's Respond form.
    notice = seller_page.get_by_test_id("reply-notice")
    expect(notice).to_contain_text("is not a response to the claim")
    notice.get_by_role("link", name="Respond to the claim").click()
    seller_page.get_by_label("Your response").fill(
        "The carrier lost the parcel at the depot; we agree to a refund."
    )
    seller_page.get_by_role("button", name="Send response").click()
    expect(seller_page.get_by_test_id("claim-stage")).to_contain_text("An agent is deciding")

    # The agent opens the claim in the console. A refund above the order's total is
    # refused beside the form, and nothing is decided.
    agent = new_browser(browser, csp_violations)
    sign_in(agent, live_server, "dana", PASSWORD)
    agent.goto(f"{live_server.url}/console/?view=team&kind=claim")
    agent.get_by_role("link", name=claim.number).click()
    expect(agent.get_by_role("main")).to_contain_text("The carrier lost the parcel at the depot")
    panel = agent.get_by_test_id("claim-panel")
    expect(panel).to_contain_text("Seller responded")
    panel.get_by_label("Grant, with a refund").check()
    panel.get_by_label(re.compile(r"^Refund")).fill("9999.99")
    panel.get_by_label(re.compile(r"^Reasons")).fill("The parcel was lost in transit.")
    panel.get_by_role("button", name="Record the decision").click()
    expect(agent.locator("#case-error")).to_contain_text(
        "Enter a refund amount of at most the order's total, $129.99."
    )
    assert not Refund.objects.exists()
    assert Claim.objects.get().stage == "decision"

    # Then the right amount: granted.
    panel = agent.get_by_test_id("claim-panel")
    panel.get_by_label("Grant, with a refund").check()
    panel.get_by_label(re.compile(r"^Refund")).fill("129.99")
    panel.get_by_label(re.compile(r"^Reasons")).fill("The parcel was lost in transit.")
    panel.get_by_role("button", name="Record the decision").click()
    expect(agent.get_by_test_id("claim-stage")).to_contain_text("Decided — can be appealed")
    assert list(Refund.objects.values_list("amount_cents", flat=True)) == [12999]

    # Both read the refund in the claim's conversation (their Claims folder) and on the
    # claim's page; alice also on her order page.
    for browser_page in (page, seller_page):
        browser_page.goto(f"{live_server.url}/message-center/?folder=claims")
        browser_page.get_by_role("link", name=re.compile(r"Claim: item not received")).first.click()
        expect(browser_page.get_by_role("list", name="Messages")).to_contain_text(
            "A refund of $129.99 to the buyer is recorded"
        )
        browser_page.get_by_test_id("case-status-line").get_by_role(
            "link", name="Open the claim"
        ).click()
        expect(browser_page.get_by_test_id("claim-decision")).to_contain_text(
            "Refund recorded: $129.99"
        )
    page.goto(f"{live_server.url}/orders/{order.number}/")
    expect(page.locator("#returns")).to_contain_text("Refund issued $129.99")
