"""What the customer attached, in the agent's console, in Chromium (docs/support.md,
"Attachments in the console"): an agent of the claims team, who is not in the claim's
conversation, opens a claim and sees the buyer's photo (loaded through the case's address)
and the PDF; and on a case the agent has open, a photo the customer sends arrives live, as
a reload shows it, with no script error."""

import re
from datetime import timedelta

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.marketplace.models import Product
from messagecenter.support import actions, claim_actions
from tests import factories
from tests.e2e.helpers import LIVE_MS, sign_in
from tests.e2e.test_customer_service import real_password
from tests.factories import PASSWORD
from tests.realtime.servers import Server
from tests.web.helpers import pdf_bytes, picture_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def script_errors(page: Page) -> list[str]:
    """The page's uncaught script errors, as they happen."""
    errors: list[str] = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def without_csrf_tokens(html: str) -> str:
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]*"', "", html)


# Whether the browser drew the image: a refused or broken one has no width.
DRAWN = "image => image.complete && image.naturalWidth > 0"


def test_an_agent_opens_a_claim_and_sees_the_buyers_photo_and_receipt(
    live_server: LiveServer, page: Page, buyer: User, product: Product
) -> None:
    order = factories.order_with_item(
        buyer, product, number="112-5550001-0000123", placed_at=timezone.now() - timedelta(days=21)
    )
    asked = conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "My espresso machine has not arrived."
    )
    Message.objects.filter(pk=asked.pk).update(created_at=timezone.now() - timedelta(days=3))
    claim = claim_actions.file_claim(
        buyer,
        order.number,
        "not_received",
        "Nothing came; here is the empty porch and my receipt.",
        attachments=[
            SimpleUploadedFile("porch.png", picture_png(320, 240), content_type="image/png"),
            SimpleUploadedFile("receipt.pdf", pdf_bytes("Receipt"), content_type="application/pdf"),
        ],
    )
    dana = factories.agent_in_team("claims", username="dana", first_name="Dana")
    assert not Participant.objects.filter(user=dana).exists()
    errors = script_errors(page)

    sign_in(page, live_server, "dana", PASSWORD)
    page.goto(f"{live_server.url}/console/?view=waiting")
    page.get_by_role("link", name=claim.number).click()

    evidence = page.get_by_role("list", name="Messages").get_by_role("list", name="Attachments")
    expect(evidence).to_have_count(1)
    photo = evidence.get_by_role("img", name="porch.png")
    expect(photo).to_be_visible()
    page.wait_for_function(DRAWN, arg=photo.element_handle())
    receipt = evidence.get_by_role("link", name="receipt.pdf")
    download = page.request.get(f"{live_server.url}{receipt.get_attribute('href')}")
    assert download.status == 200
    assert download.body().startswith(b"%PDF")
    # The full size opens in a new tab, through the same address.
    with page.expect_popup() as opened:
        evidence.get_by_role("link", name=re.compile("full size")).click()
    full_size = opened.value
    expect(full_size.locator("img")).to_be_visible()
    assert errors == []


def test_a_photo_the_customer_sends_arrives_live_on_the_agents_case_page(
    streaming_server: Server, page: Page, other_device: Page, buyer: User
) -> None:
    real_password(buyer)
    priya = factories.agent_in_team(username="priya", first_name="Priya")
    real_password(priya)
    case = actions.open_request(buyer, "Dented kettle", "It came dented.")
    actions.take_case(priya, case.pk)
    agent = other_device
    errors = script_errors(agent)

    sign_in(agent, streaming_server, "priya", PASSWORD)  # type: ignore[arg-type]
    agent.goto(f"{streaming_server.url}/console/cases/{case.pk}/")
    agent_messages = agent.get_by_role("list", name="Messages")
    expect(agent_messages).to_contain_text("It came dented.")
    agent.evaluate("window.stillTheSamePage = true")

    sign_in(page, streaming_server, "alice", PASSWORD)  # type: ignore[arg-type]
    page.goto(f"{streaming_server.url}/message-center/conversations/{case.conversation_id}/")
    page.get_by_label("Your message").fill("Here is a photo of the dent.")
    page.get_by_label("Attach files").set_input_files(
        [{"name": "dent.png", "mimeType": "image/png", "buffer": picture_png(320, 240)}]
    )
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("list", name="Messages")).to_contain_text("photo of the dent")

    arrived = agent_messages.get_by_role("listitem").filter(has_text="photo of the dent")
    expect(arrived).to_have_count(1, timeout=LIVE_MS)
    photo = arrived.get_by_role("img", name="dent.png")
    expect(photo).to_be_visible()
    agent.wait_for_function(DRAWN, arg=photo.element_handle())
    expect(arrived).to_contain_text("Alice Buyer (customer)")
    assert agent.evaluate("window.stillTheSamePage === true")
    # As a reload shows it (each form's CSRF token aside: one per rendering).
    live_html = without_csrf_tokens(arrived.inner_html())
    agent.reload()
    reloaded = (
        agent.get_by_role("list", name="Messages")
        .get_by_role("listitem")
        .filter(has_text="photo of the dent")
    )
    assert without_csrf_tokens(reloaded.inner_html()) == live_html
    assert errors == []
    # Seen on the page, so read for the agent.
    assert (
        Participant.objects.get(user=priya, conversation_id=case.conversation_id).unread_count == 0
    )
