"""An attachment is named for the type found in its content, on disk and when served:
polyglots keep their content but lose the name that would make them run."""

import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Attachment, Message, filename_for_type
from messagecenter.errors import InvalidInput
from messagecenter.marketplace.models import Product
from messagecenter.support import actions as support_actions
from messagecenter.support.models import Case
from tests import factories
from tests.api.helpers import with_token
from tests.factories import signed_in
from tests.web.helpers import image_bytes, pdf, picture_png

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


# An override reverses what follows it: "invoice\u202efdp.exe" shows as "invoiceexe.pdf".
DISGUISED = "invoice\u202efdp.exe"
CONTROLS = re.compile("[\u202a-\u202e\u2066-\u2069]")


def served_names(case: Case, owner: User, agent: User) -> list[str]:
    """Every name the attachments of a case's first message are served under: the
    customer's API and download, the conversation's page, the agents' API and download,
    the console's page."""
    attachment = Attachment.objects.get(message__conversation_id=case.conversation_id)
    device, console = with_token(owner), with_token(agent)
    [listed] = [
        each
        for each in device.get(f"/conversations/{case.conversation_id}/messages").json()["items"]
        if each["attachments"]
    ]
    [for_agents] = [
        each
        for each in console.get(f"/agent/cases/{case.pk}").json()["messages"]
        if each["attachments"]
    ]
    page = signed_in(owner).get(reverse("conversation", args=[case.conversation_id]))
    console_page = signed_in(agent).get(reverse("console-case", args=[case.pk]))
    return [
        *(each["filename"] for each in listed["attachments"]),
        *(each["filename"] for each in for_agents["attachments"]),
        device.get(f"/attachments/{attachment.pk}")["Content-Disposition"],
        console.get(f"/agent/cases/{case.pk}/attachments/{attachment.pk}")["Content-Disposition"],
        *re.findall(r"</svg>([^<]*)</a>", page.content.decode()),
        *re.findall(r"</svg>([^<]*)</a>", console_page.content.decode()),
    ]


def test_an_uploaded_name_is_stored_and_served_without_bidirectional_controls(
    buyer: User,
) -> None:
    """An override in a file's name disguised it wherever the name was listed or saved:
    "invoice\u202efdp.exe" reads "invoiceexe.pdf". The name is stored without the
    embeddings, overrides and isolates (as the pages and transcripts show text)."""
    agent = factories.agent_in_team()
    case = support_actions.open_request(
        buyer, "Refund", "Here is the invoice.", attachments=[pdf(DISGUISED)]
    )

    assert Attachment.objects.get().filename == "invoicefdp.pdf"
    names = served_names(case, buyer, agent)
    assert names == [
        "invoicefdp.pdf",
        "invoicefdp.pdf",
        'attachment; filename="invoicefdp.pdf"',
        'attachment; filename="invoicefdp.pdf"',
        "invoicefdp.pdf",
        "invoicefdp.pdf",
    ]


def test_a_name_stored_with_an_override_before_is_served_without_it(buyer: User) -> None:
    agent = factories.agent_in_team()
    case = support_actions.open_request(
        buyer, "Refund", "Here is the invoice.", attachments=[pdf("invoice.pdf")]
    )
    Attachment.objects.update(filename="invoice\u202efdp.pdf")

    names = served_names(case, buyer, agent)

    assert len(names) == 6
    assert [name for name in names if CONTROLS.search(name)] == []
    assert names[0] == "invoicefdp.pdf"


def test_an_uploaded_name_of_controls_alone_is_named_attachment(
    buyer: User, question: Message
) -> None:
    message = actions.send_message(
        buyer, question.conversation_id, "Here", attachments=[pdf("\u202e\u2066")]
    )

    assert message.attachments.get().filename == "attachment.pdf"


# An override and a control character, as an app or a caller of the action may send them.
SPOOFED_UPLOAD = "invoice\u202egpj.exe\x07.png"


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (b"<script>alert(1)</script>", "is not an image (JPEG, PNG, GIF, WebP) or a PDF."),
        (b"", "is empty."),
        (picture_png(4, 4) + b"\x00" * (10 * 2**20), "is larger than 10 MB."),
        # The safety checks' refusal (a damaged image) names it too.
        (picture_png(4, 4)[:40], "could not be read as an image; it may be damaged."),
    ],
)
def test_a_refused_upload_is_named_as_it_would_be_stored(
    buyer: User, question: Message, content: bytes, said: str
) -> None:
    """The refusal repeated the name as given, override and all: "invoice\u202egpj.exe.png
    is not an image" reads "invoicegnp.exe.jpg is not an image" wherever it is shown."""
    with pytest.raises(InvalidInput) as refused:
        actions.send_message(
            buyer,
            question.conversation_id,
            "Here",
            attachments=[SimpleUploadedFile(SPOOFED_UPLOAD, content)],
        )

    assert str(refused.value) == f"invoicegpj.exe.png {said}"
    assert not Attachment.objects.exists()


def test_an_uploaded_name_is_stored_without_control_characters(
    buyer: User, question: Message
) -> None:
    message = actions.send_message(
        buyer,
        question.conversation_id,
        "Here",
        attachments=[pdf("in\x07voice\x1b[31m.pdf")],
    )

    assert message.attachments.get().filename == "invoice[31m.pdf"
