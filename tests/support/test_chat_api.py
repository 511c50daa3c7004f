"""Live chat through the JSON API (docs/support.md, "Live chat"; docs/api.md): a customer
asks whether an agent is available and starts a chat; a support app switches its agent's
availability, which is also its presence."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Participant
from messagecenter.support.models import Case, ChatAvailability
from tests import factories
from tests.api.helpers import error_of, with_token

pytestmark = pytest.mark.django_db


def test_an_app_switches_its_agent_available_and_a_buyer_chats_with_them(buyer: User) -> None:
    agent = factories.agent_in_team(first_name="Priya")
    app, alice = with_token(agent), with_token(buyer)
    assert alice.get("/customer-service/chat").json()["agent_available"] is False
    assert app.get("/agent/chat-availability").json() == {
        "is_available": False,
        "seen_at": None,
        "takes_chats": False,
    }

    switched = app.post("/agent/chat-availability", {"available": True})
    availability = alice.get("/customer-service/chat").json()
    started = alice.post(
        "/customer-service/chat",
        {"body": "Is my parcel lost?"},
        headers={"Idempotency-Key": "chat-1"},
    )
    again = alice.post(
        "/customer-service/chat",
        {"body": "Is my parcel lost?"},
        headers={"Idempotency-Key": "chat-1"},
    )

    assert switched.status_code == 200, switched.content
    assert (switched.json()["is_available"], switched.json()["takes_chats"]) == (True, True)
    assert availability["agent_available"] is True
    assert started.status_code == 201, started.content
    chat = started.json()
    assert chat["with_agent"] is True
    # A live chat promises no time (docs/support.md, "Live chat").
    assert chat["case"]["respond_by"] is None
    assert (chat["case"]["status_label"], chat["case"]["subject"]) == (
        "An agent is on it",
        "Chat: Is my parcel lost?",
    )
    case = Case.objects.get()
    assert case.assignee_id == agent.pk
    assert Participant.objects.filter(conversation_id=case.conversation_id, user=agent).exists()
    assert (again.status_code, again.json()["case"]["id"]) == (200, case.pk)
    assert Case.objects.count() == 1


def test_with_nobody_available_the_chat_becomes_a_request(buyer: User) -> None:
    agent = factories.agent_in_team()
    with_token(agent).post("/agent/chat-availability", {"available": True})
    # The app stopped calling: its agent is no longer seen.
    ChatAvailability.objects.update(seen_at=timezone.now() - timedelta(minutes=6))
    alice = with_token(buyer)

    availability = alice.get("/customer-service/chat").json()
    started = alice.post("/customer-service/chat", {"body": "Hello?"})

    assert availability["agent_available"] is False
    assert availability["expected_response_seconds"] == 24 * 3600
    assert started.status_code == 201, started.content
    assert started.json()["with_agent"] is False
    assert started.json()["case"]["status_label"] == "Waiting for an agent"
    assert started.json()["case"]["respond_by"] is not None
    assert Case.objects.get().assignee_id is None


def test_wrong_people_and_wrong_input_are_refused_and_change_nothing(
    buyer: User, other_buyer: User
) -> None:
    agent = factories.agent_in_team()
    admin = factories.UserFactory(role="admin", is_staff=True)

    as_agent = with_token(agent).post("/customer-service/chat", {"body": "Hi"})
    agent_asks = with_token(agent).get("/customer-service/chat")
    buyer_switches = with_token(buyer).post("/agent/chat-availability", {"available": True})
    admin_switches = with_token(admin).post("/agent/chat-availability", {"available": True})
    empty = with_token(buyer).post("/customer-service/chat", {"body": "   "})
    not_hers = with_token(buyer).post(
        "/customer-service/chat",
        {
            "body": "About this order",
            "order_number": factories.order_with_item(
                other_buyer, factories.ProductFactory()
            ).number,
        },
    )

    assert error_of(as_agent) == (403, "customers_only")
    assert error_of(agent_asks) == (403, "customers_only")
    assert error_of(buyer_switches) == (403, "agents_only")
    assert error_of(admin_switches) == (403, "agents_only")
    assert empty.status_code == 400
    assert not_hers.status_code == 404
    assert not Case.objects.exists()
    assert not ChatAvailability.objects.exists()
