""" "Your devices" (docs/accounts.md): every signed-in browser and API token with where it
was first and last used; ending one, signing out everywhere (open event streams included),
and a password change that leaves only the browser it was made in."""

import re
import time
from collections.abc import Iterator

import pytest
from django.test import Client
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions
from messagecenter.accounts.models import ApiToken, BrowserSession, User
from messagecenter.accounts.user_agents import describe
from tests.api.helpers import with_session
from tests.factories import PASSWORD
from tests.realtime.servers import EventStreamClient, Server, running_server

FIREFOX = "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:140.0) Gecko/20100101 Firefox/140.0"
IPHONE = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 18_5 like Mac OS X) AppleWebKit/605.1.15 "
    "(KHTML, like Gecko) Version/18.5 Mobile/15E148 Safari/604.1"
)


def signed_in_browser(
    user: User, user_agent: str = FIREFOX, address: str = "198.51.100.4"
) -> Client:
    """A browser that signs in through the sign-in page, as a person does."""
    browser = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=address)
    response = browser.post("/accounts/login/", {"username": user.username, "password": PASSWORD})
    assert response.status_code == 302
    return browser


def works(browser: Client) -> bool:
    return bool(browser.get("/message-center/").status_code == 200)


def token_works(secret: str) -> bool:
    response = Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"})
    return bool(response.status_code == 200)


@pytest.mark.django_db
def test_signing_in_lists_the_browser_with_its_device_and_place(
    buyer: User, settings: Settings
) -> None:
    settings.CLIENT_COUNTRY_HEADER = "CF-IPCountry"
    browser = Client(HTTP_USER_AGENT=IPHONE, REMOTE_ADDR="203.0.113.9", HTTP_CF_IPCOUNTRY="nl")
    browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})

    listed = BrowserSession.objects.get()
    assert (listed.user, listed.session_key) == (buyer, browser.session.session_key)
    assert (listed.first_address, listed.first_country) == ("203.0.113.9", "NL")
    page = browser.get("/account/security/").content.decode()
    assert "Safari on iPhone" in page
    assert "This browser" in page
    assert "from NL" in page


def test_user_agents_in_words() -> None:
    assert describe(FIREFOX) == "Firefox on Windows"
    assert describe(IPHONE) == "Safari on iPhone"
    assert describe("") == "Unknown device"
    assert describe("curl/8.5") == "curl/8.5"


@pytest.mark.django_db
def test_signing_out_one_browser_leaves_the_others(buyer: User) -> None:
    laptop = signed_in_browser(buyer)
    phone = signed_in_browser(buyer, IPHONE)
    phone_session = BrowserSession.objects.get(session_key=phone.session.session_key)

    response = laptop.post(f"/account/security/browsers/{phone_session.pk}/sign-out/")

    assert response.status_code == 302
    assert not works(phone)
    assert works(laptop)
    assert BrowserSession.objects.filter(user=buyer).count() == 1


@pytest.mark.django_db
def test_no_one_signs_out_someone_elses_browser(buyer: User, other_buyer: User) -> None:
    alice = signed_in_browser(buyer)
    bob = signed_in_browser(other_buyer)
    alice_session = BrowserSession.objects.get(user=buyer)

    response = bob.post(f"/account/security/browsers/{alice_session.pk}/sign-out/")

    assert response.status_code == 404
    assert works(alice)
    assert BrowserSession.objects.count() == 2


@pytest.mark.django_db
def test_tokens_are_made_shown_once_and_revoked_from_the_web(buyer: User) -> None:
    browser = signed_in_browser(buyer)

    made = browser.post("/account/security/tokens/", {"name": "Alice's iPad"})
    assert (made.status_code, made["Location"]) == (302, "/account/security/")
    page = browser.get(made["Location"])

    token = ApiToken.objects.get()
    secret = page.context["new_token"][1]
    assert token.prefix == secret[:11]
    assert secret in page.content.decode()
    assert token_works(secret)
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert secret not in browser.get("/account/security/").content.decode()
    assert browser.post(f"/account/security/tokens/{token.pk}/revoke/").status_code == 302
    assert not token_works(secret)


@pytest.mark.django_db
def test_a_token_used_by_a_client_that_gives_no_user_agent_is_not_called_unused(
    buyer: User,
) -> None:
    """The list said "Not used yet" beside "last used … from 127.0.0.1" for a token whose
    client sends no User-Agent (curl -A '', many libraries): used, on an unknown device."""
    browser = signed_in_browser(buyer)
    token, secret = actions.create_api_token(buyer, "Script")

    assert "not used yet" in browser.get("/account/security/").content.decode()
    assert token_works(secret)  # Django's test client sends no User-Agent
    page = browser.get("/account/security/").content.decode()

    token.refresh_from_db()
    assert (token.last_used_at is not None, token.user_agent) == (True, "")
    assert "(Not used yet)" not in page
    assert "(Unknown device)" in page


@pytest.mark.django_db
def test_reloading_after_making_a_token_makes_no_second_one_and_hides_the_secret(
    buyer: User,
) -> None:
    """The result was the POST's own answer: a reload sent the form again, making a second
    token and showing its secret. Now the POST redirects, and the secret is shown once."""
    browser = signed_in_browser(buyer)

    made = browser.post("/account/security/tokens/", {"name": "Kitchen tablet"}, follow=True)
    secret = made.context["new_token"][1]
    assert secret in made.content.decode()
    assert secret not in made.redirect_chain[0][0]
    reloaded = browser.get("/account/security/")

    assert ApiToken.objects.filter(user=buyer).count() == 1
    assert reloaded.status_code == 200
    assert secret not in reloaded.content.decode()
    assert 'data-testid="new-token"' not in reloaded.content.decode()
    assert "Kitchen tablet" in reloaded.content.decode()
    assert token_works(secret)


@pytest.mark.django_db
def test_a_head_request_does_not_use_up_the_new_secrets_one_display(buyer: User) -> None:
    browser = signed_in_browser(buyer)
    browser.post("/account/security/tokens/", {"name": "Kitchen tablet"})

    assert browser.head("/account/security/").status_code == 200
    shown = browser.get("/account/security/")

    assert 'data-testid="new-token"' in shown.content.decode()
    assert 'data-testid="new-token"' not in browser.get("/account/security/").content.decode()


@pytest.mark.django_db
def test_revoking_a_token_revoked_already_in_another_tab_says_so(
    buyer: User, other_buyer: User
) -> None:
    """It showed "We can't find that page … it belongs to another account"."""
    token, _ = actions.create_api_token(buyer, "Old phone")
    kept, _ = actions.create_api_token(buyer, "Tablet")
    browser = signed_in_browser(buyer)
    assert browser.post(f"/account/security/tokens/{token.pk}/revoke/").status_code == 302

    again = browser.post(f"/account/security/tokens/{token.pk}/revoke/", follow=True)

    page = again.content.decode()
    assert again.status_code == 200
    assert again.redirect_chain == [("/account/security/", 302)]
    assert "This token was revoked already." in page
    assert "Tablet" in page
    assert "We can’t find that page" not in page
    # Someone else's token, revoked or not, stays not found.
    intruder = signed_in_browser(other_buyer)
    assert intruder.post(f"/account/security/tokens/{token.pk}/revoke/").status_code == 404
    assert intruder.post(f"/account/security/tokens/{kept.pk}/revoke/").status_code == 404
    kept.refresh_from_db()
    assert kept.revoked_at is None


@pytest.mark.django_db
def test_a_token_without_a_name_is_refused_and_nothing_is_made(buyer: User) -> None:
    browser = signed_in_browser(buyer)

    response = browser.post("/account/security/tokens/", {"name": "  "})

    assert response.status_code == 400
    assert "Name the device this token is for." in response.content.decode()
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_a_token_named_with_nothing_visible_is_refused_on_the_page(buyer: User) -> None:
    browser = signed_in_browser(buyer)

    response = browser.post("/account/security/tokens/", {"name": "\u200b\u2060"})

    assert response.status_code == 400
    assert "at least one visible character" in response.content.decode()
    assert ApiToken.objects.count() == 0


@pytest.mark.django_db
def test_a_refused_token_name_has_the_focus_beside_its_error(buyer: User) -> None:
    # The form is the page's second card, below every signed-in browser: without the
    # focus the page opened at its top (on a phone, screens above the error) and a
    # keyboard or screen-reader user started again from the skip link, with no word of
    # what went wrong.
    browser = signed_in_browser(buyer)

    page = browser.post("/account/security/tokens/", {"name": "\u200b"}).content.decode()

    field = re.search(r'<input[^>]*\bid="token-name"[^>]*>', page)
    assert field is not None
    assert " autofocus" in field.group(0)
    assert 'aria-invalid="true"' in field.group(0)
    assert 'aria-describedby="token-error"' in field.group(0)
    assert page.count(" autofocus") == 1


@pytest.mark.django_db
def test_the_token_name_has_no_focus_on_an_unrefused_page(buyer: User) -> None:
    page = signed_in_browser(buyer).get("/account/security/").content.decode()

    field = re.search(r'<input[^>]*\bid="token-name"[^>]*>', page)
    assert field is not None
    assert " autofocus" not in field.group(0)


@pytest.mark.django_db
def test_changing_the_password_signs_out_every_other_browser_and_token(buyer: User) -> None:
    here = signed_in_browser(buyer)
    elsewhere = signed_in_browser(buyer, IPHONE)
    _, secret = actions.create_api_token(buyer, "Phone")

    response = here.post(
        "/account/password/",
        {
            "old_password": PASSWORD,
            "new_password1": "a new and long passphrase 2026",
            "new_password2": "a new and long passphrase 2026",
        },
    )

    assert response.status_code == 302
    assert works(here)
    assert not works(elsewhere)
    assert not token_works(secret)
    assert list(BrowserSession.objects.values_list("session_key", flat=True)) == [
        here.session.session_key
    ]


@pytest.mark.django_db
def test_a_wrong_current_password_changes_nothing(buyer: User) -> None:
    here = signed_in_browser(buyer)
    elsewhere = signed_in_browser(buyer, IPHONE)
    password_before = User.objects.get(pk=buyer.pk).password

    response = here.post(
        "/account/password/",
        {"old_password": "not it", "new_password1": "x1y2z3w4v5", "new_password2": "x1y2z3w4v5"},
    )

    assert response.status_code == 400
    assert User.objects.get(pk=buyer.pk).password == password_before
    assert works(elsewhere)


@pytest.mark.django_db
def test_the_current_password_typed_as_the_new_one_is_refused_and_signs_nobody_out(
    buyer: User,
) -> None:
    # A password manager fills the saved (current) password into every password field:
    # the page said "Your password is changed", signed every other device out and revoked
    # every token, and the password — perhaps the one someone else knows — stayed.
    here = signed_in_browser(buyer)
    elsewhere = signed_in_browser(buyer, IPHONE)
    _, secret = actions.create_api_token(buyer, "Phone")
    password_before = User.objects.get(pk=buyer.pk).password

    response = here.post(
        "/account/password/",
        {"old_password": PASSWORD, "new_password1": PASSWORD, "new_password2": PASSWORD},
    )

    page = response.content.decode()
    assert response.status_code == 400
    assert "Choose a new password: this one is your current password." in page
    field = re.search(r'<input[^>]*\bid="id_new_password1"[^>]*>', page)
    assert field is not None
    assert 'aria-invalid="true"' in field.group(0)
    assert " autofocus" in field.group(0)
    assert User.objects.get(pk=buyer.pk).password == password_before
    assert works(here)
    assert works(elsewhere)
    assert token_works(secret)


@pytest.mark.django_db
def test_the_api_lists_and_ends_browser_sessions(buyer: User) -> None:
    laptop = signed_in_browser(buyer)
    api = with_session(buyer)

    listed = api.get("/browser-sessions").json()

    assert len(listed) == 2
    laptop_entry = next(item for item in listed if not item["is_current"])
    assert laptop_entry["device"] == "Firefox on Windows"
    assert laptop_entry["signed_in_from"] == "198.51.100.4"
    assert api.delete(f"/browser-sessions/{laptop_entry['id']}").status_code == 204
    assert not works(laptop)
    assert api.delete(f"/browser-sessions/{laptop_entry['id']}").status_code == 404


# --- five devices and an open stream, against a real server --------------------------------


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    with running_server(
        tmp_path_factory.mktemp("devices-server"),
        PUBSUB_URL="memory://",
        REALTIME_HEARTBEAT_SECONDS="0.5",
        REALTIME_AUTH_CHECK_SECONDS="0.2",
    ) as started:
        yield started


@pytest.mark.django_db(transaction=True)
def test_five_devices_then_sign_out_everywhere_leaves_none_working(
    server: Server, buyer: User, other_buyer: User
) -> None:
    laptop = signed_in_browser(buyer)
    phone = signed_in_browser(buyer, IPHONE, "203.0.113.50")
    tablet = signed_in_browser(buyer, IPHONE, "192.0.2.77")
    _, phone_app = actions.create_api_token(buyer, "Phone app")
    _, script = actions.create_api_token(buyer, "Script")
    bob = signed_in_browser(other_buyer)
    streams = [
        EventStreamClient(server, {"Cookie": f"sessionid={phone.cookies['sessionid'].value}"}),
        EventStreamClient(server, {"Authorization": f"Bearer {phone_app}"}),
    ]
    try:
        assert [stream.response.status for stream in streams] == [200, 200]
        assert [works(laptop), works(phone), works(tablet)] == [True, True, True]
        assert [token_works(phone_app), token_works(script)] == [True, True]

        response = laptop.post("/account/security/sign-out-everywhere/")
        signed_out_at = time.monotonic()
        ended = [stream.next() for stream in streams]
        waited = time.monotonic() - signed_out_at
    finally:
        for stream in streams:
            stream.close()

    assert response.status_code == 302
    assert ended == [None, None]
    assert waited < 3
    browsers = [works(laptop), works(phone), works(tablet)]
    still_working = [*browsers, token_works(phone_app), token_works(script)]
    assert still_working == [False] * 5
    assert BrowserSession.objects.filter(user=buyer).count() == 0
    # Someone else is not affected.
    assert works(bob)
