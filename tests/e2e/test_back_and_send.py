"""Back after sending, then Send again: the browser shows the form filled back in, on a page
made anew with a new idempotency key; the form gets the key it was sent with back
(site.js), so the second submit finds what the first one made instead of making it twice.
The same words typed again afresh are a new message."""

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.conversations.models import Conversation, Message
from messagecenter.support.models import Case
from tests.e2e.helpers import VIEWPORTS, browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_back_and_send_again_opens_one_case(
    live_server: LiveServer, viewport: str, request: pytest.FixtureRequest, demo: None
) -> None:
    page = browser_page(request, viewport)
    sign_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/message-center/customer-service/")
    page.get_by_label("Subject").fill("Sent twice?")
    page.get_by_label("Your message").fill("My parcel never came.")
    page.get_by_role("button", name="Send to customer service").click()
    expect(page.get_by_test_id("case-status-line")).to_contain_text("Waiting for an agent")
    case_url = page.url

    page.go_back()
    # The browser filled the form back in; sent again, it is the same request.
    expect(page.get_by_label("Your message")).to_have_value("My parcel never came.")
    page.get_by_role("button", name="Send to customer service").click()
    expect(page.get_by_test_id("case-status-line")).to_be_visible()
    assert page.url == case_url
    assert Case.objects.filter(subject="Sent twice?").count() == 1


def test_back_and_send_again_posts_a_reply_once_and_the_same_words_typed_again_twice(
    live_server: LiveServer, page: Page, demo: None
) -> None:
    conversation = Conversation.objects.get(subject="Order 113-6624019-7781204")
    sign_in(page, live_server, "alice")
    url = f"{live_server.url}/message-center/conversations/{conversation.pk}/"
    page.goto(url)
    reply = page.get_by_label("Your message")
    send = page.get_by_role("button", name="Send")
    reply.fill("Thanks, that helps.")
    send.click()
    expect(page).to_have_url(re.compile(r"#message-\d+$"))

    page.go_back()
    expect(reply).to_have_value("Thanks, that helps.")
    send.click()
    expect(page).to_have_url(re.compile(r"#message-\d+$"))
    sent = Message.objects.filter(conversation=conversation, body="Thanks, that helps.")
    assert sent.count() == 1

    # Typed again on a fresh page: a second message, as the person meant.
    page.goto(url)
    reply.fill("Thanks, that helps.")
    send.click()
    newest = page.get_by_role("list", name="Messages").get_by_role("listitem").last
    expect(newest).to_contain_text("Thanks, that helps.")
    assert sent.count() == 2


def test_back_then_changed_and_sent_is_a_new_request(
    live_server: LiveServer, page: Page, demo: None
) -> None:
    """Back after sending gave the form its first key back; the buyer then rewrote the
    form for another question and sent it, and the page answered "This idempotency key was
    already used for a different message." — nothing a buyer can act on. Changed, it is a
    new request with a key of its own."""
    sign_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/message-center/customer-service/")
    page.get_by_label("Subject").fill("Parcel missing")
    page.get_by_label("Your message").fill("My parcel never came.")
    page.get_by_role("button", name="Send to customer service").click()
    expect(page.get_by_test_id("case-status-line")).to_contain_text("Waiting for an agent")
    first_url = page.url

    page.go_back()
    expect(page.get_by_label("Your message")).to_have_value("My parcel never came.")
    page.get_by_label("Subject").fill("Refund question")
    page.get_by_label("Your message").fill("And when is my refund for the socks due?")
    page.get_by_role("button", name="Send to customer service").click()

    expect(page.get_by_test_id("case-status-line")).to_contain_text("Waiting for an agent")
    assert page.url != first_url
    assert Case.objects.filter(subject__in=["Parcel missing", "Refund question"]).count() == 2
