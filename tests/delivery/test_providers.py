"""Providers through django-anymail: sending with anymail's own test backend, and the
bounce and complaint reports its tracking webhooks deliver."""

import pytest
from anymail.signals import AnymailTrackingEvent, tracking
from django.core import mail
from django.utils.html import strip_tags
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Kind
from messagecenter.delivery.models import Email, EmailStatus, Suppression
from messagecenter.delivery.sender import send_due_emails
from messagecenter.notifications.models import Audience
from tests.delivery.helpers import send_broadcast

pytestmark = pytest.mark.django_db


@pytest.fixture
def provider(settings: Settings) -> None:
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    mail.outbox = []


@pytest.mark.usefixtures("provider")
def test_a_promotion_reaches_a_provider_with_its_headers_and_both_parts(buyer: User) -> None:
    send_broadcast(audience=Audience.BUYERS)

    send_due_emails()

    [sent] = mail.outbox
    params = sent.anymail_test_params  # type: ignore[attr-defined]
    assert params["to"][0].addr_spec == buyer.email
    assert params["subject"] == "Autumn sale: 20% off kitchen gear"
    assert params["extra_headers"]["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    assert "Hello Alice Buyer," in params["text_body"]
    assert "Hello Alice Buyer," in strip_tags(params["html_body"])
    email = Email.objects.get()
    # The provider's own id, kept to match its later reports.
    assert (email.status, email.provider_message_id) == (EmailStatus.SENT, "0")


@pytest.mark.usefixtures("provider")
def test_a_provider_bounce_report_suppresses_the_address(buyer: User) -> None:
    conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001", body="Shipped."
    )
    send_due_emails()

    tracking.send(
        sender=object,
        event=AnymailTrackingEvent(
            event_type="bounced", recipient=buyer.email, message_id="0", description="550"
        ),
        esp_name="Postmark",
    )

    assert Email.objects.get().status == EmailStatus.BOUNCED
    assert list(Suppression.objects.values_list("address", "reason")) == [
        (buyer.email, "hard_bounce")
    ]


def test_a_complaint_suppresses_the_address_and_stops_promotions(
    buyer: User, other_buyer: User, settings: Settings
) -> None:
    tracking.send(
        sender=object,
        event=AnymailTrackingEvent(event_type="complained", recipient=buyer.email.upper()),
        esp_name="Amazon SES",
    )
    settings.MAILERS = {"default": {"BACKEND": "anymail.backends.test.EmailBackend"}}
    mail.outbox = []
    send_broadcast(audience=Audience.BUYERS)

    send_due_emails()

    assert [sent.to for sent in mail.outbox] == [[other_buyer.email]]
    assert Suppression.objects.get().reason == "complaint"
    assert Email.objects.get(user=buyer).status == EmailStatus.CANCELLED
