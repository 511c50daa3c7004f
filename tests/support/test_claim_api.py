"""A guarantee claim through the JSON API (docs/api.md#guarantee-claims): the buyer checks
eligibility and files with evidence, the seller responds, an agent grants with a refund,
the buyer may appeal; refusals in the one error shape."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from messagecenter.accounts.models import User
from messagecenter.marketplace.models import Product, Refund
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
        "Enter a refund amount above 0.00 USD, at most the order's total,"
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
