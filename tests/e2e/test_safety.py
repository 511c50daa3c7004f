"""Safety as a buyer meets it, in Chromium: the demo's scam shows its warning and reasons;
after blocking its shop, its next message about the buyer's order arrives marked
(docs/safety.md)."""

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message
from messagecenter.demo import story
from messagecenter.support import report_actions
from messagecenter.support.models import Report
from tests import factories
from tests.e2e.helpers import VIEWPORTS, browser_page
from tests.e2e.helpers import sign_in as helpers_sign_in
from tests.e2e.test_accessibility import page_overflow, refused_violations
from tests.e2e.test_demo_buyer import sign_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_demo_scam_is_warned_and_blocking_its_shop_stops_the_next_message(
    live_server: LiveServer, page: Page, demo: None
) -> None:
    scam = Message.objects.get(sender__storefront__name="Marketplace Account Team")
    impostor = scam.sender
    assert impostor is not None

    sign_in(page, live_server, "alice")
    row = page.get_by_role("link", name=re.compile("Marketplace Account Team"))
    expect(row.get_by_test_id("safety-chip")).to_have_text("Possible scam")
    row.click()
    warning = page.get_by_test_id("safety-warning")
    expect(warning).to_contain_text("Be careful: this message may be a scam.")
    expect(warning).to_contain_text("imitates Marketplace but is not ours")
    expect(warning).to_contain_text("It asks for a password")
    expect(page.get_by_role("link", name=re.compile("rnarketplace"))).to_have_count(0)

    page.once("dialog", lambda dialog: dialog.accept())
    page.get_by_role("button", name="Block shop").click()
    expect(page.get_by_text("You blocked Marketplace Account Team.")).to_be_visible()

    # Its conversation is about alice's order: order-critical, so its next message still
    # arrives, marked (a shop's other messages are refused: tests/safety/test_actions.py).
    actions.send_message(impostor, scam.conversation_id, "Last chance to verify!")
    page.reload()
    expect(page.get_by_test_id("blocked-note")).to_contain_text(
        "You blocked Marketplace Account Team. This message still reached you because it is "
        "about your order"
    )
    page.goto(f"{live_server.url}/account/blocked/")
    expect(page.get_by_test_id("blocked-list")).to_contain_text("Marketplace Account Team")


def test_alice_reports_the_demo_scam_and_an_agent_confirms_it(
    live_server: LiveServer, page: Page, other_device: Page, demo: None
) -> None:
    """Report → the trust-and-safety queue → confirm → removed for its recipient, the shop
    restricted, alice told in her Customer service folder (docs/safety.md#reports)."""
    scam = Message.objects.get(sender__storefront__name="Marketplace Account Team")
    tess = factories.agent_in_team("trust-and-safety", username="tess", first_name="Tess")
    tess.set_password(story.DEMO_PASSWORD)
    tess.save(update_fields=["password"])

    sign_in(page, live_server, "alice")
    page.get_by_role("link", name=re.compile("Marketplace Account Team")).click()
    expect(page.get_by_test_id("safety-warning")).to_be_visible()
    report = page.get_by_test_id("report-message")
    report.get_by_text("Report", exact=True).click()
    report.get_by_label("Phishing or scam").check()
    report.get_by_role("button", name="Send report").click()
    expect(page.get_by_text("customer service will review it")).to_be_visible()
    expect(page.get_by_text("rnarketplace-account-verify")).to_have_count(0)

    case_id = Report.objects.get().pk
    agent = other_device
    agent.goto(f"{live_server.url}/accounts/login/")
    agent.get_by_label("Username").fill("tess")
    agent.get_by_label("Password").fill(story.DEMO_PASSWORD)
    agent.get_by_role("button", name="Sign in").click()
    expect(agent).to_have_url(re.compile(r"/console/$"))
    agent.goto(f"{live_server.url}/console/cases/{case_id}/")
    panel = agent.get_by_test_id("report-panel")
    expect(panel.get_by_test_id("reported-body")).to_contain_text("rnarketplace-account-verify")
    expect(panel.get_by_test_id("report-verdict")).to_contain_text("warn")
    expect(panel.get_by_test_id("reporters")).to_contain_text("Phishing or scam")
    panel.get_by_label("Confirm: remove for every recipient").check()
    panel.get_by_label(re.compile("^Restricted")).check()
    panel.get_by_role("button", name="Record the decision").click()
    expect(agent.get_by_test_id("report-outcome")).to_have_text("Confirmed: removed")

    assert Message.objects.get(pk=scam.pk).removed_at is not None
    page.reload()
    expect(page.get_by_text("rnarketplace-account-verify")).to_have_count(0)
    page.goto(f"{live_server.url}/message-center/?folder=customer_service")
    page.get_by_role("link", name=re.compile("Your report")).click()
    expect(page.get_by_text("We reviewed it and removed it")).to_be_visible()


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_the_report_decision_is_a_radio_group_each_button_beside_its_label(
    live_server: LiveServer, viewport: str, request: pytest.FixtureRequest, demo: None
) -> None:
    scam = Message.objects.get(sender__storefront__name="Marketplace Account Team")
    alice = User.objects.get(username="alice")
    filing = report_actions.report_message(alice, scam.pk, "scam")
    page = browser_page(request, viewport)
    helpers_sign_in(page, live_server, "agent")

    page.goto(f"{live_server.url}/console/cases/{filing.report_id}/")

    panel = page.get_by_test_id("report-panel")
    for group in ("Decision", "When confirmed, the sender's account is"):
        expect(panel.get_by_role("group", name=group)).to_be_visible()
    radios = panel.get_by_role("radio")
    assert radios.count() == 5
    for index in range(radios.count()):
        radio = radios.nth(index)
        label = panel.locator(f"label[for='{radio.get_attribute('id')}']")
        button, text = radio.bounding_box(), label.bounding_box()
        assert button is not None
        assert text is not None
        # Beside it on the same line, not above it.
        assert button["x"] + button["width"] <= text["x"], label.inner_text()
        assert text["y"] < button["y"] + button["height"], label.inner_text()
        assert button["y"] < text["y"] + text["height"], label.inner_text()
    assert page_overflow(page) == ""


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_after_reporting_the_demo_scam_alice_follows_it_in_your_reports(
    live_server: LiveServer, viewport: str, request: pytest.FixtureRequest, demo: None
) -> None:
    """The notice after a report links to Your reports, which lists it as received — on a
    phone too, nothing to scroll sideways to (docs/safety.md#your-reports)."""
    page = browser_page(request, viewport)
    helpers_sign_in(page, live_server, "alice")
    page.get_by_role("link", name=re.compile("Marketplace Account Team")).click()
    report = page.get_by_test_id("report-message")
    report.get_by_text("Report", exact=True).click()
    report.get_by_label("Phishing or scam").check()
    report.get_by_role("button", name="Send report").click()

    page.get_by_test_id("own-reports-link").click()

    expect(page.get_by_role("heading", name="Your reports", exact=True)).to_be_visible()
    row = page.get_by_test_id("own-report")
    expect(row).to_have_count(1)
    expect(row).to_contain_text("A message Marketplace Account Team sent you on")
    expect(row.get_by_test_id("own-report-stage")).to_have_text("Received")
    expect(page.get_by_text("rnarketplace-account-verify")).to_have_count(0)
    assert page_overflow(page) == ""
    assert refused_violations(page) == []
