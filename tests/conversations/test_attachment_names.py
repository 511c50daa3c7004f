"""An attachment is named for the type found in its content, on disk and when served:
polyglots keep their content but lose the name that would make them run."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Attachment, Message, filename_for_type
from messagecenter.marketplace.models import Product
from tests.api.helpers import with_token
from tests.web.helpers import image_bytes, picture_png

pytestmark = pytest.mark.django_db

# A GIF with a script after its end (stored without it: docs/safety.md#attachments).
GIF_SCRIPT = image_bytes("GIF") + b"alert(document.domain)//"
# A PNG with an HTML page after its end.
PNG_PAGE = picture_png(4, 4) + b"<html><script>alert(1)</script></html>"


@pytest.fixture
def question(buyer: User, seller: User, product: Product) -> Message:
    return actions.ask_seller_about_product(buyer, product.pk, "Is it loud?")


@pytest.mark.parametrize(
    ("name", "content", "shown", "extension"),
    [
        ("lib.js", GIF_SCRIPT, "lib.gif", ".gif"),
        ("photo.html", PNG_PAGE, "photo.png", ".png"),
        ("README", PNG_PAGE, "README.png", ".png"),
        ("holiday.JPEG.png", PNG_PAGE, "holiday.JPEG.png", ".png"),
    ],
)
def test_an_attachment_is_stored_and_served_with_the_extension_of_its_content(
    buyer: User, question: Message, name: str, content: bytes, shown: str, extension: str
) -> None:
    device = with_token(buyer)

    sent = device.post_form(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Here", "attachments": [SimpleUploadedFile(name, content)]},
    )

    assert sent.status_code == 201, sent.content
    [listed] = sent.json()["attachments"]
    assert listed["filename"] == shown
    stored = Attachment.objects.get(pk=listed["id"])
    assert (stored.filename, stored.file.name.endswith(extension)) == (shown, True)
    download = device.get(f"/attachments/{stored.pk}")
    assert download["Content-Disposition"] == f'attachment; filename="{shown}"'


def test_a_row_stored_with_the_uploaders_name_is_served_with_its_types(
    buyer: User, question: Message
) -> None:
    message = actions.send_message(
        buyer,
        question.conversation_id,
        "Here",
        attachments=[SimpleUploadedFile("x.gif", GIF_SCRIPT)],
    )
    attachment = message.attachments.get()
    Attachment.objects.filter(pk=attachment.pk).update(filename="lib.js")

    download = with_token(buyer).get(f"/attachments/{attachment.pk}")

    assert download["Content-Disposition"] == 'attachment; filename="lib.gif"'


def test_a_long_name_keeps_its_new_extension_within_255_characters() -> None:
    named = filename_for_type("a" * 260 + ".exe", "application/pdf")

    assert (len(named), named[-4:]) == (255, ".pdf")
