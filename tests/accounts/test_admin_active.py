"""The admin's "active" box (docs/accounts.md#a-suspended-account): unticking it suspends
the account and ticking it again lifts the suspension, with the steps customer service's
decisions take (safety.actions.suspend, reinstate). It used to change the flag alone: a
buyer's questions set aside never came back to their sellers' Response needed, and a
seller's old deadline, passed meanwhile, came back and was escalated at once."""

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import ApiToken, Role, User
from messagecenter.conversations import actions, queries
from messagecenter.conversations.models import Message, Participant
from messagecenter.privacy.erasure import erase_person
from messagecenter.realtime.models import UserEvent
from tests import factories
from tests.test_admin import change_form_data

pytestmark = pytest.mark.django_db


@pytest.fixture
def operator() -> User:
    user: User = factories.UserFactory(
        username="opsadmin", role=Role.ADMIN, is_staff=True, is_superuser=True
    )
    return user


@pytest.fixture
def staff_client(client: Client, operator: User) -> Client:
    client.force_login(operator)
    return client


def set_active(client: Client, person: User, active: bool) -> None:
    """The person's change page posted back as it is, but for the "active" box."""
    url = reverse("admin:accounts_user_change", args=[person.pk])
    data: dict[str, Any] = change_form_data(client.get(url))
    data.pop("is_active", None)
    if active:
        data["is_active"] = "on"
    answer = client.post(url, data)
    assert answer.status_code == 302, answer.context["adminform"].form.errors
    person.refresh_from_db()
    assert person.is_active is active


def wait_of(seller: User, message: Message) -> Participant:
    return Participant.objects.get(conversation_id=message.conversation_id, user=seller)


def response_needed(seller: User) -> list[int]:
    return [p.conversation_id for p in queries.response_needed_page(seller).participants]


def test_a_buyer_made_inactive_and_active_again_is_suspended_and_reinstated(
    staff_client: Client, buyer: User, seller: User, asked: Message
) -> None:
    set_active(staff_client, buyer, False)

    waiting = wait_of(seller, asked)
    assert (waiting.response_due_at, waiting.is_response_overdue) == (None, False)
    assert waiting.awaiting_response_since is not None
    set_aside = UserEvent.objects.filter(user=seller).latest("sequence")
    assert set_aside.kind == "conversation.no_response_needed"
    assert set_aside.payload["buyer_closed"] is True

    before_lifting = timezone.now()
    set_active(staff_client, buyer, True)

    waiting = wait_of(seller, asked)
    assert waiting.awaiting_response_since is not None
    assert waiting.awaiting_response_since >= before_lifting
    assert waiting.response_due_at is not None
    assert waiting.response_due_at > before_lifting + timedelta(days=1)
    assert response_needed(seller) == [asked.conversation_id]
    back = UserEvent.objects.filter(user=seller).latest("sequence")
    assert back.kind == "conversation.response_needed"
    assert back.payload["buyer_reinstated"] is True


def test_a_seller_made_active_again_gets_a_deadline_from_that_moment(
    staff_client: Client, buyer: User, seller: User, asked: Message
) -> None:
    """Five days inactive: the old deadline passed meanwhile, and kept, the sweep would
    have told buyer and seller the answer was late the minute the account was back."""
    set_active(staff_client, seller, False)
    Participant.objects.filter(pk=wait_of(seller, asked).pk).update(
        awaiting_response_since=F("awaiting_response_since") - timedelta(days=5)
    )
    before_lifting = timezone.now()

    set_active(staff_client, seller, True)

    waiting = wait_of(seller, asked)
    assert waiting.awaiting_response_since is not None
    assert waiting.awaiting_response_since >= before_lifting
    assert waiting.response_due_at is not None
    assert waiting.response_due_at > before_lifting + timedelta(days=1)
    assert actions.pass_response_deadlines(now=timezone.now()) == 0
    assert Message.objects.filter(conversation_id=asked.conversation_id).count() == 1


def test_an_erased_account_cannot_be_made_active_again(
    staff_client: Client, operator: User, buyer: User, seller: User, asked: Message
) -> None:
    """An erasure is for good: ticking "active" on what is left of the account would put
    the erased person's question back in the seller's Response needed, as a buyer who can
    be written to. The form says why and changes nothing."""
    erase_person(operator, buyer)
    url = reverse("admin:accounts_user_change", args=[buyer.pk])
    data = change_form_data(staff_client.get(url))

    refused = staff_client.post(url, {**data, "is_active": "on"})

    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert list(errors) == ["is_active"]
    assert "erased at its owner's request" in errors["is_active"][0]
    buyer.refresh_from_db()
    assert buyer.is_active is False
    assert wait_of(seller, asked).response_due_at is None
    assert response_needed(seller) == []


def test_a_change_that_leaves_active_alone_takes_no_step(
    staff_client: Client, buyer: User, seller: User, asked: Message
) -> None:
    """Another field changed (the display name): nobody is signed out, no wait moves."""
    account_actions.create_api_token(buyer, "Alice's phone")
    due = wait_of(seller, asked).response_due_at
    url = reverse("admin:accounts_user_change", args=[buyer.pk])
    data = change_form_data(staff_client.get(url))

    assert staff_client.post(url, {**data, "display_name": "Alice B."}).status_code == 302

    assert wait_of(seller, asked).response_due_at == due
    assert ApiToken.objects.get(user=buyer).revoked_at is None
