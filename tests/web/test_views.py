"""The site's frame: the front door, signing in and out, the header on every page, Your
Account, and the error pages."""

import logging
import re
from typing import Any

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.contrib.staticfiles import finders
from django.test import Client
from django.utils.http import urlsafe_base64_encode

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Kind
from messagecenter.delivery.models import Email
from messagecenter.marketplace.models import Product
from tests import factories
from tests.web.helpers import sign_in_url

pytestmark = pytest.mark.django_db

HEADER_BADGE = 'data-testid="header-unread">'


def page_text(response: Any) -> str:
    return str(response.content.decode())


def test_the_front_door_sends_a_signed_out_visitor_to_sign_in(client: Client) -> None:
    response = client.get("/")

    assert (response.status_code, response.url) == (302, "/accounts/login/")  # type: ignore[attr-defined]


def test_the_front_door_sends_a_signed_in_person_to_the_message_center(
    client: Client, buyer: User
) -> None:
    client.force_login(buyer)

    response = client.get("/")

    assert (response.status_code, response.url) == (302, "/message-center/")  # type: ignore[attr-defined]


def test_the_sign_in_page_has_a_labelled_form(client: Client) -> None:
    response = client.get("/accounts/login/")

    text = page_text(response)
    assert response.status_code == 200
    assert '<label for="id_username">Username</label>' in text
    assert '<label for="id_password">Password</label>' in text
    assert 'autocomplete="current-password"' in text


def test_signing_in_opens_the_message_center(client: Client, buyer: User) -> None:
    response = client.post(
        "/accounts/login/", {"username": "alice", "password": factories.PASSWORD}
    )

    # Through the front door, which sends each person where they work.
    assert (response.status_code, response.url) == (302, "/")  # type: ignore[attr-defined]
    front_door = client.get("/")
    assert (front_door.status_code, front_door.url) == (302, "/message-center/")  # type: ignore[attr-defined]
    assert client.get("/message-center/").status_code == 200


def test_signing_in_as_an_agent_opens_the_console(client: Client) -> None:
    factories.agent_in_team(username="priya")

    client.post("/accounts/login/", {"username": "priya", "password": factories.PASSWORD})
    front_door = client.get("/")

    assert (front_door.status_code, front_door.url) == (302, "/console/")  # type: ignore[attr-defined]
    assert client.get("/console/").status_code == 200


def test_signing_in_goes_back_to_the_page_that_asked_for_it(client: Client, buyer: User) -> None:
    response = client.post(
        "/accounts/login/",
        {"username": "alice", "password": factories.PASSWORD, "next": "/orders/"},
    )

    assert (response.status_code, response.url) == (302, "/orders/")  # type: ignore[attr-defined]


def test_a_wrong_password_is_explained_and_signs_no_one_in(client: Client, buyer: User) -> None:
    response = client.post("/accounts/login/", {"username": "alice", "password": "guess"})

    assert response.status_code == 200
    assert "That username and password do not match an account." in page_text(response)
    assert client.get("/message-center/").status_code == 302


def input_tag(page: str, input_id: str) -> str:
    """The whole <input …> tag of the field with this id."""
    found = re.search(rf'<input[^>]*\bid="{input_id}"[^>]*>', page)
    assert found is not None, input_id
    return found.group(0)


def test_after_a_wrong_password_the_password_field_has_the_focus_and_the_error(
    client: Client, buyer: User
) -> None:
    """After a wrong password the focus stayed on the username, filled in already: the
    person had to find the password field themselves, and a screen reader heard nothing
    of the error there. The password field now takes the focus, marked invalid and
    described by the error, as the two-factor step's code field does."""
    fresh = page_text(client.get("/accounts/login/"))
    wrong = page_text(client.post("/accounts/login/", {"username": "alice", "password": "guess"}))

    assert " autofocus" in input_tag(fresh, "id_username")
    assert " autofocus" not in input_tag(fresh, "id_password")
    assert "aria-invalid" not in fresh
    username, password = input_tag(wrong, "id_username"), input_tag(wrong, "id_password")
    assert 'value="alice"' in username
    assert " autofocus" not in username
    assert "aria-invalid" not in username
    assert " autofocus" in password
    assert 'aria-invalid="true"' in password
    assert 'aria-describedby="sign-in-error"' in password
    error = re.search(r'<p[^>]*\bid="sign-in-error"[^>]*>(.*?)</p>', wrong, re.DOTALL)
    assert error is not None
    assert "That username and password do not match an account." in error.group(1)


def sign_in_error(page: str) -> str:
    error = re.search(r'<p[^>]*\bid="sign-in-error"[^>]*>(.*?)</p>', page, re.DOTALL)
    assert error is not None
    return " ".join(error.group(1).split())


@pytest.mark.parametrize(
    ("username", "password", "wrong", "right", "message"),
    [
        ("", "guess", "id_username", "id_password", "Enter your username."),
        ("   ", "guess", "id_username", "id_password", "Enter your username."),
        ("alice", "", "id_password", "id_username", "Enter your password."),
    ],
)
def test_a_missing_field_has_the_focus_and_its_own_error(
    client: Client, buyer: User, username: str, password: str, wrong: str, right: str, message: str
) -> None:
    """With one field left empty (a browser without the required check, a form sent by a
    script) the page said "Check the fields below." and marked no field, or marked the
    password described by that sentence. The empty field now takes the focus, marked
    invalid and described by an error that names it; the other field is not marked."""
    page = page_text(client.post("/accounts/login/", {"username": username, "password": password}))

    assert sign_in_error(page) == message
    field, other = input_tag(page, wrong), input_tag(page, right)
    assert " autofocus" in field
    assert 'aria-invalid="true"' in field
    assert 'aria-describedby="sign-in-error"' in field
    assert " autofocus" not in other
    assert "aria-invalid" not in other
    assert "aria-describedby" not in other


def test_with_both_fields_empty_both_are_marked_and_the_username_has_the_focus(
    client: Client,
) -> None:
    page = page_text(client.post("/accounts/login/", {"username": "", "password": ""}))

    assert sign_in_error(page) == "Enter your username. Enter your password."
    username, password = input_tag(page, "id_username"), input_tag(page, "id_password")
    assert " autofocus" in username
    assert " autofocus" not in password
    for field in (username, password):
        assert 'aria-invalid="true"' in field
        assert 'aria-describedby="sign-in-error"' in field


def test_a_password_over_the_limit_is_marked_on_the_password_field(
    client: Client, buyer: User
) -> None:
    page = page_text(client.post("/accounts/login/", {"username": "alice", "password": "x" * 1025}))

    assert "at most 1024 characters" in sign_in_error(page)
    password = input_tag(page, "id_password")
    assert " autofocus" in password
    assert 'aria-invalid="true"' in password
    assert "aria-invalid" not in input_tag(page, "id_username")


def form_alert(page: str) -> str:
    """The words of the alert above a refused form, as read out."""
    alert = re.search(r'<p class="alert alert--error" role="alert">(.*?)</p>', page, re.DOTALL)
    assert alert is not None
    return " ".join(alert.group(1).split())


def element_text(page: str, element_id: str) -> str:
    """The words of the element with this id (an error list: up to its closing tag)."""
    found = re.search(rf'<(\w+)[^>]*\bid="{element_id}"[^>]*>(.*?)</\1>', page, re.DOTALL)
    assert found is not None, element_id
    return " ".join(re.sub(r"<[^>]+>", " ", found.group(2)).split())


def assert_wrong_fields(page: str, fields: list[str], wrong: dict[str, str]) -> None:
    """Each wrong field (its id: the words of its error) is marked invalid and described by
    an element of the page that holds its error, and the first of them has the focus; no
    other field is marked or focused."""
    first_wrong = next(field for field in fields if field in wrong)
    for field in fields:
        tag = input_tag(page, field)
        assert (" autofocus" in tag) == (field == first_wrong), tag
        if field not in wrong:
            assert "aria-invalid" not in tag, tag
            assert f"{field}_error" not in page
            continue
        assert 'aria-invalid="true"' in tag, tag
        described = re.search(r'aria-describedby="([^"]+)"', tag)
        assert described is not None, tag
        assert f"{field}_error" in described.group(1).split()
        assert element_text(page, f"{field}_error") == wrong[field]


PASSWORD_FIELDS = ["id_new_password1", "id_new_password2"]
ENTER_CURRENT = "Enter your current password."
WRONG_CURRENT = "That is not your current password: check it and try again."
ENTER_NEW = "Enter a new password."
ENTER_AGAIN = "Enter the new password a second time, to confirm it."
MISMATCH = "The two new passwords do not match: type the same new password in both fields."
BROKEN_RULES = (
    "Choose another new password: this one does not follow the rules. This password is "
    "too common. This password is entirely numeric."
)
GOOD_NEW_PASSWORD = "a fresh and long passphrase 2026"
# Sign-in's words for a password over 1,024 characters, on every field a password is typed.
TOO_LONG = "A password is at most 1024 characters: check it and try again."
OVER_THE_LIMIT = "x" * 1025

# (the current password, the new one, again; the wrong fields and their errors)
PASSWORD_CHANGES_REFUSED = [
    (
        "",
        "",
        "",
        {
            "id_old_password": ENTER_CURRENT,
            "id_new_password1": ENTER_NEW,
            "id_new_password2": ENTER_AGAIN,
        },
    ),
    ("not it", GOOD_NEW_PASSWORD, GOOD_NEW_PASSWORD, {"id_old_password": WRONG_CURRENT}),
    (
        factories.PASSWORD,
        GOOD_NEW_PASSWORD,
        GOOD_NEW_PASSWORD + "!",
        {"id_new_password2": MISMATCH},
    ),
    (factories.PASSWORD, "12345678", "12345678", {"id_new_password1": BROKEN_RULES}),
    (
        factories.PASSWORD,
        "12345678",
        "",
        {"id_new_password1": BROKEN_RULES, "id_new_password2": ENTER_AGAIN},
    ),
    (
        "not it",
        GOOD_NEW_PASSWORD,
        "something else",
        {"id_old_password": WRONG_CURRENT, "id_new_password2": MISMATCH},
    ),
    # Refused unhashed, as on the sign-in page: these took any length.
    (OVER_THE_LIMIT, GOOD_NEW_PASSWORD, GOOD_NEW_PASSWORD, {"id_old_password": TOO_LONG}),
    (
        factories.PASSWORD,
        OVER_THE_LIMIT,
        OVER_THE_LIMIT,
        {"id_new_password1": TOO_LONG, "id_new_password2": TOO_LONG},
    ),
    (factories.PASSWORD, GOOD_NEW_PASSWORD, OVER_THE_LIMIT, {"id_new_password2": TOO_LONG}),
]


def wrong_field_ids(changes: list[tuple[str, str, str, dict[str, str]]]) -> list[str]:
    """Each case named by its wrong fields (not by the passwords typed)."""
    return [
        "+".join(field.removeprefix("id_") for field in change[3])
        + ("-too-long" if TOO_LONG in change[3].values() else "")
        for change in changes
    ]


@pytest.mark.parametrize(
    ("current", "new", "again", "wrong"),
    PASSWORD_CHANGES_REFUSED,
    ids=wrong_field_ids(PASSWORD_CHANGES_REFUSED),
)
def test_a_refused_password_change_names_marks_and_focuses_each_wrong_field(
    client: Client, buyer: User, current: str, new: str, again: str, wrong: dict[str, str]
) -> None:
    """The page said "Check the fields below.", an empty field's error was "This field is
    required.", the current password had the focus whichever field was wrong, and a new
    password the rules refused was marked on its confirmation, not on itself. Each error
    now names its field and what to do, above the form and beside that field alone, which
    it describes; the first wrong field has the focus. The password stays as it was."""
    client.force_login(buyer)

    response = client.post(
        "/account/password/",
        {"old_password": current, "new_password1": new, "new_password2": again},
    )

    page = page_text(response)
    assert response.status_code == 400
    assert form_alert(page) == " ".join(wrong.values())
    assert_wrong_fields(page, ["id_old_password", *PASSWORD_FIELDS], wrong)
    buyer.refresh_from_db()
    assert buyer.check_password(factories.PASSWORD)


# Without the current password: the reset link's page asks only for the new one.
RESET_PASSWORDS_REFUSED = [
    change for change in PASSWORD_CHANGES_REFUSED if "id_old_password" not in change[3]
]


def test_the_password_change_page_still_opens_on_the_current_password(
    client: Client, buyer: User
) -> None:
    client.force_login(buyer)

    page = page_text(client.get("/account/password/"))

    assert '<label for="id_old_password">Current password</label>' in page
    assert " autofocus" in input_tag(page, "id_old_password")
    assert 'role="alert"' not in page


def password_inputs(page: str) -> list[str]:
    """Every <input type="password" …> tag of the page."""
    return re.findall(r'<input[^>]*\btype="password"[^>]*>', page)


def test_no_password_field_cuts_a_long_password_short(client: Client, buyer: User) -> None:
    """The fields carried maxlength="1024": a browser silently cuts a longer password
    pasted from a password manager to 1,024 characters, so a new password was set to what
    was cut and the current one failed, with no word of why. Nothing is cut now: the
    server's "A password is at most 1024 characters" shows on the field (the `-too-long`
    cases above, and each form's own tests)."""
    client.force_login(buyer)
    reset_link = (
        f"/accounts/password-reset/{urlsafe_base64_encode(str(buyer.pk).encode())}/"
        f"{default_token_generator.make_token(buyer)}/"
    )
    pages = {
        "/account/password/": 3,
        "/account/email-address/": 1,
        "/account/confirm-sign-in/": 1,
        reset_link: 2,
    }

    for url, fields in pages.items():
        response = client.get(url, follow=True)
        assert response.status_code == 200, url
        inputs = password_inputs(page_text(response))
        assert len(inputs) == fields, (url, inputs)
        for tag in inputs:
            assert "maxlength" not in tag, (url, tag)

    client.logout()
    sign_in = password_inputs(page_text(client.get("/accounts/login/")))
    assert len(sign_in) == 1
    assert "maxlength" not in sign_in[0]


@pytest.mark.parametrize(
    ("current", "new", "again", "wrong"),
    RESET_PASSWORDS_REFUSED,
    ids=wrong_field_ids(RESET_PASSWORDS_REFUSED),
)
def test_a_refused_new_password_from_a_reset_link_names_marks_and_focuses_each_wrong_field(
    client: Client, buyer: User, current: str, new: str, again: str, wrong: dict[str, str]
) -> None:
    """The reset link's page said "Check the fields below." too. The link still works
    after a refusal, and the password is unchanged."""
    link = (
        f"/accounts/password-reset/{urlsafe_base64_encode(str(buyer.pk).encode())}/"
        f"{default_token_generator.make_token(buyer)}/"
    )

    response = client.post(link, {"new_password1": new, "new_password2": again})

    page = page_text(response)
    assert response.status_code == 400
    assert form_alert(page) == " ".join(wrong.values())
    assert_wrong_fields(page, PASSWORD_FIELDS, wrong)
    buyer.refresh_from_db()
    assert buyer.check_password(factories.PASSWORD)
    assert 'name="new_password1"' in page_text(client.get(link))


@pytest.mark.parametrize(
    ("address", "password", "wrong"),
    [
        (
            "",
            "",
            {"id_email": "Enter the new e-mail address.", "id_password": ENTER_CURRENT},
        ),
        ("alice.new@example.test", "not it", {"id_password": WRONG_CURRENT}),
        ("alice.new@example.test", "", {"id_password": ENTER_CURRENT}),
        (
            "not an address",
            factories.PASSWORD,
            {"id_email": "Enter an e-mail address like name@example.com."},
        ),
        (
            "Alice@EXAMPLE.test",
            factories.PASSWORD,
            {"id_email": "That is already your e-mail address: enter the new one."},
        ),
        (
            "a" * 250 + "@example.test",
            factories.PASSWORD,
            {"id_email": "An e-mail address is at most 254 characters: check the new address."},
        ),
        ("alice.new@example.test", OVER_THE_LIMIT, {"id_password": TOO_LONG}),
    ],
    ids=[
        "empty",
        "wrong-password",
        "no-password",
        "invalid",
        "same",
        "too-long",
        "password-too-long",
    ],
)
def test_a_refused_email_change_names_marks_and_focuses_the_wrong_field(
    client: Client, buyer: User, address: str, password: str, wrong: dict[str, str]
) -> None:
    """The page said "Check the fields below." for an empty field, and a wrong password or
    address was said above the form with no field marked. Each error now names its field,
    which it describes and which has the focus. Nothing is sent, the address stays."""
    client.force_login(buyer)

    response = client.post("/account/email-address/", {"email": address, "password": password})

    page = page_text(response)
    assert response.status_code == 400
    assert form_alert(page) == " ".join(wrong.values())
    assert_wrong_fields(page, ["id_email", "id_password"], wrong)
    assert not Email.objects.exists()
    buyer.refresh_from_db()
    assert buyer.email == "alice@example.test"


def test_signing_out_is_a_post_and_ends_the_session(client: Client, buyer: User) -> None:
    client.force_login(buyer)

    refused = client.get("/accounts/logout/")
    response = client.post("/accounts/logout/")

    assert refused.status_code == 405
    assert (response.status_code, response.url) == (302, "/accounts/login/")  # type: ignore[attr-defined]
    assert client.get("/message-center/").url == sign_in_url("/message-center/")  # type: ignore[attr-defined]


def test_the_header_shows_the_new_messages_badge_and_your_orders_for_a_buyer(
    client: Client, buyer: User
) -> None:
    for subject in ("Shipped", "Delivered"):
        actions.send_marketplace_message(
            buyer, kind=Kind.ORDER_UPDATES, subject=subject, body=f"Your order: {subject}."
        )
    client.force_login(buyer)

    text = page_text(client.get("/account/"))

    # News since the Message Center was last opened (it has not been yet).
    assert f'{HEADER_BADGE}2<span class="visually-hidden"> new</span></span>' in text
    assert '<a href="/orders/">Your Orders</a>' in text
    assert '<form method="post" action="/accounts/logout/" class="inline-form">' in text


def test_the_header_has_no_badge_when_everything_is_read_and_no_orders_for_a_seller(
    client: Client, seller: User
) -> None:
    client.force_login(seller)

    text = page_text(client.get("/account/"))

    assert HEADER_BADGE not in text
    assert 'href="/orders/"' not in text


def test_your_account_leads_to_the_message_center_and_your_orders(
    client: Client, buyer: User
) -> None:
    client.force_login(buyer)

    response = client.get("/account/")

    text = page_text(response)
    assert response.status_code == 200
    assert '<a href="/account/" aria-current="page">Your Account</a>' in text
    assert '<span class="tile__title">Your Orders</span>' in text
    assert '<span class="tile__title">Message Center' in text
    assert 'href="/message-center/customer-service/"' in text


def test_a_sellers_account_lists_their_products(
    client: Client, seller: User, product: Product
) -> None:
    client.force_login(seller)

    text = page_text(client.get("/account/"))

    assert "Your storefront: Acme Kitchen" in text
    assert f'<a href="/products/{product.sku}/">Espresso machine</a>' in text


def test_your_account_needs_signing_in(client: Client) -> None:
    response = client.get("/account/")

    assert (response.status_code, response.url) == (302, sign_in_url("/account/"))  # type: ignore[attr-defined]


def test_a_missing_page_is_a_404_in_the_sites_layout(client: Client, buyer: User) -> None:
    client.force_login(buyer)

    response = client.get("/no-such-page/")

    assert response.status_code == 404
    assert "We can’t find that page" in page_text(response)
    assert '<a href="/account/">Your Account</a>' in page_text(response)


def test_the_stylesheet_and_script_ship_with_the_app() -> None:
    assert finders.find("web/site.css") is not None
    assert finders.find("web/site.js") is not None


def test_favicon_ico_is_the_sites_icon_without_a_404(
    client: Client, caplog: pytest.LogCaptureFixture
) -> None:
    """The admin's pages name no icon, so browsers asked for /favicon.ico on each of them
    and every one logged "Not Found: /favicon.ico". It leads to the icon the site's own
    pages name, for signed-in staff on the admin and for anyone else."""
    staff = factories.UserFactory(username="operator", is_staff=True, is_superuser=True)
    site_page = page_text(client.get("/accounts/login/"))
    icon = '<link rel="icon" href="/static/web/favicon.svg" type="image/svg+xml">'
    answers = []

    with caplog.at_level(logging.WARNING, logger="django.request"):
        answers.append(client.get("/favicon.ico"))
        client.force_login(staff)
        assert client.get("/admin/").status_code == 200
        answers.append(client.get("/favicon.ico"))
        answers.append(client.head("/favicon.ico"))

    assert icon in site_page
    assert [(a.status_code, a.get("Location")) for a in answers] == [
        (302, "/static/web/favicon.svg")
    ] * 3
    assert "max-age=86400" in answers[0]["Cache-Control"]
    assert finders.find("web/favicon.svg") is not None
    assert [record.getMessage() for record in caplog.records] == []


def test_favicon_ico_is_cached_for_a_signed_in_person_too(client: Client, buyer: User) -> None:
    """Signed in, /favicon.ico's answer carried the private pages' "no-store": the browser
    asked again on every admin page. It is the same for everyone, nothing of the person's,
    so it keeps its own public day-long caching."""
    client.force_login(buyer)

    answer = client.get("/favicon.ico")

    assert (answer.status_code, answer["Location"]) == (302, "/static/web/favicon.svg")
    directives = {directive.strip() for directive in answer["Cache-Control"].split(",")}
    assert directives == {"public", "max-age=86400"}
    assert "Expires" not in answer
    # Every other answer to a signed-in person is still never cached.
    assert "no-store" in client.get("/message-center/")["Cache-Control"]
