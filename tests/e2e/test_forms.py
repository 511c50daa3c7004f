"""Forms as a person fills them in: a file over the limit is refused in the browser before
anything is uploaded, with the error on the file field."""

import pytest
from django.conf import settings
from playwright.sync_api import Page, expect
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
    live_server: LiveServer, page: Page, buyer: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Does it come with a tamper?")
    too_large = picture_png() + b"\x00" * settings.ATTACHMENT_MAX_BYTES
    sign_in(page, live_server, "alice", factories.PASSWORD)
    page.goto(f"{live_server.url}/message-center/conversations/{question.conversation_id}/")
    uploads: list[str] = []
    page.on(
        "request", lambda request: uploads.append(request.url) if request.method == "POST" else None
    )

    page.get_by_label("Your message").fill("Here is the photo.")
    files = page.get_by_label("Attach files")
    files.set_input_files([{"name": "huge.png", "mimeType": "image/png", "buffer": too_large}])
    page.get_by_role("button", name="Send").click()

    expect(files).to_have_attribute("aria-invalid", "true")
    expect(files).to_have_accessible_description(
        "huge.png is larger than 10 MB. Up to 5 files, 10.0 MB each: JPEG, PNG, GIF or WebP "
        "images, or PDF documents."
    )
    assert uploads == []
    assert Message.objects.filter(conversation_id=question.conversation_id).count() == 1

    files.set_input_files([{"name": "small.png", "mimeType": "image/png", "buffer": picture_png()}])
    expect(files).not_to_have_attribute("aria-invalid", "true")
    page.get_by_role("button", name="Send").click()
    expect(page.get_by_role("img", name="small.png")).to_be_visible()
