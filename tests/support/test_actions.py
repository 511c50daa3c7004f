"""Cases: routing, assignment, status, notes, canned responses (docs/support.md)."""

from datetime import timedelta

import pytest
from django.core import mail
from django.test import Client, TestCase
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message, Participant, ParticipantRole
from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import UserEvent
from messagecenter.search.models import MailboxMessage
from messagecenter.support import actions, queries
from messagecenter.support.hooks import status_line
from messagecenter.support.models import (
    UNASSIGNED,
    CannedResponse,
    Case,
    CaseEvent,
    CaseNote,
    CaseStatus,
)
from messagecenter.web.dates import full_time
from tests import factories
from tests.api.helpers import error_of, with_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def team_agent(db: None) -> User:
    return factories.agent_in_team(username="priya", first_name="Priya", last_name="Natarajan")


@pytest.fixture
def teammate(db: None) -> User:
    return factories.agent_in_team(username="omar", first_name="Omar", last_name="Haddad")


def counts_are_true() -> None:
    assert queries.stored_counts() == queries.recount()


def test_a_request_opens_a_case_in_the_unassigned_queue_with_what_it_is_about(
    buyer: User, product: Product, team_agent: User
) -> None:
    order = factories.order_with_item(buyer, product)

    case = actions.open_request(
        buyer, "Where is my order?", "It has not arrived.", order_number=order.number
    )

    assert (case.kind, case.status, case.assignee_id, case.order_id) == (
        "request",
        "open",
        None,
        order.pk,
    )
    assert case.conversation is not None
    assert case.conversation.order_id == order.pk
    assert case.respond_by is not None
    page = queries.queue_page(team_agent, queries.UNASSIGNED_VIEW)
    assert [found.pk for found in page.cases] == [case.pk]
    assert queries.queue_counts(team_agent) == {
        "unassigned": 1,
        "mine": 0,
        "team": 1,
        "waiting": 0,
        "solved": 0,
    }
    # The customer's message, then the marketplace's "we have your request, expect …".
    messages = list(Message.objects.filter(conversation=case.conversation).order_by("id"))
    assert [message.sender_id for message in messages] == [buyer.pk, None]
    assert "expect an answer by" in messages[1].body
    assert Participant.objects.get(conversation=case.conversation).user_id == buyer.pk
    counts_are_true()


def test_open_case_opens_any_kind_in_its_team_with_links_counter_and_history(
    buyer: User, seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)
    asked = conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "Hello?"
    )
    reported = conversation_actions.send_message(
        seller, asked.conversation_id, "Pay me outside the marketplace."
    )
    talk = asked.conversation

    report = actions.open_case(
        "report",
        buyer,
        "A seller asks for payment outside",
        about_conversation=talk,
        about_message=reported,
        priority=3,
        reason="off_platform_payment",
    )
    claim = actions.open_case(
        "claim", buyer, "Item not received", order=order, actor=None, tell_customer=False
    )

    assert (report.kind, report.team.slug, report.status, report.assignee_id) == (
        "report",
        "trust-and-safety",
        "open",
        None,
    )
    assert (report.about_conversation_id, report.about_message_id, report.priority) == (
        talk.pk,
        reported.pk,
        3,
    )
    assert (claim.team.slug, claim.order_id, claim.conversation_id) == ("claims", order.pk, None)
    opened = CaseEvent.objects.get(case=report)
    assert (opened.kind, opened.actor_id, opened.detail) == (
        "opened",
        buyer.pk,
        {"reason": "off_platform_payment"},
    )
    assert CaseEvent.objects.get(case=claim).actor_id is None
    # The reporter's devices hear of theirs; the claim asked for silence.
    assert UserEvent.objects.filter(user=buyer, kind="case.updated").count() == 1
    assert queries.stored_counts() == {
        (report.team_id, "open", UNASSIGNED): 1,
        (claim.team_id, "open", UNASSIGNED): 1,
    }
    counts_are_true()


def test_open_case_refuses_an_unknown_kind_and_changes_nothing(buyer: User) -> None:
    with pytest.raises(InvalidInput):
        actions.open_case("complaint", buyer, "Something")
    assert not Case.objects.exists()


def test_a_retried_request_with_the_same_key_is_one_case(buyer: User) -> None:
    first = actions.open_request(buyer, "Help", "Please.", idempotency_key="k-1")
    again = actions.open_request(buyer, "Help", "Please.", idempotency_key="k-1")

    assert first.pk == again.pk
    assert Case.objects.count() == 1
    counts_are_true()


def test_agents_and_admins_do_not_open_requests(agent: User) -> None:
    with pytest.raises(NotAllowed):
        actions.open_request(agent, "Help", "Please.")
    assert Case.objects.count() == 0


def test_taking_a_case_adds_the_agent_to_the_conversation_with_its_history(
    buyer: User, team_agent: User
) -> None:
    case = actions.open_request(buyer, "Broken kettle", "It leaks.")

    actions.take_case(team_agent, case.pk)

    case.refresh_from_db()
    assert case.assignee_id == team_agent.pk
    joined = Participant.objects.get(conversation=case.conversation, user=team_agent)
    assert (joined.role, joined.unread_count) == (ParticipantRole.AGENT, 0)
    # Every message so far is in the agent's search mailbox.
    assert MailboxMessage.objects.filter(user=team_agent).count() == 2
    assert queries.queue_counts(team_agent)["mine"] == 1
    assert queries.queue_counts(team_agent)["unassigned"] == 0
    counts_are_true()


def test_assign_to_me_refuses_a_case_a_colleague_has(
    buyer: User, team_agent: User, teammate: User
) -> None:
    case = actions.open_request(buyer, "Broken kettle", "It leaks.")
    actions.take_case(teammate, case.pk)

    with pytest.raises(Conflict) as refused:
        actions.take_case(team_agent, case.pk)

    assert refused.value.code == "case_already_assigned"
    # Whether they took it or were given it.
    assert refused.value.message == "Omar Haddad already has this case."
    case.refresh_from_db()
    assert case.assignee_id == teammate.pk


def test_reassigning_moves_the_agent_out_and_keeps_the_history_for_the_buyer(
    buyer: User, team_agent: User, teammate: User
) -> None:
    case = actions.open_request(buyer, "Broken kettle", "It leaks.")
    actions.reply_to_case(team_agent, case.pk, "Sorry! Can you send a photo?")

    actions.assign_case(team_agent, case.pk, teammate.pk)

    assert not Participant.objects.filter(conversation=case.conversation, user=team_agent).exists()
    assert not MailboxMessage.objects.filter(user=team_agent).exists()
    assert Participant.objects.filter(conversation=case.conversation, user=teammate).exists()
    bodies = list(
        Message.objects.filter(conversation=case.conversation).values_list("body", flat=True)
    )
    assert "Sorry! Can you send a photo?" in bodies
    assert MailboxMessage.objects.filter(user=buyer).count() == len(bodies)
    counts_are_true()


def test_assigning_to_someone_outside_the_team_is_refused(
    buyer: User, team_agent: User, agent: User
) -> None:
    case = actions.open_request(buyer, "Help", "Please.")

    with pytest.raises(InvalidInput) as refused:
        actions.assign_case(team_agent, case.pk, agent.pk)

    assert refused.value.code == "agent_not_in_team"


def test_an_agent_of_another_team_cannot_reach_the_case(buyer: User) -> None:
    case = actions.open_request(buyer, "Help", "Please.")
    safety_agent = factories.agent_in_team("trust-and-safety")

    with pytest.raises(NotFound):
        actions.take_case(safety_agent, case.pk)
    with pytest.raises(NotFound):
        queries.access_case(buyer, case.pk, for_agent=True)


@pytest.mark.parametrize("answered_as", [CaseStatus.SOLVED, CaseStatus.PENDING])
def test_a_request_the_customer_opens_again_is_promised_an_answer_counted_from_the_reply(
    buyer: User, team_agent: User, answered_as: str
) -> None:
    """A reply opens a solved (or answered) request again with a new question in it, but
    the request kept the promise made for its first question: days later the customer's
    list and the conversation said "We expect to answer by" a time already past, and the
    console "Promised an answer by" it. It is counted from the reply now, as a new request
    asked then would be."""
    case = actions.open_request(buyer, "Broken kettle", "It leaks.")
    actions.reply_to_case(team_agent, case.pk, "We will send a new one.", status=answered_as)
    Case.objects.filter(pk=case.pk).update(respond_by=timezone.now() - timedelta(days=3))

    reply = conversation_actions.send_message(buyer, case.conversation_id, "It never came.")

    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.respond_by == reply.created_at + queries.expected_response(case.team)


def test_reply_answers_then_the_customer_reopens_then_solved(buyer: User, team_agent: User) -> None:
    case = actions.open_request(buyer, "Broken kettle", "It leaks.")
    mail.outbox.clear()

    with TestCase.captureOnCommitCallbacks(execute=True):
        reply = actions.reply_to_case(team_agent, case.pk, "We will send a new one.")

    case.refresh_from_db()
    assert (case.status, case.assignee_id) == (CaseStatus.PENDING, team_agent.pk)
    assert case.first_response_at == reply.created_at
    assert reply.is_official
    # The customer sees the team's name, not the agent's.
    assert reply.sender_name == "Customer Service"

    from messagecenter.conversations import actions as conversation_actions

    conversation_actions.send_message(buyer, case.conversation_id, "Thanks, when?")
    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert queries.queue_counts(team_agent)["mine"] == 1

    actions.set_case_status(team_agent, case.pk, CaseStatus.SOLVED)
    case.refresh_from_db()
    assert case.status == CaseStatus.SOLVED
    assert queries.queue_counts(team_agent)["solved"] == 1
    last = Message.objects.filter(conversation=case.conversation).order_by("-id").first()
    assert last is not None
    assert "solved" in last.body
    kinds = list(
        UserEvent.objects.filter(user=buyer, kind="case.updated")
        .order_by("sequence")
        .values_list("payload__status", flat=True)
    )
    assert kinds == ["open", "open", "pending", "open", "solved"]
    assert list(CaseEvent.objects.filter(case=case).values_list("kind", flat=True)) == [
        "opened",
        "assigned",
        "answered",
        "customer_replied",
        "status",
    ]
    counts_are_true()


def test_the_customers_reply_that_reopens_a_case_promises_a_new_answer_time(
    buyer: User, team_agent: User
) -> None:
    """Alice's reply two days after an answer put her case back in the queue, and her
    conversation said "An agent is on it · We expect to answer by" the first promise — a
    moment already two days past."""
    case = actions.open_request(buyer, "Broken kettle", "It leaks.")
    actions.reply_to_case(team_agent, case.pk, "We will send a new one.")
    two_days_ago = timezone.now() - timedelta(days=2)
    Case.objects.filter(pk=case.pk).update(respond_by=two_days_ago)

    reply = conversation_actions.send_message(buyer, case.conversation_id, "It never came.")

    case.refresh_from_db()
    assert case.status == CaseStatus.OPEN
    assert case.respond_by == reply.created_at + queries.expected_response(case.team)
    line = status_line(buyer, reply.conversation_id)
    assert line is not None
    assert line.detail == f"We expect to answer by {full_time(case.respond_by)}."


def test_the_customers_reply_to_an_open_case_keeps_its_promise(
    buyer: User, team_agent: User
) -> None:
    """A case still waiting for us keeps what the customer was promised: writing again
    does not push the answer further away."""
    case = actions.open_request(buyer, "Broken kettle", "It leaks.")
    promised = case.respond_by

    conversation_actions.send_message(buyer, case.conversation_id, "Any news?")

    case.refresh_from_db()
    assert case.respond_by == promised


def test_notes_are_for_agents_only(buyer: User, team_agent: User) -> None:
    case = actions.open_request(buyer, "Help", "Please.")

    note = actions.add_note(team_agent, case.pk, "Customer sounds upset; refund likely.")

    assert CaseNote.objects.get().body == note.body
    assert not Message.objects.filter(body__contains="refund likely").exists()
    with pytest.raises(NotFound):
        actions.add_note(buyer, case.pk, "Let me in.")


@pytest.mark.parametrize("note", [" ", "\u200b", "\u2066\u2069"])
def test_a_note_with_nothing_visible_is_refused(buyer: User, team_agent: User, note: str) -> None:
    case = actions.open_request(buyer, "Help", "Please.")

    with pytest.raises(InvalidInput) as error:
        actions.add_note(team_agent, case.pk, note)

    assert error.value.code == "empty_note"
    assert not CaseNote.objects.exists()


def test_priority(buyer: User, team_agent: User) -> None:
    case = actions.open_request(buyer, "Help", "Please.")

    actions.set_case_priority(team_agent, case.pk, 4)

    case.refresh_from_db()
    assert case.priority == 4
    with pytest.raises(InvalidInput):
        actions.set_case_priority(team_agent, case.pk, 9)


def test_canned_response_placeholders(buyer: User, team_agent: User, product: Product) -> None:
    order = factories.order_with_item(buyer, product)
    buyer.first_name = "Alice"
    buyer.save()
    case = actions.open_request(buyer, "Help", "Please.", order_number=order.number)
    team = case.team
    canned = actions.save_canned_response(
        team_agent,
        team.pk,
        "Where is it",
        "Hi {customer_name}, order {order_number} ({case_number}) is on its way.",
    )

    text = actions.fill_placeholders(canned.body, case, team_agent)

    assert text == f"Hi Alice, order {order.number} ({case.number}) is on its way."
    with pytest.raises(Conflict):
        actions.save_canned_response(team_agent, team.pk, "Where is it", "Again.")


def test_unassigning_returns_it_to_the_queue(buyer: User, team_agent: User) -> None:
    case = actions.open_request(buyer, "Help", "Please.")
    actions.take_case(team_agent, case.pk)

    actions.unassign_case(team_agent, case.pk)

    case.refresh_from_db()
    assert case.assignee_id is None
    assert queries.queue_counts(team_agent)["unassigned"] == 1
    assert queries.stored_counts() == {(case.team_id, "open", UNASSIGNED): 1}


def test_the_first_transcript_address_leads_to_todays_transcript_as_text(
    buyer: User, team_agent: User, client: Client
) -> None:
    """cases/<id>/transcript.txt, in older e-mails: the customer reaches their copy of the
    conversation, the agent the console's, each as text and without the note."""
    case = actions.open_request(buyer, "Broken kettle", "It leaks.")
    actions.add_note(team_agent, case.pk, "Internal: refund approved.")
    actions.reply_to_case(team_agent, case.pk, "A new kettle is on its way.")
    old = f"/cases/{case.pk}/transcript.txt"

    expected = {
        buyer: f"/message-center/conversations/{case.conversation_id}/transcript/?format=txt",
        team_agent: f"/console/cases/{case.pk}/transcript/?format=txt",
    }
    for reader, target in expected.items():
        client.force_login(reader)
        response = client.get(old, follow=True)
        assert response.redirect_chain == [(target, 301)]
        text = response.content.decode()
        assert response["Content-Type"] == "text/plain; charset=utf-8"
        assert "It leaks." in text
        assert "A new kettle is on its way." in text
        assert "refund approved" not in text
        assert "Priya" not in text


def test_a_requests_conversation_page_links_only_todays_transcript(
    buyer: User, client: Client
) -> None:
    case = actions.open_request(buyer, "Broken kettle", "It leaks.")
    client.force_login(buyer)

    page = client.get(f"/message-center/conversations/{case.conversation_id}/").content.decode()

    assert page.count("Download transcript") == 1
    assert f'href="/message-center/conversations/{case.conversation_id}/transcript/"' in page
    assert "transcript.txt" not in page


@pytest.mark.parametrize(
    ("body", "code", "named"),
    [
        ("Hello {unknown_placeholder}.", "unknown_placeholder", "{unknown_placeholder}"),
        ("Hi {name} and {Order}.", "unknown_placeholder", "{Order}, {name}"),
        ("Your order {order_number is late.", "unbalanced_placeholder", "{order_number"),
        ("Your order order_number} is late.", "unbalanced_placeholder", "order_number}"),
        ("Braces {} alone.", "unbalanced_placeholder", "{}"),
    ],
)
def test_a_canned_response_with_an_unknown_or_unbalanced_placeholder_is_refused(
    team_agent: User, body: str, code: str, named: str
) -> None:
    """They were saved (201) and inserted as written."""
    team = actions.team_for("request")

    with pytest.raises(InvalidInput) as refused:
        actions.save_canned_response(team_agent, team.pk, "Late", body)

    assert (refused.value.code, refused.value.status) == (code, 422)
    assert named in refused.value.message
    assert "{customer_name}, {order_number}, {case_number}, {agent_name}" in refused.value.message
    assert not CannedResponse.objects.exists()


def test_the_api_and_the_console_refuse_an_unknown_placeholder_naming_it(
    team_agent: User, client: Client
) -> None:
    team = actions.team_for("request")
    body = {"team_id": team.pk, "title": "Late", "body": "Hi {unknown_placeholder}."}

    refused = with_token(team_agent).post("/agent/canned-responses", body)
    assert error_of(refused) == (422, "unknown_placeholder")
    assert "{unknown_placeholder}" in refused.json()["error"]["message"]
    client.force_login(team_agent)
    page = client.post("/console/canned-responses/", body)
    assert page.status_code == 422
    assert "Unknown placeholder {unknown_placeholder}" in page.content.decode()
    assert not CannedResponse.objects.exists()


def test_a_placeholder_the_case_has_no_value_for_stays_and_must_be_filled_in(
    buyer: User, team_agent: User
) -> None:
    """On a case without an order, {order_number} became "": "the refund for order  has
    been issued" went to the customer."""
    case = actions.open_request(buyer, "Help", "Please.")
    canned = actions.save_canned_response(
        team_agent, case.team_id, "Refund", "The refund for order {order_number} has been issued."
    )

    text = actions.fill_placeholders(canned.body, case, team_agent)

    assert text == "The refund for order {order_number} has been issued."
    with pytest.raises(InvalidInput) as refused:
        actions.reply_to_case(team_agent, case.pk, text)
    assert refused.value.code == "unfilled_placeholder"
    assert "Fill in {order_number} before sending" in refused.value.message
    assert not Message.objects.filter(sender=team_agent).exists()
    filled = text.replace("{order_number}", "114-3318806-1147725")
    assert actions.reply_to_case(team_agent, case.pk, filled).body == filled


def test_placeholders_pasted_into_an_answer_are_filled_as_insert_fills_them(
    buyer: User, team_agent: User, product: Product
) -> None:
    """A canned text pasted rather than inserted: "{customer_name}" on a case with a
    customer was refused with "this case has nothing to put there"."""
    order = factories.order_with_item(buyer, product)
    case = actions.open_request(buyer, "Where is it?", "Please.", order_number=order.number)

    sent = actions.reply_to_case(
        team_agent,
        case.pk,
        "Hi {customer_name}, order {order_number} ({case_number}) is on its way. {agent_name}",
    )

    assert sent.body == (
        f"Hi {buyer.first_name or buyer.public_name}, order {order.number} ({case.number}) "
        f"is on its way. {team_agent.public_name}"
    )
    # Without an order, {order_number} is still the agent's to fill in.
    other = actions.open_request(buyer, "Help", "Please.")
    with pytest.raises(InvalidInput) as refused:
        actions.reply_to_case(team_agent, other.pk, "Hi {customer_name}, order {order_number}")
    assert refused.value.code == "unfilled_placeholder"
    assert "Fill in {order_number} before sending" in refused.value.message
    assert "{customer_name}" not in refused.value.message
