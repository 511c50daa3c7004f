"""Customer-service cases as a state machine (hypothesis RuleBasedStateMachine): random
agents of two teams (customer service, trust and safety, one agent in both, an admin)
and random customers open requests and chats, take, assign, unassign, set statuses and
priorities, note, answer, reply, merge, split, transfer, escalate a silent seller's
conversation and write there, and erase a customer — every action on a random case,
merged duplicates and closed cases included.

Refusals are expected (a MessageCenterError with its code); anything else is a bug. After
every step (docs/support.md):

- the queue counters equal a recount (`queries.stored_counts() == queries.recount()`);
- a merged duplicate is closed, with no assignee;
- every agent in a case's conversation (its own, a merged duplicate's, the buyer–seller
  conversation a request for help is about) may be there: the case's assignee, or an
  agent who wrote there ("an agent who takes a case (or answers one) joins its
  conversation"), and in either case one who works the team of the case the conversation
  leads to ("every agent in its conversations who is not in the new team leaves them":
  they can no longer open the case); a merged duplicate's conversation leads to the case
  it was merged into (a reply there moves that case);
- everyone's unread counters equal a recount, and their event sequences have no gaps.
"""

import os
import sys
from collections import Counter
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message, Participant, ParticipantRole
from messagecenter.errors import MessageCenterError
from messagecenter.marketplace.models import Product
from messagecenter.support import actions, escalation_actions, queries
from messagecenter.support.models import Case, CaseStatus, Team, TeamMember
from tests import factories
from tests.conversations.helpers import event_sequences, maintained_unread, recounted_unread
from tests.state_machines import InOneSavepoint

pytestmark = pytest.mark.django_db

CS = "customer-service"
TS = "trust-and-safety"

OUTCOMES: Counter[str] = Counter()
OUTCOMES_SHOWN = os.environ.get("SHOW_OUTCOMES") == "1"

# Knobs for a longer hunt (the defaults keep the file well under a minute on SQLite):
# CASE_MACHINE_EXAMPLES, CASE_MACHINE_STEPS, CASE_MACHINE_CASES (cases open at most), and
# SHOW_OUTCOMES=1 with -s prints how often each action passed or was refused (by code).
MAX_CASES = int(os.environ.get("CASE_MACHINE_CASES", 6))

# Uniform choices (every count of agents, customers, cases and teams divides 60): small
# integers are drawn far more often than others.
index = st.sampled_from(range(60))


class CaseLifecycle(InOneSavepoint):
    def __init__(self) -> None:
        super().__init__()
        self.case_ids: list[int] = []
        self.erased: set[int] = set()
        self.refusals: list[str] = []

    @initialize()
    def people(self) -> None:
        self.cs_1 = factories.agent_in_team(CS, username="cs1")
        self.cs_2 = factories.agent_in_team(CS, username="cs2")
        self.ts = factories.agent_in_team(TS, username="ts")
        self.both = factories.agent_in_team(CS, username="both")
        self.cs_team = Team.objects.get(slug=CS)
        self.ts_team = Team.objects.get(slug=TS)
        TeamMember.objects.create(team=self.ts_team, agent=self.both)
        self.admin: User = factories.UserFactory(
            username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True
        )
        self.agents: list[User] = [self.cs_1, self.cs_2, self.ts, self.both, self.admin]
        self.teams = [self.cs_team, self.ts_team]
        self.buyer: User = factories.BuyerFactory(username="alice")
        self.other_buyer: User = factories.BuyerFactory(username="bob")
        self.seller: User = factories.SellerFactory(username="shop")
        self.customers: list[User] = [self.buyer, self.other_buyer, self.seller]
        product: Product = factories.ProductFactory(storefront=self.seller.storefront)
        order = factories.order_with_item(self.buyer, product)
        self.order = order
        asked = conversation_actions.contact_seller_about_order(
            self.buyer, order.pk, product.storefront_id, "Where is my parcel?"
        )
        self.about_id = asked.conversation_id
        self._pass_deadline()

    # --- helpers -----------------------------------------------------------------------------

    def _pass_deadline(self) -> None:
        Participant.objects.filter(user=self.seller, conversation_id=self.about_id).update(
            response_due_at=timezone.now() - timedelta(minutes=1)
        )

    def _case(self, i: int) -> Case:
        return Case.objects.get(pk=self.case_ids[i % len(self.case_ids)])

    def _agent(self, i: int) -> User:
        return self.agents[i % len(self.agents)]

    def _worker(self, i: int, *cases: Case) -> User:
        """Mostly someone who works every one of these cases' teams (an admin among them);
        one time in six anyone, whose refusal is checked too."""
        if i % 6 == 0:
            return self._agent(i // 6)
        team_ids = {case.team_id for case in cases}
        able = [
            agent
            for agent in self.agents
            if agent.role == Role.ADMIN
            or team_ids
            <= set(TeamMember.objects.filter(agent=agent).values_list("team_id", flat=True))
        ]
        return able[i % len(able)]

    def _customer(self, i: int) -> User:
        return self.customers[i % len(self.customers)]

    def _attempt(self, action: object) -> object:
        name = sys._getframe(1).f_code.co_name
        try:
            result = action()  # type: ignore[operator]
        except MessageCenterError as refused:
            self.refusals.append(refused.code)
            OUTCOMES[f"{name}: {refused.code}"] += 1
            return None
        OUTCOMES[f"{name}: ok"] += 1
        return result

    def _opened(self, case: object) -> None:
        if isinstance(case, Case) and case.pk not in self.case_ids:
            self.case_ids.append(case.pk)

    has_cases = precondition(lambda self: bool(self.case_ids))

    # --- customers ----------------------------------------------------------------------------

    few_cases = precondition(lambda self: len(self.case_ids) < MAX_CASES)

    @few_cases
    @rule(who=index, with_order=st.booleans(), about=st.booleans())
    def open_request(self, who: int, with_order: bool, about: bool) -> None:
        """Contact customer service (the page, the API's `conversation_id`: about one of
        their conversations — the buyer's or the seller's side of the silent one)."""
        customer = self._customer(who)
        order_number = self.order.number if with_order and customer == self.buyer else None
        self._opened(
            self._attempt(
                lambda: actions.open_request(
                    customer,
                    "My parcel",
                    "Where is it?",
                    order_number=order_number,
                    about_conversation_id=self.about_id if about else None,
                )
            )
        )

    @few_cases
    @rule(who=index, agent=index, available=st.booleans())
    def start_chat(self, who: int, agent: int, available: bool) -> None:
        """An agent switches *Available for chat* (or away), then a customer starts a chat:
        taken at once by an available agent of customer service, else a request."""
        switching = self._agent(agent)
        self._attempt(lambda: actions.set_chat_availability(switching, available))
        customer = self._customer(who)
        self._opened(self._attempt(lambda: actions.start_chat(customer, "Hello, quick question")))

    @has_cases
    @rule(case=index)
    def customer_replies(self, case: int) -> None:
        found = self._case(case)
        if found.conversation_id is None:
            return
        self._attempt(
            lambda: conversation_actions.send_message(
                found.customer, found.conversation_id, "Any news?"
            )
        )

    # --- agents -------------------------------------------------------------------------------

    @has_cases
    @rule(who=index, case=index)
    def take_case(self, who: int, case: int) -> None:
        found = self._case(case)
        agent = self._worker(who, found)
        self._attempt(lambda: actions.take_case(agent, found.pk))

    @has_cases
    @rule(who=index, case=index, assignee=index)
    def assign_case(self, who: int, case: int, assignee: int) -> None:
        found, to = self._case(case), self._agent(assignee)
        agent = self._worker(who, found)
        self._attempt(lambda: actions.assign_case(agent, found.pk, to.pk))

    @has_cases
    @rule(who=index, case=index)
    def unassign_case(self, who: int, case: int) -> None:
        found = self._case(case)
        agent = self._worker(who, found)
        self._attempt(lambda: actions.unassign_case(agent, found.pk))

    @has_cases
    @rule(who=index, case=index, status=st.sampled_from(["open", "pending", "solved"]))
    def set_case_status(self, who: int, case: int, status: str) -> None:
        found = self._case(case)
        agent = self._worker(who, found)
        self._attempt(lambda: actions.set_case_status(agent, found.pk, status))

    @has_cases
    @rule(who=index, case=index, priority=st.integers(1, 4))
    def set_case_priority(self, who: int, case: int, priority: int) -> None:
        found = self._case(case)
        agent = self._worker(who, found)
        self._attempt(lambda: actions.set_case_priority(agent, found.pk, priority))

    @has_cases
    @rule(who=index, case=index)
    def add_note(self, who: int, case: int) -> None:
        found = self._case(case)
        agent = self._worker(who, found)
        self._attempt(lambda: actions.add_note(agent, found.pk, "Internal."))

    @has_cases
    @rule(who=index, case=index, status=st.sampled_from(["open", "pending", "solved"]))
    def reply_to_case(self, who: int, case: int, status: str) -> None:
        found = self._case(case)
        agent = self._worker(who, found)
        self._attempt(lambda: actions.reply_to_case(agent, found.pk, "Answer.", status=status))

    @has_cases
    @rule(who=index, case=index)
    def agent_replies_from_message_center(self, who: int, case: int) -> None:
        """The ordinary reply in a case's conversation the agent is in (any they are in,
        the buyer–seller one too, where it must be refused)."""
        agent = self._agent(who)
        theirs = list(
            Participant.objects.filter(user=agent, role=ParticipantRole.AGENT)
            .order_by("conversation_id")
            .values_list("conversation_id", flat=True)
        )
        if not theirs:
            return
        conversation_id = theirs[case % len(theirs)]
        self._attempt(lambda: conversation_actions.send_message(agent, conversation_id, "From MC."))

    @has_cases
    @rule(who=index, duplicate=index, kept=index)
    def merge_cases(self, who: int, duplicate: int, kept: int) -> None:
        """Mostly two cases of one customer (what can be merged); now and then any two."""
        first = self._case(duplicate)
        same = [
            pk
            for pk in Case.objects.filter(customer_id=first.customer_id)
            .exclude(pk=first.pk)
            .order_by("pk")
            .values_list("pk", flat=True)
        ]
        second_pk = same[kept % len(same)] if same and kept % 5 else self._case(kept).pk
        agent = self._worker(who, first, Case.objects.get(pk=second_pk))
        self._attempt(lambda: actions.merge_cases(agent, first.pk, second_pk))

    @has_cases
    @rule(who=index, case=index, message=index)
    def split_case(self, who: int, case: int, message: int) -> None:
        found = self._case(case)
        agent = self._worker(who, found)
        ids = list(
            Message.objects.filter(
                conversation_id=found.conversation_id, sender_id=found.customer_id
            )
            .order_by("id")
            .values_list("pk", flat=True)
        )
        if not ids:
            return
        chosen = ids[message % len(ids)]
        self._opened(self._attempt(lambda: actions.split_case(agent, found.pk, chosen)))

    @has_cases
    @rule(who=index, case=index, team=index, note=st.booleans())
    def transfer_case(self, who: int, case: int, team: int, note: bool) -> None:
        found = self._case(case)
        agent = self._worker(who, found)
        to = self.teams[team % len(self.teams)]
        self._attempt(
            lambda: actions.transfer_case(agent, found.pk, to.pk, "Yours." if note else None)
        )

    # --- escalation --------------------------------------------------------------------------

    @rule(what=st.sampled_from(["ask", "ask", "again", "answer"]))
    def the_silent_seller(self, what: str) -> None:
        """The buyer asks for help about their conversation with the seller, asks the
        seller again (a new wait, whose deadline passes at once), or the seller answers."""
        if what == "ask":
            self._opened(
                self._attempt(lambda: escalation_actions.ask_for_help(self.buyer, self.about_id))
            )
        elif what == "again":
            self._attempt(
                lambda: conversation_actions.send_message(self.buyer, self.about_id, "Hello??")
            )
            self._pass_deadline()
        else:
            self._attempt(
                lambda: conversation_actions.send_message(self.seller, self.about_id, "On its way.")
            )

    @precondition(
        lambda self: (
            Case.objects.filter(about_conversation_id=self.about_id).exists()
            if hasattr(self, "about_id")
            else False
        )
    )
    @rule(who=index, case=index)
    def agent_writes_in_the_conversation(self, who: int, case: int) -> None:
        about = list(
            Case.objects.filter(about_conversation_id=self.about_id)
            .order_by("pk")
            .values_list("pk", flat=True)
        )
        case_id = about[case % len(about)]
        agent = self._worker(who, Case.objects.get(pk=case_id))
        self._attempt(
            lambda: escalation_actions.write_in_conversation(
                agent, case_id, self.about_id, "Seller, please answer."
            )
        )

    # --- erasure -------------------------------------------------------------------------------

    @precondition(lambda self: self.other_buyer.pk not in self.erased)
    @rule()
    def erase_a_customer(self) -> None:
        from messagecenter.privacy.erasure import erase_person

        erase_person(self.admin, self.other_buyer)
        self.erased.add(self.other_buyer.pk)
        self.other_buyer.refresh_from_db()

    # --- invariants ----------------------------------------------------------------------------

    @invariant()
    def counters_equal_a_recount(self) -> None:
        assert queries.stored_counts() == queries.recount()

    @invariant()
    def a_merged_duplicate_is_closed_with_no_assignee(self) -> None:
        assert (
            list(
                Case.objects.filter(merged_into__isnull=False)
                .exclude(status=CaseStatus.CLOSED, assignee__isnull=True)
                .values_list("pk", "status", "assignee_id")
            )
            == []
        )

    @invariant()
    def agents_in_conversations_may_be_there(self) -> None:
        if not hasattr(self, "about_id"):
            return
        cases = {case.pk: case for case in Case.objects.all()}

        def root(case: Case) -> Case:
            while case.merged_into_id is not None:
                case = cases[case.merged_into_id]
            return case

        def works_in(user_id: int, team_id: int) -> bool:
            user = User.objects.get(pk=user_id)
            return (
                user.role == Role.ADMIN
                or TeamMember.objects.filter(agent_id=user_id, team_id=team_id).exists()
            )

        def wrote(user_id: int, conversation_id: int) -> bool:
            return Message.objects.filter(
                conversation_id=conversation_id, sender_id=user_id
            ).exists()

        wrong = []
        for case in cases.values():
            if case.conversation_id is None:
                continue
            leads_to = root(case)
            for user_id in Participant.objects.filter(
                conversation_id=case.conversation_id, role=ParticipantRole.AGENT
            ).values_list("user_id", flat=True):
                allowed = (
                    user_id == case.assignee_id or wrote(user_id, case.conversation_id)
                ) and works_in(user_id, leads_to.team_id)
                if not allowed:
                    wrong.append((case.pk, "own", user_id))
        about_teams = {
            root(case).team_id
            for case in cases.values()
            if case.about_conversation_id == self.about_id
        }
        for user_id in Participant.objects.filter(
            conversation_id=self.about_id, role=ParticipantRole.AGENT
        ).values_list("user_id", flat=True):
            if not (
                wrote(user_id, self.about_id)
                and any(works_in(user_id, team_id) for team_id in about_teams)
            ):
                wrong.append((None, "about", user_id))
        assert wrong == []

    @invariant()
    def unread_counts_and_event_sequences_stay_true(self) -> None:
        if not hasattr(self, "agents"):
            return
        for person in (*self.agents, *self.customers):
            assert maintained_unread(person) == recounted_unread(person), person.username
            sequences = event_sequences(person)
            assert sequences == list(range(1, len(sequences) + 1)), person.username


def test_cases_keep_their_counts_people_and_badges_true_through_any_actions(db: None) -> None:
    run_state_machine_as_test(
        CaseLifecycle,
        settings=settings(
            # ≈ 12 s on SQLite alone; fewer on PostgreSQL, whose transactions cost more.
            # make test runs both passes side by side, and the SQLite pass, which also has
            # the browser tests, ends minutes after the other: 20 examples there took 56 s
            # of it. Longer hunts: the environment variables above.
            max_examples=int(
                os.environ.get("CASE_MACHINE_EXAMPLES", 12 if connection.vendor == "sqlite" else 8)
            ),
            stateful_step_count=int(os.environ.get("CASE_MACHINE_STEPS", 30)),
            deadline=None,
            suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
        ),
    )
    if OUTCOMES_SHOWN:
        for key, n in sorted(OUTCOMES.items()):
            print(f"{n:6} {key}")
