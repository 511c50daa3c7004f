"""The return lifecycle as a state machine (hypothesis): the buyer's and the seller's
actions here and the marketplace's events interleaved in any order, on a clock that moves
only when a rule moves it (every action is given the machine's `now`).

After every step: each return moved only along return_actions.RULES (or the seller's
"mark received" from RECEIVABLE), a return is refunded at most once, an order's issued
refunds never pass what was paid, one ReturnRequest per reference, and the return window
was honoured to the second (a request at `closes_at - 1s` may pass, at `closes_at` never).
"""

import contextlib
import itertools
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.conf import settings
from django.db.models import Count, Sum
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.marketplace import actions, events, queries, return_actions
from messagecenter.marketplace.models import (
    Order,
    OrderItem,
    Refund,
    RefundStatus,
    ReturnRequest,
    ReturnStatus,
    Shipment,
)
from messagecenter.marketplace.return_actions import RECEIVABLE, RULES, ReturnLine
from tests import factories

pytestmark = pytest.mark.django_db

UNIT_CENTS = 2500
BOUGHT = 3
# Every step a status may take, from any path; staying put is always allowed.
ALLOWED = {(source, target) for target, sources in RULES.items() for source in sources} | {
    (source, target) for source in RECEIVABLE for target in (ReturnStatus.REFUNDED,)
}
START = datetime.fromisoformat("2026-11-20T12:00:00+00:00")
serial = itertools.count()


class ReturnLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.now = START
        self.statuses: dict[int, str] = {}
        self.events = itertools.count()

    @initialize(resolution=st.sampled_from(["refund", "replacement"]))
    def an_order_delivered_now(self, resolution: str) -> None:
        number = next(serial)
        self.resolution = resolution
        self.buyer = factories.BuyerFactory(username=f"lifecycle-buyer-{number}")
        self.seller = factories.SellerFactory(username=f"lifecycle-seller-{number}")
        product = factories.ProductFactory(storefront=self.seller.storefront)
        self.order = factories.order_with_item(self.buyer, product)
        self.item = OrderItem.objects.get(order=self.order)
        OrderItem.objects.filter(pk=self.item.pk).update(
            quantity=BOUGHT, unit_price_cents=UNIT_CENTS
        )
        Order.objects.filter(pk=self.order.pk).update(total_cents=BOUGHT * UNIT_CENTS)
        self.order.refresh_from_db()
        self.item.refresh_from_db()
        Shipment.objects.create(
            order=self.order,
            carrier="UPS",
            tracking_number=f"1Z{number}",
            shipped_at=START - timedelta(days=2),
            delivered_at=START,
        )
        self.closes_at = START + timedelta(days=settings.RETURNS_WINDOW_DAYS)

    # --- the clock ------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([1, 59, 3600, 86_400, 10 * 86_400]))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule(offset=st.sampled_from([-1, 0, 1]))
    def at_the_edge_of_the_window(self, offset: int) -> None:
        self.now = max(self.now, self.closes_at + timedelta(seconds=offset))

    # --- the buyer, here ------------------------------------------------------------------

    @rule(
        quantity=st.integers(1, BOUGHT),
        reason=st.sampled_from(["damaged", "defective", "no_longer_needed"]),
    )
    def buyer_starts_a_return(self, quantity: int, reason: str) -> None:
        taken = sum(
            line.quantity
            for line in return_actions.ReturnItem.objects.filter(order_item=self.item).exclude(
                return_request__status=ReturnStatus.REJECTED
            )
        )
        is_open = self.now < self.closes_at
        # Once the order's refunds reach what was paid, nothing of it can be returned.
        is_refunded_in_full = queries.refunded_cents(self.order) >= self.order.total_cents
        try:
            started = return_actions.request_return(
                self.buyer,
                self.order.number,
                [ReturnLine(self.item.pk, quantity)],
                resolution=self.resolution,
                reason_code=reason,
                now=self.now,
            )
        except NotAllowed:
            assert not is_open or taken >= BOUGHT or is_refunded_in_full
            return
        except InvalidInput as refused:
            code = refused.code
            assert (code, quantity > BOUGHT - taken) == ("too_many_returned", True)
            return
        assert is_open, f"a return started at {self.now}, the window closed at {self.closes_at}"
        assert not is_refunded_in_full, "a return started on an order refunded in full"
        assert quantity <= BOUGHT - taken
        return_request = started.return_request
        assert return_request.status in (ReturnStatus.REQUESTED, ReturnStatus.APPROVED)
        self.statuses[return_request.pk] = return_request.status

    # --- the seller, here -----------------------------------------------------------------

    @precondition(lambda self: self.statuses)
    @rule(data=st.data(), approve=st.booleans())
    def seller_decides(self, data: st.DataObject, approve: bool) -> None:
        return_id = data.draw(st.sampled_from(sorted(self.statuses)))
        before = self._status(return_id)
        try:
            return_actions.decide_return(
                self.seller, return_id, approve=approve, reason="Used.", now=self.now
            )
        except NotFound:
            # A return the marketplace announced has no items, so no seller of its own.
            assert self._is_the_marketplaces(return_id)
            return
        except Conflict:
            assert before != ReturnStatus.REQUESTED
            return
        assert before == ReturnStatus.REQUESTED

    @precondition(lambda self: self.statuses)
    @rule(data=st.data())
    def seller_marks_received(self, data: st.DataObject) -> None:
        return_id = data.draw(st.sampled_from(sorted(self.statuses)))
        before = self._status(return_id)
        try:
            return_actions.mark_return_received(self.seller, return_id, now=self.now)
        except NotFound:
            assert self._is_the_marketplaces(return_id)
            return
        except Conflict:
            return
        assert before in RECEIVABLE

    # --- the marketplace's events ---------------------------------------------------------

    @precondition(lambda self: self.statuses)
    @rule(
        data=st.data(),
        kind=st.sampled_from(["return.requested", "return.approved", "return.received"]),
    )
    def marketplace_reports_a_step(self, data: st.DataObject, kind: str) -> None:
        return_request = ReturnRequest.objects.get(
            pk=data.draw(st.sampled_from(sorted(self.statuses)))
        )
        fields: dict[str, Any] = {
            "order_number": self.order.number,
            "return_reference": return_request.reference,
        }
        if kind == "return.requested":
            fields["reason"] = "Announced again"
        self._deliver(kind, fields)

    @rule(reference=st.sampled_from(["RMA-1", "RMA-2"]))
    def marketplace_announces_its_own_return(self, reference: str) -> None:
        self._deliver(
            "return.requested",
            {"order_number": self.order.number, "return_reference": reference, "reason": "Loud"},
        )
        return_request = ReturnRequest.objects.get(order=self.order, reference=reference)
        self.statuses.setdefault(return_request.pk, return_request.status)

    @precondition(lambda self: self.statuses)
    @rule(
        data=st.data(),
        amount=st.sampled_from([UNIT_CENTS, 2 * UNIT_CENTS, BOUGHT * UNIT_CENTS + 1]),
        kind=st.sampled_from(["refund.issued", "refund.issued", "refund.failed"]),
    )
    def marketplace_refunds(self, data: st.DataObject, amount: int, kind: str) -> None:
        return_request = ReturnRequest.objects.get(
            pk=data.draw(st.sampled_from(sorted(self.statuses)))
        )
        self._deliver(
            kind,
            {
                "order_number": self.order.number,
                "return_reference": return_request.reference,
                "amount_cents": amount,
                "currency": "USD",
                "reason": "Returned",
            },
        )

    def _deliver(self, kind: str, data: dict[str, Any]) -> None:
        payload = {
            "id": f"lifecycle-{self.order.pk}-{next(self.events)}",
            "type": kind,
            "occurred_at": self.now.isoformat(),
            "data": data,
        }
        # A refund past what was paid is refused as a whole: the invariants see that
        # nothing moved.
        with contextlib.suppress(return_actions.RefundTooLarge):
            actions.receive_marketplace_event(events.parse_event(payload), payload)

    def _is_the_marketplaces(self, return_id: int) -> bool:
        return ReturnRequest.objects.filter(pk=return_id, storefront__isnull=True).exists()

    def _status(self, return_id: int) -> str:
        return ReturnRequest.objects.values_list("status", flat=True).get(pk=return_id)

    # --- what must always hold ------------------------------------------------------------

    @invariant()
    def every_return_moved_by_the_rules(self) -> None:
        if not hasattr(self, "order"):
            return
        for return_id, status in ReturnRequest.objects.filter(order=self.order).values_list(
            "id", "status"
        ):
            before = self.statuses.get(return_id, status)
            assert before == status or (before, status) in ALLOWED, (before, status)
            self.statuses[return_id] = status

    @invariant()
    def refunds_never_pass_what_was_paid_nor_twice_per_return(self) -> None:
        if not hasattr(self, "order"):
            return
        issued = Refund.objects.filter(order=self.order, status=RefundStatus.ISSUED)
        total = issued.aggregate(total=Sum("amount_cents"))["total"] or 0
        assert total <= self.order.total_cents
        per_return = issued.values("return_request").annotate(n=Count("id"))
        assert all(row["n"] == 1 for row in per_return if row["return_request"] is not None)

    @invariant()
    def one_return_per_reference(self) -> None:
        if not hasattr(self, "order"):
            return
        references = list(
            ReturnRequest.objects.filter(order=self.order).values_list("reference", flat=True)
        )
        assert len(references) == len(set(references))

    @invariant()
    def refunded_returns_have_their_refund(self) -> None:
        if not hasattr(self, "order"):
            return
        for return_request in ReturnRequest.objects.filter(
            order=self.order, status=ReturnStatus.REFUNDED
        ):
            assert return_request.refunds.filter(status=RefundStatus.ISSUED).count() == 1

    @invariant()
    def an_order_refunded_in_full_leaves_no_return_open(self) -> None:
        """Its refunds cover every unit: nothing is left to refund or replace, so no return
        of it waits for a step that could never come."""
        if not hasattr(self, "order"):
            return
        if queries.refunded_cents(self.order) < self.order.total_cents:
            return
        assert not ReturnRequest.objects.filter(
            order=self.order, status__in=return_actions.OPEN
        ).exists()
        assert (
            not ReturnRequest.objects.filter(order=self.order, status=ReturnStatus.CLOSED)
            .filter(refunds__status=RefundStatus.ISSUED)
            .exists()
        )


def test_the_return_lifecycle_keeps_its_rules() -> None:
    run_state_machine_as_test(
        ReturnLifecycle,
        settings=hypothesis_settings(
            max_examples=25,
            stateful_step_count=25,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )


def test_the_window_edge_is_to_the_second() -> None:
    """The same edge, named: the last second in, the first second out."""
    machine = ReturnLifecycle()
    machine.an_order_delivered_now("refund")
    entries = [machine.item]
    last_in = queries.returnability(
        machine.order, entries, machine.closes_at - timedelta(seconds=1)
    )
    first_out = queries.returnability(machine.order, entries, machine.closes_at)

    assert last_in.items[0].refusal is None
    assert first_out.items[0].refusal is not None
    assert isinstance(first_out.items[0].refusal, str)
