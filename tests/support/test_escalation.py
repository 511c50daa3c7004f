"""A silent seller: the countdown, "Ask customer service to help", one request at a time
(docs/escalation.md)."""

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.conf import settings
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Kind, Message, Participant
from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.marketplace.models import Product
from messagecenter.safety.models import Block
from messagecenter.support import actions, escalation_actions, queries
from messagecenter.support.models import Case, CaseKind, CaseStatus
from tests import factories
from tests.api.helpers import error_of, with_token

pytestmark = pytest.mark.django_db


def ask_about_order(buyer: User, product: Product) -> Message:
    order = factories.order_with_item(buyer, product)
    return conversation_actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "Where is my parcel?"
    )


def pass_deadline(seller: User) -> None:
    Participant.objects.filter(user=seller).update(
        response_due_at=timezone.now() - timedelta(minutes=1)
    )


def counts_are_true() -> None:
    assert queries.stored_counts() == queries.recount()


def test_after_the_deadline_the_buyer_opens_a_request_about_the_conversation(
    buyer: User, seller: User, product: Product
) -> None:
    question = ask_about_order(buyer, product)
    pass_deadline(seller)

    case = escalation_actions.ask_for_help(buyer, question.conversation_id)

    assert case.kind == CaseKind.REQUEST
    assert case.status == CaseStatus.OPEN
    assert case.customer_id == buyer.pk
    assert case.about_conversation_id == question.conversation_id
    assert case.order_id == question.conversation.order_id
    assert case.subject == f"No answer from {seller.public_name}: {question.conversation.subject}"
    first = Message.objects.filter(conversation_id=case.conversation_id).order_by("id").first()
    assert first is not None
    assert first.sender_id == buyer.pk
    assert first.body.startswith(f"{seller.public_name} has not answered my message")
    # The agent reads the whole buyer–seller thread beside the case.
    context = queries.customer_context(case, factories.agent_in_team())
    assert [c.pk for c in context.conversations] == [question.conversation_id]
    counts_are_true()


def test_the_request_writes_the_dates_in_the_buyer_s_zone_whatever_zone_is_active(
    buyer: User, seller: User, product: Product
) -> None:
    """The buyer's words, which agents read too: the moments as the site writes them into
    a message (web/dates.py email_time), in the buyer's zone, named — not the zone active
    when the request was made, nor a format of its own."""
    User.objects.filter(pk=buyer.pk).update(time_zone="Asia/Tokyo")
    buyer.refresh_from_db()
    question = ask_about_order(buyer, product)
    asked = datetime(2025, 11, 17, 9, 30, tzinfo=UTC)
    due = datetime(2025, 11, 19, 5, 0, tzinfo=UTC)
    Participant.objects.filter(user=seller).update(
        awaiting_response_since=asked, response_due_at=due
    )

    with timezone.override(ZoneInfo("America/New_York")):
        case = escalation_actions.ask_for_help(buyer, question.conversation_id)

    first = Message.objects.filter(conversation_id=case.conversation_id).order_by("id").first()
    assert first is not None
    assert (
        "(asked Mon 17 Nov 2025, 6:30 PM JST; the answer was due by Wed 19 Nov 2025, "
        "2:00 PM JST). Please help." in first.body
    )


def test_before_the_deadline_the_request_is_refused_with_the_date(
    buyer: User, seller: User, product: Product
) -> None:
    question = ask_about_order(buyer, product)

    with pytest.raises(InvalidInput) as refused:
        escalation_actions.ask_for_help(buyer, question.conversation_id)

    assert refused.value.code == "seller_still_has_time"
    assert "still has until the end of" in refused.value.message
    assert Case.objects.count() == 0


def test_one_request_per_conversation_at_a_time(
    buyer: User, seller: User, product: Product
) -> None:
    question = ask_about_order(buyer, product)
    pass_deadline(seller)
    case = escalation_actions.ask_for_help(buyer, question.conversation_id)

    with pytest.raises(Conflict) as refused:
        escalation_actions.ask_for_help(buyer, question.conversation_id)
    assert refused.value.code == "already_asked_for_help"
    assert case.number in refused.value.message

    # Once solved, a seller still silent can be escalated again.
    agent = factories.agent_in_team()
    actions.set_case_status(agent, case.pk, CaseStatus.SOLVED)
    again = escalation_actions.ask_for_help(buyer, question.conversation_id)
    assert again.pk != case.pk
    counts_are_true()


def test_after_the_seller_answers_there_is_nothing_to_escalate(
    buyer: User, seller: User, product: Product
) -> None:
    question = ask_about_order(buyer, product)
    pass_deadline(seller)
    conversation_actions.send_message(seller, question.conversation_id, "On its way!")

    with pytest.raises(InvalidInput) as refused:
        escalation_actions.ask_for_help(buyer, question.conversation_id)
    assert refused.value.code == "seller_not_waiting"


def test_only_the_buyer_of_the_conversation_can_ask(
    buyer: User, other_buyer: User, seller: User, product: Product
) -> None:
    question = ask_about_order(buyer, product)
    pass_deadline(seller)

    with pytest.raises(NotFound):
        escalation_actions.ask_for_help(other_buyer, question.conversation_id)
    with pytest.raises(NotAllowed) as refused:
        escalation_actions.ask_for_help(seller, question.conversation_id)
    assert refused.value.code == "buyers_only"
    assert Case.objects.count() == 0


def test_a_conversation_not_with_a_seller_is_refused_as_such_not_as_the_wrong_person(
    buyer: User,
) -> None:
    updates = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Shipped", body="On its way."
    )
    request = actions.open_request(buyer, "Where is my parcel?", "It has not come.")
    device = with_token(buyer)

    refusals = [
        device.post(f"/conversations/{conversation_id}/ask-for-help", {})
        for conversation_id in (updates.conversation_id, request.conversation_id)
    ]

    for response in refusals:
        assert error_of(response) == (400, "not_a_seller_conversation")
        assert response.json()["error"]["message"].startswith(
            "This is not a conversation with a seller"
        )
    assert Case.objects.filter(about_conversation_id__isnull=False).count() == 0


def test_a_sellers_own_request_about_the_conversation_is_no_request_for_help(
    buyer: User, seller: User, product: Product
) -> None:
    """The seller may ask customer service about the same conversation: that is no request
    for help, yet it read as "the buyer has asked again" (409 newer_request_open) and kept
    the agent of the buyer's request from writing there."""
    agent = factories.agent_in_team()
    asked = ask_about_order(buyer, product)
    pass_deadline(seller)
    request = escalation_actions.ask_for_help(buyer, asked.conversation_id)
    escalation_actions.write_in_conversation(agent, request.pk, asked.conversation_id, "Seller?")
    actions.set_case_status(agent, request.pk, "solved")

    actions.open_request(
        seller, "About this buyer", "Help.", about_conversation_id=asked.conversation_id
    )
    written = escalation_actions.write_in_conversation(
        agent, request.pk, asked.conversation_id, "Again?"
    )

    assert written.body == "Again?"
    assert Case.objects.get(pk=request.pk).status == CaseStatus.OPEN


def test_the_conversation_page_counts_down_then_offers_help_then_shows_the_request(
    client: Client, buyer: User, seller: User, product: Product
) -> None:
    question = ask_about_order(buyer, product)
    url = f"/message-center/conversations/{question.conversation_id}/"
    client.force_login(buyer)

    page = client.get(url).content.decode()
    assert 'data-testid="response-window"' in page
    assert "you can ask us to step in" in page
    assert "Ask customer service to help" not in page
    early = client.post(f"{url}ask-for-help/", follow=True)
    assert "still has until" in early.content.decode()
    assert Case.objects.count() == 0

    pass_deadline(seller)
    page = client.get(url).content.decode()
    assert f"{seller.public_name} has not answered by" in page
    assert "Ask customer service to help" in page
    # A double click sends it once: the second click found the page before its answer
    # (site.js disables the button of a form marked so once it is sent).
    assert f'action="{url}ask-for-help/" class="inline-form button-row" data-submit-once>' in page

    response = client.post(f"{url}ask-for-help/")
    case = Case.objects.get()
    assert response.status_code == 302
    assert response["Location"] == f"/message-center/conversations/{case.conversation_id}/"

    page = client.get(url).content.decode()
    assert "Ask customer service to help" not in page
    assert f"{case.number} · Customer service is helping" in page
    assert "Open your request" in page


def test_the_request_s_line_stays_while_it_is_open_whatever_the_seller_does_since(
    client: Client, buyer: User, seller: User, product: Product
) -> None:
    """The line followed the seller's wait, not the request: once the seller answered (or
    the buyer asked again, a new wait with time left), the buyer's page lost "CS-n ·
    Customer service is helping" and its link while CS-n was still open, and the seller's
    page "The buyer asked customer service to step in"."""
    question = ask_about_order(buyer, product)
    pass_deadline(seller)
    case = escalation_actions.ask_for_help(buyer, question.conversation_id)
    url = f"/message-center/conversations/{question.conversation_id}/"
    request_url = f"/message-center/conversations/{case.conversation_id}/"
    buyer_page, seller_page = Client(), Client()
    buyer_page.force_login(buyer)
    seller_page.force_login(seller)

    conversation_actions.send_message(seller, question.conversation_id, "On its way!")
    answered = buyer_page.get(url).content.decode()
    answered_seller = seller_page.get(url).content.decode()
    conversation_actions.send_message(buyer, question.conversation_id, "It is not here.")
    asked_again = buyer_page.get(url).content.decode()
    actions.set_case_status(factories.agent_in_team(), case.pk, CaseStatus.SOLVED)
    solved = buyer_page.get(url).content.decode()
    solved_seller = seller_page.get(url).content.decode()

    for page in (answered, asked_again):
        assert f"{case.number} · Customer service is helping" in page
        assert f'href="{request_url}">Open your request</a>' in page
    assert "The buyer asked customer service to step in" in answered_seller
    assert case.number not in answered_seller
    assert "Customer service is helping" not in solved
    assert request_url not in solved
    assert "The buyer asked customer service to step in" not in solved_seller


def test_the_seller_sees_the_deadline_on_the_page_and_in_response_needed(
    client: Client, buyer: User, seller: User, product: Product
) -> None:
    question = ask_about_order(buyer, product)
    client.force_login(seller)

    page = client.get(f"/message-center/conversations/{question.conversation_id}/").content
    assert b"Answer by <strong>" in page
    listed = client.get("/message-center/?view=response-needed").content.decode()
    assert 'data-testid="response-due"' in listed
    assert "Answer by" in listed

    pass_deadline(seller)
    listed = client.get("/message-center/?view=response-needed").content.decode()
    assert "Deadline passed" in listed


def test_the_seller_is_told_once_the_buyer_asked_for_help_and_not_before(
    client: Client, buyer: User, seller: User, product: Product
) -> None:
    """Their page said the buyer "can now ask customer service to step in" after the buyer
    had. The request stays the buyer's: its number and the way to it are not shown."""
    question = ask_about_order(buyer, product)
    pass_deadline(seller)
    url = f"/message-center/conversations/{question.conversation_id}/"
    client.force_login(seller)

    before = client.get(url).content.decode()
    case = escalation_actions.ask_for_help(buyer, question.conversation_id)
    after = client.get(url).content.decode()
    actions.set_case_status(factories.agent_in_team(), case.pk, CaseStatus.SOLVED)
    solved = client.get(url).content.decode()

    assert "the buyer can now ask customer service to step in" in before
    assert "The buyer asked customer service to step in" not in before
    assert "The buyer asked customer service to step in" in after
    assert "An agent reads this conversation and may write to you here." in after
    assert "the buyer can now ask" not in after
    assert case.number not in after
    assert f"/message-center/conversations/{case.conversation_id}/" not in after
    assert "The buyer asked customer service to step in" not in solved


@pytest.mark.parametrize("days", [2, 3])
def test_the_pages_that_say_when_to_ask_for_help_say_the_rules_number_of_days(
    buyer: User, seller: User, settings: Settings, days: int
) -> None:
    """They said "2–3 business days" (the user's guide's "usually"), whatever the rule."""
    settings.SELLER_RESPONSE_BUSINESS_DAYS = days
    said = f"within {days} business days"
    for person, path in [
        (buyer, "/message-center/customer-service/"),
        (buyer, "/account/"),
        (seller, "/message-center/response-times/"),
    ]:
        client = Client()
        client.force_login(person)
        page = client.get(path).content.decode()
        assert said in page or f"after {days} business days" in page, path
        assert "2–3" not in page, path


def test_the_api_offers_the_button_s_url_only_while_no_request_is_open_and_names_the_request(
    buyer: User, seller: User, product: Product
) -> None:
    """GET /conversations/{id} kept `ask_for_help_url` while the request was open (a POST
    to it answered 409 already_asked_for_help) and said nothing of the request the page
    shows instead of the button: "CS-8 · Customer service is helping"."""
    question = ask_about_order(buyer, product)
    pass_deadline(seller)
    path = f"/conversations/{question.conversation_id}"

    before = with_token(buyer).get(path).json()
    assert before["response_window"]["ask_for_help_url"] == f"/api/v1{path}/ask-for-help"
    assert before["status_line"] is None
    asked = with_token(buyer).post(f"{path}/ask-for-help", {})
    assert asked.status_code == 201
    case = Case.objects.get()

    during = with_token(buyer).get(path).json()
    assert during["response_window"]["has_passed"] is True
    assert during["response_window"]["ask_for_help_url"] is None
    assert during["status_line"] == {
        "label": "Customer service is helping",
        "reference": case.number,
        "detail": "You asked us to step in: waiting for an agent.",
        "state": "escalated",
        "case_id": case.pk,
    }
    assert with_token(buyer).get(f"/cases/{case.pk}").json()["number"] == case.number
    # The seller learns that the buyer asked, not the request's number.
    as_seller = with_token(seller).get(path).json()["status_line"]
    assert as_seller["state"] == "escalated"
    assert (as_seller["reference"], as_seller["case_id"]) == ("", None)

    actions.set_case_status(factories.agent_in_team(), case.pk, CaseStatus.SOLVED)
    after = with_token(buyer).get(path).json()
    assert after["status_line"] is None
    assert after["response_window"]["ask_for_help_url"] == f"/api/v1{path}/ask-for-help"


def test_an_agent_on_the_request_writes_to_the_buyer_and_the_seller_in_their_conversation(
    buyer: User, seller: User, product: Product
) -> None:
    """The seller's page said "An agent reads this conversation and may write to you here",
    and the agent's view of it was read only, with no way to write there in the console or
    the API."""
    question = ask_about_order(buyer, product)
    pass_deadline(seller)
    case = escalation_actions.ask_for_help(buyer, question.conversation_id)
    agent = factories.agent_in_team(first_name="Priya", last_name="Natarajan")
    console = factories.signed_in(agent)
    page_url = f"/console/cases/{case.pk}/conversations/{question.conversation_id}/"

    page = console.get(page_url).content.decode()
    assert "Write to the buyer and the seller" in page
    sent = console.post(
        f"{page_url}messages/",
        {"body": "We asked the seller to answer today.", "idempotency_key": "w-1"},
    )

    message = Message.objects.get(conversation_id=question.conversation_id, sender=agent)
    assert sent.status_code == 302
    assert sent["Location"] == f"{page_url}#message-{message.pk}"
    assert message.is_official
    # Both sides read it as customer service's, with the Official badge.
    for person in (buyer, seller):
        thread = factories.signed_in(person).get(
            f"/message-center/conversations/{question.conversation_id}/"
        )
        text = thread.content.decode()
        assert "We asked the seller to answer today." in text
        assert "Priya" not in text
        detail = with_token(person).get(f"/conversations/{question.conversation_id}/messages")
        (mine,) = [m for m in detail.json()["items"] if m["id"] == message.pk]
        assert (mine["sender_name"], mine["is_official"]) == (agent.public_name, True)
        assert agent.public_name == settings.SUPPORT_AGENT_PUBLIC_NAME
    # It is no answer from the seller: their wait and its deadline stay.
    waiting = Participant.objects.get(conversation_id=question.conversation_id, user=seller)
    assert waiting.awaiting_response_since is not None
    case.refresh_from_db()
    assert case.assignee_id == agent.pk
    history = [line for _, line in queries.case_history(case)]
    assert (
        f"Priya Natarajan wrote to the buyer and the seller in “{question.conversation.subject}”"
        in history
    )
    # The same from the API, once per idempotency key.
    api = with_token(agent)
    path = f"/agent/cases/{case.pk}/conversations/{question.conversation_id}/messages"
    first = api.post(path, {"body": "Still on it."}, headers={"Idempotency-Key": "w-2"})
    again = api.post(path, {"body": "Still on it."}, headers={"Idempotency-Key": "w-2"})
    assert (first.status_code, again.status_code) == (201, 200)
    assert first.json()["message_id"] == again.json()["message_id"]
    assert first.json()["conversation_id"] == question.conversation_id
    assert (
        Message.objects.filter(conversation_id=question.conversation_id, sender=agent).count() == 2
    )
    counts_are_true()


def test_only_an_agent_of_the_request_writes_and_only_in_its_conversation(
    buyer: User, seller: User, product: Product
) -> None:
    question = ask_about_order(buyer, product)
    other = ask_about_order(buyer, factories.ProductFactory(storefront=seller.storefront))
    pass_deadline(seller)
    case = escalation_actions.ask_for_help(buyer, question.conversation_id)
    agent = factories.agent_in_team()
    outsider = factories.agent_in_team("trust-and-safety")
    plain = actions.open_request(buyer, "Help", "Where is it?")
    before = Message.objects.count()
    path = f"/agent/cases/{case.pk}/conversations/{question.conversation_id}/messages"
    body = {"body": "Hello both."}

    # Another team's agent, the buyer, the seller: as for any case of theirs.
    assert error_of(with_token(outsider).post(path, body)) == (404, "case_not_found")
    for person in (buyer, seller):
        assert error_of(with_token(person).post(path, body)) == (403, "agents_only")
    # Another conversation of the customer's (read beside the case too), or a request that
    # is about no conversation: not one to write in.
    for wrong in (
        f"/agent/cases/{case.pk}/conversations/{other.conversation_id}/messages",
        f"/agent/cases/{case.pk}/conversations/{case.conversation_id}/messages",
        f"/agent/cases/{plain.pk}/conversations/{question.conversation_id}/messages",
    ):
        assert error_of(with_token(agent).post(wrong, body)) == (404, "conversation_not_found")
    assert Message.objects.count() == before
    assert not Participant.objects.filter(
        conversation_id=question.conversation_id, user=agent
    ).exists()


def test_an_agent_who_no_longer_has_the_request_leaves_the_conversation(
    buyer: User, seller: User, product: Product
) -> None:
    question = ask_about_order(buyer, product)
    pass_deadline(seller)
    case = escalation_actions.ask_for_help(buyer, question.conversation_id)
    agent, teammate = factories.agent_in_team(), factories.agent_in_team()
    escalation_actions.write_in_conversation(
        agent, case.pk, question.conversation_id, "We are looking into it."
    )
    assert Participant.objects.filter(conversation_id=question.conversation_id, user=agent).exists()

    actions.assign_case(agent, case.pk, teammate.pk)

    # Out of the conversation: not even from their own Message Center.
    assert not Participant.objects.filter(
        conversation_id=question.conversation_id, user=agent
    ).exists()
    with pytest.raises(NotFound):
        conversation_actions.send_message(agent, question.conversation_id, "Me again.")
    message = escalation_actions.write_in_conversation(
        teammate, case.pk, question.conversation_id, "I have taken over."
    )
    assert message.sender_id == teammate.pk
    counts_are_true()


def test_an_agent_writes_in_the_buyer_and_seller_s_conversation_only_from_the_request(
    buyer: User, seller: User, product: Product
) -> None:
    """Writing from the request made the agent a participant: the conversation then sat in
    their own Message Center with a reply box, and the ordinary reply (page, API) wrote to
    the buyer and the seller without the request's checks — solved, or the agent moved to
    another team, it still went out, with no line in the request's history."""
    question = ask_about_order(buyer, product)
    pass_deadline(seller)
    case = escalation_actions.ask_for_help(buyer, question.conversation_id)
    agent = factories.agent_in_team()
    escalation_actions.write_in_conversation(
        agent, case.pk, question.conversation_id, "We are looking into it."
    )
    conversation_id = question.conversation_id
    console_url = f"/console/cases/{case.pk}/conversations/{conversation_id}/"
    api, browser = with_token(agent), factories.signed_in(agent)

    def refused_everywhere() -> None:
        before = Message.objects.count()
        assert error_of(
            api.post(f"/conversations/{conversation_id}/messages", {"body": "Around it."})
        ) == (403, "write_from_the_request")
        page = browser.post(
            f"/message-center/conversations/{conversation_id}/", {"body": "Around it."}
        )
        assert page.status_code == 403
        with pytest.raises(NotAllowed):
            conversation_actions.send_message(agent, conversation_id, "Around it.")
        assert Message.objects.count() == before
        # Nor a block, which would refuse the buyer's and the seller's messages there.
        assert error_of(api.post(f"/conversations/{conversation_id}/block", {})) == (
            403,
            "customers_only",
        )
        assert not Block.objects.exists()
        # Nor a typing sign: "Customer Service is typing…" for a reply that cannot come.
        assert error_of(api.post(f"/conversations/{conversation_id}/typing", {})) == (
            403,
            "write_from_the_request",
        )
        # Read only in their Message Center, saying where they write.
        detail = api.get(f"/conversations/{conversation_id}").json()
        assert detail["can_reply"] is False
        assert "from the request" in detail["cannot_reply_reason"]
        text = browser.get(f"/message-center/conversations/{conversation_id}/").content.decode()
        assert 'name="body"' not in text
        # No reply box, so the page's typing.js has nothing to tell the others about.
        assert 'id="reply-body"' not in text
        assert 'data-testid="written-from-the-request"' in text
        assert f'href="{console_url}"' in text

    # While the request is open: from the request only (its checks, its history line).
    refused_everywhere()
    # Solved: not at all from the Message Center either.
    actions.set_case_status(agent, case.pk, CaseStatus.SOLVED)
    refused_everywhere()
    # The buyer and the seller still write to each other.
    conversation_actions.send_message(seller, conversation_id, "Shipped today.")
    conversation_actions.send_message(buyer, conversation_id, "Thanks!")


def test_writing_in_the_conversation_of_a_solved_request_opens_it_again(
    buyer: User, seller: User, product: Product
) -> None:
    """A solved request refused the agent (400 case_not_open: "set it to open again
    first"), where an answer in the request's own conversation, the agent's or the
    customer's, opens a solved request again. Now writing to the buyer and the seller
    opens it again too, with its history line, from the console and from the API."""
    question = ask_about_order(buyer, product)
    pass_deadline(seller)
    case = escalation_actions.ask_for_help(buyer, question.conversation_id)
    agent = factories.agent_in_team(first_name="Priya", last_name="Natarajan")
    page_url = f"/console/cases/{case.pk}/conversations/{question.conversation_id}/"
    api_path = f"/agent/cases/{case.pk}/conversations/{question.conversation_id}/messages"
    console = factories.signed_in(agent)
    # Pending stays pending: only a solved request opens again.
    actions.set_case_status(agent, case.pk, CaseStatus.PENDING)
    escalation_actions.write_in_conversation(agent, case.pk, question.conversation_id, "Hi.")
    case.refresh_from_db()
    assert case.status == CaseStatus.PENDING
    actions.set_case_status(agent, case.pk, CaseStatus.SOLVED)

    page = console.get(page_url).content.decode()
    assert "Write to the buyer and the seller" in page
    assert "This request is solved: sending opens it again." in page
    sent = console.post(f"{page_url}messages/", {"body": "The seller has shipped it."})

    assert sent.status_code == 302
    case.refresh_from_db()
    assert (case.status, case.assignee_id) == (CaseStatus.OPEN, agent.pk)
    history = [line for _, line in queries.case_history(case)]
    assert history[-2:] == [
        "Priya Natarajan set the status to Open",
        f"Priya Natarajan wrote to the buyer and the seller in “{question.conversation.subject}”",
    ]
    counts_are_true()
    # The API the same; a retry of the same key opens nothing again.
    actions.set_case_status(agent, case.pk, CaseStatus.SOLVED)
    api = with_token(agent)
    first = api.post(api_path, {"body": "One more thing."}, headers={"Idempotency-Key": "r-1"})
    assert first.status_code == 201
    assert first.json()["case"]["status"] == CaseStatus.OPEN
    actions.set_case_status(agent, case.pk, CaseStatus.SOLVED)
    again = api.post(api_path, {"body": "One more thing."}, headers={"Idempotency-Key": "r-1"})
    assert again.status_code == 200
    case.refresh_from_db()
    assert case.status == CaseStatus.SOLVED
    counts_are_true()


def test_a_solved_request_does_not_open_again_beside_a_newer_one_about_the_conversation(
    buyer: User, seller: User, product: Product
) -> None:
    """Once a request is solved the buyer may ask again about the same silence: opening
    the solved one again would make two requests about one conversation at once."""
    question = ask_about_order(buyer, product)
    pass_deadline(seller)
    first = escalation_actions.ask_for_help(buyer, question.conversation_id)
    agent = factories.agent_in_team()
    actions.set_case_status(agent, first.pk, CaseStatus.SOLVED)
    newer = escalation_actions.ask_for_help(buyer, question.conversation_id)
    before = Message.objects.count()

    with pytest.raises(Conflict) as refused:
        escalation_actions.write_in_conversation(
            agent, first.pk, question.conversation_id, "Hello both."
        )

    assert refused.value.code == "newer_request_open"
    assert newer.number in refused.value.message
    first.refresh_from_db()
    assert first.status == CaseStatus.SOLVED
    assert Message.objects.count() == before
    # From the newer one, as usual.
    escalation_actions.write_in_conversation(
        agent, newer.pk, question.conversation_id, "Hello both."
    )
