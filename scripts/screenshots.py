"""Take the screenshots in docs/screenshots/ (shown in docs/screenshots.md) from a running
Message Center with a freshly loaded demo, in Debian's Chromium driven by Playwright:

    .venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000]

Every page is taken at a desktop size and a phone size, as the demo buyer (alice) and the
demo seller (Brightside Home & Kitchen). The pages are visited in the order a person would:
the Message Center is taken before a conversation in it is opened (and becomes read), so
run it against a demo nobody has used yet (see docs/testing.md).
"""

import re
import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from playwright.sync_api import Browser, Page, sync_playwright

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
PASSWORD = "demo-password-2026"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 375, "height": 812}}


@dataclass(frozen=True)
class Shot:
    # The file is docs/screenshots/<name>-<viewport>.png.
    name: str
    # Where to go: a path, or what to click from the page the browser is on.
    go: str | Callable[[Page], None]


def open_conversation(subject: str, folder: str) -> Callable[[Page], None]:
    def go(page: Page) -> None:
        page.goto(f"{BASE}/message-center/?folder={folder}")
        page.get_by_role("link", name=re.compile(re.escape(subject))).click()
        page.get_by_role("heading", level=1, name=re.compile(re.escape(subject))).wait_for()

    return go


SHOTS: dict[str, list[Shot]] = {
    "alice": [
        Shot("message-center", "/message-center/"),
        # Dana's answer about a late coffee maker, with the order it is about.
        Shot("conversation", open_conversation("Order 113-6624019-7781204", "buyer_seller")),
        Shot("search", "/message-center/search/?q=kettle"),
        Shot("product", "/products/B0C7KX2M41/"),
        Shot("orders", "/orders/"),
        # Returned and refunded: the return/refund status.
        Shot("order", "/orders/112-4839201-5521937/"),
    ],
    "seller": [
        Shot("seller-response-needed", "/message-center/?view=response-needed"),
        Shot(
            "seller-conversation",
            open_conversation("Question about Variable-Temperature", "buyer_seller"),
        ),
        Shot("response-times", "/message-center/response-times/"),
        Shot("saved-replies", "/message-center/saved-replies/"),
    ],
}


def sign_in(page: Page, username: str) -> None:
    page.goto(f"{BASE}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{BASE}/message-center/")


def take(browser: Browser, username: str, shots: list[Shot]) -> list[Path]:
    """One browser per size, signed in; each page taken at every size before the next."""
    contexts = {name: browser.new_context(viewport=size) for name, size in VIEWPORTS.items()}  # type: ignore[arg-type]
    pages = {name: context.new_page() for name, context in contexts.items()}
    for page in pages.values():
        sign_in(page, username)
    taken = []
    for shot in shots:
        for viewport, page in pages.items():
            if isinstance(shot.go, str):
                page.goto(BASE + shot.go)
            else:
                shot.go(page)
            page.wait_for_load_state("load")
            path = OUT / f"{shot.name}-{viewport}.png"
            page.screenshot(path=path, full_page=False)
            taken.append(path)
    for context in contexts.values():
        context.close()
    return taken


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for username, shots in SHOTS.items():
            for path in take(browser, username, shots):
                print(path.relative_to(OUT.parent.parent))
        browser.close()


if __name__ == "__main__":
    main()
