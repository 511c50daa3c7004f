"""What the browser tests do the same way each time: choose a viewport, sign in, wait
for a page's event stream."""

import re
import time
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from playwright.sync_api import Frame, Locator, Page, Request, expect
from pytest_django.live_server_helper import LiveServer

from messagecenter.demo import story

STREAM_PATH = "/api/v1/sync/stream"
# How long a page may take to open its event stream once loaded (a loaded CI machine).
STREAM_WAIT_SECONDS = 15

# How long a step (a click, a navigation) and an assertion wait: Playwright's own 5 s for
# assertions left little room on a CI machine that ran the suite 3½ times slower than
# usual. A passing test never waits the whole time.
STEP_MS = 10_000

# How long a browser waits for what another device or the server did to show live: the
# debounced refreshes and their requests, with room to spare on a busy CI machine (one ran
# the suite 3½ times slower than usual). A change that waited for a periodic check would
# take an hour, so this still tells live from not live.
LIVE_MS = 15_000

# An init script (page.add_init_script): the page's event streams are made but not opened
# until the test calls window.releaseStreams() — the moment between a page's render and its
# stream, which a browser on a slow network makes long. window.dropStreams() ends the open
# ones as a lost connection does, and they stay down (readyState CONNECTING, as
# EventSource's while it waits to reconnect) until the next releaseStreams(), when each
# connects again from the last event id it had, as EventSource does (Last-Event-ID: here
# ?after=, which the server reads the same way), and its page sees "open" once more.
HOLD_STREAMS = """(() => {
  const Real = window.EventSource;
  const held = [];
  const made = [];
  window.EventSource = class {
    constructor(url) {
      this.url = url; this.lastId = ""; this.listeners = []; this.real = null;
      held.push(this); made.push(this);
    }
    addEventListener(kind, listener) {
      const followed = (event) => {
        if (event.lastEventId) { this.lastId = event.lastEventId; }
        listener(event);
      };
      this.listeners.push([kind, followed]);
      if (this.real) { this.real.addEventListener(kind, followed); }
    }
    open() {
      const url = this.lastId ? this.url.replace(/after=[^&]*/, `after=${this.lastId}`) : this.url;
      this.real = new Real(url);
      for (const [kind, listener] of this.listeners) { this.real.addEventListener(kind, listener); }
    }
    close() { if (this.real) { this.real.close(); } }
    get readyState() { return this.real ? this.real.readyState : 0; }
  };
  window.EventSource.CLOSED = Real.CLOSED;
  window.heldStreams = () => held.length;
  window.releaseStreams = () => { for (const stream of held.splice(0)) { stream.open(); } };
  window.dropStreams = () => {
    for (const stream of made) {
      if (stream.real && stream.real.readyState !== Real.CLOSED) {
        stream.real.close();
        stream.real = null;
        held.push(stream);
      }
    }
  };
})();"""


def wait_for_held_streams(page: Page, count: int) -> None:
    """Until the page has opened `count` streams, held by HOLD_STREAMS.

    The condition is a function, not an expression: Playwright evaluates an expression
    string with eval() on every poll after the first, which the pages' Content-Security-Policy
    (script-src 'self') refuses, so a wait that was not already true at its first poll failed
    (a slow machine); a function is compiled once, under DevTools, and then only called."""
    page.wait_for_function("count => window.heldStreams() === count", arg=count)


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
    (realtime/streams.py), so after this block every nudge reaches the page.

    The stream waited for is the one the block's last document opened: on a loaded machine
    the page the block leaves may still be waiting for its own stream's headers, and taking
    those for the new page's let a nudge go out before the new page listened (a CI run)."""
    seen: list[Request | None] = []  # None: a new document in the page's main frame

    def on_navigated(frame: Frame) -> None:
        if frame == page.main_frame:
            seen.append(None)

    def on_request(request: Request) -> None:
        if STREAM_PATH in request.url and request.frame == page.main_frame:
            seen.append(request)

    page.on("framenavigated", on_navigated)
    page.on("request", on_request)
    try:
        yield
        page.wait_for_load_state()
        deadline = time.monotonic() + STREAM_WAIT_SECONDS
        while True:
            last_document = max((i for i, s in enumerate(seen) if s is None), default=-1)
            streams = [s for s in seen[last_document + 1 :] if s is not None]
            if streams:
                break
            if time.monotonic() > deadline:
                raise AssertionError(f"{page.url} opened no event stream")
            # Lets Playwright deliver the page's events to the handlers above.
            page.wait_for_timeout(50)
        response = streams[-1].response()
        assert response is not None, f"the stream of {page.url} got no answer"
        assert response.ok, f"the stream of {page.url} answered {response.status}"
    finally:
        page.remove_listener("framenavigated", on_navigated)
        page.remove_listener("request", on_request)
