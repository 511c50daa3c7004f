"""The browser tests' Content-Security-Policy listener (conftest.py) sees what the policy
blocks, so its 0 on every other page means something."""

import pytest
from playwright.sync_api import Page
from pytest_django.live_server_helper import LiveServer

pytestmark = pytest.mark.browser


def test_the_listener_reports_an_inline_style_the_policy_blocks(
    page: Page, live_server: LiveServer, csp_violations: list[str]
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    page.evaluate(
        """() => {
            const element = document.createElement("div");
            element.setAttribute("style", "color: red");
            document.body.append(element);
        }"""
    )
    page.wait_for_timeout(200)

    assert len(csp_violations) == 1
    assert csp_violations[0].startswith("style-src-attr blocked inline on ")
    csp_violations.clear()
