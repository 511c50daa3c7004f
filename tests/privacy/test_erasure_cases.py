"""Erasure and customer service (docs/privacy.md#erasure): an erased person's requests
leave the agents' queues and take no more answers, a claim keeps the marketplace's
subject its seller reads, and a second erasure by the old username says why it finds
no account."""

from datetime import timedelta
from typing import Any

import pytest
from django.core.management import CommandError, call_command
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Conversation, Message, Participant
from messagecenter.errors import Conflict
from messagecenter.marketplace.models import Product
from messagecenter.privacy.erasure import REMOVED, erase_person
from messagecenter.support import actions as support_actions
from messagecenter.support import claim_actions, escalation_actions, queries, report_actions
from messagecenter.support.models import Case, CaseEvent, CaseStatus
from tests import factories
from tests.api.helpers import error_of, with_token
from tests.support.claims import Clock, claimable_order, clock

pytestmark = pytest.mark.django_db

__all__ = ["clock"]


@pytest.fixture
def admin_user(db: None) -> User:
    user: User = factories.UserFactory(
        username="opsadmin", role=Role.ADMIN, is_staff=True, is_superuser=True
    )
    return user


def test_their_waiting_requests_are_closed_and_agents_cannot_answer_them(
    buyer: User, admin_user: User
) -> None:
    """Erased, bob's open requests stayed in the Unassigned queue as "erased-2 / [removed…]"
    and an agent's answer was accepted (201): a message to no one."""
    agent = factories.agent_in_team("customer-service", username="carla")
    waiting = support_actions.open_request(buyer, "Where is my parcel?", "Still nothing.")
    answered = support_actions.open_request(buyer, "A second question", "And this?")
    support_actions.reply_to_case(agent, answered.pk, "We are on it.")  # pending now
    solved = support_actions.open_request(buyer, "Thanks", "All good.")
    support_actions.reply_to_case(agent, solved.pk, "Glad to help.", status=CaseStatus.SOLVED)

    erasure = erase_person(admin_user, buyer)

    statuses = dict(Case.objects.filter(customer=buyer).values_list("pk", "status"))
    assert statuses == {
        waiting.pk: CaseStatus.CLOSED,
        answered.pk: CaseStatus.CLOSED,
        # Already answered and solved: nothing waits on it.
        solved.pk: CaseStatus.SOLVED,
    }
    # Out of the queues, the maintained counts still the recount.
    assert queries.stored_counts() == queries.recount()
    event = CaseEvent.objects.filter(case=waiting, kind="status").get()
    assert event.actor == admin_user
    assert event.detail == {"previous": "open", "status": "closed", "reason": "customer_erased"}
    lines = [line for _, line in queries.case_history(Case.objects.get(pk=waiting.pk))]
    assert any("erased the customer at their request: the case is closed" in x for x in lines)
    cases_kept = next(k for k in erasure.kept if k["what"] == "customer-service cases and claims")
    assert "2 still waiting for an answer closed" in cases_kept["why"]

    # An answer is refused with the reason, on a closed case and on a solved one alike.
    for case in (waiting, solved):
        with pytest.raises(Conflict) as refused:
            support_actions.reply_to_case(agent, case.pk, "Hello?")
        assert refused.value.code == "customer_erased"
    response = with_token(agent).post(f"/agent/cases/{waiting.pk}/messages", {"body": "Hello?"})
    assert error_of(response) == (409, "customer_erased")
    assert "erased at their request" in response.json()["error"]["message"]


def test_a_claim_goes_on_and_keeps_the_marketplace_s_subject(
    buyer: User, seller: User, product: Product, admin_user: User, clock: Clock
) -> None:
    """The claim conversation's subject, the marketplace's words ("Claim: … — order …"),
    became "[removed at the person's request]": the seller lost what it was about. Only
    the subjects the person wrote go."""
    claim = claim_actions.file_claim(
        buyer, claimable_order(buyer, product, clock).number, "not_received", "It never came."
    )
    request = support_actions.open_request(buyer, "My own words, quince", "Help.")
    claim_subject = Conversation.objects.get(pk=claim.case.conversation_id).subject
    case_subject = claim.case.subject
    assert claim_subject.startswith("Claim: ")

    erase_person(admin_user, buyer)

    claim.case.refresh_from_db()
    assert Conversation.objects.get(pk=claim.case.conversation_id).subject == claim_subject
    assert claim.case.subject == case_subject
    # The claim still waits for the seller: they and the claims team go on with it.
    assert claim.case.status == CaseStatus.PENDING
    request.refresh_from_db()
    assert request.subject == REMOVED
    assert Conversation.objects.get(pk=request.conversation_id).subject == REMOVED


def test_erasing_again_by_the_old_username_says_the_name_is_gone(
    buyer: User, admin_user: User, capsys: Any
) -> None:
    """A second `erase_person bob` said "No such account.", though the docs promise
    already_erased: erasure keeps no record of the old username (by design), so the
    command says that is why, and how to find the account."""
    call_command("erase_person", buyer.username, by="opsadmin")
    pseudonym = f"erased-{buyer.pk}"
    assert f"Erased: now {pseudonym}." in capsys.readouterr().out

    with pytest.raises(CommandError) as again:
        call_command("erase_person", buyer.username, by="opsadmin")
    message = str(again.value)
    assert f"No account is named “{buyer.username}”" in message
    assert "If it was erased already" in message
    assert "keeps no record of its old username" in message

    with pytest.raises(CommandError, match=r"This person was erased already\."):
        call_command("erase_person", pseudonym, by="opsadmin")
    with pytest.raises(CommandError, match=r"No account is named “nobody” \(--by\)"):
        call_command("erase_person", pseudonym, by="nobody")


def test_an_erased_customer_s_solved_request_is_not_opened_again_nor_answered_in_the_console(
    buyer: User, admin_user: User
) -> None:
    """Erasure leaves a solved request solved, but an agent could still set it open (or
    waiting on the customer) again — back in the queues, to be answered to no one — and
    its page still offered the reply box, which the answer then refused. Now both are
    refused as an answer is (409 customer_erased), and the page says why instead."""
    agent = factories.agent_in_team("customer-service", username="carla")
    solved = support_actions.open_request(buyer, "Thanks", "All good.")
    support_actions.reply_to_case(agent, solved.pk, "Glad to help.", status=CaseStatus.SOLVED)
    erase_person(admin_user, buyer)
    console = factories.signed_in(agent)

    for status in (CaseStatus.OPEN, CaseStatus.PENDING):
        with pytest.raises(Conflict) as refused:
            support_actions.set_case_status(agent, solved.pk, status)
        assert refused.value.code == "customer_erased"
        response = with_token(agent).post(f"/agent/cases/{solved.pk}/status", {"status": status})
        assert error_of(response) == (409, "customer_erased")
        page = console.post(
            f"/console/cases/{solved.pk}/actions/", {"action": "status", "status": status}
        )
        assert page.status_code == 409
        assert "erased at their request" in page.content.decode()
    assert Case.objects.get(pk=solved.pk).status == CaseStatus.SOLVED
    assert queries.stored_counts() == queries.recount()

    page = console.get(f"/console/cases/{solved.pk}/").content.decode()
    assert f'action="/console/cases/{solved.pk}/reply/"' not in page
    assert 'value="status"' not in page
    assert 'data-testid="customer-erased"' in page
    assert "account was erased at their request: nobody would read an answer" in page


def test_an_erased_buyer_s_solved_request_for_help_is_not_opened_again_from_the_console(
    buyer: User, seller: User, product: Product, admin_user: User
) -> None:
    """Writing to the buyer and the seller from a solved request opens it again: not for a
    buyer who was erased since (the same 409 customer_erased), and the page says why."""
    order = factories.order_with_item(buyer, product)
    question = conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "Where is my parcel?"
    )
    Participant.objects.filter(user=seller).update(
        response_due_at=timezone.now() - timedelta(minutes=1)
    )
    case = escalation_actions.ask_for_help(buyer, question.conversation_id)
    agent = factories.agent_in_team("customer-service")
    support_actions.set_case_status(agent, case.pk, CaseStatus.SOLVED)
    erase_person(admin_user, buyer)
    before = Message.objects.count()

    with pytest.raises(Conflict) as refused:
        escalation_actions.write_in_conversation(agent, case.pk, question.conversation_id, "Hello?")

    assert refused.value.code == "customer_erased"
    assert Message.objects.count() == before
    assert Case.objects.get(pk=case.pk).status == CaseStatus.SOLVED
    page = factories.signed_in(agent).get(
        f"/console/cases/{case.pk}/conversations/{question.conversation_id}/"
    )
    text = page.content.decode()
    assert 'id="write-body"' not in text
    assert "This customer's account was erased at their request" in text


def test_a_report_by_someone_erased_since_is_still_reviewed(
    buyer: User, seller: User, product: Product, admin_user: User
) -> None:
    """A report's case is the review of someone else: its first reporter, the case's
    customer for the queue's sake, being erased stops nothing."""
    order = factories.order_with_item(buyer, product)
    scam = conversation_actions.contact_buyer_about_order(
        seller, order.pk, "Pay me by wire transfer outside the marketplace."
    )
    filing = report_actions.report_message(buyer, scam.pk, "scam")
    safety = factories.agent_in_team("trust-and-safety")
    erase_person(admin_user, buyer)

    # (Solved: a report has nobody to wait on, so pending is refused for any report.)
    changed = support_actions.set_case_status(safety, filing.report_id, CaseStatus.SOLVED)

    assert changed.status == CaseStatus.SOLVED
