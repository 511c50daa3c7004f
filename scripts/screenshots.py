"""Take the screenshots in docs/screenshots/ from a running Message Center with the demo
loaded (`make run`), in Debian's Chromium driven by Playwright:

    .venv/bin/python scripts/screenshots.py [http://127.0.0.1:8000]
"""

import sys
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

BASE = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8000"
OUT = Path(__file__).resolve().parent.parent / "docs" / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORTS = {"desktop": {"width": 1280, "height": 860}, "phone": {"width": 375, "height": 812}}


def sign_in(page: Page, username: str) -> None:
    page.goto(f"{BASE}/accounts/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill("demo-password-2026")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(f"{BASE}/message-center/")


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        for name, viewport in VIEWPORTS.items():
            context = browser.new_context(viewport=viewport)  # type: ignore[arg-type]
            page = context.new_page()
            sign_in(page, "alice")
            page.screenshot(path=OUT / f"message-center-{name}.png", full_page=False)
            page.locator("a.conversation__link").first.click()
            page.wait_for_load_state()
            page.screenshot(path=OUT / f"conversation-{name}.png", full_page=False)
            context.close()
        browser.close()


if __name__ == "__main__":
    main()
