"""Transfer to another team in Chromium (docs/support.md, "Transfer to another team"): an
agent of customer service moves a phishing request to trust and safety with the keyboard
alone, on a desktop and at a phone's width, and is taken back to the queues — the case is
no longer theirs to open — with a notice saying where it went."""

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.support import actions
from messagecenter.support.models import Case, CaseNote, Team
from tests import factories
from tests.e2e.helpers import VIEWPORTS, browser_page, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_an_agent_transfers_a_request_with_the_keyboard(
    request: pytest.FixtureRequest, live_server: LiveServer, buyer: User, viewport: str
) -> None:
    page = browser_page(request, viewport)
    factories.agent_in_team("customer-service", username="priya", first_name="Priya")
    factories.agent_in_team("trust-and-safety", username="tess", first_name="Tess")
    case = actions.open_request(buyer, "Odd e-mail", "It asks for my card number.")
    sign_in(page, live_server, "priya", PASSWORD)
    page.goto(f"{live_server.url}/console/cases/{case.pk}/")

    # The keyboard alone: open "Transfer to another team", Tab to the team and choose it,
    # Tab to the note, Tab to the button, Enter.
    fold = page.get_by_text("Transfer to another team", exact=True)
    team = page.get_by_label("Transfer to", exact=True)
    expect(team).to_be_hidden()
    fold.focus()
    page.keyboard.press("Enter")
    expect(team).to_be_visible()
    # Nothing on the page is wider than the screen, the form included.
    assert page.evaluate(
        "document.documentElement.scrollWidth <= document.documentElement.clientWidth"
    )
    form = page.locator("form", has=team)
    width = page.evaluate("document.documentElement.clientWidth")
    box = form.bounding_box()
    assert box is not None
    assert box["x"] >= 0
    assert box["x"] + box["width"] <= width

    page.keyboard.press("Tab")
    expect(team).to_be_focused()
    page.keyboard.press("ArrowDown")
    expect(team).to_have_value(str(Team.objects.get(slug="trust-and-safety").pk))
    expect(team.locator("option:checked")).to_have_text("Trust and safety")
    page.keyboard.press("Tab")
    expect(page.get_by_label("Note for that team")).to_be_focused()
    page.keyboard.type("A phishing link: for trust and safety.")
    page.keyboard.press("Tab")
    expect(page.get_by_role("button", name="Transfer", exact=True)).to_be_focused()
    page.keyboard.press("Enter")

    # Back in the queues, told where it went: the case is no longer Priya's to open.
    expect(page).to_have_url(f"{live_server.url}/console/")
    expect(page.get_by_text(f"{case.number} is transferred to Trust and safety")).to_be_visible()
    moved = Case.objects.select_related("team").get(pk=case.pk)
    assert moved.team.slug == "trust-and-safety"
    assert CaseNote.objects.get(case=case).body == "A phishing link: for trust and safety."
