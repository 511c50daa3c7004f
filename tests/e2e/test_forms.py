"""Forms as a person fills them in: a file over the limit is refused in the browser before
anything is uploaded, with the error on the file field, and so is one the server refuses
after the upload; every text field looks the same; after a wrong password the focus is on
the password field, and on a password change on the first wrong field."""

import re

import pytest
from playwright.sync_api import Page, expect
from pytest_django.fixtures import Settings
from pytest_django.live_server_helper import LiveServer

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message
from messagecenter.marketplace.models import Product
from tests import factories
from tests.e2e.helpers import sign_in
from tests.web.helpers import picture_png

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_file_over_the_limit_is_refused_before_upload_on_the_file_field(
    live_server: LiveServer,
    page: Page,
    buyer: User,
    product: Product,
    settings: Settings,
) -> None:
    # A 1 MB limit rather than the real 10 MB: the page reads it from the settings like any
    # other, and handing Chromium an 11 MB file through Playwright's pipe took over the
    # step's 10 s on a slow CI machine.
    settings.ATTACHMENT_MAX_BYTES = 2**20
    question = actions.ask_seller_about_product(buyer, product.pk, "Does it come with a tamper?")
    too_large = picture_png() + b"\x00" * settings.ATTACHMENT_MAX_BYTES
    sign_in(page, live_server, "alice", factories.PASSWORD)
    page.goto(f"{live_server.url}/message-center/conversations/{question.conversation_id}/")
    uploads: list[str] = []
    # Typing in the box tells the other side (POST …/typing, no body worth counting); any
    # other POST would be the form going up with the file.
    page.on(
        "request",
        lambda request: (
            uploads.append(request.url)
            if request.method == "POST" and not request.url.endswith("/typing")
            else None
        ),
    )

    page.get_by_label("Your message").fill("Here is the photo.")
    files = page.get_by_label("Attach files")
    files.set_input_files([{"name": "huge.png", "mimeType": "image/png", "buffer": too_large}])
    page.get_by_role("button", name="Send").click()

    expect(files).to_have_attribute("aria-invalid", "true")
    expect(files).to_have_accessible_description(
        "huge.png is larger than 1 MB. Up to 5 files, 1.0 MB each: JPEG, PNG, GIF or WebP "
        "images, or PDF documents."
    )
    assert uploads == []
    assert Message.objects.filter(conversation_id=question.conversation_id).count() == 1

    files.set_input_files([{"name": "small.png", "mimeType": "image/png", "buffer": picture_png()}])
    expect(files).not_to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("img", name="small.png")).to_be_visible()


@pytest.mark.parametrize("where", ["conversation", "order"])
def test_a_file_the_server_refuses_shows_its_error_on_the_file_field(
    live_server: LiveServer, page: Page, buyer: User, product: Product, where: str
) -> None:
    if where == "conversation":
        question = actions.ask_seller_about_product(buyer, product.pk, "Is it dishwasher-safe?")
        path = f"/message-center/conversations/{question.conversation_id}/"
        send = "Send"
    else:
        path = f"/orders/{factories.order_with_item(buyer, product).number}/"
        send = "Send to seller"
    refused = "fake.jpg is not an image (JPEG, PNG, GIF, WebP) or a PDF."
    sign_in(page, live_server, "alice", factories.PASSWORD)
    page.goto(live_server.url + path)

    # Within the size limits, so only the server, reading the content, can refuse it.
    page.get_by_label("Your message").fill("see file")
    files = page.get_by_label("Attach files")
    files.set_input_files([{"name": "fake.jpg", "mimeType": "image/jpeg", "buffer": b"see file"}])
    with page.expect_navigation() as answer:
        page.get_by_role("button", name=send).click()

    # The page the server sent back, once its script has run.
    assert answer.value.status == 400
    expect(page.get_by_label("Your message")).to_have_value("see file")
    expect(page.get_by_role("alert").filter(has_text=refused)).to_be_visible()
    expect(files).to_have_attribute("aria-invalid", "true")
    expect(files).to_have_accessible_description(
        f"{refused} Up to 5 files, 10.0 MB each: JPEG, PNG, GIF or WebP images, or PDF documents."
    )

    # Choosing another file is the answer to it: the error goes.
    files.set_input_files([{"name": "small.png", "mimeType": "image/png", "buffer": picture_png()}])
    expect(page.get_by_text(refused)).to_be_hidden()
    expect(files).not_to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name=send).click()
    expect(page.get_by_role("img", name="small.png")).to_be_visible()


STYLE = """element => {
    const style = getComputedStyle(element);
    return [style.borderTopLeftRadius, style.paddingLeft, style.borderTopColor, style.width];
}"""


def test_the_reference_checkers_field_is_styled_like_every_other(
    live_server: LiveServer, page: Page, buyer: User
) -> None:
    page.goto(f"{live_server.url}/accounts/login/")
    username_style = page.get_by_label("Username").evaluate(STYLE)
    sign_in(page, live_server, "alice", factories.PASSWORD)

    page.goto(f"{live_server.url}/message-center/check-email/")
    reference = page.get_by_label("Reference from the e-mail")

    assert (
        reference.evaluate(STYLE)[:3] == username_style[:3] == ["8px", "12px", "rgb(154, 164, 178)"]
    )


def test_after_a_wrong_password_the_focus_is_on_the_password_field(
    live_server: LiveServer, page: Page, buyer: User
) -> None:
    """The focus stayed on the username, filled in already; it goes to the password field,
    marked invalid and described by the error."""
    page.goto(f"{live_server.url}/accounts/login/")
    expect(page.get_by_label("Username")).to_be_focused()
    page.get_by_label("Username").fill("alice")
    page.get_by_label("Password").fill("guess")
    page.get_by_role("button", name="Sign in", exact=True).click()

    password = page.get_by_label("Password")
    expect(password).to_be_focused()
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description(
        "That username and password do not match an account. Check both and try again, or "
        "reset your password."
    )
    expect(page.get_by_label("Username")).to_have_value("alice")
    expect(page.get_by_label("Username")).not_to_have_attribute("aria-invalid", "true")


def test_an_empty_password_puts_the_focus_and_its_error_on_the_password_field(
    live_server: LiveServer, page: Page, buyer: User
) -> None:
    """A form sent without the browser's required check (an old browser, an extension):
    the error names the empty field, which has the focus; the username is not marked."""
    page.goto(f"{live_server.url}/accounts/login/")
    page.get_by_label("Username").fill("alice")
    page.locator("form.stack").evaluate("form => { form.noValidate = true; }")
    page.get_by_role("button", name="Sign in", exact=True).click()

    password = page.get_by_label("Password")
    expect(password).to_be_focused()
    expect(password).to_have_attribute("aria-invalid", "true")
    expect(password).to_have_accessible_description("Enter your password.")
    expect(page.get_by_label("Username")).to_have_value("alice")
    expect(page.get_by_label("Username")).not_to_have_attribute("aria-invalid", "true")


def test_a_refused_new_password_has_the_focus_and_each_broken_rule(
    live_server: LiveServer, page: Page, buyer: User
) -> None:
    """The current password had the focus whatever was wrong, and a new password the rules
    refused was marked on its confirmation. The new password field now has the focus,
    marked invalid and described by the rules and by what broke them."""
    sign_in(page, live_server, "alice", factories.PASSWORD)
    page.goto(f"{live_server.url}/account/password/")
    expect(page.get_by_label("Current password")).to_be_focused()
    page.get_by_label("Current password").fill(factories.PASSWORD)
    page.get_by_label("New password", exact=True).fill("12345678")
    page.get_by_label("New password confirmation").fill("12345678")
    page.get_by_role("button", name="Change password").click()

    new_password = page.get_by_label("New password", exact=True)
    expect(new_password).to_be_focused()
    expect(new_password).to_have_attribute("aria-invalid", "true")
    expect(new_password).to_have_accessible_description(
        re.compile(
            r"at least 8 characters.*Choose another new password: this one does not follow "
            r"the rules\. This password is too common\. This password is entirely numeric\."
        )
    )
    for field in ("Current password", "New password confirmation"):
        expect(page.get_by_label(field)).not_to_have_attribute("aria-invalid", "true")
    buyer.refresh_from_db()
    assert buyer.check_password(factories.PASSWORD)
