"""A seller's wait to answer set aside and back, live (docs/realtime.md, "Live pages"), in
Chromium: the buyer's account suspended, then the suspension lifted, through
safety.actions (customer service's decision, not a page of the seller's). The seller's
Response needed list and open conversation follow without a reload; they used to keep
showing the question, or the "suspended" notice, until one.

The actions run in this process, whose wake-ups do not reach the server's: the seller's
page holds its stream (HOLD_STREAMS) while an action commits and opens it afterwards, from
where the page was read or the last event it had — what a page does after any late start
or lost connection, so the events come from the log, not from a wake-up."""

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from playwright.sync_api import Page, expect

from messagecenter.accounts.models import User
from messagecenter.conversations.actions import send_message
from messagecenter.conversations.models import Message
from messagecenter.safety.actions import reinstate, suspend
from tests.conversations.helpers import run_other_sides_jobs
from tests.e2e.helpers import HOLD_STREAMS, LIVE_MS, sign_in, wait_for_held_streams
from tests.factories import PASSWORD
from tests.realtime.servers import Server

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SUSPENDED_BUYER = (
    "This buyer's account is suspended: your messages cannot be delivered to them for now."
)
DRAFT = "Your parcel left on Monday; tracking follows."


@pytest.fixture
def asked(asked: Message, seller: User) -> Message:
    """The buyer's question (tests/conftest.py), with a seller who signs in on the server
    (its settings know only the real password hashers)."""
    seller.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    seller.save(update_fields=["password"])
    return asked


def seller_opens(page: Page, server: Server, path: str) -> None:
    """The seller's page, its stream held until the test lets it open."""
    page.add_init_script(HOLD_STREAMS)
    sign_in(page, server, "seller", PASSWORD)  # type: ignore[arg-type]
    page.goto(f"{server.url}{path}")
    wait_for_held_streams(page, 1)


def mark_no_reload(page: Page) -> None:
    page.evaluate("window.stillTheSamePage = true")


def expect_not_reloaded(page: Page) -> None:
    assert page.evaluate("window.stillTheSamePage === true")


def test_the_response_needed_list_follows_a_suspension_and_its_lifting(
    streaming_server: Server, page: Page, buyer: User, asked: Message
) -> None:
    seller_opens(page, streaming_server, "/message-center/?view=response-needed")
    row = page.locator("li.conversation", has_text="Where is my parcel?")
    expect(row).to_have_count(1)
    page.evaluate("window.releaseStreams()")
    mark_no_reload(page)

    page.evaluate("window.dropStreams()")
    suspend(buyer)
    page.evaluate("window.releaseStreams()")

    expect(row).to_have_count(0, timeout=LIVE_MS)
    expect(page.get_by_text("No buyer is waiting for an answer.")).to_be_visible()

    page.evaluate("window.dropStreams()")
    reinstate(buyer)
    page.evaluate("window.releaseStreams()")

    expect(row).to_have_count(1, timeout=LIVE_MS)
    expect_not_reloaded(page)


def test_an_open_conversation_shows_the_suspension_and_its_lifting(
    streaming_server: Server, page: Page, buyer: User, asked: Message
) -> None:
    seller_opens(page, streaming_server, f"/message-center/conversations/{asked.conversation_id}/")
    reply_box = page.get_by_label("Your message")
    expect(reply_box).to_be_visible()
    expect(page.get_by_test_id("response-window")).to_be_visible()

    suspend(buyer)
    page.evaluate("window.releaseStreams()")

    expect(page.get_by_test_id("closed-counterpart")).to_contain_text(
        SUSPENDED_BUYER, timeout=LIVE_MS
    )
    expect(reply_box).to_have_count(0)
    expect(page.get_by_test_id("response-window")).to_have_count(0)

    # The page was loaded again: its new stream starts where it was read.
    wait_for_held_streams(page, 1)
    reinstate(buyer)
    page.evaluate("window.releaseStreams()")

    expect(reply_box).to_be_visible(timeout=LIVE_MS)
    expect(page.get_by_test_id("closed-counterpart")).to_have_count(0)
    expect(page.get_by_test_id("response-window")).to_contain_text("Answer by")


def test_a_reply_being_written_stays_while_the_rest_follows(
    streaming_server: Server, page: Page, buyer: User, asked: Message
) -> None:
    seller_opens(page, streaming_server, f"/message-center/conversations/{asked.conversation_id}/")
    page.get_by_label("Your message").fill(DRAFT)
    mark_no_reload(page)

    suspend(buyer)
    page.evaluate("window.releaseStreams()")

    expect(page.get_by_test_id("response-window")).to_have_count(0, timeout=LIVE_MS)
    expect(page.get_by_label("Your message")).to_have_value(DRAFT)
    expect(page.locator("[data-live-announcer]")).to_contain_text("changed while you were writing")
    expect_not_reloaded(page)


def buyer_opens(page: Page, server: Server, buyer: User, conversation_id: int) -> None:
    """The buyer's conversation page, its stream held until the test lets it open."""
    buyer.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    buyer.save(update_fields=["password"])
    page.add_init_script(HOLD_STREAMS)
    sign_in(page, server, buyer.username, PASSWORD)  # type: ignore[arg-type]
    page.goto(f"{server.url}/message-center/conversations/{conversation_id}/")
    wait_for_held_streams(page, 1)


def test_the_buyers_open_conversation_shows_the_shops_suspension(
    streaming_server: Server, page: Page, buyer: User, seller: User, asked: Message
) -> None:
    """The other way round, with nobody waiting (the seller had answered): the buyer's open
    page kept its reply box for a shop that could no longer read it, until a reload."""
    send_message(seller, asked.conversation_id, "It left on Monday.")
    buyer_opens(page, streaming_server, buyer, asked.conversation_id)
    expect(page.get_by_label("Your message")).to_be_visible()

    suspend(seller)
    # The worker's job tells the buyers after the suspension commits.
    run_other_sides_jobs()
    page.evaluate("window.releaseStreams()")

    expect(page.get_by_test_id("closed-counterpart")).to_contain_text(
        "This shop's account is suspended", timeout=LIVE_MS
    )
    expect(page.get_by_label("Your message")).to_have_count(0)
    expect(page.get_by_role("link", name="Contact customer service")).to_be_visible()


def test_the_buyers_open_conversation_gets_its_reply_box_back_when_the_suspension_is_lifted(
    streaming_server: Server, page: Page, buyer: User, seller: User, asked: Message
) -> None:
    """The page kept the shop's "suspended" notice, and no reply box, until a reload."""
    send_message(seller, asked.conversation_id, "It left on Monday.")
    suspend(seller)
    run_other_sides_jobs()
    buyer_opens(page, streaming_server, buyer, asked.conversation_id)
    expect(page.get_by_test_id("closed-counterpart")).to_be_visible()

    reinstate(seller)
    run_other_sides_jobs()
    page.evaluate("window.releaseStreams()")

    expect(page.get_by_label("Your message")).to_be_visible(timeout=LIVE_MS)
    expect(page.get_by_test_id("closed-counterpart")).to_have_count(0)
