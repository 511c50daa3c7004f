"""The recent sign-in rule (docs/accounts.md#recent-sign-in): every sensitive change needs
a sign-in within RECENT_SIGN_IN_MINUTES; otherwise the person confirms their password (and
code) and comes back to the page they were on, and nothing changed meanwhile."""

import time
from typing import Any

import pytest
from django.conf import settings
from django.test import Client
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from messagecenter.accounts import two_factor
from messagecenter.accounts.models import ApiToken, Passkey, User
from messagecenter.accounts.recent_sign_in import SIGNED_IN_AT_KEY
from messagecenter.delivery.models import Email
from messagecenter.privacy.models import DataExport
from tests.accounts.test_passkeys import with_passkey
from tests.accounts.test_two_factor import code_of, turn_on
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh and long passphrase 2026"
CONFIRM = "/account/confirm-sign-in/"


def signed_in_long_ago(user: User) -> Client:
    """Signed in (with the second factor, when on) longer ago than the rule allows."""
    browser = Client()
    browser.force_login(user)
    session = browser.session
    session.pop(two_factor.PENDING_KEY, None)
    session[SIGNED_IN_AT_KEY] = int(time.time()) - settings.RECENT_SIGN_IN_MINUTES * 60 - 1
    session.save()
    return browser


def nothing_changed(user: User) -> dict[str, Any]:
    user.refresh_from_db()
    return {
        "password": user.password,
        "email": user.email,
        "tokens": ApiToken.objects.filter(user=user).count(),
        "emails": Email.objects.filter(user=user).count(),
        "exports": DataExport.objects.filter(user=user).count(),
        "authenticators": list(TOTPDevice.objects.filter(user=user).values_list("pk", "confirmed")),
    }


PAGES = [
    ("get", "/account/password/", {}),
    (
        "post",
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    ),
    ("get", "/account/email-address/", {}),
    ("post", "/account/email-address/", {"email": "new@example.test", "password": PASSWORD}),
    ("post", "/account/two-factor/off/", {"password": PASSWORD}),
    ("post", "/account/two-factor/start/", {}),
    ("post", "/account/two-factor/confirm/", {"code": "123456"}),
    ("post", "/account/security/tokens/", {"name": "New phone"}),
    ("post", "/account/data/", {}),
]


@pytest.mark.parametrize(("method", "path", "data"), PAGES)
def test_each_sensitive_page_asks_to_confirm_and_changes_nothing(
    buyer: User, method: str, path: str, data: dict[str, str]
) -> None:
    turn_on(buyer)
    browser = signed_in_long_ago(buyer)
    before = nothing_changed(buyer)

    response = getattr(browser, method)(path, data, headers={"Referer": "/account/security/"})

    assert response.status_code == 302
    back = path if method == "get" else "/account/security/"
    assert response["Location"] == f"{CONFIRM}?next={back.replace('/', '%2F')}"
    assert nothing_changed(buyer) == before


def test_adding_or_removing_a_passkey_asks_to_confirm_and_changes_nothing(
    buyer: User, settings: Settings
) -> None:
    settings.PASSKEY_RP_ID = "localhost"
    settings.PASSKEY_ORIGINS = ["http://localhost:8000"]
    with_passkey(buyer)
    passkey = Passkey.objects.get(user=buyer)
    browser = signed_in_long_ago(buyer)

    page = browser.post(
        f"/account/passkeys/{passkey.pk}/remove/", headers={"Referer": "/account/security/"}
    )
    options = browser.post("/account/passkeys/options/", content_type="application/json")
    api_options = browser.post(
        "/api/v1/passkeys/registration-options", content_type="application/json"
    )
    api_remove = browser.delete(f"/api/v1/passkeys/{passkey.pk}")

    assert page["Location"] == f"{CONFIRM}?next=%2Faccount%2Fsecurity%2F"
    for refused in (options, api_options, api_remove):
        assert (refused.status_code, refused.json()["error"]["code"]) == (
            403,
            "recent_sign_in_required",
        )
    assert list(Passkey.objects.filter(user=buyer)) == [passkey]


@pytest.mark.parametrize(
    ("path", "data"),
    [("/api/v1/tokens", {"name": "New phone"}), ("/api/v1/data-exports", {})],
)
def test_the_api_refuses_a_session_that_signed_in_long_ago(
    buyer: User, path: str, data: dict[str, str]
) -> None:
    browser = signed_in_long_ago(buyer)
    before = nothing_changed(buyer)

    response = browser.post(path, data, content_type="application/json")

    assert (response.status_code, response.json()["error"]["code"]) == (
        403,
        "recent_sign_in_required",
    )
    assert nothing_changed(buyer) == before


def test_confirming_the_password_goes_back_to_the_page(buyer: User) -> None:
    browser = signed_in_long_ago(buyer)
    asked = browser.get("/account/password/")
    assert browser.get(asked["Location"]).status_code == 200

    wrong = browser.post(CONFIRM, {"password": "not it", "next": "/account/password/"})
    assert wrong.status_code == 400
    assert browser.get("/account/password/").status_code == 302

    right = browser.post(CONFIRM, {"password": PASSWORD, "next": "/account/password/"})
    assert (right.status_code, right["Location"]) == (302, "/account/password/")
    assert browser.get("/account/password/").status_code == 200
    changed = browser.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD},
    )
    assert changed.status_code == 302
    assert User.objects.get(pk=buyer.pk).check_password(NEW_PASSWORD)


def test_a_password_over_the_limit_is_refused_not_cut_to_it(buyer: User) -> None:
    """The page cut what was typed to 1,024 characters before checking it: a password of
    exactly that length, with anything typed after it, confirmed the sign-in. It is
    refused in the sign-in page's words, unchecked."""
    buyer.set_password("p" * 1024)
    buyer.save(update_fields=["password"])
    browser = signed_in_long_ago(buyer)

    refused = browser.post(CONFIRM, {"password": "p" * 1024 + "q", "next": "/account/password/"})

    assert refused.status_code == 400
    assert "A password is at most 1024 characters: check it and try again." in (
        refused.content.decode()
    )
    assert browser.get("/account/password/").status_code == 302


def test_with_two_factor_on_the_code_is_asked_too(buyer: User) -> None:
    device, _, _ = turn_on(buyer)
    browser = signed_in_long_ago(buyer)

    without_code = browser.post(CONFIRM, {"password": PASSWORD, "next": "/account/email-address/"})
    assert without_code.status_code == 400
    assert browser.get("/account/email-address/").status_code == 302

    with_code = browser.post(
        CONFIRM,
        {
            "password": PASSWORD,
            "code": code_of(device, steps_ahead=1),
            "next": "/account/email-address/",
        },
    )
    assert (with_code.status_code, with_code["Location"]) == (302, "/account/email-address/")
    assert browser.get("/account/email-address/").status_code == 200


def test_a_sign_in_on_the_sign_in_page_is_recent(buyer: User) -> None:
    browser = Client()
    browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    assert browser.get("/account/password/").status_code == 200
    assert browser.post("/account/security/tokens/", {"name": "Phone"}).status_code == 302


def test_the_next_page_is_only_ever_this_site(buyer: User) -> None:
    browser = signed_in_long_ago(buyer)

    response = browser.post(CONFIRM, {"password": PASSWORD, "next": "https://evil.test/"})

    assert response["Location"] == "/account/security/"
