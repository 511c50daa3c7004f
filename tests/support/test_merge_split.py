"""Merging a duplicate into another case and splitting a message out into a case of its
own (docs/support.md, "Merging and splitting"): counters always equal a recount, the
customer is told, the merged conversation stays reachable from the kept case."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations import hooks as conversation_hooks
from messagecenter.conversations.models import Message, Participant
from messagecenter.errors import Conflict, InvalidInput, NotFound
from messagecenter.marketplace.models import Product
from messagecenter.privacy.erasure import erase_person
from messagecenter.support import (
    actions,
    claim_actions,
    escalation_actions,
    queries,
    report_actions,
)
from messagecenter.support.models import UNASSIGNED, Case, CaseEvent, CaseNote, Team, TeamMember
from tests import factories
from tests.api.helpers import error_of, with_token
from tests.support.claims import Clock, claimable_order, clock

# The claims' frozen clock, a fixture.
__all__ = ["clock"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def agent(db: None) -> User:
    return factories.agent_in_team(username="priya", first_name="Priya", last_name="Natarajan")


def counts_are_true() -> None:
    assert queries.stored_counts() == queries.recount()


def bodies(conversation_id: int | None) -> list[str]:
    return list(
        Message.objects.filter(conversation_id=conversation_id)
        .order_by("id")
        .values_list("body", flat=True)
    )


def test_merging_a_duplicate_leaves_one_case_in_the_queue_with_everything(
    buyer: User, agent: User
) -> None:
    kept = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    duplicate = actions.open_request(buyer, "Where is my parcel??", "Still nothing!")
    actions.take_case(agent, duplicate.pk)
    actions.add_note(agent, duplicate.pk, "Asked twice.")

    result = actions.merge_cases(agent, duplicate.pk, kept.number)

    assert result.pk == kept.pk
    duplicate.refresh_from_db()
    assert (duplicate.merged_into_id, duplicate.status, duplicate.assignee_id) == (
        kept.pk,
        "closed",
        None,
    )
    # In no queue, in no count: only the kept case waits.
    assert queries.stored_counts() == {(kept.team_id, "open", UNASSIGNED): 1}
    counts_are_true()
    assert [c.pk for c in queries.queue_page(agent, queries.UNASSIGNED_VIEW).cases] == [kept.pk]
    assert queries.queue_page(agent, queries.SOLVED).cases == []
    assert queries.queue_counts(agent)["mine"] == 0
    # The agent left the duplicate's conversation; the kept case shows both, and the notes.
    assert not Participant.objects.filter(
        conversation_id=duplicate.conversation_id, user=agent
    ).exists()
    shown = {(m.body, m.from_case_id) for m in queries.case_messages(kept)}
    assert ("Still nothing!", duplicate.pk) in shown
    assert ("Order 1 has not arrived.", kept.pk) in shown
    assert [note.body for note in queries.case_notes(kept)] == ["Asked twice."]
    assert queries.merged_cases(kept) == [duplicate]
    # The customer is told in both conversations, and the duplicate's line says where.
    assert (
        f"merged this request ({duplicate.number}) into your request {kept.number}"
        in (bodies(duplicate.conversation_id)[-1])
    )
    assert f"merged your request {duplicate.number}" in bodies(kept.conversation_id)[-1]
    line = conversation_hooks.status_line(buyer, "customer_service", duplicate.conversation_id)
    assert line is not None
    assert line.label == f"Merged into {kept.number}"
    assert [e.kind for e in CaseEvent.objects.filter(case=kept).order_by("id")][-1] == "merged"


def test_a_reply_in_the_merged_conversation_moves_the_kept_case(buyer: User, agent: User) -> None:
    kept = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    duplicate = actions.open_request(buyer, "Parcel??", "Still nothing!")
    actions.merge_cases(agent, duplicate.pk, kept.pk)
    actions.reply_to_case(agent, kept.pk, "It is on its way.")
    assert Case.objects.get(pk=kept.pk).status == "pending"

    conversation_actions.send_message(buyer, duplicate.conversation_id, "Thanks, and the other?")

    assert Case.objects.get(pk=kept.pk).status == "open"
    assert Case.objects.get(pk=duplicate.pk).status == "closed"
    counts_are_true()


def test_what_cannot_be_merged_changes_nothing(buyer: User, agent: User) -> None:
    other_buyer = factories.BuyerFactory()
    first = actions.open_request(buyer, "One", "First.")
    second = actions.open_request(buyer, "Two", "Second.")
    theirs = actions.open_request(other_buyer, "Three", "Third.")
    before = queries.stored_counts()

    with pytest.raises(InvalidInput) as other_customer:
        actions.merge_cases(agent, first.pk, theirs.pk)
    with pytest.raises(InvalidInput) as itself:
        actions.merge_cases(agent, first.pk, first.pk)
    actions.merge_cases(agent, first.pk, second.pk)
    with pytest.raises(Conflict) as again:
        actions.merge_cases(agent, first.pk, second.pk)
    with pytest.raises(InvalidInput) as into_merged:
        actions.merge_cases(agent, second.pk, first.pk)

    assert (other_customer.value.code, itself.value.code) == (
        "merge_other_customer",
        "merge_into_itself",
    )
    assert (again.value.code, into_merged.value.code) == (
        "case_already_merged",
        "merge_into_merged",
    )
    assert Case.objects.get(pk=theirs.pk).merged_into_id is None
    assert queries.stored_counts() == {
        key: count - (1 if key == (first.team_id, "open", UNASSIGNED) else 0)
        for key, count in before.items()
    }
    counts_are_true()


def test_only_requests_are_merged_never_a_claim_or_a_report(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """A claim or a report has its own stages, team and decision, which a request's page
    does not show: merged away, a claim waited for a decision nobody could make, and a
    report was closed unreviewed with its number told to the reporter."""
    agent = factories.agent_in_team("customer-service")
    for slug in ("claims", "trust-and-safety"):
        team, _ = Team.objects.get_or_create(slug=slug, defaults={"name": slug})
        TeamMember.objects.create(team=team, agent=agent)
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "It never came.")
    scam = conversation_actions.contact_buyer_about_order(
        seller, order.pk, "Verify your card at https://rnarketplace-verify.example/login now."
    )
    report = report_actions.report_message(buyer, scam.pk, "scam").report
    request = actions.open_request(buyer, "Where is it?", "Order not here.")
    before = queries.stored_counts()

    refusals = []
    for duplicate, kept in (
        (claim.case, request),
        (request, claim.case),
        (report.case, request),
        (request, report.case),
    ):
        with pytest.raises(InvalidInput) as refused:
            actions.merge_cases(agent, duplicate.pk, kept.pk)
        refusals.append((refused.value.code, str(refused.value)))
    through_the_api = with_token(agent).post(
        f"/agent/cases/{claim.case.pk}/merge", {"into_case_id": request.pk}
    )
    page = Client()
    page.force_login(agent)
    claims_page = page.get(f"/console/cases/{claim.case.pk}/").content.decode()
    requests_page = page.get(f"/console/cases/{request.pk}/").content.decode()

    assert refusals[0] == (
        "merge_requests_only",
        f"{claim.case.number} is a guarantee claim: only customer-service requests can be merged.",
    )
    assert refusals[2][1].startswith(f"{report.case.number} is a report:")
    assert {code for code, _ in refusals} == {"merge_requests_only"}
    assert error_of(through_the_api) == (400, "merge_requests_only")
    assert 'value="merge"' not in claims_page
    assert 'value="merge"' in requests_page
    assert not Case.objects.filter(merged_into__isnull=False).exists()
    assert queries.stored_counts() == before
    counts_are_true()


def test_splitting_a_message_opens_its_own_case_and_tells_the_customer(
    buyer: User, agent: User
) -> None:
    case = actions.open_request(buyer, "Two questions", "Where is order 1?")
    actions.reply_to_case(agent, case.pk, "On its way.")
    second = conversation_actions.send_message(
        buyer, case.conversation_id, "Also: can I change the address of order 2?"
    )

    new = actions.split_case(agent, case.pk, second.pk)

    assert (new.kind, new.team_id, new.status, new.about_message_id) == (
        "request",
        case.team_id,
        "open",
        second.pk,
    )
    assert new.queued_at == second.created_at
    assert new.conversation_id not in (None, case.conversation_id)
    assert Participant.objects.get(conversation_id=new.conversation_id).user_id == buyer.pk
    assert "can I change the address of order 2?" in bodies(new.conversation_id)[0]
    assert f"a new request, {new.number}" in bodies(case.conversation_id)[-1]
    assert next(line for _, line in queries.case_history(new)) == (
        f"Priya Natarajan split it out of {case.number}"
    )
    counts_are_true()
    assert queries.queue_counts(agent)["team"] == 2


def test_a_split_quotes_the_customers_links_defanged_never_as_links(
    buyer: User, agent: User
) -> None:
    """The quote of the message carried into the new case, and the excerpt left in the
    old one, are the marketplace's (Official) words: their page links up addresses, and
    mail apps do in their e-mails. They quoted a link as the customer wrote it — often a
    link someone sent them — so a page that vouches for the marketplace carried it live."""
    case = actions.open_request(buyer, "Two questions", "Where is order 1?")
    second = conversation_actions.send_message(
        buyer,
        case.conversation_id,
        "Also: http://parcel-track.example/pay?id=7 asks me to pay customs, is it yours?",
    )

    new = actions.split_case(agent, case.pk, second.pk)

    quoted, moved = bodies(new.conversation_id)[0], bodies(case.conversation_id)[-1]
    assert "“Also: hxxp://parcel-track[.]example/pay?id=7 asks me to pay customs" in quoted
    assert "“Also: hxxp://parcel-track[.]example/pay?id=7 asks me to pay" in moved
    for body in (quoted, moved):
        assert "parcel-track.example" not in body
    for conversation_id in (new.conversation_id, case.conversation_id):
        client = Client()
        client.force_login(buyer)
        page = client.get(f"/message-center/conversations/{conversation_id}/").content.decode()
        assert 'href="http://parcel-track' not in page
        assert 'href="hxxp' not in page


def test_an_erased_customers_solved_request_is_not_split_and_offers_no_split(
    buyer: User, agent: User
) -> None:
    """A solved request stays solved when its customer is erased; splitting one of its
    messages went through — a new open request in the team's queue, for someone who can
    no longer read it nor answer — and the console offered the button."""
    case = actions.open_request(buyer, "Two questions", "Where is order 1?")
    actions.reply_to_case(agent, case.pk, "On its way.")
    second = conversation_actions.send_message(
        buyer, case.conversation_id, "Also: can I change the address of order 2?"
    )
    actions.set_case_status(agent, case.pk, "solved")
    erase_person(factories.UserFactory(role="admin", is_staff=True, is_superuser=True), buyer)
    cases = Case.objects.count()

    with pytest.raises(Conflict) as refused:
        actions.split_case(agent, case.pk, second.pk)

    assert refused.value.code == "customer_erased"
    assert Case.objects.count() == cases
    counts_are_true()
    page = factories.signed_in(agent).get(f"/console/cases/{case.pk}/").content.decode()
    assert 'value="split"' not in page
    assert "was erased at their request" in page


def test_only_the_customers_messages_of_the_case_can_be_split(buyer: User, agent: User) -> None:
    case = actions.open_request(buyer, "Question", "Where is it?")
    other = actions.open_request(buyer, "Other", "Elsewhere.")
    answer = actions.reply_to_case(agent, case.pk, "On its way.")
    elsewhere = Message.objects.filter(conversation_id=other.conversation_id).first()
    assert elsewhere is not None

    [asked] = Message.objects.filter(conversation_id=case.conversation_id, sender=buyer)
    with pytest.raises(InvalidInput) as agents_message:
        actions.split_case(agent, case.pk, answer.pk)
    with pytest.raises(NotFound) as other_case:
        actions.split_case(agent, case.pk, elsewhere.pk)
    # A subject the agent typed too long is refused, not cut.
    with pytest.raises(InvalidInput) as too_long:
        actions.split_case(agent, case.pk, asked.pk, "x" * 201)

    assert agents_message.value.code == "not_a_customer_message"
    assert other_case.value.code == "message_not_found"
    assert too_long.value.code == "subject_too_long"
    assert Case.objects.count() == 2
    counts_are_true()


def test_a_merged_duplicate_cannot_be_taken_or_assigned(
    client: Client, buyer: User, agent: User
) -> None:
    """An agent's page or app opened before the merge still offers Take and Assign on the
    duplicate: given to someone, it moved the queue counters of a case no queue counts."""
    kept = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    duplicate = actions.open_request(buyer, "Where is my parcel??", "Still nothing!")
    actions.merge_cases(agent, duplicate.pk, kept.pk)
    teammate = factories.agent_in_team(username="tess")

    for attempt in (
        lambda: actions.take_case(agent, duplicate.pk),
        lambda: actions.assign_case(agent, duplicate.pk, teammate.pk),
    ):
        with pytest.raises(InvalidInput) as refused:
            attempt()
        assert refused.value.code == "case_merged"
    api = with_token(agent)
    assert error_of(api.post(f"/agent/cases/{duplicate.pk}/take")) == (400, "case_merged")
    assigned = api.post(f"/agent/cases/{duplicate.pk}/assign", {"assignee_id": teammate.pk})
    assert error_of(assigned) == (400, "case_merged")
    client.force_login(agent)
    taken = client.post(f"/console/cases/{duplicate.pk}/actions/", {"action": "take"})
    assert taken.status_code == 400
    assert f"merged into {kept.number}: work on that case." in taken.content.decode()

    duplicate.refresh_from_db()
    assert (duplicate.status, duplicate.assignee_id) == ("closed", None)
    assert not Participant.objects.filter(
        conversation_id=duplicate.conversation_id, user__in=[agent, teammate]
    ).exists()
    counts_are_true()


def agents_in(conversation_id: int | None) -> set[str]:
    return set(
        Participant.objects.filter(conversation_id=conversation_id, role="agent").values_list(
            "user__username", flat=True
        )
    )


def test_a_transfer_takes_the_old_teams_agents_out_of_merged_duplicates_conversations(
    buyer: User, agent: User
) -> None:
    """A reply in a merged duplicate's conversation moves the kept case: an agent left
    there after the kept case went to a team they are not in still moved it."""
    omar = factories.agent_in_team(username="omar")
    factories.agent_in_team("trust-and-safety", username="tess")
    safety = Team.objects.get(slug="trust-and-safety")
    duplicate = actions.open_request(buyer, "One", "First.")
    kept = actions.open_request(buyer, "Two", "Second.")
    actions.take_case(agent, duplicate.pk)
    actions.reply_to_case(omar, duplicate.pk, "I answer too.")
    actions.merge_cases(agent, duplicate.pk, kept.pk)

    actions.transfer_case(agent, kept.pk, safety.pk)

    assert agents_in(duplicate.conversation_id) == set()
    assert agents_in(kept.conversation_id) == set()
    counts_are_true()


def test_a_merge_into_another_teams_case_takes_the_duplicates_agents_out(
    buyer: User, agent: User
) -> None:
    omar = factories.agent_in_team(username="omar")
    both = factories.agent_in_team(username="both")
    safety = Team.objects.get_or_create(slug="trust-and-safety", defaults={"name": "T&S"})[0]
    TeamMember.objects.create(team=safety, agent=both)
    duplicate = actions.open_request(buyer, "One", "First.")
    kept = actions.open_request(buyer, "Two", "Second.")
    actions.transfer_case(agent, kept.pk, safety.pk)
    actions.take_case(agent, duplicate.pk)
    actions.reply_to_case(omar, duplicate.pk, "I answer too.")

    actions.merge_cases(both, duplicate.pk, kept.pk)

    assert agents_in(duplicate.conversation_id) == set()
    # Omar's Message Center no longer holds it: no reply of his can move the kept case.
    with pytest.raises(NotFound):
        conversation_actions.send_message(omar, duplicate.conversation_id or 0, "Hello?")
    counts_are_true()


def test_merge_and_split_through_the_api(buyer: User, agent: User) -> None:
    kept = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    duplicate = actions.open_request(buyer, "Parcel??", "Also: a refund for order 3?")
    priya = with_token(agent)
    alice = with_token(buyer)

    refused = alice.post(f"/agent/cases/{duplicate.pk}/merge", {"into_case_id": kept.pk})
    merged = priya.post(f"/agent/cases/{duplicate.pk}/merge", {"into_case_id": kept.pk})
    detail = priya.get(f"/agent/cases/{kept.pk}").json()
    message = next(m for m in detail["messages"] if m["body"] == "Also: a refund for order 3?")
    split = priya.post(f"/agent/cases/{duplicate.pk}/split", {"message_id": message["id"]})
    split_from_kept = priya.post(
        f"/agent/cases/{kept.pk}/split", {"message_id": message["id"], "subject": "Refund"}
    )

    assert error_of(refused) == (403, "agents_only")
    assert (merged.status_code, merged.json()["id"]) == (200, kept.pk)
    assert priya.get(f"/agent/cases/{duplicate.pk}").json()["case"]["merged_into_id"] == kept.pk
    assert message["case_number"] == duplicate.number
    # The duplicate is closed; the message belongs to its conversation, not the kept one's.
    assert error_of(split)[0] == 400
    assert error_of(split_from_kept) == (404, "message_not_found")
    counts_are_true()


def test_the_console_merges_and_shows_the_duplicates_messages(
    client: Client, buyer: User, agent: User
) -> None:
    kept = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    duplicate = actions.open_request(buyer, "Parcel??", "Still nothing, okapi!")
    client.force_login(agent)

    response = client.post(
        f"/console/cases/{duplicate.pk}/actions/", {"action": "merge", "into": kept.number}
    )
    page = client.get(f"/console/cases/{kept.pk}/").content.decode()
    old_link = client.get(f"/console/cases/{duplicate.pk}/")

    assert (response.status_code, response["Location"]) == (302, f"/console/cases/{kept.pk}/")
    assert "Still nothing, okapi!" in page
    assert f"From {duplicate.number}" in page
    assert f"Merged into this case: {duplicate.number}" in page
    assert old_link["Location"] == f"/console/cases/{kept.pk}/"
    wrong = client.post(
        f"/console/cases/{kept.pk}/actions/", {"action": "merge", "into": kept.number}
    )
    assert wrong.status_code == 400
    assert CaseNote.objects.count() == 0
    counts_are_true()


@pytest.mark.parametrize("kept_status", ["solved", "pending"])
def test_a_question_waiting_for_us_merged_into_an_answered_case_opens_it_again(
    client: Client, buyer: User, agent: User, kept_status: str
) -> None:
    """The customer's new question, merged into their earlier request that was solved
    (or waits on them), still waits for an answer: the kept case is open again, in the
    team's queue, not left solved with the question in it unanswered."""
    kept = actions.open_request(buyer, "Change my e-mail", "Where do I change it?")
    actions.reply_to_case(agent, kept.pk, "Under Login & security.", status=kept_status)
    duplicate = actions.open_request(buyer, "Pending charge", "Will $42 come back?")
    client.force_login(agent)

    response = client.post(
        f"/console/cases/{duplicate.pk}/actions/", {"action": "merge", "into": kept.number}
    )

    assert response.status_code == 302
    kept.refresh_from_db()
    assert kept.status == "open"
    assert kept.pk in [c.pk for c in queries.queue_page(agent, queries.TEAM).cases]
    assert queries.queue_page(agent, queries.SOLVED).cases == []
    counts_are_true()


def test_an_answered_duplicate_merged_into_a_solved_case_leaves_it_solved(
    buyer: User, agent: User
) -> None:
    kept = actions.open_request(buyer, "Change my e-mail", "Where do I change it?")
    actions.reply_to_case(agent, kept.pk, "Under Login & security.", status="solved")
    duplicate = actions.open_request(buyer, "Change e-mail again", "Where is it?")
    actions.reply_to_case(agent, duplicate.pk, "Same place.", status="solved")

    actions.merge_cases(agent, duplicate.pk, kept.number)

    assert Case.objects.get(pk=kept.pk).status == "solved"
    counts_are_true()


def test_two_requests_for_help_about_different_conversations_are_not_merged(
    client: Client, buyer: User, seller: User, product: Product, agent: User
) -> None:
    """Two "Ask customer service to help" requests, each about its own conversation with a
    seller, are no duplicates: merged, the kept case wrote only in its own conversation and
    the duplicate answered "merged: write from there", so nobody could write to the buyer
    and the seller in the other one any more. Refused, nothing changed."""
    from tests.support.test_escalation import ask_about_order, pass_deadline

    first = ask_about_order(buyer, product)
    second = ask_about_order(buyer, product)
    pass_deadline(seller)
    kept = escalation_actions.ask_for_help(buyer, first.conversation_id)
    duplicate = escalation_actions.ask_for_help(buyer, second.conversation_id)
    client.force_login(agent)

    response = client.post(
        f"/console/cases/{duplicate.pk}/actions/", {"action": "merge", "into": kept.number}
    )

    assert response.status_code == 400
    assert "about different conversations with sellers" in response.content.decode()
    assert Case.objects.get(pk=duplicate.pk).merged_into_id is None
    api = with_token(agent).post(f"/agent/cases/{duplicate.pk}/merge", {"into_case_id": kept.pk})
    assert error_of(api) == (400, "merge_other_conversation")
    counts_are_true()


def test_a_reopened_case_waits_since_the_duplicates_question_not_since_the_merge(
    buyer: User, agent: User
) -> None:
    """Reopened by a waiting duplicate, the kept case counted its wait from the merge: it
    went behind questions asked after the duplicate's, and its waiting time was too short.
    It now waits since the duplicate's customer started waiting."""
    kept = actions.open_request(buyer, "Change my e-mail", "Where do I change it?")
    actions.reply_to_case(agent, kept.pk, "Under Login & security.", status="solved")
    duplicate = actions.open_request(buyer, "Pending charge", "Will $42 come back?")
    later = actions.open_request(factories.BuyerFactory(username="bea"), "Refund", "When?")
    asked = timezone.now() - timedelta(hours=3)
    Case.objects.filter(pk=duplicate.pk).update(queued_at=asked)
    Case.objects.filter(pk=later.pk).update(queued_at=asked + timedelta(hours=1))

    actions.merge_cases(agent, duplicate.pk, kept.number)

    kept.refresh_from_db()
    assert (kept.status, kept.queued_at) == ("open", asked)
    team_queue = [c.pk for c in queries.queue_page(agent, queries.TEAM).cases]
    assert team_queue == [kept.pk, later.pk]
    counts_are_true()


@pytest.mark.parametrize("kept_first", [True, False])
def test_two_waiting_questions_merged_wait_since_the_earlier(
    buyer: User, agent: User, kept_first: bool
) -> None:
    kept = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    duplicate = actions.open_request(buyer, "Where is my parcel??", "Still nothing!")
    earlier = timezone.now() - timedelta(days=1)
    Case.objects.filter(pk=kept.pk if kept_first else duplicate.pk).update(queued_at=earlier)

    actions.merge_cases(agent, duplicate.pk, kept.number)

    assert Case.objects.get(pk=kept.pk).queued_at == earlier
    counts_are_true()


def test_a_reopened_case_promises_the_answer_time_given_for_the_waiting_question(
    buyer: User, agent: User
) -> None:
    """Reopened by a waiting duplicate, the kept case kept the answer time promised for
    its own, long answered question: the customer's list and the conversation said "We
    expect to answer by" a time already past, and the console "Promised an answer by"
    it. It now carries the time the duplicate's question was promised."""
    kept = actions.open_request(buyer, "Change my e-mail", "Where do I change it?")
    actions.reply_to_case(agent, kept.pk, "Under Login & security.", status="solved")
    long_ago = timezone.now() - timedelta(days=3)
    Case.objects.filter(pk=kept.pk).update(respond_by=long_ago)
    duplicate = actions.open_request(buyer, "Pending charge", "Will $42 come back?")
    assert duplicate.respond_by is not None
    assert duplicate.respond_by > timezone.now()

    actions.merge_cases(agent, duplicate.pk, kept.number)

    kept.refresh_from_db()
    assert (kept.status, kept.respond_by) == ("open", duplicate.respond_by)


def test_a_reopened_case_with_no_promise_for_the_wait_counts_one_from_the_question(
    buyer: User, agent: User
) -> None:
    """A duplicate whose own promise was for an earlier wait (answered, then asked again)
    gives none for this one: the kept case is promised what a new request asked when the
    question was would be, the expected response time counted from then."""
    kept = actions.open_request(buyer, "Change my e-mail", "Where do I change it?")
    actions.reply_to_case(agent, kept.pk, "Under Login & security.", status="solved")
    duplicate = actions.open_request(buyer, "Pending charge", "Will $42 come back?")
    asked = timezone.now() - timedelta(minutes=10)
    Case.objects.filter(pk__in=[kept.pk, duplicate.pk]).update(
        respond_by=timezone.now() - timedelta(days=2)
    )
    Case.objects.filter(pk=duplicate.pk).update(queued_at=asked)

    actions.merge_cases(agent, duplicate.pk, kept.number)

    kept.refresh_from_db()
    assert kept.status == "open"
    assert kept.respond_by == asked + queries.expected_response(kept.team)


def test_two_waiting_questions_merged_keep_the_earlier_promise(buyer: User, agent: User) -> None:
    kept = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    duplicate = actions.open_request(buyer, "Where is my parcel??", "Still nothing!")
    sooner = timezone.now() + timedelta(hours=1)
    Case.objects.filter(pk=duplicate.pk).update(respond_by=sooner)

    actions.merge_cases(agent, duplicate.pk, kept.number)

    assert Case.objects.get(pk=kept.pk).respond_by == sooner
