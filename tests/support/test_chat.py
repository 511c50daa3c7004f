"""Live chat (docs/support.md, "Live chat"): an available agent in the console takes a
chat at once; with nobody available the page says so and the question becomes an
ordinary request with the expected response time."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.errors import NotAllowed
from messagecenter.support import actions, queries
from messagecenter.support.models import UNASSIGNED, CaseStatus, ChatAvailability, Team
from tests import factories

pytestmark = pytest.mark.django_db

CHAT = "/message-center/customer-service/chat/"


def test_an_available_agent_in_the_console_takes_the_chat_at_once(
    client: Client, buyer: User
) -> None:
    busy = factories.agent_in_team(first_name="Busy")
    free = factories.agent_in_team(first_name="Free")
    away = factories.agent_in_team(first_name="Away")
    actions.set_chat_availability(busy, True)
    actions.set_chat_availability(free, True)
    actions.set_chat_availability(away, False)
    earlier = actions.open_request(factories.BuyerFactory(), "Other", "Question.")
    actions.take_case(busy, earlier.pk)
    client.force_login(buyer)

    page = client.get(CHAT).content.decode()
    response = client.post(CHAT, {"body": "Is my parcel lost?\nIt is late."})

    assert "An agent is available now" in page
    case = queries.customer_cases(buyer)[0]
    assert response["Location"] == f"/message-center/conversations/{case.conversation_id}/"
    # The least busy of the available agents has it, and is in the conversation.
    assert (case.assignee_id, case.status, case.subject) == (
        free.pk,
        "open",
        "Chat: Is my parcel lost?",
    )
    assert Participant.objects.filter(conversation_id=case.conversation_id, user=free).exists()
    last = Message.objects.filter(conversation_id=case.conversation_id).order_by("id").last()
    assert last is not None
    assert last.body.startswith("You are chatting with Customer Service")
    assert "opened the case by chat" in queries.case_history(case)[0][1]
    # A live chat promises no day: the agent answers as they write.
    assert case.respond_by is None
    conversation = client.get(response["Location"]).content.decode()
    assert "An agent is on it" in conversation
    assert "We expect to answer by" not in conversation
    assert queries.stored_counts() == queries.recount()
    assert queries.stored_counts()[(case.team_id, "open", free.pk)] == 1


@pytest.mark.parametrize("how", ["back to the queue", "to a team the agent is not in"])
def test_a_chat_handed_back_promises_an_answer_from_when_the_customer_asked(
    client: Client, buyer: User, how: str
) -> None:
    """Without an agent answering as they write, a chat is a request waiting in a queue:
    its customer is told by when, counted from their question, as for any request."""
    agent = factories.agent_in_team(first_name="Free")
    factories.agent_in_team("trust-and-safety")
    actions.set_chat_availability(agent, True)
    client.force_login(buyer)
    client.post(CHAT, {"body": "Is my parcel lost?"})
    case = queries.customer_cases(buyer)[0]
    asked = case.queued_at

    if how == "back to the queue":
        actions.unassign_case(agent, case.pk)
    else:
        actions.transfer_case(agent, case.pk, Team.objects.get(slug="trust-and-safety").pk)

    case.refresh_from_db()
    assert (case.assignee_id, case.status) == (None, "open")
    assert case.respond_by == asked + queries.expected_response(case.team)
    conversation = client.get(f"/message-center/conversations/{case.conversation_id}/")
    assert "Waiting for an agent" in conversation.content.decode()
    assert "We expect to answer by" in conversation.content.decode()
    assert queries.stored_counts() == queries.recount()


def test_nobody_available_says_so_and_opens_an_ordinary_request(
    client: Client, buyer: User
) -> None:
    agent = factories.agent_in_team()
    actions.set_chat_availability(agent, True)
    # Available, but no console page of theirs has been open for a while: not online.
    ChatAvailability.objects.filter(agent=agent).update(seen_at=timezone.now() - timedelta(hours=1))
    client.force_login(buyer)

    page = client.get(CHAT).content.decode()
    client.post(CHAT, {"body": "Can I change my address?", "expected": "case"})

    assert "No agent is available for chat right now" in page
    assert "we usually answer within 24 hours" in page
    case = queries.customer_cases(buyer)[0]
    assert (case.assignee_id, case.status) == (None, "open")
    assert case.respond_by is not None
    bodies = list(
        Message.objects.filter(conversation_id=case.conversation_id)
        .order_by("id")
        .values_list("body", flat=True)
    )
    assert "expect an answer by" in bodies[-1]
    assert queries.stored_counts() == {(case.team_id, "open", UNASSIGNED): 1}


def test_opening_the_console_keeps_an_available_agent_online(client: Client) -> None:
    agent = factories.agent_in_team()
    team = actions.team_for("request")
    client.force_login(agent)

    client.post("/console/chat-availability/", {"available": "true"})
    ChatAvailability.objects.filter(agent=agent).update(seen_at=timezone.now() - timedelta(hours=1))
    assert queries.chat_agent(team) is None
    page = client.get("/console/").content.decode()
    assert queries.chat_agent(team) == agent
    assert "Available for chat" in page

    client.post("/console/chat-availability/", {"available": "false"})
    assert queries.chat_agent(team) is None


def test_only_agents_take_chats(buyer: User) -> None:
    with pytest.raises(NotAllowed):
        actions.set_chat_availability(buyer, True)
    assert not ChatAvailability.objects.exists()


def test_a_message_that_arrives_on_the_case_page_brings_the_status_it_set(
    client: Client, buyer: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    """The console's case page follows its conversation through the messages alone
    (X-Partial: messages, site.js): the customer's reply appeared live, but the header kept
    "Waiting on customer" and "The customer sees: Answered — waiting for your reply" though
    the reply had opened the case again. The same answer now carries the line under the
    title and the "Set status" form as the case stands, from the case the view reads
    anyway: no query more."""
    agent = factories.agent_in_team(first_name="Priya")
    actions.set_chat_availability(agent, True)
    case = actions.start_chat(buyer, "Is my parcel lost?")
    answer = actions.reply_to_case(agent, case.pk, "It is at the depot.")
    client.force_login(agent)
    url = f"/console/cases/{case.pk}/"
    page = client.get(url).content.decode()
    assert ">Waiting on customer</span>" in page
    assert "The customer sees: “Answered — waiting for your reply”" in page

    reply = conversation_actions.send_message(buyer, case.conversation_id, "It is not there.")
    # The session, the agent, the case, marking the conversation read (a savepoint, the
    # agent's row locked and moved, the counter, the event's number and row, the release),
    # the messages after the last one shown and their attachments.
    with django_assert_num_queries(12):
        response = client.get(url, {"after": answer.pk}, headers={"X-Partial": "messages"})

    partial = response.content.decode()
    assert partial.count('<li class="message') == 1
    assert f'id="message-{reply.pk}"' in partial
    assert 'data-live-part="case-status"' in partial
    assert f">{CaseStatus.OPEN.label}</span>" in partial
    assert "The customer sees: “An agent is on it”" in partial
    assert ">Waiting on customer</span>" not in partial
    # And the "Set status" form with the status as it stands, so the page's dropdown never
    # offers the old one to set back by accident.
    assert 'data-live-part="case-status-form"' in partial
    assert '<option value="open" selected>' in partial
    assert '<option value="pending" selected>' not in partial
