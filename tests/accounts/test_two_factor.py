"""Two-factor sign-in with an authenticator app (TOTP) and recovery codes
(docs/accounts.md): set up, the second step when signing in, what a pending session can
reach, enforcement by role, and turning it off."""

import re
from datetime import timedelta
from unittest import mock

import pytest
from django.test import Client
from django.utils import timezone
from django_otp.oath import totp
from django_otp.plugins.otp_totp.models import TOTPDevice
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db


def code_of(device: TOTPDevice, *, steps_ahead: int = 0) -> str:
    """What the person's app shows (steps ahead: the next codes, for a second use)."""
    code = totp(device.bin_key, device.step, device.t0, device.digits, drift=steps_ahead)
    return f"{code:06d}"


def password_sign_in(user: User) -> tuple[Client, int]:
    browser = Client()
    response = browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    return browser, response.status_code


def turn_on(user: User) -> tuple[TOTPDevice, list[str], Client]:
    """Two-factor set up in a signed-in browser, which stays signed in."""
    browser = Client()
    browser.force_login(user)
    browser.post("/account/two-factor/start/")
    device = TOTPDevice.objects.get(user=user, confirmed=False)
    page = browser.post("/account/two-factor/confirm/", {"code": code_of(device)})
    assert page.status_code == 200
    device.refresh_from_db()
    assert device.confirmed
    return device, list(page.context["recovery_codes"]), browser


def test_setting_up_shows_a_qr_code_and_a_key_then_recovery_codes_once(buyer: User) -> None:
    browser = Client()
    browser.force_login(buyer)

    page = browser.post("/account/two-factor/start/").content.decode()

    assert 'src="data:image/svg+xml' in page
    assert re.search(r'data-testid="totp-key">[A-Z2-7 ]{32,}<', page)
    _, codes, _ = turn_on(buyer)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    again = browser.get("/account/two-factor/").content.decode()
    assert "Two-factor sign-in is on" in again
    assert codes[0] not in again


def test_a_wrong_first_code_does_not_turn_it_on(buyer: User) -> None:
    browser = Client()
    browser.force_login(buyer)
    browser.post("/account/two-factor/start/")

    response = browser.post("/account/two-factor/confirm/", {"code": "000000"})

    assert response.status_code == 400
    assert not TOTPDevice.objects.filter(user=buyer, confirmed=True).exists()


def test_a_refused_code_or_password_marks_its_field_for_screen_readers(buyer: User) -> None:
    """Setting up, a wrong code showed its error at the top of the page, tied to no field:
    the code field was neither marked invalid nor described by it, nor focused again — as
    the sign-in's second step does. The same for a wrong password when turning it off."""
    browser = Client()
    browser.force_login(buyer)
    browser.post("/account/two-factor/start/")

    wrong_code = browser.post("/account/two-factor/confirm/", {"code": "000000"}).content.decode()

    assert 'id="two-factor-error"' in wrong_code
    assert re.search(
        r'<input type="text" id="code"[^>]* aria-invalid="true" '
        r'aria-describedby="two-factor-error" autofocus>',
        wrong_code,
    )
    _, _, browser = turn_on(buyer)
    wrong_password = browser.post(
        "/account/two-factor/off/", {"password": "not it"}
    ).content.decode()
    assert re.search(
        r'<input type="password" id="password"[^>]* aria-invalid="true" '
        r'aria-describedby="two-factor-error" autofocus>',
        wrong_password,
    )


def test_turning_it_off_refuses_a_password_over_the_limit_unchecked(buyer: User) -> None:
    _, _, browser = turn_on(buyer)

    with mock.patch.object(User, "check_password") as check_password:
        refused = browser.post("/account/two-factor/off/", {"password": "x" * 1025})

    assert refused.status_code == 400
    page = refused.content.decode()
    assert "A password is at most 1024 characters: check it and try again." in page
    field = re.search(r'<input type="password" id="password"[^>]* aria-invalid="true"[^>]*>', page)
    assert field is not None
    # Refused by the server alone: a browser would cut a longer pasted password silently.
    assert "maxlength" not in field.group(0)
    check_password.assert_not_called()
    assert TOTPDevice.objects.filter(user=buyer, confirmed=True).exists()


def test_with_two_factor_on_the_password_alone_reaches_nothing(buyer: User) -> None:
    turn_on(buyer)

    browser, status = password_sign_in(buyer)

    assert status == 302
    refused = browser.get("/message-center/")
    assert refused.status_code == 302
    assert refused["Location"].startswith("/accounts/two-factor/")
    assert browser.get("/api/v1/folders").status_code == 401
    assert browser.post("/api/v1/tokens", {"name": "x"}).status_code in {401, 403}


def test_a_pending_sign_in_still_gets_the_sites_icon(
    buyer: User, other_buyer: User, settings: Settings
) -> None:
    """Browsers ask for /favicon.ico on their own (the admin's pages name no icon), and a
    session waiting for its second factor was sent to the two-factor page instead: a page
    of HTML where an icon was wanted. It is the same for everyone and nothing of the
    person's, so it is answered as to anyone; every page still waits for the code."""
    turn_on(buyer)
    browser, _ = password_sign_in(buyer)
    settings.TWO_FACTOR_REQUIRED_ROLES = ["buyer"]
    setting_up, _ = password_sign_in(other_buyer)

    for pending, step in ((browser, "/accounts/two-factor/"), (setting_up, "/account/two-factor/")):
        icon = pending.get("/favicon.ico")
        assert (icon.status_code, icon["Location"]) == (302, "/static/web/favicon.svg")
        assert "public" in icon["Cache-Control"]
        page = pending.get("/message-center/")
        assert page.status_code == 302
        assert page["Location"].startswith(step)


def test_the_code_from_the_app_completes_the_sign_in(buyer: User) -> None:
    device, _, _ = turn_on(buyer)
    browser, _ = password_sign_in(buyer)

    response = browser.post("/accounts/two-factor/", {"code": code_of(device, steps_ahead=1)})

    assert response.status_code == 302
    assert browser.get("/message-center/").status_code == 200


def test_a_wrong_code_is_refused(buyer: User) -> None:
    turn_on(buyer)
    browser, _ = password_sign_in(buyer)

    response = browser.post("/accounts/two-factor/", {"code": "123456"})

    assert response.status_code == 400
    assert "That code is not right" in response.content.decode()
    assert browser.get("/message-center/").status_code == 302


def test_a_right_code_soon_after_a_wrong_one_is_told_to_wait_not_that_it_is_wrong(
    buyer: User, settings: Settings
) -> None:
    """django-otp refuses every code for a while after a wrong one: the page said "That
    code is not right" of the right code, and the person tried it again and again."""
    settings.OTP_TOTP_THROTTLE_FACTOR = 30
    device, _, _ = turn_on(buyer)
    browser, _ = password_sign_in(buyer)
    assert browser.post("/accounts/two-factor/", {"code": "123456"}).status_code == 400

    response = browser.post("/accounts/two-factor/", {"code": code_of(device, steps_ahead=1)})

    page = response.content.decode()
    assert response.status_code == 429
    assert "Too many tries: wait 30 seconds and enter the code again." in page
    assert "not right" not in page
    device.refresh_from_db()
    assert device.throttling_failure_count == 1
    later = timezone.now() + timedelta(seconds=31)
    with mock.patch("django.utils.timezone.now", return_value=later):
        signed_in = browser.post("/accounts/two-factor/", {"code": code_of(device, steps_ahead=1)})
    assert signed_in.status_code == 302


def test_setting_up_says_to_wait_while_the_new_app_is_throttled(
    buyer: User, settings: Settings
) -> None:
    settings.OTP_TOTP_THROTTLE_FACTOR = 30
    browser = Client()
    browser.force_login(buyer)
    browser.post("/account/two-factor/start/")
    device = TOTPDevice.objects.get(user=buyer, confirmed=False)
    assert browser.post("/account/two-factor/confirm/", {"code": "000000"}).status_code == 400

    response = browser.post("/account/two-factor/confirm/", {"code": code_of(device)})

    assert response.status_code == 429
    assert "Too many tries: wait 30 seconds" in response.content.decode()
    device.refresh_from_db()
    assert (device.confirmed, device.throttling_failure_count) == (False, 1)


def test_a_recovery_code_signs_in_once(buyer: User) -> None:
    _, codes, _ = turn_on(buyer)
    first, _ = password_sign_in(buyer)
    assert first.post("/accounts/two-factor/", {"code": codes[0]}).status_code == 302
    assert first.get("/message-center/").status_code == 200

    second, _ = password_sign_in(buyer)

    assert second.post("/accounts/two-factor/", {"code": codes[0]}).status_code == 400
    assert second.get("/message-center/").status_code == 302


def test_agents_must_set_it_up_when_the_setting_says_so(agent: User, settings: Settings) -> None:
    settings.TWO_FACTOR_REQUIRED_ROLES = ["agent", "staff"]

    browser, _ = password_sign_in(agent)

    refused = browser.get("/message-center/")
    assert refused["Location"].startswith("/account/two-factor/")
    assert browser.get("/account/two-factor/").status_code == 200
    browser.post("/account/two-factor/start/")
    device = TOTPDevice.objects.get(user=agent)
    browser.post("/account/two-factor/confirm/", {"code": code_of(device)})
    assert browser.get("/message-center/").status_code == 200
    off = browser.post("/account/two-factor/off/", {"password": PASSWORD})
    assert off.status_code == 400
    assert TOTPDevice.objects.filter(user=agent, confirmed=True).exists()


def test_turning_it_off_asks_for_the_password(buyer: User) -> None:
    _, _, browser = turn_on(buyer)

    assert browser.post("/account/two-factor/off/", {"password": "wrong"}).status_code == 400
    assert TOTPDevice.objects.filter(user=buyer).exists()
    assert browser.post("/account/two-factor/off/", {"password": PASSWORD}).status_code == 302
    assert not TOTPDevice.objects.filter(user=buyer).exists()


def test_a_move_to_a_new_phone_left_half_done_still_shows_two_factor_on(buyer: User) -> None:
    """The page showed only "Set up your authenticator app" then, as if it were off, and no
    way to turn it off, while the old phone's codes still signed in."""
    old_phone, _, browser = turn_on(buyer)
    browser.post("/account/two-factor/start/")

    page = browser.get("/account/two-factor/").content.decode()
    new_phone = TOTPDevice.objects.get(user=buyer, confirmed=False)
    moved = browser.post("/account/two-factor/confirm/", {"code": code_of(new_phone)})

    assert "Move to a new phone</h2>" in page
    assert "keeps working until you enter a code from the new one" in page
    assert "Two-factor sign-in is on</h2>" in page
    assert "Turn off two-factor sign-in" in page
    assert "Set up your authenticator app" not in page
    assert moved.status_code == 200
    assert list(TOTPDevice.objects.filter(user=buyer).values_list("pk", flat=True)) == [
        new_phone.pk
    ]
    assert not TOTPDevice.objects.filter(pk=old_phone.pk).exists()
