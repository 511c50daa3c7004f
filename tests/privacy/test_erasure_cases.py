"""Erasure and customer service (docs/privacy.md#erasure): an erased person's requests
leave the agents' queues and take no more answers, a claim keeps the marketplace's
subject its seller reads, and a second erasure by the old username says why it finds
no account."""

from typing import Any

import pytest
from django.core.management import CommandError, call_command

from messagecenter.accounts.models import Role, User
from messagecenter.conversations.models import Conversation
from messagecenter.errors import Conflict
from messagecenter.marketplace.models import Product
from messagecenter.privacy.erasure import REMOVED, erase_person
from messagecenter.support import actions as support_actions
from messagecenter.support import claim_actions, queries
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
