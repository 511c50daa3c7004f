"""At most one open claim per order, whatever the concurrency: 50 filings at once, each in
its own thread and database connection, on SQLite and on PostgreSQL (docs/support.md,
"One open claim per order")."""

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Conversation, Message
from messagecenter.errors import Conflict
from messagecenter.marketplace.models import Order, Product
from messagecenter.support import claim_actions, queries
from messagecenter.support.models import Case, Claim
from tests import factories
from tests.conversations.test_concurrency import in_threads
from tests.support.claims import Clock, claimable_order, clock

__all__ = ["clock"]

pytestmark = pytest.mark.django_db(transaction=True)

FILINGS = 50
PAIRS = 8


def test_fifty_concurrent_filings_make_one_claim_and_49_clear_refusals(
    buyer: User, seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product, placed_at=timezone.now() - timedelta(days=20))
    asked = conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "Where is it?"
    )
    Message.objects.filter(pk=asked.pk).update(created_at=timezone.now() - timedelta(days=3))
    reasons = ["not_received", "not_as_described"]
    Order.objects.filter(pk=order.pk).update(status="delivered")

    def attempt(n: int) -> Claim | Conflict:
        try:
            return claim_actions.file_claim(
                buyer, order.number, reasons[n % 2], f"Filing number {n}."
            )
        except Conflict as refused:
            return refused

    answers = in_threads([lambda n=n: attempt(n) for n in range(FILINGS)])

    claims = [answer for answer in answers if isinstance(answer, Claim)]
    refusals = [answer for answer in answers if isinstance(answer, Conflict)]
    assert len(claims) == 1
    assert len(refusals) == FILINGS - 1
    the_claim = claims[0]
    assert {refused.code for refused in refusals} == {"claim_already_open"}
    assert {refused.message for refused in refusals} == {
        f"There is already an open claim on this order: {the_claim.number}. "
        "Follow it in your Claims folder."
    }
    # Nothing of the 49 refused filings is left behind: one claim, one case, one claim
    # conversation, and the counters agree with the cases.
    assert Claim.objects.count() == Case.objects.filter(kind="claim").count() == 1
    assert Conversation.objects.filter(kind="claim").count() == 1
    assert queries.stored_counts() == queries.recount()


def test_filings_and_decisions_against_one_seller_at_once_all_go_through(
    seller: User, product: Product, clock: Clock
) -> None:
    """Eight decisions (granting refunds) and eight new filings against the same seller at
    once: a decision holds the claims team when it locks the order and both parties' event
    streams; a filing locked the buyer's and the seller's streams (its new conversation)
    before the team, and PostgreSQL broke the cycle by failing one of them. Every one
    goes through now, and the counters agree with the cases."""
    agent = factories.agent_in_team("claims", username="dana")
    deciding, filing = [], []
    for n in range(PAIRS * 2):
        buyer = factories.BuyerFactory(username=f"claimant{n}")
        order = claimable_order(buyer, product, clock)
        (filing if n % 2 else deciding).append((buyer, order))
    claims = []
    for buyer, order in deciding:
        claim = claim_actions.file_claim(buyer, order.number, "not_received", "Never came.")
        claim_actions.respond_to_claim(seller, claim.pk, "It was sent on time.")
        claims.append(claim)

    answers = in_threads(
        [
            *(
                lambda claim=claim: claim_actions.decide_claim(
                    agent, claim.pk, "granted", "No proof of delivery.", refund_cents=500
                )
                for claim in claims
            ),
            *(
                lambda buyer=buyer, order=order: claim_actions.file_claim(
                    buyer, order.number, "not_received", "Never came either."
                )
                for buyer, order in filing
            ),
        ]
    )

    assert all(isinstance(answer, Claim) for answer in answers)
    assert Claim.objects.filter(stage="appeal_window").count() == PAIRS
    assert Claim.objects.filter(stage="seller_response").count() == PAIRS
    assert queries.stored_counts() == queries.recount()


STEP_RETRIES = 3


def test_a_step_sent_at_once_with_one_key_is_taken_once_and_every_sender_gets_the_claim(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """A double-submitted response or appeal (one form, one idempotency key, three posts
    at once): each answers with the claim as the first left it, like a request's or a
    reply's retry; the 409 is for a step taken again with another key."""
    agent = factories.agent_in_team("claims", username="dana")
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")

    def attempt(step: Callable[[], Claim]) -> Claim | Conflict:
        try:
            return step()
        except Conflict as refused:
            return refused

    responses = in_threads(
        [
            lambda: attempt(
                lambda: claim_actions.respond_to_claim(
                    seller, claim.pk, "Sent on time.", idempotency_key="respond-1"
                )
            )
        ]
        * STEP_RETRIES
    )
    claim_actions.decide_claim(agent, claim.pk, "denied", "Delivered.")
    appeals = in_threads(
        [
            lambda: attempt(
                lambda: claim_actions.appeal_claim(
                    buyer, claim.pk, "It never came.", idempotency_key="appeal-1"
                )
            )
        ]
        * STEP_RETRIES
    )
    with pytest.raises(Conflict) as again:
        claim_actions.appeal_claim(buyer, claim.pk, "Please!", idempotency_key="appeal-2")

    for answers in (responses, appeals):
        assert all(isinstance(answer, Claim) for answer in answers), answers
        assert sorted(answer.found_by_idempotency_key for answer in answers) == [  # type: ignore[union-attr]
            False,
            True,
            True,
        ]
    assert again.value.code == "claim_already_appealed"
    messages = Message.objects.filter(conversation_id=claim.case.conversation_id)
    assert messages.filter(sender=seller).count() == 1
    assert messages.filter(sender=buyer, body="It never came.").count() == 1
    assert not messages.filter(body="Please!").exists()
    assert Claim.objects.get(pk=claim.pk).stage == "decision"
    assert queries.stored_counts() == queries.recount()
