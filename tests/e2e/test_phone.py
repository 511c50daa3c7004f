"""The pages at a phone's width (375 × 812) as a person sees them: the header in one row with
a compact menu, list rows whose chips never clip the sender or the Official badge."""

import re

import pytest
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.notifications.models import BroadcastKind
from tests import factories
from tests.e2e.helpers import sign_in
from tests.notifications.helpers import broadcast

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def box(locator: Locator) -> dict[str, float]:
    found = locator.bounding_box()
    assert found is not None
    return dict(found)


def is_clipped(locator: Locator) -> bool:
    clipped: bool = locator.evaluate("element => element.scrollWidth > element.clientWidth")
    return clipped


def test_the_header_is_one_row_with_a_menu_on_a_phone(
    live_server: LiveServer, phone: Page
) -> None:
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
