"""Where the focus is after sending, in Chromium: the page loads again at the message just
sent (#message-<id>), and that message takes the focus — the agent's answer in the
console, the buyer's reply on their conversation page."""

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.marketplace.models import Product
from messagecenter.support import actions
from tests import factories
from tests.e2e.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_agents_answer_takes_the_focus_once_sent(
    live_server: LiveServer, page: Page, buyer: User
) -> None:
    """The console scrolled to the answer just sent but left the focus on the page itself:
    a screen reader said nothing of it, and Tab started again from the top of the page."""
    case = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    agent = factories.agent_in_team(username="priya")
    sign_in(page, live_server, agent.username, factories.PASSWORD)
    page.goto(f"{live_server.url}/console/cases/{case.pk}/")

    page.get_by_label(re.compile("^Your answer")).fill("It left the depot this morning.")
    page.get_by_role("button", name="Send to customer").click()

    expect(page).to_have_url(re.compile(r"#message-\d+$"))
    sent = page.locator("li.message").filter(has_text="It left the depot this morning.")
    expect(sent).to_be_focused()


def test_the_buyers_reply_takes_the_focus_once_sent(
    live_server: LiveServer, page: Page, buyer: User, product: Product
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it 230 V?")
    sign_in(page, live_server, buyer.username, factories.PASSWORD)
    page.goto(f"{live_server.url}/message-center/conversations/{question.conversation_id}/")

    page.get_by_label("Your message").fill("And does it come with a plug for the UK?")
    page.get_by_role("button", name="Send", exact=True).click()

    expect(page).to_have_url(re.compile(r"#message-\d+$"))
    sent = page.locator("li.message").filter(has_text="And does it come with a plug")
    expect(sent).to_be_focused()
