"""A claim's refund follows returns' money rule (docs/returns.md, "Both paths, one return,
one refund"): whatever the order of a return's refund and a claim's grant, and when they
come at the same moment, what they refund together never passes what the buyer paid; a
grant above what is left is refused in words and changes nothing."""

from datetime import timedelta

import pytest
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message
from messagecenter.errors import Conflict, InvalidInput, MessageCenterError
from messagecenter.marketplace import return_actions
from messagecenter.marketplace.models import (
    Order,
    OrderItem,
    Product,
    Refund,
    RefundStatus,
    ReturnRequest,
    Shipment,
)
from messagecenter.marketplace.return_actions import ReturnLine
from messagecenter.support import claim_actions, queries
from messagecenter.support.models import Case, CaseEvent, Claim
from tests import factories
from tests.conversations.test_concurrency import in_threads

PRICE = 12999


@pytest.fixture
def claims_agent(db: None) -> User:
    return factories.agent_in_team("claims", username="dana", first_name="Dana")


def two_unit_order(buyer: User, product: Product) -> Order:
    """Two espresso machines ($259.98), delivered yesterday; the buyer wrote to the seller
    three days ago (so a claim may be filed) about the order."""
    order = factories.order_with_item(buyer, product, placed_at=timezone.now() - timedelta(days=20))
    OrderItem.objects.filter(order=order).update(quantity=2)
    Order.objects.filter(pk=order.pk).update(total_cents=2 * PRICE)
    order.refresh_from_db()
    Shipment.objects.create(
        order=order,
        carrier="UPS",
        tracking_number="1Z1",
        shipped_at=timezone.now() - timedelta(days=3),
        delivered_at=timezone.now() - timedelta(days=1),
    )
    asked = conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "One of them does not work. What now?"
    )
    Message.objects.filter(pk=asked.pk).update(created_at=timezone.now() - timedelta(days=3))
    return order


def approved_return(buyer: User, seller: User, order: Order) -> ReturnRequest:
    """One of the two machines on its way back, approved by the seller."""
    item = OrderItem.objects.get(order=order)
    started = return_actions.request_return(
        buyer,
        order.number,
        [ReturnLine(item.pk, 1)],
        resolution="refund",
        reason_code="defective",
    )
    return return_actions.decide_return(seller, started.return_request.pk, approve=True)


def claim_to_decide(buyer: User, seller: User, order: Order) -> Claim:
    claim = claim_actions.file_claim(
        buyer, order.number, "not_as_described", "The second one is not the model I ordered."
    )
    claim_actions.respond_to_claim(seller, claim.pk, "It is the same model.")
    return claim


def issued(order: Order) -> list[int]:
    return list(
        Refund.objects.filter(order=order, status=RefundStatus.ISSUED)
        .order_by("id")
        .values_list("amount_cents", flat=True)
    )


@pytest.mark.django_db
def test_after_a_returns_refund_a_grant_above_the_rest_is_refused_and_changes_nothing(
    buyer: User, seller: User, product: Product, claims_agent: User
) -> None:
    order = two_unit_order(buyer, product)
    return_request = approved_return(buyer, seller, order)
    return_actions.mark_return_received(seller, return_request.pk)
    claim = claim_to_decide(buyer, seller, order)
    messages_before = Message.objects.count()
    history_before = CaseEvent.objects.filter(case_id=claim.pk).count()

    with pytest.raises(InvalidInput) as refused:
        claim_actions.decide_claim(
            claims_agent, claim.pk, "granted", "Not as described.", refund_cents=PRICE + 1
        )

    assert (refused.value.code, refused.value.status) == ("refund_exceeds_order_total", 422)
    assert refused.value.message == (
        f"At most $129.99 of order {order.number} can still be refunded. "
        "$129.99 of its $259.98 was refunded already."
    )
    # Nothing changed: the return's refund alone, the claim still to decide and nobody's,
    # no message, no history line, counters true.
    assert issued(order) == [PRICE]
    claim.refresh_from_db()
    case = Case.objects.get(pk=claim.pk)
    assert (claim.stage, claim.outcome, claim.refunded_cents) == ("decision", "", 0)
    assert (case.status, case.assignee_id) == ("open", None)
    assert Message.objects.count() == messages_before
    assert CaseEvent.objects.filter(case_id=claim.pk).count() == history_before
    assert queries.stored_counts() == queries.recount()

    # What is left can be granted.
    decided = claim_actions.decide_claim(
        claims_agent, claim.pk, "granted", "Not as described.", refund_cents=PRICE
    )

    assert decided.refunded_cents == PRICE
    assert issued(order) == [PRICE, PRICE]


@pytest.mark.django_db
def test_after_a_claims_full_refund_the_return_closes_and_refunds_nothing_more(
    buyer: User, seller: User, product: Product, claims_agent: User
) -> None:
    """The claim's refund covers the return's items: the approved return closes (both
    sides told in Returns & refunds), and "mark received" has nothing left to do."""
    order = two_unit_order(buyer, product)
    return_request = approved_return(buyer, seller, order)
    claim = claim_to_decide(buyer, seller, order)
    claim_actions.decide_claim(
        claims_agent, claim.pk, "granted", "Not as described.", refund_cents=2 * PRICE
    )

    return_request.refresh_from_db()
    assert return_request.status == "closed"
    for person in (buyer, seller):
        last = Message.objects.filter(
            conversation__kind="returns", conversation__participants__user=person
        ).latest("id")
        assert f"{return_request.reference}" in last.body
        assert "refunded in full" in last.body
    with pytest.raises(Conflict) as refused:
        return_actions.mark_return_received(seller, return_request.pk)
    assert refused.value.code == "return_state_changed"
    assert issued(order) == [2 * PRICE]
    assert queries.stored_counts() == queries.recount()


@pytest.mark.django_db
def test_the_console_shows_the_refusal_beside_the_decision_form(
    buyer: User, seller: User, product: Product, claims_agent: User
) -> None:
    order = two_unit_order(buyer, product)
    return_request = approved_return(buyer, seller, order)
    return_actions.mark_return_received(seller, return_request.pk)
    claim = claim_to_decide(buyer, seller, order)
    client = Client()
    client.force_login(claims_agent)

    response = client.post(
        reverse("console-claim-decide", args=[claim.pk]),
        {"outcome": "granted", "refund": "200.00", "reasons": "Not as described."},
    )

    assert response.status_code == 422
    assert "At most $129.99 of order" in response.content.decode()
    assert issued(order) == [PRICE]
    assert Claim.objects.get(pk=claim.pk).stage == "decision"


@pytest.mark.django_db
def test_the_api_answers_422_with_the_rest(
    buyer: User, seller: User, product: Product, claims_agent: User
) -> None:
    order = two_unit_order(buyer, product)
    return_request = approved_return(buyer, seller, order)
    return_actions.mark_return_received(seller, return_request.pk)
    claim = claim_to_decide(buyer, seller, order)
    client = Client()
    client.force_login(claims_agent)

    response = client.post(
        f"/api/v1/agent/claims/{claim.pk}/decision",
        {"outcome": "granted", "reasons": "Not as described.", "refund_cents": 2 * PRICE},
        content_type="application/json",
    )

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "refund_exceeds_order_total"
    assert issued(order) == [PRICE]


@pytest.mark.django_db(transaction=True)
def test_a_returns_refund_and_a_claims_grant_at_the_same_moment_never_pass_the_total(
    buyer: User, seller: User, product: Product, claims_agent: User
) -> None:
    """Each in its own thread and connection: the order's row lock makes them take turns,
    so one of them finds the rest too small (SQLite and PostgreSQL)."""
    order = two_unit_order(buyer, product)
    return_request = approved_return(buyer, seller, order)
    claim = claim_to_decide(buyer, seller, order)

    def mark_received() -> object:
        try:
            return return_actions.mark_return_received(seller, return_request.pk)
        except MessageCenterError as refused:
            return refused

    def grant() -> object:
        try:
            return claim_actions.decide_claim(
                claims_agent, claim.pk, "granted", "Not as described.", refund_cents=2 * PRICE
            )
        except MessageCenterError as refused:
            return refused

    answers = in_threads([mark_received, grant])

    refusals = [answer for answer in answers if isinstance(answer, MessageCenterError)]
    assert len(refusals) == 1
    # The grant first: the return is closed, nothing left to mark received.
    assert refusals[0].code in ("return_state_changed", "refund_exceeds_order_total")
    assert sum(issued(order)) <= order.total_cents
    assert issued(order) in ([PRICE], [2 * PRICE])
    assert queries.stored_counts() == queries.recount()


@pytest.mark.django_db
def test_the_decision_form_offers_what_can_still_be_refunded_not_the_orders_total(
    buyer: User, seller: User, product: Product, claims_agent: User
) -> None:
    """The panel said "at most $259.98" (the order's total) while $129.99 of it was
    refunded by a return, and a blank amount was answered "at most the order's total":
    each now names the rest."""
    order = two_unit_order(buyer, product)
    return_request = approved_return(buyer, seller, order)
    return_actions.mark_return_received(seller, return_request.pk)
    claim = claim_to_decide(buyer, seller, order)
    client = Client()
    client.force_login(claims_agent)

    page = client.get(reverse("console-case", args=[claim.pk])).content.decode()
    blank = client.post(
        reverse("console-claim-decide", args=[claim.pk]),
        {"outcome": "granted", "refund": "", "reasons": "Not as described."},
    )

    assert (
        "Refund (USD, at most $129.99: what can still be refunded, $129.99 of the order's "
        "$259.98 was refunded already)" in page
    )
    assert "at most $259.98" not in page
    assert blank.status_code == 400
    assert (
        "Enter a refund amount above $0.00, at most $129.99: what can still be refunded "
        "($129.99 of the order&#x27;s $259.98 was refunded already)."
    ) in blank.content.decode()
    assert issued(order) == [PRICE]


@pytest.mark.django_db
def test_a_claim_on_an_order_refunded_in_full_meanwhile_is_granted_without_a_new_refund(
    buyer: User, seller: User, product: Product, claims_agent: User
) -> None:
    """The order was refunded in full while the claim waited (the marketplace's own refund):
    the agent could neither grant (any amount "At most $0.00 … can still be refunded", none
    "Enter a refund amount above 0.00") nor see why. A grant now records no new refund, and
    the decision says the order was refunded in full already."""
    order = two_unit_order(buyer, product)
    claim = claim_to_decide(buyer, seller, order)
    return_actions.issue_order_refund(order.pk, 2 * PRICE)
    client = Client()
    client.force_login(claims_agent)

    page = client.get(reverse("console-case", args=[claim.pk])).content.decode()
    granted = client.post(
        reverse("console-claim-decide", args=[claim.pk]),
        {"outcome": "granted", "refund": "", "reasons": "Not as described."},
    )

    assert (
        f"Order {order.number} was refunded in full already ($259.98 of $259.98): a grant "
        "records no new refund" in page
    )
    assert 'name="refund"' not in page
    assert granted.status_code == 302
    claim.refresh_from_db()
    assert (claim.stage, claim.outcome, claim.refunded_cents) == ("appeal_window", "granted", 0)
    assert issued(order) == [2 * PRICE]
    decision = Message.objects.filter(conversation_id=claim.case.conversation_id).latest("id")
    assert (
        f"Order {order.number} was refunded in full already ($259.98): this decision "
        "records no new refund." in decision.body
    )
    # An amount is still refused with the rest, which is nothing.
    with pytest.raises(MessageCenterError):
        claim_actions.decide_claim(claims_agent, claim.pk, "granted", "Again.", refund_cents=1000)


@pytest.mark.django_db
def test_an_appealed_claim_that_refunded_the_whole_order_is_decided_again_without_an_amount(
    buyer: User, seller: User, product: Product, claims_agent: User
) -> None:
    order = two_unit_order(buyer, product)
    claim = claim_to_decide(buyer, seller, order)
    claim_actions.decide_claim(
        claims_agent, claim.pk, "granted", "Not as described.", refund_cents=2 * PRICE
    )
    claim_actions.appeal_claim(buyer, claim.pk, "I also paid for return shipping.")

    decided = claim_actions.decide_claim(
        claims_agent, claim.pk, "granted", "The refund covers everything paid.", refund_cents=0
    )

    assert (decided.stage, decided.refunded_cents) == ("closed", 2 * PRICE)
    assert issued(order) == [2 * PRICE]
    decision = Message.objects.filter(conversation_id=claim.case.conversation_id).latest("id")
    assert "The refund of $259.98 recorded earlier stands." in decision.body


@pytest.mark.django_db
def test_a_grant_after_an_appeal_above_what_the_claim_may_reach_names_that_most(
    buyer: User, seller: User, product: Product, claims_agent: User
) -> None:
    """A claim granted $100.00, then a return refunded the rest of the order, then an
    appeal: a new grant of $150.00 was refused with "At most $0.00 … can still be
    refunded", where any grant up to the claim's own $100.00 stands."""
    order = two_unit_order(buyer, product)
    claim = claim_to_decide(buyer, seller, order)
    claim_actions.decide_claim(
        claims_agent, claim.pk, "granted", "Not as described.", refund_cents=10000
    )
    return_actions.issue_order_refund(order.pk, 2 * PRICE - 10000)
    claim_actions.appeal_claim(buyer, claim.pk, "I also paid for return shipping.")

    with pytest.raises(InvalidInput) as refused:
        claim_actions.decide_claim(
            claims_agent, claim.pk, "granted", "More for shipping.", refund_cents=15000
        )

    assert (refused.value.code, refused.value.status) == ("refund_exceeds_order_total", 422)
    assert refused.value.message == (
        "This claim's refund can be at most $100.00: it refunded $100.00 already, and "
        f"order {order.number} was refunded in full ($259.98 of its $259.98 refunded in all)."
    )
    assert issued(order) == [10000, 2 * PRICE - 10000]
    decided = claim_actions.decide_claim(
        claims_agent, claim.pk, "granted", "It stands.", refund_cents=10000
    )
    assert (decided.stage, decided.refunded_cents) == ("closed", 10000)
