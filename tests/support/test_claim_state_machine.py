"""The claim lifecycle as a state machine (hypothesis RuleBasedStateMachine), against a
model of the rules in docs/support.md#stages-and-deadlines, with a frozen clock only the
machine moves.

Every rule is tried in every state: what the rules allow must happen exactly as the model
says, and everything else must be refused with its code and change nothing. Deadlines are
honoured to the second on both sides: the machine jumps to one second before a deadline,
to the deadline itself and past it, then responds, appeals or sweeps — one second before,
the seller or buyer is still in time and the sweep leaves the claim; at the deadline, they
are refused and the sweep moves it. After every step the claim, its case (status, due_at,
queue counters), the refunds and both parties' unread counts are checked against the
model and the database.
"""

from datetime import datetime, timedelta

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.errors import MessageCenterError
from messagecenter.marketplace.models import Refund
from messagecenter.support import claim_actions, queries
from messagecenter.support.models import CASE_STATUS_OF_STAGE, Case, Claim
from tests import factories
from tests.conversations.helpers import maintained_unread, recounted_unread
from tests.state_machines import InOneSavepoint

pytestmark = pytest.mark.django_db

SELLER_WINDOW = timedelta(hours=48)
APPEAL_WINDOW = timedelta(days=30)
FILING_WINDOW = timedelta(days=90)
ORDER_TOTAL = 12_999


class ClaimLifecycle(InOneSavepoint):
    """One order, its buyer, its seller and a claims agent; the model: the claim's stage,
    its deadline, whether it was appealed, what it refunded."""

    frozen_clock = True

    def __init__(self) -> None:
        super().__init__()
        self.stage: str | None = None
        self.due: datetime | None = None
        self.appealed = False
        self.refunded = 0

    @initialize()
    def a_claimable_order(self) -> None:
        self.buyer: User = factories.BuyerFactory()
        self.seller: User = factories.SellerFactory()
        self.agent = factories.agent_in_team("claims")
        product = factories.ProductFactory(
            storefront=self.seller.storefront, price_cents=ORDER_TOTAL
        )
        self.order = factories.order_with_item(
            self.buyer, product, placed_at=self.now - timedelta(days=20)
        )
        conversation_actions.contact_seller_about_order(
            self.buyer, self.order.pk, product.storefront_id, "Where is my order?"
        )
        self.now += timedelta(hours=48)
        # Filed at the start (refusals before any claim: tests/support/test_claims.py), so
        # every example spends its steps on the lifecycle.
        self.claim_id = claim_actions.file_claim(
            self.buyer, self.order.number, "not_received", "Lost."
        ).pk
        self.stage, self.due = "seller_response", self.now + SELLER_WINDOW

    # --- time ------------------------------------------------------------------------------

    @rule(seconds=st.sampled_from([1, 59, 3600, 86_400, 47 * 3600 + 3599, 29 * 86_400]))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @precondition(lambda self: self.due is not None)
    @rule(offset=st.sampled_from([-1, 0, 1]), then_sweep=st.booleans())
    def to_the_deadline(self, offset: int, then_sweep: bool) -> None:
        """One second before the deadline, the deadline itself, one second after — and
        the sweep at that very moment, or the seller's or buyer's attempt next."""
        assert self.due is not None
        self.now = self.due + timedelta(seconds=offset)
        if then_sweep:
            self.the_sweep_runs()

    # --- the people ------------------------------------------------------------------------

    @rule(reason=st.sampled_from(["not_received", "not_as_described"]))
    def buyer_files(self, reason: str) -> None:
        if self.now >= self.order.placed_at + FILING_WINDOW:
            self._refused(
                "claim_window_closed",
                lambda: claim_actions.file_claim(self.buyer, self.order.number, reason, "Late."),
            )
            return
        if reason == "not_as_described":
            self._refused(
                "claim_already_filed" if self.stage == "closed" else "claim_already_open",
                lambda: claim_actions.file_claim(
                    self.buyer, self.order.number, reason, "Not what I ordered."
                ),
            )
            return
        self._refused(
            "claim_already_filed" if self.stage == "closed" else "claim_already_open",
            lambda: claim_actions.file_claim(self.buyer, self.order.number, reason, "Again."),
        )

    @rule()
    def seller_responds(self) -> None:
        respond = lambda: claim_actions.respond_to_claim(  # noqa: E731
            self.seller, self.claim_id, "Here is the tracking."
        )
        if self.stage != "seller_response":
            self._refused("claim_not_awaiting_seller", respond)
        elif self.due is not None and self.now >= self.due:
            self._refused("claim_response_window_closed", respond)
        else:
            respond()
            self.stage, self.due = "decision", None

    @rule(
        outcome=st.sampled_from(["granted", "denied"]),
        refund=st.sampled_from([0, 1, 5_000, ORDER_TOTAL, ORDER_TOTAL + 1]),
    )
    def agent_decides(self, outcome: str, refund: int) -> None:
        decide = lambda: claim_actions.decide_claim(  # noqa: E731
            self.agent,
            self.claim_id,
            outcome,
            "Decided on the evidence.",
            refund_cents=refund if outcome == "granted" else None,
        )
        # A grant names its refund, unless the order was refunded in full already (by
        # this claim, before an appeal): then none is left to name.
        nothing_left = self.refunded == ORDER_TOTAL
        if outcome == "granted" and not (
            0 < refund <= ORDER_TOTAL or (refund == 0 and nothing_left)
        ):
            self._refused("invalid_refund_amount", decide)
        elif self.stage != "decision":
            self._refused("claim_not_awaiting_decision", decide)
        elif outcome == "granted" and refund and refund < self.refunded:
            self._refused("refund_below_earlier", decide)
        else:
            decide()
            if outcome == "granted" and refund:
                self.refunded = refund
            if self.appealed:
                self.stage, self.due = "closed", None
            else:
                self.stage, self.due = "appeal_window", self.now + APPEAL_WINDOW

    @rule()
    def buyer_appeals(self) -> None:
        appeal = lambda: claim_actions.appeal_claim(  # noqa: E731
            self.buyer, self.claim_id, "Please look again."
        )
        if self.appealed:
            self._refused("claim_already_appealed", appeal)
        elif self.stage != "appeal_window":
            self._refused("claim_not_appealable", appeal)
        elif self.due is not None and self.now >= self.due:
            self._refused("claim_appeal_window_closed", appeal)
        else:
            appeal()
            self.appealed = True
            self.stage, self.due = "decision", None

    @rule()
    def someone_writes_in_the_claim(self) -> None:
        """A message in the claim's conversation never moves the claim."""
        conversation_id = Case.objects.get(pk=self.claim_id).conversation_id
        assert conversation_id is not None
        conversation_actions.send_message(self.buyer, conversation_id, "Any news?")

    @rule()
    def the_sweep_runs(self) -> None:
        expected = 0
        if self.due is not None and self.now >= self.due:
            expected = 1
            self.stage = "decision" if self.stage == "seller_response" else "closed"
            self.due = None
        assert claim_actions.sweep_claim_deadlines() == expected

    def _refused(self, code: str, attempt: object) -> None:
        before = self._state()
        with pytest.raises(MessageCenterError) as refused:
            attempt()  # type: ignore[operator]
        assert refused.value.code == code, refused.value.message
        assert self._state() == before

    def _state(self) -> tuple[object, ...]:
        claim = Claim.objects.filter(pk=self.claim_id).values_list(
            "stage", "refunded_cents", "appealed_at"
        )
        return (
            list(claim),
            list(Case.objects.values_list("pk", "status", "due_at")),
            Refund.objects.count(),
            queries.stored_counts(),
        )

    # --- what must always hold ---------------------------------------------------------------

    @invariant()
    def the_claim_is_what_the_model_says(self) -> None:
        claim = Claim.objects.select_related("case").get(pk=self.claim_id)
        assert claim.stage == self.stage
        assert claim.case.status == CASE_STATUS_OF_STAGE[claim.stage]
        assert claim.case.due_at == self.due
        assert (claim.appealed_at is not None) == self.appealed
        assert claim.refunded_cents == self.refunded
        assert sum(Refund.objects.values_list("amount_cents", flat=True)) == self.refunded
        assert Claim.objects.exclude(stage="closed").count() == (self.stage != "closed")

    @invariant()
    def counts_and_badges_stay_true(self) -> None:
        assert queries.stored_counts() == queries.recount()
        for person in (self.buyer, self.seller):
            assert maintained_unread(person) == recounted_unread(person)


def test_the_claim_lifecycle_follows_its_rules_to_the_second(db: None) -> None:
    run_state_machine_as_test(
        ClaimLifecycle,
        settings=settings(
            max_examples=25,
            stateful_step_count=15,
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow],
        ),
    )
