"""The first thing a newcomer does after `make run`: sign in as the demo buyer, see the
Message Center, open an unread conversation and reply."""

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Message
from messagecenter.demo import story
from messagecenter.hub.queries import unread_counts

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def sign_in(page: Page, live_server: LiveServer, username: str) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(story.DEMO_PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(f"{live_server.url}/message-center/")


@pytest.mark.parametrize("viewport", ["page", "phone"])
def test_the_demo_buyer_signs_in_reads_and_replies(
    live_server: LiveServer, viewport: str, request: pytest.FixtureRequest, demo: None
) -> None:
    alice = User.objects.get(username="alice")
    unread_before = unread_counts(alice)["all"]
    assert unread_counts(alice)["unseen"] > 0
    browser_page: Page = request.getfixturevalue(viewport)

    sign_in(browser_page, live_server, "alice")
    expect(browser_page.get_by_role("heading", name="All messages")).to_be_visible()
    # Opening the Message Center clears the header's "new" badge; the folders still count
    # the unread conversations (docs/conversations.md, "Seen vs read").
    expect(browser_page.get_by_test_id("header-unread")).to_have_count(0)
    expect(browser_page.get_by_role("link", name=f"All {unread_before} unread")).to_be_visible()

    browser_page.get_by_role("link", name=re.compile("Question about Variable-Temperature")).click()
    expect(browser_page.get_by_role("heading", level=1)).to_contain_text("Question about")
    browser_page.get_by_label("Your message").fill("Thanks, ordering it today.")
    browser_page.get_by_role("button", name="Send").click()

    expect(browser_page.get_by_text("Thanks, ordering it today.")).to_be_visible()
    assert Message.objects.filter(sender=alice, body="Thanks, ordering it today.").count() == 1
