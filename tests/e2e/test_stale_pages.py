"""Pages that must not go stale: the browser's Back button after a move to Trash, and a
second tab with the same conversation open while it is trashed or archived elsewhere."""

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message
from messagecenter.marketplace.models import Product
from tests import factories
from tests.e2e.helpers import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def question(buyer: User, product: Product) -> Message:
    return actions.ask_seller_about_product(buyer, product.pk, "Does it come with a tamper?")


def conversation_url(live_server: LiveServer, message: Message) -> str:
    return f"{live_server.url}/message-center/conversations/{message.conversation_id}/"


def test_back_after_move_to_trash_shows_the_conversation_in_trash(
    live_server: LiveServer, page: Page, question: Message
) -> None:
    sign_in(page, live_server, "alice", factories.PASSWORD)
    page.goto(conversation_url(live_server, question))
    page.get_by_role("button", name="Move to Trash").click()
    expect(page.get_by_role("status")).to_contain_text("moved to Trash")

    page.go_back()

    expect(page.get_by_role("heading", level=1)).to_have_text(
        re.compile("Question about Espresso machine")
    )
    expect(page.get_by_role("button", name="Restore")).to_be_visible()
    expect(page.get_by_role("button", name="Move to Trash")).to_have_count(0)
