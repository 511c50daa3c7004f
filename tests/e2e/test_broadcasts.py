"""A notice from the marketplace in Chromium: it is in the Message Center with the
Official badge and the header badge, opens on its own page with its link, goes to Trash
and comes back."""

import re

import pytest
from playwright.sync_api import expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.notifications import queries
from tests import factories
from tests.e2e.helpers import VIEWPORTS, browser_page, sign_in
from tests.notifications.helpers import broadcast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.mark.parametrize("viewport", VIEWPORTS)
def test_a_buyer_reads_a_notice_trashes_it_and_restores_it(
    live_server: LiveServer, viewport: str, request: pytest.FixtureRequest
) -> None:
    buyer = factories.BuyerFactory(username="dana")
    notice = broadcast(
        subject="Our terms of service change",
        body="They change on 1 January.\n\nRead them at https://example.test/terms.",
    )
    page = browser_page(request, viewport)
    in_list = page.get_by_role("link", name=re.compile("Our terms of service change"))

    sign_in(page, live_server, "dana", factories.PASSWORD)
    expect(in_list).to_contain_text("Official")
    expect(in_list).to_contain_text("1 unread")

    in_list.click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Our terms of service change")
    expect(page.get_by_role("link", name="https://example.test/terms")).to_be_visible()
    page.get_by_role("button", name="Move to Trash").click()

    expect(page.get_by_role("heading", name="Notices")).to_be_visible()
    expect(in_list).to_have_count(0)
    page.goto(f"{live_server.url}/message-center/?box=trash")
    in_list.click()
    expect(page.get_by_text("In Trash")).to_be_visible()
    page.get_by_role("button", name="Restore").click()

    expect(page.get_by_role("status")).to_contain_text("1 announcement restored.")
    item = queries.access_broadcast(buyer, notice.pk)
    assert (item.box, item.is_read) == ("inbox", True)
