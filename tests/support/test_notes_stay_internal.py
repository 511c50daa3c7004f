"""An internal note never reaches the customer: not a page, not the API, not an e-mail,
not the search, not the event log (docs/support.md, "Internal notes never reach
customers"). The access matrix checks every route for every role; this follows one case
through its whole life and scans everything the customer receives."""

from collections.abc import Iterator

import pytest
from django.test import Client, TestCase
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.delivery.sender import send_due_emails
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import UserEvent
from messagecenter.search.queries import SearchFilters, search_messages
from messagecenter.support import actions
from messagecenter.support.models import CaseStatus
from tests import factories
from tests.api.helpers import with_token
from tests.delivery.smtp import Handler, SmtpServer

pytestmark = pytest.mark.django_db

NOTE = "wolverinedossier"


@pytest.fixture
def inbox(settings: Settings) -> Iterator[Handler]:
    server = SmtpServer()
    server.start()
    settings.MAILERS = {"default": server.mailer()}
    try:
        yield server.handler
    finally:
        server.stop()


def test_a_note_is_in_no_customer_facing_response_email_search_or_event(
    client: Client, buyer: User, product: Product, inbox: Handler
) -> None:
    order = factories.order_with_item(buyer, product)
    agent = factories.agent_in_team(first_name="Priya")
    with TestCase.captureOnCommitCallbacks(execute=True):
        case = actions.open_request(buyer, "Parcel lost", "Where is it?", order_number=order.number)
        actions.take_case(agent, case.pk)
        actions.add_note(agent, case.pk, f"Suspect the carrier. {NOTE}")
        actions.reply_to_case(agent, case.pk, "We have asked the carrier.")
        conversation_actions.send_message(buyer, case.conversation_id, "Thank you.")
        actions.add_note(agent, case.pk, f"Second look. {NOTE}")
        actions.set_case_status(agent, case.pk, CaseStatus.SOLVED)
    assert send_due_emails() >= 3

    client.force_login(buyer)
    conversation_id = case.conversation_id
    pages = [
        client.get("/message-center/"),
        client.get("/message-center/?folder=customer_service"),
        client.get(f"/message-center/conversations/{conversation_id}/"),
        client.get("/message-center/customer-service/"),
        # "carrier" is in the agent's answer and in the first note: the answer only.
        # (A search for the note's own word would echo it back in the search box.)
        client.get("/message-center/search/?q=carrier"),
    ]
    api = with_token(buyer)
    responses = [
        api.get("/cases"),
        api.get(f"/cases/{case.pk}"),
        api.get(f"/conversations/{conversation_id}"),
        api.get(f"/conversations/{conversation_id}/messages"),
        api.get("/conversations?folder=customer_service"),
        api.get("/search?q=carrier"),
        api.get("/sync/events?after=0"),
    ]

    assert [page.status_code for page in pages] == [200] * len(pages)
    assert [response.status_code for response in responses] == [200] * len(responses)
    for page in pages:
        assert NOTE not in page.content.decode()
    for response in responses:
        assert NOTE not in response.content.decode()
    received = [email.text() + email.html() for email in inbox.received]
    assert received, "the customer got the answer by e-mail"
    assert all(NOTE not in text for text in received)
    assert "We have asked the carrier." in "".join(received)
    assert search_messages(buyer, SearchFilters(text=NOTE)).results == []
    assert len(search_messages(buyer, SearchFilters(text="carrier")).results) == 1
    assert not UserEvent.objects.filter(user=buyer, payload__icontains=NOTE).exists()
    # The agent does see it in the console.
    client.force_login(agent)
    console = client.get(f"/console/cases/{case.pk}/").content.decode()
    assert NOTE in console
    # In the direction of its own text (an Arabic note read left to right).
    assert f'<div dir="auto">Suspect the carrier. {NOTE}</div>' in console
