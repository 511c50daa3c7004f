"""What a report hides is hidden everywhere (docs/safety.md#reports): the attachments of a
message one reported, or customer service removed, cannot be downloaded by those who no
longer see the message, and a reported last message is not previewed in the reporter's
list rows (page and API)."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Attachment, Message
from messagecenter.marketplace.models import Product
from messagecenter.support import report_actions
from messagecenter.support.models import Report
from tests import factories
from tests.api.helpers import with_token
from tests.web.helpers import pdf_bytes

pytestmark = pytest.mark.django_db

SCAM = "Pay for your order again here: https://rnarketplace-pay.example/invoice — urgent."


@pytest.fixture
def scam(buyer: User, seller: User, product: Product) -> Message:
    order = factories.order_with_item(buyer, product)
    return actions.contact_buyer_about_order(
        seller,
        order.pk,
        SCAM,
        attachments=[SimpleUploadedFile("invoice.pdf", pdf_bytes("Pay now"))],
    )


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def downloads(user: User, attachment: Attachment) -> tuple[int, int]:
    """The status of the attachment's download on the page and in the API."""
    page = signed_in(user).get(reverse("attachment", args=[attachment.pk]))
    api = with_token(user).get(f"/attachments/{attachment.pk}")
    return page.status_code, api.status_code


def test_the_attachment_of_a_reported_message_is_gone_for_its_reporter_only(
    buyer: User, seller: User, scam: Message
) -> None:
    attachment = Attachment.objects.get(message=scam)
    assert downloads(buyer, attachment) == (200, 200)

    report_actions.report_message(buyer, scam.pk, "scam")

    assert downloads(buyer, attachment) == (404, 404)
    assert downloads(seller, attachment) == (200, 200)


def test_the_attachment_of_a_removed_message_is_gone_for_all_but_its_sender(
    buyer: User, seller: User, scam: Message
) -> None:
    attachment = Attachment.objects.get(message=scam)
    assert downloads(buyer, attachment) == (200, 200)

    # What confirming a report does to the reported messages (decide_report).
    Message.objects.filter(pk=scam.pk).update(removed_at=timezone.now())

    assert downloads(buyer, attachment) == (404, 404)
    assert downloads(seller, attachment) == (200, 200)


def test_a_confirmed_report_leaves_the_attachment_to_its_sender_only(
    buyer: User, seller: User, scam: Message
) -> None:
    agent = factories.agent_in_team("trust-and-safety", username="tess")
    attachment = Attachment.objects.get(message=scam)
    report_actions.report_message(buyer, scam.pk, "scam")
    report = Report.objects.get()

    report_actions.decide_report(agent, report.pk, "confirmed", "restricted")

    assert Message.objects.get(pk=scam.pk).removed_at is not None
    assert downloads(buyer, attachment) == (404, 404)
    assert downloads(seller, attachment) == (200, 200)


def test_a_reported_last_message_is_not_previewed_in_the_reporters_list(
    buyer: User, seller: User, scam: Message
) -> None:
    listing = signed_in(buyer).get(reverse("message-center")).content.decode()
    assert "rnarketplace-pay" in listing

    report_actions.report_message(buyer, scam.pk, "scam")

    listing = signed_in(buyer).get(reverse("message-center")).content.decode()
    assert "rnarketplace-pay" not in listing
    assert "Message hidden: you reported it" in listing
    assert 'data-testid="safety-chip"' not in listing
    device = with_token(buyer)
    [row] = device.get("/conversations").json()["items"]
    assert row["last_message"]["preview"] == "Message hidden: you reported it"
    detail = device.get(f"/conversations/{scam.conversation_id}").json()
    assert detail["last_message"]["preview"] == "Message hidden: you reported it"
    # The sender's list still shows their own message.
    assert "rnarketplace-pay" in signed_in(seller).get(reverse("message-center")).content.decode()
    [own] = with_token(seller).get("/conversations").json()["items"]
    assert own["last_message"]["preview"] == SCAM


def test_a_removed_last_message_is_not_previewed_in_the_api_either(
    buyer: User, seller: User, scam: Message
) -> None:
    Message.objects.filter(pk=scam.pk).update(removed_at=timezone.now())

    [row] = with_token(buyer).get("/conversations").json()["items"]

    assert row["last_message"]["preview"] == "Message removed by customer service"
    [own] = with_token(seller).get("/conversations").json()["items"]
    assert own["last_message"]["preview"] == SCAM
