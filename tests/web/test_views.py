"""The site's frame: the front door, signing in and out, the header on every page, Your
Account, and the error pages."""

import logging
import re
from typing import Any

import pytest
from django.contrib.staticfiles import finders
from django.test import Client

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Kind
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
