"""Two-factor sign-in in Chromium (docs/accounts.md): passkeys with the browser's own
virtual authenticator (DevTools protocol, WebAuthn domain) — registered on Sign-in and
security, then the second step of a password sign-in, then a sign-in on its own; the page's
script (web/static/web/passkeys.js) does the ceremonies, nothing is faked on the server —
and an authenticator app's code (TOTP), set up on the two-factor page and asked after the
password."""

import base64
import re

import pytest
from django_otp.oath import totp
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import Passkey, User
from tests import factories
from tests.e2e.helpers import sign_in

pytestmark = pytest.mark.browser


def virtual_authenticator(page: Page) -> None:
    cdp = page.context.new_cdp_session(page)
    cdp.send("WebAuthn.enable")
    cdp.send(
        "WebAuthn.addVirtualAuthenticator",
        {
            "options": {
                "protocol": "ctap2",
                "transport": "internal",
                "hasResidentKey": True,
                "hasUserVerification": True,
                "isUserVerified": True,
            }
        },
    )


def test_a_passkey_is_registered_then_signs_in(
    live_server: LiveServer, page: Page, buyer: User, settings: Settings
) -> None:
    # The live server is http://localhost:<port>: the relying party and its origin.
    settings.PASSKEY_RP_ID = "localhost"
    settings.PASSKEY_ORIGINS = [live_server.url]
    virtual_authenticator(page)
    sign_in(page, live_server, buyer.username, factories.PASSWORD)

    page.goto(f"{live_server.url}/account/security/")
    page.get_by_label("Name of the new passkey").fill("Virtual key")
    page.get_by_role("button", name="Add a passkey").click()
    codes = page.get_by_test_id("passkey-recovery-codes")
    expect(codes).to_be_visible()
    expect(codes.get_by_role("listitem")).to_have_count(10)
    # Nothing around them still says what the page said before the passkey.
    expect(page.get_by_text("You have no passkey")).to_be_hidden()
    expect(page.get_by_text("Two-factor sign-in is off")).to_be_hidden()
    codes.get_by_role("link", name="Done").click()
    expect(page.get_by_test_id("passkey")).to_contain_text("Virtual key")
    expect(page.get_by_test_id("passkey")).to_contain_text("not used yet")
    passkey = Passkey.objects.get(user=buyer)
    assert passkey.transports == ["internal"]

    # The second step of a password sign-in.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(buyer.username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/"))
    page.get_by_role("button", name="Use your passkey").click()
    expect(page).to_have_url(f"{live_server.url}/message-center/")
    passkey.refresh_from_db()
    assert passkey.last_used_at is not None

    # A passkey alone: no username, no password.
    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_role("button", name="Use a passkey instead").click()
    expect(page).to_have_url(f"{live_server.url}/message-center/")
    page.goto(f"{live_server.url}/account/security/")
    expect(page.get_by_test_id("passkey")).to_contain_text("last used")
    assert page.get_by_test_id("browser").count() == 3


def test_an_authenticator_app_is_set_up_then_asked_after_the_password(
    live_server: LiveServer, page: Page, buyer: User
) -> None:
    sign_in(page, live_server, buyer.username, factories.PASSWORD)
    page.goto(f"{live_server.url}/account/two-factor/")
    page.get_by_role("button", name="Set up an authenticator app").click()
    # What the person types into their app, and what the app then shows.
    key = base64.b32decode(page.get_by_test_id("totp-key").inner_text().replace(" ", ""))

    def app_code(steps_ahead: int = 0) -> str:
        return f"{totp(key, drift=steps_ahead):06d}"

    page.get_by_label("Code from the app").fill(app_code())
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.get_by_test_id("recovery-codes").get_by_role("listitem")).to_have_count(10)

    page.context.clear_cookies()
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill(buyer.username)
    page.get_by_label("Password").fill(factories.PASSWORD)
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(re.compile(r"/accounts/two-factor/"))
    # The code used to turn it on is spent: the app's next one.
    page.get_by_label("Code").fill(app_code(steps_ahead=1))
    page.get_by_role("button", name="Sign in", exact=True).click()
    expect(page).to_have_url(f"{live_server.url}/message-center/")
