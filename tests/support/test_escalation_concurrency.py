"""Two "Ask customer service to help" clicks at once (a double click, two tabs, a retry)
give one request: the action checks for an open one under the conversation's participant
locks, so the second waits for the first and then refuses with its number. The same locks
keep it one when an agent's message opens a solved request again while the buyer asks
anew. Each call in its own thread and database connection, on SQLite and on PostgreSQL
(docs/escalation.md)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Conversation, Kind, Message, Participant
from messagecenter.errors import Conflict
from messagecenter.marketplace.models import Product
from messagecenter.support import actions, escalation_actions, queries
from messagecenter.support.models import ACTIVE, Case, CaseStatus
from tests import factories
from tests.conversations.test_concurrency import in_threads

pytestmark = pytest.mark.django_db(transaction=True)

CLICKS = 10


def test_clicks_at_once_open_one_request_and_the_others_are_told_its_number(
    buyer: User, seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)
    question = conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "Where is my parcel?"
    )
    Participant.objects.filter(user=seller).update(
        response_due_at=timezone.now() - timedelta(minutes=1)
    )

    def click() -> Case | Conflict:
        try:
            return escalation_actions.ask_for_help(buyer, question.conversation_id)
        except Conflict as refused:
            return refused

    answers = in_threads([click for _ in range(CLICKS)])

    cases = [answer for answer in answers if isinstance(answer, Case)]
    refusals = [answer for answer in answers if isinstance(answer, Conflict)]
    assert len(cases) == 1
    assert len(refusals) == CLICKS - 1
    assert {refused.code for refused in refusals} == {"already_asked_for_help"}
    assert {refused.message for refused in refusals} == {
        f"Customer service is already helping with this conversation ({cases[0].number}): "
        "follow it in your Customer service folder."
    }
    # Nothing of the refused clicks is left: one case, one customer-service conversation,
    # and the queue counters agree with the cases.
    assert list(Case.objects.values_list("about_conversation_id", flat=True)) == [
        question.conversation_id
    ]
    assert Conversation.objects.filter(kind=Kind.CUSTOMER_SERVICE).count() == 1
    assert queries.stored_counts() == queries.recount()


ROUNDS = 4


def test_an_agent_opening_a_solved_request_again_and_the_buyer_asking_anew_leave_one_open(
    buyer: User, seller: User, product: Product
) -> None:
    """The agent writes from a solved request (which opens it again) while the buyer asks
    for help again about the same conversation: whichever comes first, the other is
    refused, and one request about the conversation is open, never two."""
    agent = factories.agent_in_team()
    for round_number in range(ROUNDS):
        order = factories.order_with_item(buyer, product)
        question = conversation_actions.contact_seller_about_order(
            buyer, order.pk, product.storefront_id, f"Where is parcel {round_number}?"
        )
        conversation_id = question.conversation_id
        Participant.objects.filter(user=seller, conversation_id=conversation_id).update(
            response_due_at=timezone.now() - timedelta(minutes=1)
        )
        solved = escalation_actions.ask_for_help(buyer, conversation_id)
        actions.set_case_status(agent, solved.pk, CaseStatus.SOLVED)

        def click(about: int = conversation_id) -> Case | Conflict:
            try:
                return escalation_actions.ask_for_help(buyer, about)
            except Conflict as refused:
                return refused

        def write(solved_id: int = solved.pk, about: int = conversation_id) -> Message | Conflict:
            try:
                return escalation_actions.write_in_conversation(
                    agent, solved_id, about, "We are on it again."
                )
            except Conflict as refused:
                return refused

        clicked, written = in_threads([click, write])

        active = Case.objects.filter(about_conversation_id=conversation_id, status__in=ACTIVE)
        assert active.count() == 1
        if isinstance(clicked, Case):
            assert isinstance(written, Conflict)
            assert written.code == "newer_request_open"
            assert list(active) == [clicked]
        else:
            assert clicked.code == "already_asked_for_help"
            assert isinstance(written, Message)
            assert list(active.values_list("pk", flat=True)) == [solved.pk]
    assert queries.stored_counts() == queries.recount()
