import pytest
from django.test import Client
from django.urls import reverse

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Kind
from messagecenter.delivery.models import Email, EmailStatus
from tests import factories

pytestmark = pytest.mark.django_db


def test_staff_see_each_email_and_can_send_a_failed_one_again(buyer: User) -> None:
    conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001 shipped", body="Shipped."
    )
    email = Email.objects.get()
    Email.objects.filter(pk=email.pk).update(
        status=EmailStatus.FAILED, attempts=8, last_error="451 Try later"
    )
    staff = Client()
    staff.force_login(factories.UserFactory(role=Role.ADMIN, is_staff=True, is_superuser=True))

    listing = staff.get(reverse("admin:delivery_email_changelist"), {"status__exact": "failed"})
    assert "Order 1001 shipped" in listing.content.decode()
    detail = staff.get(reverse("admin:delivery_email_change", args=[email.pk]))
    assert "451 Try later" in detail.content.decode()

    staff.post(
        reverse("admin:delivery_email_changelist"),
        {"action": "retry_now", "_selected_action": [email.pk]},
    )

    email.refresh_from_db()
    assert (email.status, email.attempts, email.claimed_until) == (EmailStatus.QUEUED, 0, None)
