"""The journeys of issue #3, in Chromium, on a desktop and on a phone, with the demo
marketplace: what a buyer does with a message from a seller (read, reply, find it again,
delete, undo, delete, restore from Trash), asking a question from a product page, and
contacting a seller from Your Orders. Each step checks what the person sees; the end
checks the database."""

import re

import pytest
from playwright.sync_api import Browser, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Conversation, Kind, Message, Participant
from messagecenter.hub.boxes import Box
from messagecenter.marketplace.models import Order, Product
from messagecenter.realtime.models import EventKind, UserEvent
from tests.e2e.conftest import watch_content_security_policy
from tests.e2e.helpers import VIEWPORTS, browser_page, header_link, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# In the demo: Dana of Brightside answered alice about her late coffee maker; alice has
# not read it yet.
LATE_ORDER = "113-6624019-7781204"
# A word found nowhere else in the demo, so the search finds exactly the reply.
REPLY = "It still hasn't come, so please send the replacement. Ticket word: lanternfish."


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_buyer_reads_replies_finds_deletes_undoes_and_restores_from_trash(
    live_server: LiveServer, viewport: str, request: pytest.FixtureRequest, demo: None
) -> None:
    alice = User.objects.get(username="alice")
    conversation = Conversation.objects.get(subject=f"Order {LATE_ORDER}")
    page = browser_page(request, viewport)
    in_list = page.get_by_role("link", name=re.compile(f"Order {LATE_ORDER}"))

    # The Message Center: the conversation is unread, with the seller's answer as preview.
    sign_in(page, live_server, "alice")
    expect(page.get_by_role("heading", name="All messages")).to_be_visible()
    expect(in_list).to_contain_text("Brightside Home & Kitchen")
    expect(in_list).to_contain_text("1 unread")
    expect(in_list).to_contain_text("I'm sorry about the wait")

    # Open it: the seller's message, the order it is about; and it is read now.
    in_list.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {LATE_ORDER}")
    expect(page.get_by_role("complementary", name="About this order")).to_contain_text(LATE_ORDER)
    expect(page.get_by_text("held at the Memphis hub by a weather delay")).to_be_visible()

    # Reply.
    page.get_by_label("Your message").fill(REPLY)
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("list", name="Messages").get_by_role("listitem").last).to_contain_text(
        REPLY
    )
    expect(page.get_by_role("listitem").filter(has_text=REPLY)).to_contain_text("You")

    # Find it again with the search box of the Message Center.
    page.get_by_role("link", name="← Back to Buyer/Seller messages").click()
    page.get_by_role("searchbox", name="Search messages").fill("lanternfish")
    page.get_by_role("search", name="Search messages").get_by_role("button", name="Search").click()
    expect(page).to_have_url(re.compile(r"/message-center/search/\?q=lanternfish$"))
    results = page.get_by_role("link", name=re.compile("lanternfish"))
    expect(results).to_have_count(1)
    expect(results).to_contain_text(f"Order {LATE_ORDER}")
    expect(results.locator("mark")).to_have_text("lanternfish")
    results.click()
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {LATE_ORDER}")

    # Delete it from its page: back in the folder, gone from it, with Undo.
    page.get_by_role("button", name="Move to Trash").click()
    expect(page.get_by_role("heading", name="Buyer/Seller messages")).to_be_visible()
    notice = page.get_by_role("status")
    expect(notice).to_contain_text("1 conversation moved to Trash.")
    expect(in_list).to_have_count(0)

    # Undo: it is back.
    notice.get_by_role("button", name="Undo").click()
    expect(page.get_by_role("status")).to_contain_text("1 conversation restored.")
    expect(in_list).to_have_count(1)

    # Delete it again, this time by selecting it in the list.
    page.get_by_label(f"Select “Order {LATE_ORDER}”").check()
    page.get_by_role("button", name="Move to Trash").click()
    expect(page.get_by_role("status")).to_contain_text("1 conversation moved to Trash.")
    expect(in_list).to_have_count(0)

    # Trash has it; opened from there, it says so; Restore puts it back.
    folders = page.get_by_role("navigation", name="Message Center folders")
    folders.get_by_role("link", name=re.compile("^Trash")).click()
    expect(page.get_by_role("heading", name="Trash")).to_be_visible()
    in_list.click()
    expect(page.get_by_text("In Trash")).to_be_visible()
    page.get_by_role("button", name="Restore").click()
    expect(page.get_by_role("status")).to_contain_text("1 conversation restored.")
    expect(page.get_by_role("heading", name="Trash")).to_be_visible()
    expect(in_list).to_have_count(0)
    folders.get_by_role("link", name=re.compile(r"^Buyer\/Seller messages")).click()
    expect(in_list).to_have_count(1)
    expect(in_list).not_to_contain_text("unread")

    # In the database: one reply, the conversation read and in the inbox, the seller with
    # one new message, and alice's devices told of every move in order.
    replies = Message.objects.filter(conversation=conversation, body=REPLY)
    assert list(replies.values_list("sender__username", flat=True)) == ["alice"]
    mine = Participant.objects.get(conversation=conversation, user=alice)
    assert (mine.box, mine.unread_count, mine.trashed_at) == (Box.INBOX, 0, None)
    dana = Participant.objects.get(conversation=conversation, user__username="seller")
    assert (dana.box, dana.unread_count) == (Box.INBOX, 1)
    moves = UserEvent.objects.filter(
        user=alice,
        kind__in=[EventKind.CONVERSATION_TRASHED, EventKind.CONVERSATION_RESTORED],
        payload__conversation_id=conversation.pk,
    ).order_by("sequence")
    assert list(moves.values_list("kind", flat=True)) == [
        EventKind.CONVERSATION_TRASHED,
        EventKind.CONVERSATION_RESTORED,
        EventKind.CONVERSATION_TRASHED,
        EventKind.CONVERSATION_RESTORED,
    ]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_buyer_asks_the_seller_a_question_from_a_product_page(
    live_server: LiveServer,
    viewport: str,
    request: pytest.FixtureRequest,
    browser: Browser,
    csp_violations: list[str],
    demo: None,
) -> None:
    dutch_oven = Product.objects.get(sku="B0D1HV8N56")
    question = "Does the lid knob take oven temperatures up to 500 °F?"
    page = browser_page(request, viewport)

    sign_in(page, live_server, "bob")
    page.goto(f"{live_server.url}/products/{dutch_oven.sku}/")
    expect(page.get_by_role("heading", level=1)).to_have_text(dutch_oven.title)
    expect(page.get_by_text("Sold by Brightside Home & Kitchen")).to_be_visible()
    ask = page.get_by_role("region", name="Ask a question")
    expect(ask).to_contain_text("Your question goes to Brightside Home & Kitchen.")
    ask.get_by_label("Your question").fill(question)
    ask.get_by_role("button", name="Send question").click()

    # The new conversation, about the product, with the question in it.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Question about {dutch_oven.title}")
    about = page.get_by_role("complementary", name="About this product")
    expect(about).to_contain_text("Sold by Brightside Home & Kitchen")
    expect(about.get_by_role("link", name=dutch_oven.title)).to_be_visible()
    expect(page.get_by_role("list", name="Messages")).to_contain_text(question)

    # The seller finds it waiting for an answer, in a browser of their own.
    seller_context = browser.new_context(viewport=page.viewport_size)
    watch_content_security_policy(seller_context, csp_violations)
    try:
        seller_page = seller_context.new_page()
        sign_in(seller_page, live_server, "seller")
        folders = seller_page.get_by_role("navigation", name="Message Center folders")
        folders.get_by_role("link", name="Response needed").click()
        waiting = seller_page.get_by_role(
            "link", name=re.compile(f"Question about {dutch_oven.title}")
        )
        expect(waiting).to_contain_text("Bob Chen")
        expect(waiting).to_contain_text("1 unread")
    finally:
        seller_context.close()

    conversation = Conversation.objects.get(kind=Kind.BUYER_SELLER, product=dutch_oven)
    assert list(conversation.messages.values_list("sender__username", "body")) == [
        ("bob", question)
    ]
    assert sorted(conversation.participants.values_list("user__username", "unread_count")) == [
        ("bob", 0),
        ("seller", 1),
    ]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_buyer_contacts_the_seller_of_an_order_from_your_orders(
    live_server: LiveServer, viewport: str, request: pytest.FixtureRequest, demo: None
) -> None:
    order = Order.objects.get(number="114-3318806-1147725")
    note = "Could you leave the parcel with the building's concierge, please?"
    page = browser_page(request, viewport)

    sign_in(page, live_server, "alice")
    header_link(page, "Your Orders").click()
    expect(page.get_by_role("heading", name="Your Orders")).to_be_visible()
    card = page.get_by_role("article", name=order.number)
    expect(card).to_contain_text("Enameled Cast Iron Dutch Oven")
    expect(card).to_contain_text("Sold by Brightside Home & Kitchen")
    card.get_by_role("link", name="Contact seller").click()

    # The order's page, at the seller's form.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order.number}")
    expect(page.get_by_role("region", name="Messages about this order")).not_to_contain_text(
        "Brightside Home & Kitchen"
    )
    contact = page.get_by_role("region", name="Contact seller: Brightside Home & Kitchen")
    contact.get_by_label("Your message").fill(note)
    contact.get_by_role("button", name="Send to seller").click()

    # The conversation about the order, which links back to it.
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Order {order.number}")
    expect(page.get_by_role("list", name="Messages")).to_contain_text(note)
    page.get_by_role("complementary", name="About this order").get_by_role(
        "link", name=order.number
    ).click()
    expect(page.get_by_role("region", name="Messages about this order")).to_contain_text(
        "with Brightside Home & Kitchen"
    )

    conversation = Conversation.objects.get(order=order, kind=Kind.BUYER_SELLER)
    assert list(conversation.messages.values_list("sender__username", "body")) == [("alice", note)]
    assert sorted(conversation.participants.values_list("user__username", flat=True)) == [
        "alice",
        "seller",
    ]
