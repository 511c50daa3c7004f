"""Transferring a request to another team (docs/support.md, "Transfer to another team"): a
request about a phishing message that reached customer service goes to trust and safety,
one that is really a guarantee matter to claims. The counters always equal a recount, the
assignee stays only if they work in the new team, the history and an internal note say
why, and the customer is told nothing of our teams."""

import re
from datetime import timedelta

import pytest
from django.db import transaction
from django.test import Client, TestCase
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.errors import Conflict, InvalidInput, NotFound
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import UserEvent
from messagecenter.support import actions, claim_actions, queries
from messagecenter.support.models import UNASSIGNED, Case, CaseEvent, CaseNote, Team, TeamMember
from tests import factories
from tests.api.helpers import error_of, with_token
from tests.factories import signed_in
from tests.support.claims import Clock, claimable_order, clock

# The claims' frozen clock, a fixture.
__all__ = ["clock"]

pytestmark = pytest.mark.django_db


@pytest.fixture
def priya(db: None) -> User:
    """Customer service's agent."""
    return factories.agent_in_team(username="priya", first_name="Priya", last_name="Natarajan")


@pytest.fixture
def tess(db: None) -> User:
    """Trust and safety's agent."""
    return factories.agent_in_team(
        "trust-and-safety", username="tess", first_name="Tess", last_name="Okafor"
    )


@pytest.fixture
def safety(tess: User) -> Team:
    return Team.objects.get(slug="trust-and-safety")


@pytest.fixture
def claims(db: None) -> Team:
    team, _ = Team.objects.get_or_create(slug="claims", defaults={"name": "Claims"})
    return team


def counts_are_true() -> None:
    assert queries.stored_counts() == queries.recount()


def test_a_transferred_request_waits_unassigned_in_the_new_teams_queue(
    buyer: User, priya: User, tess: User, safety: Team
) -> None:
    case = actions.open_request(buyer, "Odd e-mail", "Someone asked for my card number.")
    actions.reply_to_case(priya, case.pk, "Thanks, we are looking into it.")
    Case.objects.filter(pk=case.pk).update(queued_at=timezone.now() - timedelta(hours=5))
    case.refresh_from_db()
    waiting_since = case.queued_at
    old_team = case.team_id

    moved = actions.transfer_case(priya, case.pk, safety.pk, "Phishing link in the e-mail.")

    moved.refresh_from_db()
    assert (moved.team_id, moved.assignee_id, moved.status) == (safety.pk, None, "pending")
    # Still waiting since the customer did: the new team sees how long, in the queue's order.
    assert moved.queued_at == waiting_since
    assert queries.stored_counts() == {(safety.pk, "pending", UNASSIGNED): 1}
    assert (old_team, "pending", priya.pk) not in queries.stored_counts()
    counts_are_true()
    # Priya is not in trust and safety: she leaves the conversation and the case.
    assert not Participant.objects.filter(conversation=case.conversation, user=priya).exists()
    with pytest.raises(NotFound):
        queries.access_case(priya, case.pk, for_agent=True)
    assert queries.access_case(tess, case.pk, for_agent=True).pk == case.pk
    assert [c.pk for c in queries.queue_page(tess, queries.WAITING).cases] == [case.pk]
    assert queries.queue_counts(priya)["waiting"] == 0
    # The history says who moved it where; the note is internal.
    line = queries.case_history(moved)[-1][1]
    assert line == (
        "Priya Natarajan transferred it from Customer service to Trust and safety, "
        "unassigning Priya Natarajan (not in that team), with a note"
    )
    note = CaseNote.objects.get(case=case)
    assert (note.body, note.author_id) == ("Phishing link in the e-mail.", priya.pk)


def test_the_assignee_stays_when_they_work_in_the_new_team(
    buyer: User, priya: User, claims: Team
) -> None:
    TeamMember.objects.create(team=claims, agent=priya)
    case = actions.open_request(buyer, "Seller will not refund", "It came broken.")
    actions.take_case(priya, case.pk)

    moved = actions.transfer_case(priya, case.pk, claims.pk)

    moved.refresh_from_db()
    assert (moved.team_id, moved.assignee_id, moved.status) == (claims.pk, priya.pk, "open")
    assert queries.stored_counts() == {(claims.pk, "open", priya.pk): 1}
    counts_are_true()
    assert Participant.objects.filter(conversation=case.conversation, user=priya).exists()
    assert queries.case_history(moved)[-1][1] == (
        "Priya Natarajan transferred it from Customer service to Claims"
    )
    assert not CaseNote.objects.exists()


def test_counters_equal_a_recount_through_transfers_back_and_forth(
    buyer: User, other_buyer: User, priya: User, tess: User, safety: Team
) -> None:
    service = Team.objects.get(slug="customer-service")
    first = actions.open_request(buyer, "One", "First question.")
    second = actions.open_request(other_buyer, "Two", "Second question.")
    actions.take_case(priya, second.pk)
    actions.set_case_status(priya, second.pk, "solved")

    actions.transfer_case(priya, first.pk, safety.pk)
    counts_are_true()
    actions.transfer_case(priya, second.pk, safety.pk)
    counts_are_true()
    actions.take_case(tess, first.pk)
    actions.transfer_case(tess, first.pk, service.pk)
    counts_are_true()
    conversation_actions.send_message(other_buyer, second.conversation_id, "Still broken.")
    counts_are_true()

    assert queries.stored_counts() == {
        (service.pk, "open", UNASSIGNED): 1,
        (safety.pk, "open", UNASSIGNED): 1,
    }


def test_an_admin_may_transfer_and_an_admin_assignee_stays(buyer: User, safety: Team) -> None:
    admin = factories.UserFactory(username="ada", role=Role.ADMIN, is_staff=True)
    case = actions.open_request(buyer, "Help", "Please.")
    actions.take_case(admin, case.pk)

    moved = actions.transfer_case(admin, case.pk, safety.pk)

    moved.refresh_from_db()
    # An admin supervises every team: still theirs.
    assert (moved.team_id, moved.assignee_id) == (safety.pk, admin.pk)
    counts_are_true()


def test_the_customer_is_told_nothing_of_our_teams(buyer: User, priya: User, safety: Team) -> None:
    case = actions.open_request(buyer, "Odd e-mail", "Someone asked for my card number.")
    actions.take_case(priya, case.pk)
    messages_before = Message.objects.filter(conversation=case.conversation).count()
    events_before = UserEvent.objects.filter(user=buyer).count()

    with TestCase.captureOnCommitCallbacks(execute=True):
        actions.transfer_case(priya, case.pk, safety.pk, "Looks like phishing (ours only).")

    # No message in their conversation, nothing by e-mail.
    assert Message.objects.filter(conversation=case.conversation).count() == messages_before
    events = list(UserEvent.objects.filter(user=buyer).order_by("sequence"))[events_before:]
    assert [(e.kind, e.payload["status_label"]) for e in events] == [
        ("case.updated", "Waiting for an agent")
    ]
    for event in events:
        assert "Trust" not in str(event.payload)
        assert "phishing" not in str(event.payload)
    alice = with_token(buyer)
    shown = alice.get(f"/cases/{case.pk}").content.decode()
    assert "Trust" not in shown
    assert "phishing" not in shown


def test_an_agent_of_another_team_and_a_buyer_cannot_transfer(
    buyer: User, priya: User, tess: User, safety: Team
) -> None:
    case = actions.open_request(buyer, "Help", "Please.")
    before = list(Case.objects.values_list("pk", "team_id", "assignee_id", "status"))

    for outsider in (tess, buyer):
        with pytest.raises(NotFound) as refused:
            actions.transfer_case(outsider, case.pk, safety.pk)
        assert refused.value.code == "case_not_found"

    assert list(Case.objects.values_list("pk", "team_id", "assignee_id", "status")) == before
    assert not CaseEvent.objects.filter(kind="transferred").exists()


@pytest.mark.parametrize("team_id", [None, "", "9999", "trust", "0", "1.5"])
def test_an_unknown_team_is_refused(buyer: User, priya: User, team_id: str | None) -> None:
    case = actions.open_request(buyer, "Help", "Please.")

    with pytest.raises(InvalidInput) as refused:
        actions.transfer_case(priya, case.pk, team_id)

    assert refused.value.code == "unknown_team"
    case.refresh_from_db()
    assert case.team.slug == "customer-service"


def test_a_transfer_to_the_cases_own_team_changes_nothing(buyer: User, priya: User) -> None:
    case = actions.open_request(buyer, "Help", "Please.")

    same = actions.transfer_case(priya, case.pk, case.team_id, "Nothing to move.")

    assert same.team_id == case.team_id
    assert not CaseEvent.objects.filter(kind="transferred").exists()
    assert not CaseNote.objects.exists()


def test_a_closed_or_merged_request_is_not_transferred(
    buyer: User, priya: User, safety: Team
) -> None:
    kept = actions.open_request(buyer, "Parcel", "Where is it?")
    duplicate = actions.open_request(buyer, "Parcel again", "Where is it??")
    actions.merge_cases(priya, duplicate.pk, kept.pk)

    with pytest.raises(InvalidInput) as refused:
        actions.transfer_case(priya, duplicate.pk, safety.pk)

    assert refused.value.code == "case_closed"
    counts_are_true()


def test_a_claim_a_report_or_an_appeal_stays_with_its_team(
    buyer: User, priya: User, safety: Team, claims: Team
) -> None:
    TeamMember.objects.create(team=claims, agent=priya)
    TeamMember.objects.create(team=safety, agent=priya)
    claim = actions.open_case("claim", buyer, "Item not received", tell_customer=False)
    report = actions.open_case("report", buyer, "A seller asks for payment outside")

    for case, team in ((claim, safety), (report, claims)):
        with pytest.raises(InvalidInput) as refused:
            actions.transfer_case(priya, case.pk, team.pk)
        assert refused.value.code == "transfer_requests_only"
    assert list(Case.objects.order_by("pk").values_list("team_id", flat=True)) == [
        claims.pk,
        safety.pk,
    ]


def test_a_note_too_long_is_refused_and_nothing_moves(
    buyer: User, priya: User, safety: Team
) -> None:
    case = actions.open_request(buyer, "Help", "Please.")

    with pytest.raises(InvalidInput) as refused:
        actions.transfer_case(priya, case.pk, safety.pk, "x" * (actions.NOTE_MAX_CHARS + 1))

    assert refused.value.code == "note_too_long"
    case.refresh_from_db()
    assert case.team.slug == "customer-service"


def test_an_action_on_a_case_transferred_meanwhile_is_refused(
    buyer: User, priya: User, safety: Team
) -> None:
    """An agent read the case in their team's queue; before their change took the locks,
    a colleague transferred it: it would have moved the new team's counters without its
    lock, for someone who no longer works the case."""
    case = actions.open_request(buyer, "Help", "Please.")
    stale = queries.access_case(priya, case.pk, for_agent=True)
    actions.transfer_case(priya, case.pk, safety.pk)

    with pytest.raises(Conflict) as refused, transaction.atomic():
        actions.lock_case(stale)

    assert refused.value.code == "case_transferred"


def test_a_merge_of_a_case_transferred_meanwhile_is_refused_and_changes_nothing(
    buyer: User, priya: User, safety: Team
) -> None:
    """The same for a merge, which locks both cases at once: the duplicate read in one
    team's queue, transferred before the merge took its locks."""
    kept = actions.open_request(buyer, "Parcel missing", "Order 1 has not arrived.")
    duplicate = actions.open_request(buyer, "Where is my parcel??", "Still nothing!")
    stale = queries.access_case(priya, duplicate.pk, for_agent=True)
    actions.transfer_case(priya, duplicate.pk, safety.pk)
    counts = queries.stored_counts()

    with pytest.raises(Conflict) as refused, transaction.atomic():
        actions._lock_cases(stale, kept)

    assert refused.value.code == "case_transferred"
    duplicate.refresh_from_db()
    assert (duplicate.merged_into_id, duplicate.team_id) == (None, safety.pk)
    assert queries.stored_counts() == counts == queries.recount()


def test_an_open_case_page_asks_how_the_case_stands_and_learns_where_it_went(
    buyer: User, priya: User, safety: Team
) -> None:
    """What console_case.js asks on its team's nudge (X-Partial: standing): the line under
    the title alone, marking nothing read; a 404 once the case is another team's; the case
    a merged one went into."""
    case = actions.open_request(buyer, "Help", "Please.")
    duplicate = actions.open_request(buyer, "Help!", "Please!")
    actions.take_case(priya, duplicate.pk)
    client = signed_in(priya)
    standing = {"HTTP_X_PARTIAL": "standing"}

    line = client.get(f"/console/cases/{case.pk}/", **standing)
    assert line.status_code == 200
    assert line.content.decode().startswith('<p class="thread__meta" data-live-part="case-status"')
    assert f'data-case-team="{case.team_id}"' in line.content.decode()
    assert "X-Partial" in line["Vary"]
    conversation_actions.send_message(buyer, duplicate.conversation_id, "Anyone there?")
    client.get(f"/console/cases/{duplicate.pk}/", **standing)
    seen = Participant.objects.get(conversation_id=duplicate.conversation_id, user=priya)
    assert seen.unread_count == 1

    actions.merge_cases(priya, duplicate.pk, case.pk)
    merged = client.get(f"/console/cases/{duplicate.pk}/", **standing)
    assert (merged.status_code, merged["Location"]) == (302, f"/console/cases/{case.pk}/")

    actions.transfer_case(priya, case.pk, safety.pk)
    assert client.get(f"/console/cases/{case.pk}/", **standing).status_code == 404


# --- the API ------------------------------------------------------------------------------


def test_the_api_transfers_and_lists_the_teams(
    buyer: User, priya: User, tess: User, safety: Team
) -> None:
    case = actions.open_request(buyer, "Odd e-mail", "Someone asked for my card number.")
    api = with_token(priya)

    teams = api.get("/agent/teams")
    assert teams.status_code == 200
    assert {(t["name"], t["is_yours"]) for t in teams.json()["items"]} == {
        ("Customer service", True),
        ("Trust and safety", False),
    }

    moved = api.post(
        f"/agent/cases/{case.pk}/transfer", {"team_id": safety.pk, "note": "Phishing."}
    )
    assert moved.status_code == 200, moved.content
    assert (moved.json()["team"], moved.json()["team_id"], moved.json()["assignee_id"]) == (
        "Trust and safety",
        safety.pk,
        None,
    )
    # Gone from Priya's teams: as any case of another team.
    assert error_of(api.get(f"/agent/cases/{case.pk}")) == (404, "case_not_found")
    detail = with_token(tess).get(f"/agent/cases/{case.pk}").json()
    assert [note["body"] for note in detail["notes"]] == ["Phishing."]
    assert detail["history"][-1].startswith("Priya Natarajan transferred it from Customer service")
    counts_are_true()


def test_the_api_refuses_with_stable_codes(
    buyer: User, priya: User, tess: User, safety: Team
) -> None:
    case = actions.open_request(buyer, "Help", "Please.")
    claim = actions.open_case("claim", buyer, "Item not received", tell_customer=False)
    api = with_token(priya)

    assert error_of(api.post(f"/agent/cases/{case.pk}/transfer", {"team_id": 9999})) == (
        400,
        "unknown_team",
    )
    assert error_of(api.post(f"/agent/cases/{case.pk}/transfer", {"team_id": "x"}))[0] == 422
    assert error_of(api.post(f"/agent/cases/{case.pk}/transfer", {}))[0] == 422
    assert error_of(
        with_token(tess).post(f"/agent/cases/{case.pk}/transfer", {"team_id": safety.pk})
    ) == (404, "case_not_found")
    assert error_of(
        with_token(buyer).post(f"/agent/cases/{case.pk}/transfer", {"team_id": safety.pk})
    ) == (403, "agents_only")
    assert error_of(with_token(buyer).get("/agent/teams")) == (403, "agents_only")
    TeamMember.objects.create(team=claim.team, agent=priya)
    assert error_of(api.post(f"/agent/cases/{claim.pk}/transfer", {"team_id": safety.pk})) == (
        400,
        "transfer_requests_only",
    )
    assert Case.objects.get(pk=case.pk).team.slug == "customer-service"


# --- the console ----------------------------------------------------------------------------


def case_page(client: Client, case: Case) -> str:
    response = client.get(reverse("console-case", args=[case.pk]))
    assert response.status_code == 200
    return response.content.decode()


def test_a_requests_page_offers_the_other_teams_and_a_claims_page_none(
    buyer: User, product: Product, priya: User, safety: Team, claims: Team, clock: Clock
) -> None:
    case = actions.open_request(buyer, "Help", "Please.")
    TeamMember.objects.create(team=claims, agent=priya)
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "It never came.")
    client = signed_in(priya)

    page = case_page(client, case)
    claims_page = case_page(client, claim.case)

    assert '<label for="transfer-team">Transfer to</label>' in page
    select = re.search(r'<select name="team_id" id="transfer-team".*?</select>', page, re.S)
    assert select is not None
    # The other teams, by name; not the case's own.
    assert re.findall(r'<option value="(\d*)"[^>]*>([^<]*)</option>', select.group(0)) == [
        ("", "Choose a team…"),
        (str(claims.pk), "Claims"),
        (str(safety.pk), "Trust and safety"),
    ]
    assert 'name="note" id="transfer-note"' in page
    # A claim stays with its team: nothing to transfer on its page.
    assert f"{claim.case.number} · " in claims_page
    assert 'id="transfer-team"' not in claims_page


def test_the_console_transfers_and_goes_back_to_the_queue_when_the_case_leaves_the_agent(
    buyer: User, priya: User, safety: Team
) -> None:
    case = actions.open_request(buyer, "Odd e-mail", "Someone asked for my card number.")
    client = signed_in(priya)

    response = client.post(
        reverse("console-case-action", args=[case.pk]),
        {"action": "transfer", "team_id": str(safety.pk), "note": "Phishing."},
        follow=True,
    )

    assert response.status_code == 200
    assert response.redirect_chain[-1][0] == reverse("console")
    page = response.content.decode()
    assert (
        f"{case.number} is transferred to Trust and safety: it has left your teams&#x27; queues."
    ) in page
    assert Case.objects.get(pk=case.pk).team_id == safety.pk


def test_the_console_stays_on_the_case_when_the_agent_works_in_the_new_team(
    buyer: User, priya: User, claims: Team
) -> None:
    TeamMember.objects.create(team=claims, agent=priya)
    case = actions.open_request(buyer, "Refund", "Seller will not refund.")

    response = signed_in(priya).post(
        reverse("console-case-action", args=[case.pk]),
        {"action": "transfer", "team_id": str(claims.pk), "note": ""},
        follow=True,
    )

    assert response.redirect_chain[-1][0] == reverse("console-case", args=[case.pk])
    page = response.content.decode()
    assert f"{case.number} is transferred to Claims." in page
    assert "transferred it from Customer service to <bdi>Claims</bdi>" not in page
    assert "transferred it from <bdi>Customer service</bdi> to <bdi>Claims</bdi>" in page
    assert not CaseNote.objects.exists()


@pytest.mark.parametrize("team_id", [None, "", "9999", "trust"])
def test_no_team_or_an_unknown_one_is_an_error_on_the_field(
    buyer: User, priya: User, safety: Team, team_id: str | None
) -> None:
    case = actions.open_request(buyer, "Help", "Please.")
    form = {"action": "transfer", "note": "Kept as typed."}
    if team_id is not None:
        form["team_id"] = team_id

    response = signed_in(priya).post(reverse("console-case-action", args=[case.pk]), form)

    assert response.status_code == 400
    page = response.content.decode()
    assert (
        '<p class="field__error" id="transfer-team-error" role="alert">'
        "Choose the team to transfer the case to.</p>"
    ) in page
    assert 'aria-invalid="true" aria-describedby="transfer-team-error transfer-team-help"' in page
    # Not the page's general alert, and what they typed is kept.
    assert 'id="case-error"' not in page
    assert ">Kept as typed.</textarea>" in page
    assert Case.objects.get(pk=case.pk).team.slug == "customer-service"
