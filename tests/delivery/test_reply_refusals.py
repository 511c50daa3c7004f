"""What a reply by e-mail becomes when there is nothing to post, or nowhere to post it:
refused, with the sentence the person reads on their Replies by e-mail page, and nothing
posted (delivery/inbound/actions.receive_email; docs/email.md#reply-by-e-mail)."""

import pytest
from django.test import Client
from django.urls import reverse
from django.utils.html import escape
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.delivery.inbound.actions import ROUTE_SMTP, receive_email
from messagecenter.delivery.models import InboundEmail
from messagecenter.delivery.rendering import reply_address
from messagecenter.marketplace.models import Product
from tests.delivery.replies import QUOTED_HISTORY, reply
from tests.web.helpers import pdf_bytes, picture_png

pytestmark = pytest.mark.django_db

OUTLOOK_QUOTE = (
    "________________________________\n"
    "From: Message Center <no-reply@localhost>\n"
    "Sent: Tuesday, December 1, 2026 10:00 AM\n"
    "To: Acme Kitchen\n"
    "Subject: Question about the lamp\n\n"
    "Does it come in blue?"
)


@pytest.fixture(autouse=True)
def _unchecked_senders(settings: Settings) -> None:
    # SPF/DKIM/DMARC have their own tests (test_inbound_smtp.py): here the content.
    settings.INBOUND_REQUIRE_AUTHENTICATION = False


def seller_answers(buyer: User, seller: User, product: Product, text: str) -> InboundEmail:
    """The buyer asks; the seller replies by e-mail to their relay address."""
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it blue?")
    seat = Participant.objects.get(conversation_id=question.conversation_id, user=seller)
    address = reply_address(seat)
    assert address is not None
    return receive_email(
        reply(sender=seller.email, to=address, text=text),
        route=ROUTE_SMTP,
        recipients=[address],
        envelope_from=seller.email,
    )


def posted_by(person: User) -> list[str]:
    return list(Message.objects.filter(sender=person).order_by("id").values_list("body", flat=True))


@pytest.mark.parametrize(
    "text",
    [
        "Sent from my iPhone",
        "Sent from my iPhone" + QUOTED_HISTORY,
        "\n\nGet Outlook for Android\n\n" + OUTLOOK_QUOTE,
        "Von meinem iPad gesendet",
    ],
)
def test_a_reply_of_nothing_but_a_phones_signature_is_refused_as_empty(
    buyer: User, seller: User, product: Product, text: str
) -> None:
    row = seller_answers(buyer, seller, product, text)

    assert (row.status, row.reason_code) == ("refused", "empty")
    assert row.reason == "We found no new text in this e-mail (only quoted text or a signature)."
    assert posted_by(seller) == []


@pytest.mark.parametrize(
    "text",
    [
        # Right under the text, as Outlook writes it: the line was posted with the reply.
        "Yes, in blue.\n" + OUTLOOK_QUOTE,
        "Yes, in blue.\n" + OUTLOOK_QUOTE.replace("From:", "Von:").replace("Sent:", "Gesendet:"),
        "Yes, in blue.\n\nSent from my iPhone\n" + OUTLOOK_QUOTE,
    ],
)
def test_outlooks_line_of_underscores_goes_with_the_quote_after_it(
    buyer: User, seller: User, product: Product, text: str
) -> None:
    row = seller_answers(buyer, seller, product, text)

    assert row.status == "posted"
    assert posted_by(seller) == ["Yes, in blue."]


def test_a_reply_to_a_conversation_deleted_for_ever_says_so_and_how_to_write_again(
    client: Client, buyer: User, seller: User, product: Product
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it blue?")
    seat = Participant.objects.get(conversation_id=question.conversation_id, user=seller)
    address = reply_address(seat)
    assert address is not None
    conversation_actions.trash_conversations(seller, [question.conversation_id])
    conversation_actions.delete_conversations(seller, [question.conversation_id])

    row = receive_email(
        reply(sender=seller.email, to=address, text="Yes, in blue." + QUOTED_HISTORY),
        route=ROUTE_SMTP,
        recipients=[address],
        envelope_from=seller.email,
    )

    # It said only "No such conversation.".
    assert (row.status, row.reason_code) == ("refused", "conversation_deleted")
    assert "You deleted this conversation for ever from your Message Center" in row.reason
    assert "start a new conversation" in row.reason
    assert posted_by(seller) == []
    # Where the person reads it.
    client.force_login(seller)
    page = client.get(reverse("email-replies")).content.decode()
    assert escape("You deleted this conversation for ever") in page
    [listed] = client.get("/api/v1/email-replies").json()
    assert (listed["reason_code"], listed["reason"]) == ("conversation_deleted", row.reason)


@pytest.mark.parametrize(
    ("text", "posted"),
    [
        # The account's first name signed with a dash: cut as the reply's signature.
        ("Yes, in blue.\n- Anna", "Yes, in blue."),
        ("Yes, in blue.\n\n- Anna Schmidt", "Yes, in blue."),
        # Anything else under a dash is the reply's: "Available sizes" alone was posted.
        ("Available sizes\n- Large", "Available sizes\n- Large"),
        ("Available sizes\n- Large\n\n- Anna", "Available sizes\n- Large"),
    ],
)
def test_a_name_signed_with_a_dash_is_cut_when_it_is_the_account_holders(
    buyer: User, seller: User, product: Product, text: str, posted: str
) -> None:
    seller.first_name, seller.last_name = "Anna", "Schmidt"
    seller.save(update_fields=["first_name", "last_name"])

    row = seller_answers(buyer, seller, product, text)

    assert row.status == "posted"
    assert posted_by(seller) == [posted]


# An override in an attached file's name: "invoice\u202egpj.exe.png" reads
# "invoicegnp.exe.jpg".
SPOOFED_NAME = "invoice\u202egpj.exe.png"


def seller_attaches(
    buyer: User, seller: User, product: Product, files: list[tuple[str, bytes, str]]
) -> InboundEmail:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Is it blue?")
    seat = Participant.objects.get(conversation_id=question.conversation_id, user=seller)
    address = reply_address(seat)
    assert address is not None
    return receive_email(
        reply(sender=seller.email, to=address, text="Yes, see the files.", attachments=files),
        route=ROUTE_SMTP,
        recipients=[address],
        envelope_from=seller.email,
    )


def test_a_file_left_out_is_named_without_bidirectional_controls(
    client: Client, buyer: User, seller: User, product: Product
) -> None:
    """The note on a file left out repeated its name as the e-mail gave it, and the API's
    notes return them as stored: "invoice\u202egpj.exe.png is not an image" read
    "invoicegnp.exe.jpg is not an image"."""
    files = [(SPOOFED_NAME, b"<script>alert(1)</script>", "image/png")]
    files += [
        (f"photo\u2066{number}.pdf", pdf_bytes("Photo"), "application/pdf") for number in range(6)
    ]

    row = seller_attaches(buyer, seller, product, files)

    assert row.status == "posted"
    assert row.notes == (
        "Left out: invoicegpj.exe.png is not an image (JPEG, PNG, GIF, WebP) or a PDF.\n"
        "Left out: photo5.pdf: at most 5 attachments per message."
    )
    client.force_login(seller)
    [listed] = client.get("/api/v1/email-replies").json()
    assert listed["notes"] == row.notes


def test_a_file_the_safety_checks_refuse_is_named_without_bidirectional_controls(
    buyer: User, seller: User, product: Product
) -> None:
    row = seller_attaches(
        buyer, seller, product, [(SPOOFED_NAME, picture_png(4, 4)[:40], "image/png")]
    )

    assert (row.status, row.reason_code) == ("refused", "attachment_unreadable")
    assert row.reason == "invoicegpj.exe.png could not be read as an image; it may be damaged."
