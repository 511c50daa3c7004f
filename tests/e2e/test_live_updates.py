"""Live pages (docs/realtime.md, "Live pages"), in Chromium: the same buyer signed in on two
devices. Reading on one clears the unread count on the other, and a seller's reply appears
in the open conversation, with no reload.

Under pytest-django's live_server (a WSGI server) the stream answers what is there and
ends, and EventSource comes back after its `retry` (2 s) with Last-Event-ID: a page learns
of a change within about two seconds here, at once under `messagecenter serve` (ASGI)."""

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.marketplace.models import Product
from tests.e2e.helpers import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# Two stream round trips (one per device) and the debounced refreshes, with room to spare.
LIVE_MS = 8_000
REPLY = "Yes, a steel tamper is in the box. Ticket word: heliotrope."


@pytest.fixture
def answered(buyer: User, seller: User, product: Product) -> Message:
    """Alice asked about the espresso machine; the seller answered; alice has not read it."""
    question = actions.ask_seller_about_product(buyer, product.pk, "Does it come with a tamper?")
    return actions.send_message(seller, question.conversation_id, "Which model do you have?")


def mark_no_reload(page: Page) -> None:
    """A flag a reload would wipe: checked at the end of each test."""
    page.evaluate("window.stillTheSamePage = true")


def expect_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.stillTheSamePage === true")


def in_list(page: Page) -> tuple:
    row = page.locator("li.conversation", has_text="Question about Espresso machine")
    all_tab = page.get_by_role("navigation", name="Message Center folders").get_by_role(
        "link", name=re.compile("^All")
    )
    return row, all_tab


def test_reading_on_one_device_clears_the_unread_count_on_the_other(
    live_server: LiveServer, page: Page, other_device: Page, answered: Message
) -> None:
    sign_in(page, live_server, "alice", PASSWORD)
    row, all_tab = in_list(page)
    expect(row).to_have_class(re.compile(r"\bconversation--unread\b"))
    expect(row).to_contain_text("1 unread")
    expect(all_tab).to_contain_text("1 unread")
    mark_no_reload(page)

    sign_in(other_device, live_server, "alice", PASSWORD)
    other_device.get_by_role("link", name=re.compile("Question about Espresso machine")).click()
    expect(other_device.get_by_role("heading", level=1)).to_have_text(
        "Question about Espresso machine"
    )

    expect(row).not_to_have_class(re.compile(r"\bconversation--unread\b"), timeout=LIVE_MS)
    expect(row).not_to_contain_text("unread")
    expect(all_tab.locator(".badge--unread")).to_have_count(0, timeout=LIVE_MS)
    expect(all_tab).to_have_accessible_name("All")
    expect_not_reloaded(page)


def test_a_reply_appears_in_the_open_conversation_and_is_read_everywhere(
    live_server: LiveServer,
    page: Page,
    other_device: Page,
    seller: User,
    answered: Message,
) -> None:
    conversation_id = answered.conversation_id
    sign_in(other_device, live_server, "alice", PASSWORD)
    sign_in(page, live_server, "alice", PASSWORD)
    page.get_by_role("link", name=re.compile("Question about Espresso machine")).click()
    messages = page.get_by_role("list", name="Messages")
    expect(messages.get_by_role("listitem")).to_have_count(2)
    mark_no_reload(page)
    mark_no_reload(other_device)

    actions.send_message(seller, conversation_id, f"{REPLY}\n<b>not bold</b>")

    reply = messages.get_by_role("listitem").last
    expect(reply).to_contain_text(REPLY, timeout=LIVE_MS)
    expect(reply).to_contain_text("Acme Kitchen")
    # Text stays text, and lines stay lines, as the server renders them.
    expect(reply.locator(".message__body")).to_contain_text("<b>not bold</b>")
    expect(reply.locator(".message__body b")).to_have_count(0)
    expect(reply.locator(".message__body br")).to_have_count(1)
    expect(page.get_by_text(REPLY)).to_have_count(1)

    # The other device's list shows the reply, and then (the page above read it) not unread.
    row, all_tab = in_list(other_device)
    expect(row).to_contain_text("Ticket word: heliotrope", timeout=LIVE_MS)
    expect(row).not_to_have_class(re.compile(r"\bconversation--unread\b"), timeout=LIVE_MS)
    expect(all_tab.locator(".badge--unread")).to_have_count(0)
    expect(page.get_by_test_id("header-unread")).to_have_count(0, timeout=LIVE_MS)
    expect_not_reloaded(page)
    expect_not_reloaded(other_device)

    buyer = User.objects.get(username="alice")
    assert Participant.objects.get(user=buyer, conversation_id=conversation_id).unread_count == 0
