"""axe-core (bundled by axe-playwright-python) on the main pages, on a desktop and on a
phone, as the people who use them: no violation of impact "serious" or "critical"; and no
page wider than the screen (WCAG's "reflow": nothing to scroll sideways to at 375 px), the
development mailbox with the demo's e-mails in it among them.

Besides each page as it loads, the states that only appear after a click are checked too —
the phone's bulk bar shows its buttons only once something is selected, the Undo notice
only after a move to Trash, an error only after a refused reply — since axe skips what is
hidden."""

import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

import pytest
from axe_playwright_python.sync_playwright import Axe
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Conversation
from messagecenter.delivery import links
from messagecenter.delivery.models import MailboxEmail
from messagecenter.delivery.sender import send_due_emails
from messagecenter.marketplace import return_actions
from messagecenter.marketplace.models import (
    OrderStatus,
    Product,
    ReturnReason,
    ReturnResolution,
)
from messagecenter.support.models import Case
from tests import factories
from tests.e2e.helpers import VIEWPORTS, browser_page, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

AXE = Axe()
REFUSED_IMPACTS = {"serious", "critical"}


@dataclass(frozen=True)
class Check:
    name: str
    path: str
    # Puts the page in the state to check, after it has loaded.
    then: Callable[[Page], None] | None = None


def select_one_and_open_mute(page: Page) -> None:
    page.get_by_role("checkbox", name=re.compile("^Select ")).first.check()
    page.get_by_role("button", name="Move to Trash").wait_for()
    page.locator("summary", has_text="Mute").click()
    expect(page.get_by_role("button", name="Until I unmute")).to_be_visible()


def move_one_to_trash(page: Page) -> None:
    page.get_by_role("checkbox", name=re.compile("^Select ")).first.check()
    page.get_by_role("button", name="Move to Trash").click()
    expect(page.get_by_role("button", name="Undo")).to_be_visible()


def send_an_empty_reply(page: Page) -> None:
    # Spaces pass the browser's `required`; the server refuses them with an error.
    page.get_by_label("Your message").fill("   ")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("alert")).to_be_visible()


# Alice's second set of cutting boards, whose return Brightside ("seller") approved: the
# order page then shows both of them the return label, whose lines do not wrap, and the
# seller its "Mark received and refund the buyer".
RETURNED_BOARDS = "/orders/115-2468013-5790246/"


def return_a_second_set_of_boards() -> None:
    alice = User.objects.get(username="alice")
    boards = factories.order_with_item(
        alice,
        Product.objects.get(title__startswith="Bamboo Cutting Board"),
        number=RETURNED_BOARDS.split("/")[2],
        status=OrderStatus.DELIVERED,
    )
    started = return_actions.request_return(
        alice,
        boards.number,
        [return_actions.ReturnLine(boards.items.get().pk, 1)],
        resolution=ReturnResolution.REFUND,
        reason_code=ReturnReason.DEFECTIVE,
    )
    return_actions.decide_return(
        User.objects.get(username="seller"), started.return_request.pk, approve=True
    )


def fill_the_mailbox(settings: Settings) -> None:
    """The demo's e-mails in the development mailbox, as `make run`'s worker sends them
    once due: an empty /mailbox/ ("No e-mail yet") was checked, never its list, which was
    460 px wide on a phone."""
    settings.MAILERS = {"default": {"BACKEND": "messagecenter.delivery.mailbox.MailboxBackend"}}
    settings.MAILBOX_ENABLED = True
    send_due_emails(now=timezone.now() + timedelta(days=60))


def checks_for(username: str) -> list[Check]:
    """The pages of one demo person, with the ids of the loaded demo."""
    if username == "":
        alice = User.objects.get(username="alice")
        return [
            Check("Sign in", "/accounts/login/"),
            # From an e-mail's links, without signing in.
            Check(
                "E-mail preferences from a link",
                f"/email/preferences/{links.preferences_token(alice)}/",
            ),
            Check(
                "Unsubscribe, asking first", f"/email/unsubscribe/{links.unsubscribe_token(alice)}/"
            ),
        ]
    about_order = Conversation.objects.get(subject="Order 113-6624019-7781204").pk
    about_kettle = Conversation.objects.get(subject__startswith="Question about Variable").pk
    order_thread = f"/message-center/conversations/{about_order}/"
    kettle_thread = f"/message-center/conversations/{about_kettle}/"
    nothing_found = "/message-center/search/?q=zebra&sender=Trailhead&unread_only=1"
    if username == "alice":
        return [
            Check("Message Center, All", "/message-center/"),
            Check("Message Center, a folder", "/message-center/?folder=buyer_seller"),
            Check("Message Center, Trash", "/message-center/?box=trash"),
            Check("Message Center, Mute menu", "/message-center/", select_one_and_open_mute),
            Check("Message Center, Undo", "/message-center/", move_one_to_trash),
            Check("Conversation about an order", order_thread),
            Check("Conversation, refused reply", order_thread, send_an_empty_reply),
            Check("Conversation about a product", kettle_thread),
            Check("Search results", "/message-center/search/?q=kettle"),
            Check("Search with filters, nothing found", nothing_found),
            Check("Product", "/products/B0C7KX2M41/"),
            Check("Your Orders", "/orders/"),
            Check("Order with a return and refund", "/orders/112-4839201-5521937/"),
            Check("Order with a return approved", RETURNED_BOARDS),
            Check("Order with a replacement approved", "/orders/114-7781230-0456682/"),
            Check("Your Account", "/account/"),
            Check("Contact customer service", "/message-center/customer-service/"),
            Check("E-mail preferences", "/account/email/"),
            Check("Is this e-mail from us?", "/message-center/check-email/?reference=MC-M1-AAAA"),
            Check("Mailbox (development)", "/mailbox/"),
            Check("Mailbox: an e-mail to reply to", f"/mailbox/{an_email_with_reply_to()}/"),
        ]
    if username == "agent":
        tent = Case.objects.get(subject__startswith="Tent delivery failed")
        return [
            Check("Console: unassigned", "/console/"),
            Check("Console: mine, filtered", "/console/?view=mine&priority=2"),
            Check("Console: a case with a note", f"/console/cases/{tent.pk}/"),
            Check("Console: canned responses", "/console/canned-responses/"),
        ]
    return [
        Check("Seller: Response needed", "/message-center/?view=response-needed"),
        Check("Seller: Response times", "/message-center/response-times/"),
        Check("Seller: Saved replies", "/message-center/saved-replies/"),
        Check("Seller: conversation with saved replies", kettle_thread),
        Check("Seller: Your Account", "/account/"),
        Check("Seller: order with a return approved", RETURNED_BOARDS),
    ]


def an_email_with_reply_to() -> int:
    """One whose page shows "Try a reply by e-mail" with its relay address."""
    return MailboxEmail.objects.filter(subject__startswith="New message from").order_by("pk")[0].pk


def page_overflow(page: Page) -> str:
    """ "" when the page fits the screen's width; else how wide it is and what sticks out."""
    found: str = page.evaluate(
        """() => {
            const width = document.documentElement.clientWidth;
            if (document.documentElement.scrollWidth <= width) return "";
            const wide = [...document.body.querySelectorAll("*")]
                .filter((element) => element.getBoundingClientRect().right > width + 1)
                .map((element) => `${element.tagName.toLowerCase()}.${element.className}`);
            return `${document.documentElement.scrollWidth}px wide on a ${width}px screen: `
                + wide.slice(-3).join(", ");
        }"""
    )
    return found


def refused_violations(page: Page) -> list[str]:
    """Each serious or critical violation: its rule, impact, help and where it is."""
    results = AXE.run(page).response
    return [
        f"{violation['id']} ({violation['impact']}): {violation['help']} "
        f"[{violation['helpUrl']}] at "
        + "; ".join(" ".join(map(str, node["target"])) for node in violation["nodes"])
        for violation in results["violations"]
        if violation["impact"] in REFUSED_IMPACTS
    ]


@pytest.mark.parametrize(
    "username", ["", "alice", "seller", "agent"], ids=["signed-out", "buyer", "seller", "agent"]
)
@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_main_pages_have_no_serious_accessibility_violations_and_fit_the_screen(
    live_server: LiveServer,
    viewport: str,
    username: str,
    request: pytest.FixtureRequest,
    demo: None,
    settings: Settings,
) -> None:
    seller = User.objects.get(username="seller")
    actions.save_reply(seller, "Shipping times", "We ship within one business day.")
    return_a_second_set_of_boards()
    fill_the_mailbox(settings)
    page = browser_page(request, viewport)
    if username:
        sign_in(page, live_server, username)

    problems = []
    checks = checks_for(username)
    for check in checks:
        response = page.goto(live_server.url + check.path)
        assert response is not None
        assert response.status == 200, f"{check.name}: {check.path} answered {response.status}"
        if check.then is not None:
            check.then(page)
        found = refused_violations(page)
        if overflow := page_overflow(page):
            found.append(f"reflow: {overflow}")
        problems += [f"{check.name} ({check.path}): {problem}" for problem in found]

    assert len(checks) > 0
    assert not problems, "\n".join(problems)


def test_the_agent_console_fits_a_320_pixel_screen_whether_available_for_chat_or_away(
    live_server: LiveServer, phone: Page, demo: None
) -> None:
    """WCAG's reflow is measured at 320 CSS pixels: the console's navigation with its
    "Available for chat" switch, in both states, on every console page."""
    phone.set_viewport_size({"width": 320, "height": 640})
    sign_in(phone, live_server, "agent")
    tent = Case.objects.get(subject__startswith="Tent delivery failed")
    paths = ["/console/", f"/console/cases/{tent.pk}/", "/console/canned-responses/"]

    problems = []
    for state in ("Away", "Available for chat"):
        phone.goto(live_server.url + "/console/")
        if state == "Available for chat":
            phone.get_by_role("button", name="Available for chat").click()
        expect(phone.get_by_test_id("chat-availability")).to_have_text(state)
        for path in paths:
            phone.goto(live_server.url + path)
            if overflow := page_overflow(phone):
                problems.append(f"{state}, {path}: {overflow}")

    assert not problems, "\n".join(problems)
