"""What the browser tests do the same way each time: choose a viewport, sign in, wait
for a page's event stream."""

import re
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Locator, Page, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.demo import story

STREAM_PATH = "/api/v1/sync/stream"

# How long a step (a click, a navigation) and an assertion wait: Playwright's own 5 s for
# assertions left little room on a CI machine that ran the suite 3½ times slower than
# usual. A passing test never waits the whole time.
STEP_MS = 10_000

# How long a browser waits for what another device or the server did to show live: the
# debounced refreshes and their requests, with room to spare on a busy CI machine (one ran
# the suite 3½ times slower than usual). A change that waited for a periodic check would
# take an hour, so this still tells live from not live.
LIVE_MS = 15_000

# The two sizes every page must work at: the names of the fixtures in conftest.py.
VIEWPORTS = ["page", "phone"]


def browser_page(request: pytest.FixtureRequest, viewport: str) -> Page:
    page: Page = request.getfixturevalue(viewport)
    return page


def sign_in(
    page: Page, live_server: LiveServer, username: str, password: str = story.DEMO_PASSWORD
) -> None:
    """Through the sign-in form, as a person does; lands in the Message Center (an agent:
    in the console)."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    expect(page).to_have_url(
        re.compile(rf"^{re.escape(live_server.url)}/(message-center|console)/$")
    )


def header_link(page: Page, name: str) -> Locator:
    """A link of the header's menu, opening the menu first where it is folded (a phone)."""
    menu = page.get_by_text("Menu", exact=True)
    if menu.is_visible():
        menu.click()
    return page.get_by_role("navigation", name="Your account").get_by_role("link", name=name)


@contextmanager
def following_its_stream(page: Page) -> Iterator[None]:
    """Ends once the page the block goes to has its event stream's headers. Events wait in
    the person's log for a stream that opens late; nudges (someone typing, a queue that
    changed) are in no log: one sent before the stream is subscribed is lost, as for a
    device that is offline. The server sends the headers only once it is
    (realtime/streams.py), so after this block every nudge reaches the page."""
    with page.expect_response(lambda response: STREAM_PATH in response.url):
        yield
