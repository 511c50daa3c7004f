"""The pages at a phone's width (375 × 812) as a person sees them: the header in one row with
a compact menu, list rows whose chips never clip the sender or the Official badge; and, at
both sizes, long unbroken words that wrap, images in messages as thumbnails that open full
size; the development mailbox, whose long addresses, subjects and links wrap."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import Locator, Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message
from messagecenter.delivery.models import MailboxEmail
from messagecenter.delivery.sender import send_due_emails
from messagecenter.marketplace.models import Product
from messagecenter.notifications.models import Audience, BroadcastKind
from messagecenter.support import actions as support_actions
from messagecenter.support import report_actions
from messagecenter.support.models import CaseKind, ForwardedEmail
from tests import factories
from tests.delivery.helpers import send_broadcast
from tests.e2e.helpers import VIEWPORTS, browser_page, sign_in
from tests.e2e.test_accessibility import page_overflow
from tests.notifications.helpers import broadcast
from tests.web.helpers import picture_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return dict(found)


def is_clipped(locator: Locator) -> bool:
    clipped: bool = locator.evaluate("element => element.scrollWidth > element.clientWidth")
    return clipped


def test_the_header_is_one_row_with_a_menu_on_a_phone(live_server: LiveServer, phone: Page) -> None:
    factories.BuyerFactory(username="dana")
    sign_in(phone, live_server, "dana", factories.PASSWORD)
    header = phone.locator(".site-header")
    brand = phone.get_by_role("link", name="Marketplace")
    message_center = phone.get_by_role("navigation", name="Your account").get_by_role(
        "link", name="Message Center"
    )
    menu = phone.get_by_text("Menu", exact=True)

    tops = {round(box(item)["y"] + box(item)["height"] / 2) for item in (brand, message_center)}
    assert max(tops) - min(tops) <= 4
    assert abs(box(menu)["y"] + box(menu)["height"] / 2 - min(tops)) <= 4
    assert box(header)["height"] <= 64
    assert phone.evaluate("document.documentElement.scrollWidth") <= 375
    expect(phone.get_by_role("button", name="Sign out")).to_be_hidden()

    menu.click()
    expect(phone.get_by_role("button", name="Sign out")).to_be_visible()
    phone.get_by_role("link", name="Your Orders").click()
    expect(phone.get_by_role("heading", name="Your Orders")).to_be_visible()


def test_the_header_shows_every_link_in_its_row_on_a_desktop(
    live_server: LiveServer, page: Page
) -> None:
    factories.BuyerFactory(username="dana")
    sign_in(page, live_server, "dana", factories.PASSWORD)

    expect(page.get_by_text("Menu", exact=True)).to_be_hidden()
    for name in ("Your Account", "Your Orders"):
        expect(page.get_by_role("link", name=name)).to_be_visible()
    expect(page.get_by_role("button", name="Sign out")).to_be_visible()


def test_list_rows_with_chips_never_clip_the_sender_or_the_official_badge(
    live_server: LiveServer, phone: Page
) -> None:
    factories.BuyerFactory(username="dana")
    broadcast(kind=BroadcastKind.PROMOTION, subject="Trail-ready deals")
    broadcast(kind=BroadcastKind.NOTICE, subject="New terms of service")
    sign_in(phone, live_server, "dana", factories.PASSWORD)

    rows = phone.get_by_role("link", name=re.compile("Trail-ready deals|New terms of service"))
    expect(rows).to_have_count(2)
    for row in rows.all():
        sender = row.locator(".conversation__from")
        official = row.locator(".badge--official")
        expect(sender).to_have_text("Marketplace")
        assert not is_clipped(sender)
        assert box(official)["x"] + box(official)["width"] <= box(row)["x"] + box(row)["width"]
        assert box(official)["width"] >= 50


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_long_unbroken_subject_wraps_in_the_list_of_requests(
    request: pytest.FixtureRequest, live_server: LiveServer, buyer: User, viewport: str
) -> None:
    """What people type may have no place to break (a pasted link, a code): it wraps
    instead of widening the page (the list of requests was 2,139 px wide on a phone)."""
    page = browser_page(request, viewport)
    subject = "QA" + "X" * 190
    support_actions.open_request(buyer, subject, "See the subject.")
    sign_in(page, live_server, "alice", factories.PASSWORD)

    page.goto(f"{live_server.url}/message-center/customer-service/")

    expect(page.get_by_test_id("customer-case")).to_contain_text(subject)
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_long_unbroken_subject_wraps_in_the_agents_queue(
    request: pytest.FixtureRequest, live_server: LiveServer, buyer: User, viewport: str
) -> None:
    """One customer's subject with no place to break pushed every case's other columns —
    customer, status, assignee, waiting — off a desktop's queue (3,772 px wide at 1,366):
    it wraps in its cell, and the queue fits the window at both sizes."""
    page = browser_page(request, viewport)
    factories.agent_in_team("customer-service", username="priya", first_name="Priya")
    subject = "QA" + "W" * 190
    support_actions.open_request(buyer, subject, "See the subject.")
    support_actions.open_request(buyer, "Where is my parcel?", "It has not come.")
    sign_in(page, live_server, "priya", factories.PASSWORD)

    page.goto(f"{live_server.url}/console/")

    expect(page.get_by_test_id("case-row")).to_have_count(2)
    expect(page.get_by_test_id("case-row").first).to_contain_text(subject[:40])
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    # On a desktop every column of every row is on the screen, the last (how long it
    # waits) too; a phone's queue scrolls sideways in its own region, as before.
    table = page.locator(".console-table")
    region = page.get_by_role("region", name="Cases")
    if viewport == "page":
        assert box(table)["width"] <= box(region)["width"]
    else:
        assert box(table)["width"] <= 2 * box(region)["width"]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_forwarded_emails_long_lines_and_links_wrap_on_the_agents_case_page(
    request: pytest.FixtureRequest, live_server: LiveServer, buyer: User, viewport: str
) -> None:
    """A phisher's e-mail forwarded to the report address: its text kept its lines (a
    `<pre>`) and its addresses had no place to break, and the agent's case page was 1,688
    px wide at 1,366 and 1,582 on a phone."""
    page = browser_page(request, viewport)
    factories.agent_in_team("trust-and-safety", username="tess", first_name="Tess")
    case = support_actions.open_case(
        CaseKind.REPORT, buyer, "Forwarded e-mail: Refund failed", tell_customer=False
    )
    long_link = "https://marketplace-refunds.example/verify?" + "token=" + "A" * 180
    ForwardedEmail.objects.create(
        case=case,
        reporter=buyer,
        fingerprint="f" * 64,
        how="attached",
        from_header="Refunds <" + "r" * 120 + "@marketplace-refunds.example>",
        subject="Refund failed: " + "X" * 150,
        text="Confirm your card within 24 hours " + "-" * 200 + "\n" + long_link,
        links=[{"href": long_link, "text": long_link}],
        created_at=timezone.now(),
    )
    sign_in(page, live_server, "tess", factories.PASSWORD)

    page.goto(f"{live_server.url}/console/cases/{case.pk}/")

    expect(page.get_by_test_id("forwarded-text")).to_contain_text("Confirm your card")
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


def test_a_message_in_arabic_reads_right_to_left_and_its_order_number_stays_whole(
    live_server: LiveServer, phone: Page, buyer: User, product: Product
) -> None:
    """Each message, subject and preview takes the direction of its own first letters
    (dir="auto", <bdi>): laid out left to right, an Arabic question put its order number's
    groups in the wrong order ("-6624019-113") and its "؟" on the wrong side; and the
    number inside is isolated left to right (bidi.numbers_left_to_right)."""
    body = "هل وصل الطرد؟ رقم الطلب 113-6624019-7781204!"
    first = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    actions.send_message(buyer, first.conversation_id, body)
    sign_in(phone, live_server, "alice", factories.PASSWORD)

    phone.goto(f"{live_server.url}/message-center/conversations/{first.conversation_id}/")
    arabic = phone.locator(".message__body", has_text="رقم الطلب")
    english = phone.locator(".message__body", has_text="Is it new?")

    expect(arabic).to_be_visible()
    assert arabic.evaluate("element => getComputedStyle(element).direction") == "rtl"
    assert english.evaluate("element => getComputedStyle(element).direction") == "ltr"
    # The order number's groups left to right, as written: after Arabic letters each
    # group counted as a number of its own and they came out "7781204-6624019-113".
    groups = arabic.evaluate(
        """element => {
            const range = document.createRange();
            const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
            let text = walker.nextNode();
            while (!text.data.includes("6624019")) { text = walker.nextNode(); }
            return ["113", "6624019", "7781204"].map(group => {
                const at = text.data.indexOf(group);
                range.setStart(text, at);
                range.setEnd(text, at + group.length);
                return range.getBoundingClientRect().left;
            });
        }"""
    )
    assert groups == sorted(groups)
    phone.goto(f"{live_server.url}/message-center/")
    preview = phone.locator(".conversation__preview bdi", has_text="رقم الطلب")
    assert preview.evaluate("element => getComputedStyle(element).direction") == "rtl"


# Where each piece of a line starts on the screen, left to right: a piece of a subject is
# found in the text node holding it, the first time it occurs.
LEFT_EDGES = """(element, pieces) => pieces.map(piece => {
    const walker = document.createTreeWalker(element, NodeFilter.SHOW_TEXT);
    for (let text = walker.nextNode(); text; text = walker.nextNode()) {
        const at = text.data.indexOf(piece);
        if (at < 0) { continue; }
        const range = document.createRange();
        range.setStart(text, at);
        range.setEnd(text, at + piece.length);
        return range.getBoundingClientRect().left;
    }
    return null;
})"""


def in_order_on_screen(line: Locator, pieces: list[str]) -> bool:
    """Whether the pieces appear from left to right in this order."""
    edges: list[float] = line.evaluate(LEFT_EDGES, pieces)
    assert None not in edges, f"not all of {pieces} in {line.inner_text()!r}"
    return edges == sorted(edges)


def test_a_subject_in_hebrew_keeps_its_own_direction_and_the_line_around_it_its_order(
    live_server: LiveServer, page: Page, buyer: User
) -> None:
    """A subject shown in a line of other words (a request's number, a notice's row): a
    Hebrew one laid out in the line's left-to-right order put its "?" at the far right,
    after its first word; isolated (<bdi>) it reads right to left, "?" at its left end,
    and "CS-1 ·" stays before it. "Order 123 — שלום" starts left to right: it stays so,
    the dash between the number and the Hebrew word."""
    mixed, hebrew = "Order 123 — שלום", "שאלה על ההזמנה 123?"
    for subject in (mixed, hebrew):
        support_actions.open_request(buyer, subject, "Where is my parcel?")
        broadcast(kind=BroadcastKind.NOTICE, subject=subject)
    sign_in(page, live_server, "alice", factories.PASSWORD)
    # Hebrew from right to left: "?" first on the screen, then the number, the words.
    hebrew_on_screen = ["?", "123", "ההזמנה", "שאלה"]
    mixed_on_screen = ["Order", "123", "—", "שלום"]

    notices = page.locator(".conversation--broadcast .conversation__subject")
    expect(notices).to_have_count(2)
    assert in_order_on_screen(notices.filter(has_text="Order 123"), mixed_on_screen)
    assert in_order_on_screen(notices.filter(has_text="ההזמנה"), hebrew_on_screen)

    page.goto(f"{live_server.url}/message-center/customer-service/")
    requests = page.get_by_test_id("customer-case")
    expect(requests).to_have_count(2)
    assert in_order_on_screen(requests.filter(has_text="Order 123"), ["CS-", *mixed_on_screen])
    assert in_order_on_screen(requests.filter(has_text="ההזמנה"), ["CS-", *hebrew_on_screen])


def test_a_new_api_token_shows_on_one_line_on_a_phone(
    live_server: LiveServer, phone: Page, buyer: User
) -> None:
    """Shown once, to be copied: it broke at its hyphen into what looked like two pieces."""
    sign_in(phone, live_server, "alice", factories.PASSWORD)
    phone.goto(f"{live_server.url}/account/security/")
    phone.get_by_label("New token for an app or device").fill("Alice's phone")
    phone.get_by_role("button", name="Create API token").click()

    secret = phone.get_by_test_id("new-token-secret")
    expect(secret).to_contain_text("mc_")
    line_height = secret.evaluate("element => parseFloat(getComputedStyle(element).lineHeight)")
    assert box(secret)["height"] < 1.8 * line_height
    assert phone.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_an_image_in_a_message_shows_as_a_thumbnail_that_opens_full_size(
    live_server: LiveServer,
    buyer: User,
    product: Product,
    viewport: str,
    request: pytest.FixtureRequest,
) -> None:
    photo = SimpleUploadedFile("scratch.png", picture_png(640, 480), content_type="image/png")
    message = actions.ask_seller_about_product(
        buyer, product.pk, "It arrived scratched, see the photo.", attachments=[photo]
    )
    page = browser_page(request, viewport)

    sign_in(page, live_server, "alice", factories.PASSWORD)
    page.goto(f"{live_server.url}/message-center/conversations/{message.conversation_id}/")
    thumbnail = page.get_by_role("img", name="scratch.png")
    expect(thumbnail).to_be_visible()
    assert thumbnail.evaluate("image => image.naturalWidth") == 640
    assert box(thumbnail)["width"] <= 200
    expect(page.get_by_role("link", name="scratch.png", exact=True)).to_have_attribute(
        "download", ""
    )

    with page.context.expect_page() as opened:
        page.get_by_role("link", name="scratch.png (full size, opens in a new tab)").click()
    full_size = opened.value
    full_size.wait_for_load_state()
    assert full_size.url.endswith("?view=inline")
    assert full_size.evaluate("document.images[0].naturalWidth") == 640


def test_the_console_s_removed_and_flagged_messages_fit_a_phone(
    live_server: LiveServer, phone: Page, buyer: User, seller: User, product: Product
) -> None:
    """What the console adds beside a message — its author's part, the safety verdict
    with its reasons, who reported it, the note that customer service removed it — wraps
    at a phone's width, on the case's page and on the conversation read beside it."""
    order = factories.order_with_item(buyer, product)
    asked = actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "Where is my parcel?"
    )
    phishing = actions.send_message(
        seller,
        asked.conversation_id,
        "Please confirm your account at http://marketplace-security-check.example/login and "
        "enter your card number to get the refund",
    )
    report_actions.report_message(buyer, phishing.pk, "scam")
    case = support_actions.open_request(
        buyer, "Parcel", "The seller asks for my card.", order_number=order.number
    )
    # What confirming a report does to a message (report_actions.decide_report).
    Message.objects.filter(pk__in=[phishing.pk, case.conversation.last_message_id]).update(
        removed_at=timezone.now()
    )
    factories.agent_in_team(username="priya")
    sign_in(phone, live_server, "priya", factories.PASSWORD)
    fits = "document.documentElement.scrollWidth <= document.documentElement.clientWidth"

    phone.goto(f"{live_server.url}/console/cases/{case.pk}/")
    expect(phone.get_by_test_id("message-removed")).to_have_count(1)
    assert phone.evaluate(fits)

    phone.goto(f"{live_server.url}/console/cases/{case.pk}/conversations/{asked.conversation_id}/")
    expect(phone.get_by_test_id("message-verdict")).to_be_visible()
    expect(phone.get_by_test_id("message-removed")).to_be_visible()
    expect(phone.get_by_test_id("message-reported")).to_be_visible()
    expect(phone.get_by_text("Acme Kitchen (seller)")).to_be_visible()
    assert phone.evaluate(fits)


LONG_LINK = "https://marketplace.example.com/orders/113-6624019-7781204/return-label?format=pdf"


def test_the_development_mailbox_fits_a_phone_with_long_addresses_subjects_and_links(
    live_server: LiveServer,
    phone: Page,
    settings: Settings,
    buyer: User,
    seller: User,
    product: Product,
) -> None:
    """/mailbox/ was a three-column table 460 px wide on a 390 px phone: an address, a
    subject with an order number or a link, has nowhere to break. On a phone each e-mail is
    a stack, and long words wrap, there and on an e-mail's page (its Reply-To, its text)."""
    settings.MAILERS = {"default": {"BACKEND": "messagecenter.delivery.mailbox.MailboxBackend"}}
    settings.MAILBOX_ENABLED = True
    settings.SITE_URL = live_server.url
    settings.EMAIL_REPLY_DOMAIN = "replies.messages.marketplace-example.com"
    User.objects.filter(pk=seller.pk).update(
        email="orders.and.customer-questions@brightside-home-and-kitchen.example.com"
    )
    actions.ask_seller_about_product(buyer, product.pk, f"Is this the label? {LONG_LINK}")
    send_broadcast(audience=Audience.SELLERS, subject=f"Returns-label-update:{LONG_LINK}")
    send_due_emails(now=timezone.now() + timedelta(days=1))
    question = MailboxEmail.objects.get(subject__startswith="New message")

    phone.goto(f"{live_server.url}/mailbox/")
    expect(phone.get_by_role("link", name=re.compile("^Returns-label-update"))).to_be_visible()
    assert page_overflow(phone) == ""

    phone.goto(f"{live_server.url}/mailbox/{question.pk}/")
    for details in phone.locator("details").all():
        details.locator("summary").click()
    # Links with no space to break at: the preferences link, the question's (defanged).
    expect(phone.locator(".mail-text").first).to_contain_text("/email/preferences/")
    expect(phone.get_by_test_id("try-reply")).to_contain_text("@replies.messages.")
    assert page_overflow(phone) == ""


def test_a_long_reference_on_is_this_email_from_us_wraps_on_a_phone(
    live_server: LiveServer, phone: Page, buyer: User
) -> None:
    """A made-up reference has no place to break: the bold "We did not send you an e-mail
    with the reference …" made the phone's page scroll sideways."""
    sign_in(phone, live_server, "alice", factories.PASSWORD)

    phone.goto(f"{live_server.url}/message-center/check-email/?reference=MC-{'X' * 120}")

    expect(phone.get_by_test_id("checked-reference")).to_have_text("MC-" + "X" * 37)
    assert phone.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )


@pytest.mark.parametrize("width", [375, 320])
def test_a_link_that_is_not_valid_fits_a_phone_with_its_sign_in_button_whole(
    live_server: LiveServer, phone: Page, width: int
) -> None:
    """An e-mail's preferences or unsubscribe link cut short opens "This link is not
    valid", signed out, with one long button: "Sign in to change your e-mail preferences"
    kept to one line and ran off the screen, and the page scrolled sideways."""
    phone.set_viewport_size({"width": width, "height": 640})
    for path in ("/email/preferences/cut-short/", "/email/unsubscribe/cut-short/"):
        phone.goto(f"{live_server.url}{path}")
        button = phone.get_by_role("link", name="Sign in to change your e-mail preferences")
        expect(button).to_be_visible()
        assert page_overflow(phone) == "", path
        assert box(button)["x"] + box(button)["width"] <= width


def test_the_header_menu_on_a_phone_closes_like_the_page_s_menus(
    live_server: LiveServer, phone: Page
) -> None:
    """The header's Menu lies over the page. It stayed open on Escape, on a tap elsewhere
    and when Tab went on past "Sign out", covering the page under it — the page's own
    menus (Mute, Report) closed on the first two."""
    factories.BuyerFactory(username="dana")
    sign_in(phone, live_server, "dana", factories.PASSWORD)
    phone.goto(f"{live_server.url}/account/")
    menu = phone.locator("details.site-menu")
    summary = phone.get_by_text("Menu", exact=True)
    sign_out = phone.get_by_role("button", name="Sign out")

    summary.focus()
    phone.keyboard.press("Enter")
    expect(sign_out).to_be_visible()
    phone.keyboard.press("Tab")
    phone.keyboard.press("Escape")
    expect(sign_out).to_be_hidden()
    expect(summary).to_be_focused()

    summary.click()
    expect(sign_out).to_be_visible()
    phone.mouse.click(10, 700)
    expect(sign_out).to_be_hidden()

    summary.click()
    sign_out.focus()
    phone.keyboard.press("Tab")
    expect(sign_out).to_be_hidden()
    assert menu.evaluate("details => details.open") is False


def test_a_tap_anywhere_beside_a_row_ticks_its_box_on_a_phone(
    live_server: LiveServer, phone: Page, buyer: User, product: Product
) -> None:
    """The box that selects a row was its 18 px alone: a finger that landed beside it, in
    the column it sits in, ticked nothing."""
    actions.ask_seller_about_product(buyer, product.pk, "Does it come with a tamper?")
    sign_in(phone, live_server, "alice", factories.PASSWORD)
    box_of_row = phone.get_by_role("checkbox", name=re.compile("Select “Question about"))
    column = phone.locator(".conversation__select").filter(has=box_of_row)
    found = box(column)
    checkbox = box(box_of_row)
    assert found["height"] >= checkbox["height"] + 30

    # Below the box, in its column: not on the box itself.
    phone.touchscreen.tap(found["x"] + found["width"] / 2, found["y"] + found["height"] - 6)

    expect(box_of_row).to_be_checked()
    expect(phone.get_by_role("button", name="Move to Trash")).to_be_visible()
    box_of_row.click()
    expect(box_of_row).not_to_be_checked()
