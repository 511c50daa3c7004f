"""Undo after a bulk Move to Trash, in Chromium: it restores everything that action moved —
conversations and notices alike — and says so."""

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Participant
from messagecenter.marketplace.models import Product
from messagecenter.notifications import queries as broadcast_queries
from tests import factories
from tests.e2e.helpers import VIEWPORTS, browser_page, sign_in
from tests.notifications.helpers import broadcast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_undo_after_trashing_a_notice_and_a_conversation_restores_both(
    live_server: LiveServer, page: Page, buyer: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Does it come with a tamper?")
    notice = broadcast(subject="New terms of service")
    sign_in(page, live_server, "alice", factories.PASSWORD)

    page.get_by_role("checkbox", name="Select “New terms of service”").check()
    page.get_by_role("checkbox", name=re.compile("Select “Question about")).check()
    page.get_by_role("button", name="Move to Trash").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("1 conversation and 1 announcement moved to Trash.")
    expect(page.get_by_role("link", name=re.compile("New terms of service"))).to_have_count(0)

    status.get_by_role("button", name="Undo").click()

    expect(page.get_by_role("status")).to_contain_text(
        "1 conversation and 1 announcement restored."
    )
    expect(page.get_by_role("link", name=re.compile("New terms of service"))).to_be_visible()
    expect(page.get_by_role("link", name=re.compile("Question about"))).to_be_visible()
    assert broadcast_queries.access_broadcast(buyer, notice.pk).box == "inbox"
    assert Participant.objects.get(user=buyer, conversation=question.conversation).box == "inbox"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_notice_alone_can_be_selected_and_select_all_takes_notices_too(
    request: pytest.FixtureRequest,
    live_server: LiveServer,
    buyer: User,
    product: Product,
    viewport: str,
) -> None:
    """The bulk bar counted only conversations: on a phone, where it shows only with a
    selection, a notice ticked alone offered no action, and "Select all" left notices out."""
    page = browser_page(request, viewport)
    actions.ask_seller_about_product(buyer, product.pk, "Does it come with a tamper?")
    broadcast(subject="New terms of service")
    sign_in(page, live_server, "alice", factories.PASSWORD)

    page.get_by_role("checkbox", name="Select “New terms of service”").check()
    expect(page.get_by_text("1 selected")).to_be_visible()
    expect(page.get_by_role("button", name="Move to Trash")).to_be_visible()

    page.get_by_role("checkbox", name="Select “New terms of service”").uncheck()
    page.get_by_label("Select all").check()
    expect(page.get_by_text("2 selected")).to_be_visible()
    expect(page.get_by_role("checkbox", name="Select “New terms of service”")).to_be_checked()
    page.get_by_role("button", name="Move to Trash").click()
    expect(page.get_by_role("status")).to_contain_text(
        "1 conversation and 1 announcement moved to Trash."
    )


def test_the_notice_after_an_action_takes_the_focus_and_undo_is_the_next_tab(
    live_server: LiveServer, page: Page, buyer: User, product: Product
) -> None:
    """The page after Move to Trash said what it did in a live region that was there when
    it loaded — which screen readers do not read out — with the focus at the start of the
    page, so Undo was the header, the folders and the whole list away by keyboard."""
    actions.ask_seller_about_product(buyer, product.pk, "Does it come with a tamper?")
    sign_in(page, live_server, "alice", factories.PASSWORD)

    page.get_by_role("checkbox", name=re.compile("Select “Question about")).check()
    page.get_by_role("button", name="Move to Trash").click()

    status = page.get_by_role("status").filter(has_text="moved to Trash")
    expect(status).to_be_focused()
    page.keyboard.press("Tab")
    expect(status.get_by_role("button", name="Undo")).to_be_focused()
    page.keyboard.press("Enter")
    expect(page.get_by_role("status").filter(has_text="restored")).to_be_focused()
