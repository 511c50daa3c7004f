"""The customer-service journey through the JSON API (docs/api.md, "Customer service"):
the buyer asks about an order, an agent takes the case, notes it, answers with a canned
response; the buyer sees the answer (never the note), replies, the case opens again,
the agent solves it."""

import pytest
from django.test import TestCase

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message
from messagecenter.marketplace.models import Product
from messagecenter.support.models import Case
from tests import factories
from tests.api.helpers import error_of, with_token

pytestmark = pytest.mark.django_db

NOTE = "tapirnotebook"


def test_the_whole_journey_through_the_api(buyer: User, product: Product) -> None:
    order = factories.order_with_item(buyer, product)
    agent = factories.agent_in_team(first_name="Priya", last_name="Natarajan")
    alice = with_token(buyer)
    priya = with_token(agent)

    opened = alice.post(
        "/customer-service",
        {"subject": "Where is my parcel?", "body": "Still not here.", "order_number": order.number},
        headers={"Idempotency-Key": "ask-1"},
    )
    assert opened.status_code == 201, opened.content
    case = opened.json()
    assert (case["status"], case["status_label"], case["order_number"]) == (
        "open",
        "Waiting for an agent",
        order.number,
    )
    assert case["respond_by"] is not None
    again = alice.post(
        "/customer-service",
        {"subject": "Where is my parcel?", "body": "Still not here.", "order_number": order.number},
        headers={"Idempotency-Key": "ask-1"},
    )
    assert (again.status_code, again.json()["id"]) == (200, case["id"])

    queue = priya.get("/agent/cases?view=unassigned").json()
    assert [item["id"] for item in queue["items"]] == [case["id"]]
    assert priya.get("/agent/queues").json() == {
        "unassigned": 1,
        "mine": 0,
        "team": 1,
        "waiting": 0,
        "solved": 0,
    }

    taken = priya.post(f"/agent/cases/{case['id']}/take")
    assert (taken.status_code, taken.json()["assignee_name"]) == (200, "Priya Natarajan")
    noted = priya.post(f"/agent/cases/{case['id']}/notes", {"body": f"Carrier lost it {NOTE}"})
    assert noted.status_code == 201
    team_id = Case.objects.get(pk=case["id"]).team_id
    canned = priya.post(
        "/agent/canned-responses",
        {"team_id": team_id, "title": "Lost", "body": "Hi {customer_name}, about {order_number}:"},
    )
    assert canned.status_code == 201
    filled = priya.get(f"/agent/canned-responses?case_id={case['id']}").json()["items"][0]
    assert filled["filled"] == f"Hi {buyer.public_name}, about {order.number}:"

    with TestCase.captureOnCommitCallbacks(execute=True):
        answered = priya.post(
            f"/agent/cases/{case['id']}/messages",
            {"body": filled["filled"] + " a new one ships today.", "status": "pending"},
            headers={"Idempotency-Key": "answer-1"},
        )
    assert answered.status_code == 201, answered.content
    assert answered.json()["case"]["status"] == "pending"

    thread = alice.get(f"/conversations/{case['conversation_id']}/messages").json()["items"]
    answer = thread[-1]
    assert (answer["sender_name"], answer["is_official"]) == ("Customer Service", True)
    assert "a new one ships today." in answer["body"]
    assert alice.get(f"/cases/{case['id']}").json()["status_label"] == (
        "Answered — waiting for your reply"
    )
    for response in (
        alice.get(f"/conversations/{case['conversation_id']}/messages"),
        alice.get(f"/cases/{case['id']}"),
        alice.get("/sync/events?after=0"),
    ):
        assert NOTE not in response.content.decode()
    events = alice.get("/sync/events?after=0").json()["events"]
    assert [event["payload"]["status"] for event in events if event["kind"] == "case.updated"] == [
        "open",
        "open",
        "pending",
    ]

    replied = alice.post(f"/conversations/{case['conversation_id']}/messages", {"body": "Thanks!"})
    assert replied.status_code == 201
    assert alice.get(f"/cases/{case['id']}").json()["status"] == "open"
    assert priya.get("/agent/queues").json()["mine"] == 1

    solved = priya.post(f"/agent/cases/{case['id']}/status", {"status": "solved"})
    assert solved.json()["status"] == "solved"
    assert alice.get("/cases").json()["items"][0]["status_label"] == "Solved"
    assert priya.get("/agent/cases?view=solved").json()["items"][0]["id"] == case["id"]


def test_a_subject_too_long_is_refused_and_opens_nothing(buyer: User) -> None:
    alice = with_token(buyer)
    too_long = alice.post("/customer-service", {"subject": "x" * 201, "body": "Still not here."})
    assert error_of(too_long) == (400, "subject_too_long")
    assert not Case.objects.exists()
    longest = alice.post("/customer-service", {"subject": "x" * 200, "body": "Still not here."})
    assert longest.status_code == 201, longest.content
    assert Case.objects.get().subject == "x" * 200


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"priority": "0_2"}, "priority"),
        ({"older_than_hours": "+2"}, "older_than_hours"),
        ({"limit": " 5"}, "limit"),
    ],
)
def test_the_queues_numbers_are_digits_only(params: dict[str, str], field: str) -> None:
    """pydantic's lax integers read "0_2" as 2, "+2" as 2 and " 5" as 5."""
    response = with_token(factories.agent_in_team()).get("/agent/cases", params)

    assert error_of(response) == (422, "invalid_input")
    assert [f["field"] for f in response.json()["error"]["fields"]] == [field]


def test_a_customer_cannot_use_the_agents_api(buyer: User) -> None:
    assert error_of(with_token(buyer).get("/agent/queues")) == (403, "agents_only")


def test_two_agents_taking_one_case_the_second_is_told_who_has_it(buyer: User) -> None:
    first = factories.agent_in_team(first_name="Omar", last_name="Haddad")
    second = factories.agent_in_team()
    case = with_token(buyer).post("/customer-service", {"subject": "Help", "body": "Hi"}).json()

    with_token(first).post(f"/agent/cases/{case['id']}/take")
    refused = with_token(second).post(f"/agent/cases/{case['id']}/take")

    assert error_of(refused) == (409, "case_already_assigned")
    assert "Omar Haddad" in refused.json()["error"]["message"]


def test_a_request_about_a_conversation_that_is_not_with_a_seller_is_refused(
    buyer: User, asked: Message
) -> None:
    """docs/api.md: `conversation_id` is one of your conversations with a seller. A review
    named its own customer-service request's conversation: the request opened, and the
    console called it "the customer's conversation with a seller"."""
    alice = with_token(buyer)
    earlier = alice.post("/customer-service", {"subject": "Help", "body": "Hi"}).json()
    update = conversation_actions.send_marketplace_message(
        buyer, kind="order_updates", subject="Order 1001 shipped", body="Shipped."
    )
    before = Case.objects.count()

    for conversation_id in (earlier["conversation_id"], update.conversation_id):
        refused = alice.post(
            "/customer-service",
            {"subject": "About that", "body": "Hi", "conversation_id": conversation_id},
        )
        assert error_of(refused) == (400, "not_a_seller_conversation")
        assert "between a buyer and a seller" in refused.json()["error"]["message"]
    assert Case.objects.count() == before

    about_seller = alice.post(
        "/customer-service",
        {"subject": "About that", "body": "Hi", "conversation_id": asked.conversation_id},
    )
    assert about_seller.status_code == 201
    assert Case.objects.get(pk=about_seller.json()["id"]).about_conversation_id == (
        asked.conversation_id
    )
