"""A long conversation in Chromium, on a desktop and on a phone: the page shows the newest
messages, "Show older messages" adds the older ones in place (no reload), and a link to an
old message made before the page was paged (its anchor alone, as an older e-mail's) still
lands on that message (docs/conversations.md, "A conversation's page")."""

import re

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Conversation, Message
from tests.e2e.helpers import VIEWPORTS, browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# In the demo: alice and Brightside Home & Kitchen about her late coffee maker.
SUBJECT = "Order 113-6624019-7781204"


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_older_messages_are_added_in_place_and_old_links_still_land(
    live_server: LiveServer, viewport: str, request: pytest.FixtureRequest, demo: None
) -> None:
    alice = User.objects.get(username="alice")
    conversation = Conversation.objects.get(subject=SUBJECT)
    seller = conversation.storefront.seller  # type: ignore[union-attr]
    for number in range(70):
        actions.send_message(
            seller if number % 2 else alice, conversation.pk, f"Update number {number + 1}."
        )
    ids = list(
        Message.objects.filter(conversation=conversation)
        .order_by("id")
        .values_list("id", flat=True)
    )
    page = browser_page(request, viewport)
    url = f"{live_server.url}/message-center/conversations/{conversation.pk}/"
    sign_in(page, live_server, "alice")

    page.goto(url)
    messages = page.get_by_role("list", name="Messages").locator(":scope > li")
    expect(messages).to_have_count(50)
    expect(messages.first).to_have_id(f"message-{ids[-50]}")
    page.evaluate("window.notReloaded = true")

    page.get_by_role("link", name="Show older messages").click()

    expect(messages).to_have_count(len(ids))
    expect(messages.first).to_have_id(f"message-{ids[0]}")
    expect(page.get_by_role("link", name="Show older messages")).to_have_count(0)
    # Added in place: the same page, and the focus on the newest of the messages added.
    assert page.evaluate("window.notReloaded") is True
    expect(page.locator(f"#message-{ids[-51]}")).to_be_focused()
    expect(page).to_have_url(url)

    # A link to the first message by its anchor alone, opened afresh: the page that shows it.
    page.goto(f"{live_server.url}/message-center/")
    page.goto(f"{url}#message-{ids[0]}")
    expect(page).to_have_url(re.compile(rf"\?message={ids[0]}#message-{ids[0]}$"))
    expect(page.locator(f"#message-{ids[0]}")).to_be_in_viewport()
    expect(page.get_by_role("link", name="Show newer messages")).to_be_visible()
