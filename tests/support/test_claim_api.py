"""A guarantee claim through the JSON API (docs/api.md#guarantee-claims): the buyer checks
eligibility and files with evidence, the seller responds, an agent grants with a refund,
the buyer may appeal; refusals in the one error shape."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from messagecenter.accounts.models import User
from messagecenter.api import api
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message
from messagecenter.marketplace.models import Product, Refund
from messagecenter.support import claim_actions
from messagecenter.support.models import Claim
from tests import factories
from tests.api.helpers import error_of, with_token
from tests.support.claims import Clock, claimable_order, clock
from tests.web.helpers import pdf_bytes

__all__ = ["clock"]

pytestmark = pytest.mark.django_db

PDF = pdf_bytes()


def test_file_respond_decide_and_appeal_through_the_api(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    agent = factories.agent_in_team("claims")
    order = claimable_order(buyer, product, clock)
    alice, shop, dana = with_token(buyer), with_token(seller), with_token(agent)

    eligibility = alice.get(f"/orders/{order.number}/claim-eligibility").json()
    assert [(item["reason"], item["may_file"]) for item in eligibility["items"]] == [
        ("not_received", True),
        ("not_as_described", False),
        ("returned_not_refunded", False),
    ]
    assert eligibility["items"][1]["code"] == "claim_not_delivered"

    filed = alice.post_form(
        "/claims",
        {
            "order_number": order.number,
            "reason": "not_received",
            "description": "Nothing came.",
            "attachments": SimpleUploadedFile("label.pdf", PDF, content_type="application/pdf"),
        },
        headers={"Idempotency-Key": "claim-api-1"},
    )
    assert filed.status_code == 201, filed.content
    claim = filed.json()
    assert (claim["stage"], claim["reason"], claim["storefront_name"]) == (
        "seller_response",
        "not_received",
        "Acme Kitchen",
    )
    assert claim["due_at"] is not None
    again = alice.post(
        "/claims",
        {"order_number": order.number, "reason": "not_received", "description": "Nothing came."},
        headers={"Idempotency-Key": "claim-api-1"},
    )
    assert (again.status_code, again.json()["id"]) == (200, claim["id"])
    second = alice.post(
        "/claims",
        {"order_number": order.number, "reason": "not_received", "description": "Again."},
    )
    assert error_of(second) == (409, "claim_already_open")

    assert [item["id"] for item in shop.get("/claims?view=seller").json()["items"]] == [claim["id"]]
    assert alice.get("/claims").json()["items"][0]["id"] == claim["id"]
    responded = shop.post(f"/claims/{claim['id']}/response", {"body": "Delivered Monday."})
    assert (responded.status_code, responded.json()["stage"]) == (200, "decision")
    assert responded.json()["due_at"] is None

    too_much = dana.post(
        f"/agent/claims/{claim['id']}/decision",
        {"outcome": "granted", "reasons": "Lost.", "refund_cents": order.total_cents + 1},
    )
    assert error_of(too_much) == (400, "invalid_refund_amount")
    nothing = dana.post(
        f"/agent/claims/{claim['id']}/decision",
        {"outcome": "granted", "reasons": "Lost.", "refund_cents": 0},
    )
    assert error_of(nothing) == (400, "invalid_refund_amount")
    assert nothing.json()["error"]["message"].startswith(
        "Enter a refund amount above $0.00, at most the order's total,"
    )
    granted = dana.post(
        f"/agent/claims/{claim['id']}/decision",
        {"outcome": "granted", "reasons": "Lost.", "refund_cents": 1000},
    )
    assert granted.status_code == 200, granted.content
    assert (granted.json()["stage"], granted.json()["refunded_cents"]) == ("appeal_window", 1000)
    assert Refund.objects.get(order=order).amount_cents == 1000

    appealed = alice.post(f"/claims/{claim['id']}/appeal", {"body": "It cost more."})
    assert (appealed.status_code, appealed.json()["stage"]) == (200, "decision")
    final = dana.post(
        f"/agent/claims/{claim['id']}/decision",
        {"outcome": "granted", "reasons": "Full refund.", "refund_cents": order.total_cents},
    )
    assert (final.json()["stage"], final.json()["refunded_cents"]) == ("closed", order.total_cents)
    assert sorted(Refund.objects.values_list("amount_cents", flat=True)) == sorted(
        [1000, order.total_cents - 1000]
    )


def test_a_refusal_says_why_in_the_error_shape(buyer: User, product: Product, clock: Clock) -> None:
    order = factories.order_with_item(buyer, product)

    refused = with_token(buyer).post(
        "/claims",
        {"order_number": order.number, "reason": "not_received", "description": "Nothing."},
    )

    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "contact_seller_first"
    assert "Contact the seller first" in refused.json()["error"]["message"]
    assert not Claim.objects.exists()


def test_a_suspended_sellers_order_may_be_claimed_without_contacting_them_first(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """Writing to a suspended shop answers 409 recipient_closed: eligibility and filing
    waive "contact the seller first" for it (docs/support.md#who-may-file-and-when)."""
    order = factories.order_with_item(buyer, product)
    User.objects.filter(pk=seller.pk).update(is_active=False)
    api = with_token(buyer)

    answers = api.get(f"/orders/{order.number}/claim-eligibility").json()["items"]
    filed = api.post(
        "/claims",
        {"order_number": order.number, "reason": "not_received", "description": "Nothing came."},
    )

    assert [(one["reason"], one["code"]) for one in answers] == [
        ("not_received", "claim_too_early"),
        ("not_as_described", "claim_not_delivered"),
        ("returned_not_refunded", "claim_no_return"),
    ]
    assert filed.status_code == 403
    assert filed.json()["error"]["code"] == "claim_too_early"
    clock.advance(days=14)
    answers = api.get(f"/orders/{order.number}/claim-eligibility").json()["items"]
    assert answers[0]["may_file"] is True
    filed = api.post(
        "/claims",
        {"order_number": order.number, "reason": "not_received", "description": "Nothing came."},
    )
    assert filed.status_code == 201, filed.json()
    # No response window for a seller who cannot respond: an agent decides at once.
    assert (filed.json()["stage"], filed.json()["due_at"]) == ("decision", None)


def test_customers_cannot_decide(buyer: User, seller: User, product: Product, clock: Clock) -> None:
    order = claimable_order(buyer, product, clock)
    claim = with_token(buyer).post(
        "/claims",
        {"order_number": order.number, "reason": "not_received", "description": "Nothing."},
    )

    decided = with_token(seller).post(
        f"/agent/claims/{claim.json()['id']}/decision", {"outcome": "denied", "reasons": "No."}
    )

    assert error_of(decided) == (403, "agents_only")


@pytest.mark.parametrize("refund", ["1_000", "1000", " 1000 ", 1000.0, True], ids=repr)
def test_a_refund_that_is_not_a_json_integer_is_422_and_decides_nothing(
    buyer: User, seller: User, product: Product, clock: Clock, refund: object
) -> None:
    """pydantic's lax integers read "1_000" as a refund of 1000 cents, and true as one of
    1 cent: an amount no agent typed, granted."""
    claim = claim_actions.file_claim(
        buyer, claimable_order(buyer, product, clock).number, "not_received", "Nothing came."
    )
    claim_actions.respond_to_claim(seller, claim.pk, "Delivered Monday.")
    agent = with_token(factories.agent_in_team("claims"))

    decided = agent.post(
        f"/agent/claims/{claim.pk}/decision",
        {"outcome": "granted", "reasons": "Lost.", "refund_cents": refund},
    )

    assert error_of(decided) == (422, "invalid_input")
    assert [(item["field"], item["type"]) for item in decided.json()["error"]["fields"]] == [
        ("refund_cents", "int_type")
    ]
    claim.refresh_from_db()
    assert (claim.stage, claim.refunded_cents) == ("decision", 0)
    assert not Refund.objects.exists()


PHISHING = (
    "Please confirm your account at http://marketplace-security-check.example/login and "
    "enter your card number to get the refund"
)


def test_the_agents_case_names_the_seller_by_shop_with_each_flagged_messages_verdict(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """GET /agent/cases/{id} gave the seller's answer to a claim as an agent's ("author":
    "agent"), under the account holder's name no one else reads, with no verdict, while the
    buyer read it under a warning and the console page showed the verdict."""
    agent = factories.agent_in_team("claims")
    agent.first_name, agent.last_name = "Dana", "Agent"
    agent.save(update_fields=["first_name", "last_name"])
    seller.first_name, seller.last_name = "Marcus", "Reyes"
    seller.save(update_fields=["first_name", "last_name"])
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    claim_actions.respond_to_claim(seller, claim.pk, PHISHING)
    conversation = claim.case.conversation_id
    masked = conversation_actions.send_message(
        buyer, conversation, "Write to me at alice.chen@gmail.com instead."
    )
    dana = with_token(agent)
    answered = dana.post(f"/agent/cases/{claim.pk}/messages", {"body": "We are looking into it."})
    assert answered.status_code == 201, answered.content
    filed = Message.objects.get(conversation_id=conversation, sender=buyer, is_masked=False)
    response = Message.objects.get(conversation_id=conversation, sender=seller)
    masked.refresh_from_db()
    assert (response.safety_verdict, masked.is_masked) == ("warn", True)

    detail = dana.get(f"/agent/cases/{claim.pk}")

    assert detail.status_code == 200, detail.content
    messages = {message["id"]: message for message in detail.json()["messages"]}
    assert "Marcus Reyes" not in {message["author_name"] for message in messages.values()}
    seen = messages[response.pk]
    assert (seen["author"], seen["author_name"]) == ("seller", "Acme Kitchen")
    assert seen["safety"] == {
        "verdict": "warn",
        "reasons": response.safety_reasons,
        "is_masked": False,
        "version": response.safety_version,
    }
    assert response.safety_reasons
    assert (messages[filed.pk]["author"], messages[filed.pk]["author_name"]) == (
        "customer",
        buyer.public_name,
    )
    assert messages[filed.pk]["safety"] is None
    assert messages[masked.pk]["author"] == "customer"
    assert messages[masked.pk]["safety"] == {
        "verdict": masked.safety_verdict,
        "reasons": masked.safety_reasons,
        "is_masked": True,
        "version": masked.safety_version,
    }
    answer = messages[answered.json()["message_id"]]
    assert (answer["author"], answer["author_name"], answer["safety"]) == (
        "agent",
        "Dana Agent",
        None,
    )
    assert all(
        message["author"] == "marketplace" and message["safety"] is None
        for message in messages.values()
        if message["id"] not in {filed.pk, response.pk, masked.pk, answer["id"]}
    )


def test_no_response_needed_on_a_claim_awaiting_the_sellers_response_is_409(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    conversation_id = claim.case.conversation_id

    refused = with_token(seller).post(
        "/conversations/actions",
        {"action": "no_response_needed", "conversation_ids": [conversation_id]},
    )

    assert refused.status_code == 409
    assert refused.json()["error"]["code"] == "claim_response_due"
    waiting = with_token(seller).get("/seller/response-needed").json()["items"]
    assert conversation_id in [row["id"] for row in waiting]


def test_the_conversation_tells_the_seller_who_owes_the_claims_response_as_the_page_does(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The web page shows the seller, above the Reply box, that their response to the
    claim is due and where to give it; the API's conversation had nothing of it, so an app
    offered a reply box alone. `claim_notice` says the same, with the claim, the deadline
    and the address that responds — for that seller only, and only while it is due."""
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    path = f"/conversations/{claim.case.conversation_id}"
    shop = with_token(seller)

    notice = shop.get(path).json()["claim_notice"]
    buyers = with_token(buyer).get(path).json()["claim_notice"]
    question = shop.get(f"/conversations/{claim.case.about_conversation_id}").json()

    assert notice is not None
    assert notice["claim_id"] == claim.pk
    assert notice["reference"] == claim.number
    assert notice["due_at"].replace("Z", "+00:00") == claim.case.due_at.isoformat()
    assert notice["text"].startswith(f"Your response to claim {claim.number} is due by")
    assert "is not a response to the claim" in notice["text"]
    assert notice["respond_url"] == f"/api/v1/claims/{claim.pk}/response"
    assert notice["page_url"] == f"/claims/{claim.pk}/#respond-title"
    assert buyers is None
    assert question["claim_notice"] is None

    responded = shop.post(f"/claims/{claim.pk}/response", {"body": "Tracking says delivered."})
    assert responded.status_code == 200, responded.json()
    assert shop.get(path).json()["claim_notice"] is None


def test_the_openapi_document_describes_the_conversations_claim_notice() -> None:
    schemas = api.get_openapi_schema()["components"]["schemas"]

    assert "claim_notice" in schemas["ConversationDetailOut"]["properties"]
    assert set(schemas["ClaimNoticeOut"]["required"]) == {
        "claim_id",
        "reference",
        "due_at",
        "text",
        "respond_url",
        "page_url",
    }
