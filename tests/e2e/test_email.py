"""E-mail as a person meets it, in Chromium: a promotion arrives in the development
mailbox, its unsubscribe link asks first and unsubscribes on the button; an order update's
reference is found with "Is this e-mail from us?"."""

import re

import pytest
from playwright.sync_api import expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Kind
from messagecenter.delivery import references
from messagecenter.delivery.models import Category, Channel
from messagecenter.delivery.preferences import is_enabled
from messagecenter.delivery.sender import send_due_emails
from messagecenter.notifications.models import Audience
from tests import factories
from tests.delivery.helpers import send_broadcast
from tests.e2e.helpers import VIEWPORTS, browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def _mailbox(settings: Settings, live_server: LiveServer) -> None:
    settings.MAILERS = {"default": {"BACKEND": "messagecenter.delivery.mailbox.MailboxBackend"}}
    settings.MAILBOX_ENABLED = True
    settings.SITE_URL = live_server.url


def test_a_promotion_in_the_mailbox_and_its_unsubscribe_link(
    live_server: LiveServer, request: pytest.FixtureRequest
) -> None:
    buyer = factories.BuyerFactory(username="dana", display_name="Dana")
    offers = "\n".join(f"Offer {number}: 20% off" for number in range(1, 31))
    send_broadcast(audience=Audience.BUYERS, subject="Autumn sale", body=offers)
    send_due_emails()
    page = browser_page(request, "page")

    page.goto(live_server.url + "/mailbox/")
    page.get_by_role("link", name="Autumn sale").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Autumn sale")
    frame = page.frame_locator("iframe.mail-frame")
    expect(frame.get_by_text("Hello Dana,")).to_be_visible()
    unsubscribe = frame.get_by_role("link", name="Unsubscribe from promotions")
    link = unsubscribe.get_attribute("href")
    assert link is not None
    assert link.startswith(live_server.url + "/email/unsubscribe/")
    # The whole e-mail shows, footer included: the frame is as tall as what it holds, with
    # nothing hidden behind a scroll bar of its own.
    frame_box = page.locator("iframe.mail-frame").bounding_box()
    link_box = unsubscribe.bounding_box()
    assert frame_box is not None
    assert link_box is not None
    assert link_box["y"] + link_box["height"] <= frame_box["y"] + frame_box["height"]

    # As a person following the link: a page that asks, and changes nothing yet.
    page.goto(link)
    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("Unsubscribe from promotions")
    )
    assert is_enabled(buyer, Category.PROMOTIONS, Channel.EMAIL)
    page.get_by_role("button", name="Unsubscribe").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("You are unsubscribed")
    assert not is_enabled(buyer, Category.PROMOTIONS, Channel.EMAIL)


def test_checking_the_reference_of_an_order_update(
    live_server: LiveServer, request: pytest.FixtureRequest
) -> None:
    buyer = factories.BuyerFactory(username="dana")
    message = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001 shipped", body="Shipped with DHL."
    )
    page = browser_page(request, "page")
    sign_in(page, live_server, "dana", factories.PASSWORD)

    page.goto(live_server.url + "/account/")
    page.get_by_role("link", name=re.compile("Is this e-mail from us")).click()
    page.get_by_label("Reference from the e-mail").fill(
        references.for_message(message.pk, buyer.pk, is_official=True)
    )
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_test_id("reference-marketplace")).to_contain_text("Order 1001 shipped")
    page.get_by_role("link", name="Open it in your Message Center").click()
    expect(page.get_by_text("Shipped with DHL.")).to_be_visible()

    page.goto(live_server.url + "/message-center/check-email/")
    page.get_by_label("Reference from the e-mail").fill("MC-M99-ABCD")
    page.get_by_role("button", name="Check").click()
    expect(page.get_by_test_id("reference-not-found")).to_be_visible()


def test_the_checker_vouches_for_a_deleted_marketplace_email_and_not_for_a_sellers(
    live_server: LiveServer, request: pytest.FixtureRequest
) -> None:
    buyer = factories.BuyerFactory(username="erin")
    product = factories.ProductFactory()
    seller = product.storefront.seller
    update = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1002 delivered", body="Delivered."
    )
    conversation_actions.trash_conversations(buyer, [update.conversation_id])
    conversation_actions.delete_conversations(buyer, [update.conversation_id])
    order = factories.order_with_item(buyer, product)
    scam = conversation_actions.contact_buyer_about_order(
        seller, order.pk, "Your account has been suspended: confirm your password here."
    )
    page = browser_page(request, "page")
    sign_in(page, live_server, "erin", factories.PASSWORD)

    page.goto(live_server.url + "/message-center/check-email/")
    page.get_by_label("Reference from the e-mail").fill(
        references.for_message(update.pk, buyer.pk, is_official=True)
    )
    page.get_by_role("button", name="Check").click()
    answer = page.get_by_test_id("reference-marketplace")
    expect(answer).to_contain_text("is an e-mail from the marketplace to you")
    expect(answer).to_contain_text("It is no longer in your Message Center")

    page.get_by_label("Reference from the e-mail").fill(
        references.for_message(scam.pk, buyer.pk, is_official=False)
    )
    page.get_by_role("button", name="Check").click()
    answer = page.get_by_test_id("reference-person")
    expect(answer).to_contain_text(
        f"This came from {seller.public_name}, a seller — not from the marketplace."
    )
    expect(answer).to_contain_text("It asks for a password")


def test_the_checker_s_answer_takes_the_focus(
    live_server: LiveServer, request: pytest.FixtureRequest
) -> None:
    """The answer appears in a region that is on the page when it loads, which screen
    readers do not read out, with the focus back at the start of the page: after "Check",
    nothing said whether the e-mail was ours."""
    factories.BuyerFactory(username="dana")
    page = browser_page(request, "page")
    sign_in(page, live_server, "dana", factories.PASSWORD)

    page.goto(live_server.url + "/message-center/check-email/")
    page.get_by_label("Reference from the e-mail").fill("MC-M99-ABCD")
    page.get_by_label("Reference from the e-mail").press("Enter")

    expect(page.get_by_test_id("reference-not-found")).to_be_focused()
    expect(page.get_by_role("alert").filter(has_text="We did not send you")).to_be_focused()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_password_reset_e_mail_is_checked_by_its_reference(
    live_server: LiveServer, request: pytest.FixtureRequest, viewport: str
) -> None:
    """The account's own e-mails are kept in no Message Center, and carried no reference:
    "Is this e-mail from us?" could not vouch for the one a phisher copies most easily."""
    factories.BuyerFactory(username="dana", email="dana@example.test")
    page = browser_page(request, viewport)

    page.goto(live_server.url + "/accounts/password-reset/")
    page.get_by_label(re.compile("Username or e-mail")).fill("dana@example.test")
    page.get_by_role("button", name=re.compile("Send")).click()
    send_due_emails()
    page.goto(live_server.url + "/mailbox/")
    page.get_by_role("link", name="Reset your Marketplace password").click()
    footer = page.frame_locator("iframe.mail-frame").get_by_text(re.compile("Reference MC-A"))
    expect(footer).to_be_visible()
    found = re.search(r"MC-A[0-9A-Z]+-[0-9A-Z]{8}", footer.inner_text())
    assert found is not None

    sign_in(page, live_server, "dana", factories.PASSWORD)
    page.goto(live_server.url + "/message-center/check-email/")
    page.get_by_label("Reference from the e-mail").fill(found.group(0).lower())
    page.get_by_role("button", name="Check").click()
    answer = page.get_by_test_id("reference-marketplace")
    expect(answer).to_contain_text(f"Yes, {found.group(0)} is an e-mail from the marketplace")
    expect(answer).to_contain_text("Reset your Marketplace password")
    expect(answer).to_contain_text("a link to choose a new password")
    expect(answer).to_contain_text("are not kept in your Message Center")
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
