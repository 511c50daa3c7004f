"""Live pages (docs/realtime.md, "Live pages"), in Chromium: the same buyer signed in on two
devices. Reading on one clears the unread count on the other, and a seller's reply appears
in the open conversation, with no reload.

Against a real `messagecenter serve` (uvicorn, tests/e2e/conftest.py: `streaming_server`),
whose periodic checks are an hour apart: a change reaches the pages only through a wake-up
of their open stream, and each page opens its stream once and keeps it (under a WSGI
server it would end and come back every two seconds)."""

import re
import time
from zoneinfo import ZoneInfo

import pytest
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.utils import timezone
from playwright.sync_api import Page, Request, Route, expect

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.marketplace.models import Product
from messagecenter.web.dates import full_time
from tests.e2e.helpers import (
    HOLD_STREAMS,
    LIVE_MS,
    STREAM_PATH,
    following_its_stream,
    sign_in,
    wait_for_held_streams,
)
from tests.factories import PASSWORD
from tests.notifications.helpers import broadcast
from tests.realtime.servers import Server

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True),
    pytest.mark.usefixtures("buyer_signs_in_on_the_server"),
]


@pytest.fixture
def stream_requests(page: Page, other_device: Page) -> list[str]:
    """Every request either page makes for the event stream."""
    seen: list[str] = []

    def record(request: Request) -> None:
        if STREAM_PATH in request.url:
            seen.append(request.url)

    page.on("request", record)
    other_device.on("request", record)
    return seen


@pytest.fixture
def buyer_signs_in_on_the_server(buyer: User) -> None:
    """The tests' settings hash passwords with MD5 for speed; the server, with its own
    settings, knows only the real hashers."""
    buyer.password = PBKDF2PasswordHasher().encode(PASSWORD, PBKDF2PasswordHasher().salt())
    buyer.save(update_fields=["password"])


REPLY = "Yes, a steel tamper is in the box. Ticket word: heliotrope."
# A zone far from the browser's (Chromium runs in the machine's, UTC here): a time written
# in the browser's zone would show another hour, often another day.
BUYER_TIME_ZONE = "Pacific/Auckland"
# web/dates.py's full_time: "Mon 3 Nov 2025, 2:05 PM".
FULL_TIME = re.compile(
    r"^(Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d{1,2} [A-Z][a-z]{2} \d{4}, \d{1,2}:\d{2} (AM|PM)$"
)


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


def seller_replies(server: Server, token: str, conversation_id: int, body: str) -> None:
    """Through the server, as the seller's app sends it: the server's wake-up reaches the
    streams open on it."""
    status, answer = server.request(
        "POST",
        f"/api/v1/conversations/{conversation_id}/messages",
        {"body": body},
        {"Authorization": f"Bearer {token}"},
    )
    assert status == 201, answer


def test_reading_on_one_device_clears_the_unread_count_on_the_other(
    streaming_server: Server,
    page: Page,
    other_device: Page,
    answered: Message,
    stream_requests: list[str],
) -> None:
    sign_in(page, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    row, all_tab = in_list(page)
    expect(row).to_have_class(re.compile(r"\bconversation--unread\b"))
    expect(row).to_contain_text("1 unread")
    expect(all_tab).to_contain_text("1 unread")
    mark_no_reload(page)

    sign_in(other_device, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    other_device.get_by_role("link", name=re.compile("Question about Espresso machine")).click()
    expect(other_device.get_by_role("heading", level=1)).to_have_text(
        "Question about Espresso machine"
    )

    expect(row).not_to_have_class(re.compile(r"\bconversation--unread\b"), timeout=LIVE_MS)
    expect(row).not_to_contain_text("unread")
    expect(all_tab.locator(".badge--unread")).to_have_count(0, timeout=LIVE_MS)
    expect(all_tab).to_have_accessible_name("All")
    expect_not_reloaded(page)
    # One stream per page load (the list, then on the other device the list and the
    # conversation), each kept open throughout.
    assert len(stream_requests) == 3


def test_a_reply_appears_in_the_open_conversation_and_is_read_everywhere(
    streaming_server: Server,
    page: Page,
    other_device: Page,
    seller: User,
    answered: Message,
    stream_requests: list[str],
) -> None:
    conversation_id = answered.conversation_id
    _, seller_token = account_actions.create_api_token(seller, "Seller's laptop")
    User.objects.filter(username="alice").update(time_zone=BUYER_TIME_ZONE)
    sign_in(other_device, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    sign_in(page, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    page.get_by_role("link", name=re.compile("Question about Espresso machine")).click()
    messages = page.get_by_role("list", name="Messages")
    expect(messages.get_by_role("listitem")).to_have_count(2)
    mark_no_reload(page)
    mark_no_reload(other_device)

    seller_replies(streaming_server, seller_token, conversation_id, f"{REPLY}\n<b>not bold</b>")

    reply = messages.get_by_role("listitem").last
    expect(reply).to_contain_text(REPLY, timeout=LIVE_MS)
    expect(reply).to_contain_text("Acme Kitchen")
    # Text stays text, and lines stay lines, as the server renders them.
    expect(reply.locator(".message__body")).to_contain_text("<b>not bold</b>")
    expect(reply.locator(".message__body b")).to_have_count(0)
    expect(reply.locator(".message__body br")).to_have_count(1)
    expect(page.get_by_text(REPLY)).to_have_count(1)
    # Its time as the server renders the messages above it: the same format, in the
    # buyer's time zone rather than the browser's.
    reply_message = Message.objects.filter(conversation_id=conversation_id).latest("pk")
    with timezone.override(ZoneInfo(BUYER_TIME_ZONE)):
        expected_time = full_time(reply_message.created_at)
    expect(reply.locator(".message__time")).to_have_text(expected_time)
    rendered_time = messages.get_by_role("listitem").first.locator(".message__time")
    assert FULL_TIME.match(rendered_time.inner_text())
    assert FULL_TIME.match(expected_time)

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
    # One stream per page load (the other device's list; the page's list, then the
    # conversation), each kept open throughout.
    assert len(stream_requests) == 3


@pytest.mark.parametrize("where", ["conversation", "message center"])
def test_a_reply_that_lands_while_the_page_loads_shows_without_a_reload(
    streaming_server: Server, page: Page, seller: User, answered: Message, where: str
) -> None:
    """The seller's reply is committed after the page was read and before its stream
    opened: the page said where it was read from (data-live-after), so its stream starts
    there and brings the reply (started "from now", it never came)."""
    conversation_id = answered.conversation_id
    _, seller_token = account_actions.create_api_token(seller, "Seller's laptop")
    page.add_init_script(HOLD_STREAMS)
    sign_in(page, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    if where == "conversation":
        page.goto(f"{streaming_server.url}/message-center/conversations/{conversation_id}/")
        shown = page.get_by_role("list", name="Messages")
    else:
        page.goto(f"{streaming_server.url}/message-center/")
        shown, _ = in_list(page)
    expect(shown).to_be_visible()
    wait_for_held_streams(page, 1)
    mark_no_reload(page)

    seller_replies(streaming_server, seller_token, conversation_id, REPLY)
    page.evaluate("window.releaseStreams()")

    expect(shown).to_contain_text("Ticket word: heliotrope", timeout=LIVE_MS)
    expect_not_reloaded(page)


def test_a_conversation_open_in_another_tab_follows_it_to_trash(
    streaming_server: Server, page: Page, other_device: Page, answered: Message
) -> None:
    """Box changes are events on the stream: the tab that still shows the conversation in
    the inbox learns that it went to Trash elsewhere, and offers Restore instead of Move
    to Trash."""
    url = f"{streaming_server.url}/message-center/conversations/{answered.conversation_id}/"
    sign_in(page, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    sign_in(other_device, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    page.goto(url)
    expect(page.get_by_role("button", name="Move to Trash")).to_be_visible()

    other_device.goto(url)
    other_device.get_by_role("button", name="Move to Trash").click()

    expect(page.get_by_role("button", name="Restore")).to_be_visible(timeout=LIVE_MS)
    expect(page.get_by_role("button", name="Move to Trash")).to_have_count(0)


def test_a_notice_open_in_another_tab_follows_it_to_trash_and_back(
    streaming_server: Server, page: Page, other_device: Page
) -> None:
    """Notices and promotions move between boxes like conversations, and say so on the
    stream: the tab still showing the notice in the inbox learns it went to Trash
    elsewhere (and back), instead of offering Move to Trash for something in Trash."""
    notice = broadcast(subject="New terms of service")
    url = f"{streaming_server.url}/message-center/announcements/{notice.pk}/"
    sign_in(page, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    sign_in(other_device, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    page.goto(url)
    expect(page.get_by_role("button", name="Move to Trash")).to_be_visible()

    other_device.goto(url)
    other_device.get_by_role("button", name="Move to Trash").click()

    expect(page.get_by_text("In Trash", exact=True)).to_be_visible(timeout=LIVE_MS)
    expect(page.get_by_role("button", name="Restore")).to_be_visible()
    expect(page.get_by_role("button", name="Move to Trash")).to_have_count(0)

    other_device.goto(url)
    other_device.get_by_role("button", name="Restore").click()

    expect(page.get_by_role("button", name="Move to Trash")).to_be_visible(timeout=LIVE_MS)
    expect(page.get_by_text("In Trash", exact=True)).to_have_count(0)


@pytest.mark.parametrize("item", ["notice", "conversation"])
def test_the_page_that_moves_its_item_to_trash_goes_on_to_the_list(
    streaming_server: Server, page: Page, answered: Message, item: str
) -> None:
    """Move to Trash leaves for the list. The page's own stream carries the move's event,
    which can arrive before the list does: the page, already leaving, does not follow it
    (a reload then called the list off and showed the item in Trash instead; now and then
    on a busy machine, every time when the action's answer is slow, as here)."""
    if item == "notice":
        path = f"/message-center/announcements/{broadcast(subject='New terms').pk}/"
    else:
        path = f"/message-center/conversations/{answered.conversation_id}/"
    sign_in(page, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    # The stream's first message (a resync) refreshes the counts: the stream is open then.
    with page.expect_response(re.compile(r"/api/v1/folders")):
        page.goto(f"{streaming_server.url}{path}")

    def answered_late(route: Route) -> None:
        response = route.fetch(max_redirects=0)
        # The move is done and its event on the page's stream; the list comes a second on.
        time.sleep(1)
        route.fulfill(response=response)

    page.route(re.compile(r"/message-center/actions/$"), answered_late)
    page.get_by_role("button", name="Move to Trash").click()

    expect(page).to_have_url(re.compile(r"/message-center/\?"))
    page.wait_for_timeout(500)
    expect(page).to_have_url(re.compile(r"/message-center/\?"))


# tests/safety/test_sending.py's scam, from the seller, with a phone number: warned (it
# writes as the marketplace and asks for a password) and masked (the number).
SCAM = (
    "URGENT: Your Marketplace account has been suspended. Verify your account now: "
    "https://rnarketplace-account-verify.example/secure-login — you will need to confirm "
    "your password and the card used for this order. Or call me on 415-867-5309."
)

# The message's <li> as HTML, without the report form's CSRF token (a new one each render).
MESSAGE_HTML = """(item) => {
  const copy = item.cloneNode(true);
  for (const token of copy.querySelectorAll("input[name=csrfmiddlewaretoken]")) {
    token.removeAttribute("value");
  }
  return copy.outerHTML;
}"""


def test_a_scam_that_arrives_live_shows_its_warning_as_after_a_reload(
    streaming_server: Server, page: Page, other_device: Page, seller: User, answered: Message
) -> None:
    """The safety check's verdict is the server's: a message that arrives on an open
    conversation shows the warning, its masked body and the Report menu exactly as the
    page renders them on a load (docs/safety.md) — the buyer reading a phishing message as
    it arrives is the one who most needs the warning."""
    conversation_id = answered.conversation_id
    _, seller_token = account_actions.create_api_token(seller, "Seller's laptop")
    sign_in(page, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    page.goto(f"{streaming_server.url}/message-center/conversations/{conversation_id}/")
    messages = page.get_by_role("list", name="Messages")
    expect(messages.get_by_role("listitem")).to_have_count(2)
    mark_no_reload(page)

    seller_replies(streaming_server, seller_token, conversation_id, SCAM)
    scam = Message.objects.filter(conversation_id=conversation_id).latest("pk")
    assert (scam.safety_verdict, scam.is_masked) == ("warn", True)

    item = page.locator(f"#message-{scam.pk}")
    warning = item.get_by_test_id("safety-warning")
    expect(warning).to_contain_text("Be careful: this message may be a scam.", timeout=LIVE_MS)
    expect(warning).to_contain_text("which imitates Marketplace but is not ours.")
    expect(warning).to_have_class(re.compile(r"\bmessage__warning\b"))
    expect(item.locator(".message__body")).to_contain_text("[contact details removed]")
    expect(item).not_to_contain_text("415-867-5309")
    # Its links are not clickable, as on the page.
    expect(item.locator(".message__body a")).to_have_count(0)
    expect(item.get_by_test_id("report-message")).to_be_visible()
    expect(item.locator(".message__reference")).to_contain_text("Ref. ")
    expect_not_reloaded(page)

    # Byte for byte what the server renders for it when the page loads (here on the
    # buyer's other device).
    sign_in(other_device, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    other_device.goto(page.url)
    assert other_device.locator(f"#message-{scam.pk}").evaluate(MESSAGE_HTML) == item.evaluate(
        MESSAGE_HTML
    )

    # Its Report works from the live page: reported, the message is hidden for the buyer.
    item.get_by_test_id("report-message").get_by_text("Report", exact=True).click()
    item.get_by_label("Phishing or scam").check()
    item.get_by_role("button", name="Send report").click()
    expect(page.locator(f"#message-{scam.pk}")).to_have_count(0)
    expect(page.get_by_test_id("safety-warning")).to_have_count(0)


def test_a_live_refresh_that_fails_says_so_and_the_next_one_runs(
    streaming_server: Server, page: Page, buyer: User, seller: User, answered: Message
) -> None:
    """A refresh of the counts that breaks (an answer that is no JSON) is reported in the
    console, where the tests' log of what the browser did sees it — it once failed
    silently — and the next change refreshes the counts all the same."""
    actions.mark_read(buyer, [answered.conversation_id])
    _, seller_token = account_actions.create_api_token(seller, "Seller's laptop")
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    broken: list[str] = []

    def garbage_once(route: Route) -> None:
        if broken:
            route.continue_()
            return
        broken.append(route.request.url)
        route.fulfill(status=200, content_type="application/json", body="<html>not JSON")

    # The Message Center starts its stream where it was read (nothing happened since: no
    # refresh); once it follows, the next refresh is the seller's message's.
    with following_its_stream(page):
        sign_in(page, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    _, all_tab = in_list(page)
    expect(all_tab).to_have_accessible_name("All")
    page.route(re.compile(r"/api/v1/folders$"), garbage_once)
    mark_no_reload(page)

    with page.expect_console_message(lambda m: m.type == "error", timeout=LIVE_MS):
        seller_replies(
            streaming_server, seller_token, answered.conversation_id, "It is the 58 mm one."
        )
    assert len(broken) == 1
    assert len(errors) == 1, errors
    assert "A live refresh failed" in errors[0]
    expect(all_tab).to_have_accessible_name("All")

    seller_replies(
        streaming_server, seller_token, answered.conversation_id, "And the tamper is steel."
    )
    expect(all_tab).to_contain_text("1 unread", timeout=LIVE_MS)
    assert len(errors) == 1, errors
    expect_not_reloaded(page)
