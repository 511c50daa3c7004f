"""The two refusals Django answers itself, as pages of the site (web/errors.py): a page that
takes only a form's POST opened as an address (405), and a form sent with a missing or
stale CSRF token (403). The JSON API answers both as it always has."""

import re
from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client
from django.urls import URLPattern, URLResolver, get_resolver

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.marketplace.models import Product
from tests.api.helpers import CSRF_TOKEN, error_of, with_session
from tests.conversations.helpers import snapshot

pytestmark = pytest.mark.django_db

# Each one only a button on a page sends to.
BUTTON_ADDRESSES = [
    "/accounts/logout/",
    "/account/security/sign-out-everywhere/",
    "/account/security/tokens/{token}/revoke/",
    "/message-center/actions/",
]


def page_text(response: Any) -> str:
    return str(response.content.decode())


def signed_in(user: User, *, enforce_csrf_checks: bool = False) -> Client:
    browser = Client(enforce_csrf_checks=enforce_csrf_checks)
    browser.force_login(user)
    return browser


@pytest.mark.parametrize("address", BUTTON_ADDRESSES)
def test_opening_a_buttons_address_says_what_it_is_and_leads_back(
    buyer: User, address: str
) -> None:
    token, _ = account_actions.create_api_token(buyer, "Phone")
    browser = signed_in(buyer)

    response = browser.get(
        address.format(token=token.pk), headers={"Referer": "http://testserver/account/"}
    )

    assert response.status_code == 405
    assert "POST" in response["Allow"].split(", ")
    assert "GET" not in response["Allow"]
    text = page_text(response)
    assert "This address is used by a button on a page" in text
    assert '<a class="button button--primary" href="http://testserver/account/">Go back</a>' in text
    # In the site's layout, for the signed-in person.
    assert '<a href="/account/">Your Account</a>' in text
    # Nothing was done: still signed in, the token still works.
    assert browser.get("/account/").status_code == 200
    token.refresh_from_db()
    assert token.revoked_at is None


@pytest.mark.parametrize(
    "referer",
    [None, "https://elsewhere.example/phish", "http://testserver/accounts/logout/"],
)
def test_the_way_back_is_the_message_center_unless_the_person_came_from_a_page_of_ours(
    buyer: User, referer: str | None
) -> None:
    headers = {"Referer": referer} if referer else {}

    response = signed_in(buyer).get("/accounts/logout/", headers=headers)

    assert response.status_code == 405
    assert '<a class="button button--primary" href="/">Go back</a>' in page_text(response)


def test_a_form_with_a_stale_csrf_token_says_to_reload_and_try_again(
    buyer: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Is it new?")
    browser = signed_in(buyer, enforce_csrf_checks=True)
    page = f"http://testserver/message-center/conversations/{question.conversation_id}/"
    browser.get(page)  # the form's page: the browser has its CSRF cookie
    before = snapshot()

    response = browser.post(
        page,
        {"body": "Forged or stale", "csrfmiddlewaretoken": "x" * 32},
        headers={"Referer": page},
    )

    assert response.status_code == 403
    text = page_text(response)
    assert "That form had expired" in text
    assert "Go back, reload the page and try again." in text
    assert f'<a class="button button--primary" href="{page}">Go back</a>' in text
    assert '<a href="/account/">Your Account</a>' in text
    assert "DEBUG=True" not in text
    assert snapshot() == before


def test_signing_in_from_a_sign_in_page_left_open_too_long_says_the_same() -> None:
    browser = Client(enforce_csrf_checks=True)

    response = browser.post("/accounts/login/", {"username": "buyer", "password": "x"})

    assert response.status_code == 403
    assert "That form had expired" in page_text(response)
    assert "DEBUG=True" not in page_text(response)


def test_the_api_answers_a_wrong_method_and_a_missing_csrf_token_as_before(
    buyer: User,
) -> None:
    caller = with_session(buyer, csrf=False)

    wrong_method = caller.call("put", "/tokens")
    forged = caller.post("/tokens", {"name": "Phone"})

    assert wrong_method.status_code == 405
    assert "This address is used by a button" not in page_text(wrong_method)
    assert error_of(forged) == (403, "csrf_failed")
    # /api/v1/ itself is no operation of the API: Django's own answer, as before.
    index = Client(enforce_csrf_checks=True)
    index.force_login(buyer)
    index.cookies["csrftoken"] = CSRF_TOKEN
    refused = index.post("/api/v1/")
    assert refused.status_code == 403
    assert "That form had expired" not in page_text(refused)


def _site_addresses(patterns: list[Any] | None = None, prefix: str = "") -> Iterator[str]:
    """Every page address of the site (not the API's, not Django's admin), with 1 for each
    of its parameters."""
    for entry in get_resolver().url_patterns if patterns is None else patterns:
        route = prefix + str(entry.pattern)
        if route.startswith(("api/", "^api/", "admin/")):
            continue
        if isinstance(entry, URLResolver):
            yield from _site_addresses(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield "/" + re.sub(r"<[^>]+>", "1", route)


def test_a_wrong_method_lists_the_allowed_ones_in_alphabetical_order(buyer: User) -> None:
    """The site's pages answer a wrong method with the methods in one order, whatever
    view refused it: the sign-in page (a class-based view) listed "GET, POST, HEAD,
    OPTIONS", the other pages the order their decorator was given. It takes the methods
    every form page takes now: Django's LoginView also took PUT, as a POST."""
    allowed = {}
    # The sign-in page is for someone signed out; the others answer the signed-in.
    for browser in (Client(), signed_in(buyer)):
        for address in _site_addresses():
            response = browser.generic("TRACE", address)
            if response.status_code == 405:
                allowed[address] = response["Allow"]

    assert allowed["/accounts/login/"] == "GET, HEAD, POST"
    assert {
        address: ", ".join(sorted(value.split(", "))) for address, value in allowed.items()
    } == (allowed)
    assert len(allowed) > 40
