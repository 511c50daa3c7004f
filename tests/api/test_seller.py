"""The seller tools over the API: response needed, response times, no response needed,
saved replies."""

from datetime import datetime, timedelta

import pytest
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Participant, ResponseTime, SavedReply
from messagecenter.marketplace.models import Product
from tests.api.conftest import SignIn
from tests.api.helpers import with_token
from tests.conversations.helpers import snapshot

pytestmark = pytest.mark.django_db


def test_response_needed_lists_waiting_buyers_longest_first(
    sign_in: SignIn, buyer: User, other_buyer: User, seller: User, product: Product
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "In stock?").conversation_id
    second = actions.ask_seller_about_product(other_buyer, product.pk, "Colours?").conversation_id

    response = sign_in(seller).get("/seller/response-needed")

    assert response.status_code == 200
    assert [item["id"] for item in response.json()["items"]] == [first, second]


def test_no_response_needed_clears_a_wait(
    sign_in: SignIn, buyer: User, seller: User, product: Product
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Thanks!").conversation_id

    response = sign_in(seller).post(
        "/conversations/actions",
        {"action": "no_response_needed", "conversation_ids": [conversation_id]},
    )

    assert (response.status_code, response.json()) == (200, {"changed": 1})
    waiting = Participant.objects.get(user=seller, conversation_id=conversation_id)
    assert waiting.awaiting_response_since is None


def test_response_times_for_seven_thirty_and_ninety_days(
    sign_in: SignIn, buyer: User, seller: User, product: Product
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "?").conversation_id
    asked_at = timezone.now() - timedelta(days=10)
    ResponseTime.objects.create(
        seller=seller,
        conversation_id=conversation_id,
        asked_at=asked_at,
        answered_at=asked_at + timedelta(hours=2),
        # Answered an hour after its deadline: late (docs/escalation.md).
        due_at=asked_at + timedelta(hours=1),
    )

    response = sign_in(seller).get("/seller/response-times")

    def claim_rate() -> dict[str, object]:
        return {
            "name": "Claim rate",
            "count": 0,
            "total": 0,
            "rate": None,
            "detail": "guarantee claims filed about your orders, "
            "of your orders placed in the period",
        }

    assert response.status_code == 200
    assert response.json() == [
        {
            "days": 7,
            "answered": 0,
            "answered_within_24_hours": 0,
            "overdue": 0,
            "share_within_24_hours": None,
            "average_response_seconds": None,
            "with_deadline": 0,
            "late": 0,
            "late_rate": None,
            "rates": [claim_rate()],
        },
        *(
            {
                "days": days,
                "answered": 1,
                "answered_within_24_hours": 1,
                "overdue": 0,
                "share_within_24_hours": 1.0,
                "average_response_seconds": 7200.0,
                "with_deadline": 1,
                "late": 1,
                "late_rate": 1.0,
                "rates": [claim_rate()],
            }
            for days in (30, 90)
        ),
    ]


def test_the_seller_sees_the_conversations_that_made_them_late(
    sign_in: SignIn, buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Where is it?")
    due = timezone.now().replace(microsecond=0) - timedelta(hours=3)
    Participant.objects.filter(user=seller).update(response_due_at=due)

    late = sign_in(seller).get("/seller/late-responses")
    listed = sign_in(seller).get("/seller/response-needed")

    assert late.status_code == 200
    [item] = late.json()
    asked_at = datetime.fromisoformat(item.pop("asked_at"))
    assert abs(asked_at - question.created_at) < timedelta(milliseconds=1)
    assert item == {
        "conversation_id": question.conversation_id,
        "subject": question.conversation.subject,
        "buyer_name": buyer.public_name,
        "due_at": due.isoformat().replace("+00:00", "Z"),
        "answered_at": None,
    }
    assert listed.json()["items"][0]["response_due_at"] == due.isoformat().replace("+00:00", "Z")


def test_saved_replies_create_list_change_delete(sign_in: SignIn, seller: User) -> None:
    caller = sign_in(seller)

    created = caller.post("/seller/saved-replies", {"title": "Shipping", "body": "1-2 days."})
    assert created.status_code == 201
    reply_id = created.json()["id"]
    changed = caller.call(
        "put", f"/seller/saved-replies/{reply_id}", {"title": "Shipping", "body": "Same day."}
    )
    assert (changed.status_code, changed.json()["body"]) == (200, "Same day.")
    listed = caller.get("/seller/saved-replies")
    assert [(r["title"], r["body"]) for r in listed.json()] == [("Shipping", "Same day.")]
    assert caller.delete(f"/seller/saved-replies/{reply_id}").status_code == 204
    assert SavedReply.objects.count() == 0


def test_a_taken_title_is_a_conflict(seller: User) -> None:
    caller = with_token(seller)
    caller.post("/seller/saved-replies", {"title": "Returns", "body": "30 days."})
    response = caller.post("/seller/saved-replies", {"title": "Returns", "body": "60 days."})
    assert response.status_code == 409
    assert response.json()["error"]["code"] == "title_taken"


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("get", "/seller/response-needed"),
        ("get", "/seller/response-times"),
        ("post", "/seller/saved-replies"),
    ],
)
def test_buyers_and_agents_are_refused_the_seller_tools(
    buyer: User, agent: User, method: str, path: str
) -> None:
    for person in (buyer, agent):
        response = with_token(person).call(method, path, {"title": "x", "body": "y"})
        assert response.status_code == 403
        assert response.json()["error"]["code"] == "sellers_only"


def test_another_sellers_saved_reply_is_not_found_and_unchanged(
    seller: User, other_seller: User
) -> None:
    saved = actions.save_reply(seller, "Returns", "30 days.")
    before = snapshot()
    intruder = with_token(other_seller)

    changed = intruder.call("put", f"/seller/saved-replies/{saved.pk}", {"title": "x", "body": "y"})
    deleted = intruder.delete(f"/seller/saved-replies/{saved.pk}")

    assert (changed.status_code, deleted.status_code) == (404, 404)
    assert snapshot() == before
    assert SavedReply.objects.get().body == "30 days."


def test_another_seller_cannot_mark_no_response_needed(
    buyer: User, seller: User, other_seller: User, product: Product
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "?").conversation_id
    response = with_token(other_seller).post(
        "/conversations/actions",
        {"action": "no_response_needed", "conversation_ids": [conversation_id]},
    )
    assert response.status_code == 404
    waiting = Participant.objects.get(user=seller, conversation_id=conversation_id)
    assert waiting.awaiting_response_since is not None
