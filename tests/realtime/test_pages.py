"""Where a live page's stream starts (realtime/pages.py): the pages with live parts say the
position they were read from; partial answers, a form's page rendered again and the other
pages say none (they start from now). The browser's side: tests/e2e/test_live_updates.py,
"a reply that lands while the page loads"."""

import re

import pytest
from django.test import Client

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.marketplace.models import Product
from messagecenter.realtime.queries import last_sequence_of
from messagecenter.support import actions as support_actions
from tests import factories
from tests.notifications.helpers import broadcast

pytestmark = pytest.mark.django_db

LIVE_AFTER = re.compile(r'<body data-live data-user-id="\d+"(?: data-live-after="(\d+)")?>')


def live_after(response: object) -> int | None:
    """The position the page says, None where it says none."""
    found = LIVE_AFTER.search(response.content.decode())  # type: ignore[attr-defined]
    assert found is not None, "not a signed-in page"
    return None if found[1] is None else int(found[1])


def test_a_conversation_says_where_the_log_stood_before_it_was_read(
    client: Client, buyer: User, seller: User, product: Product
) -> None:
    """Read before the page's own change (opening it marks it read, an event): that event
    comes back on the page's stream, as everything after the position does."""
    question = actions.ask_seller_about_product(buyer, product.pk, "Does it come with a tamper?")
    actions.send_message(seller, question.conversation_id, "Which model do you have?")
    before = last_sequence_of(buyer.pk)
    client.force_login(buyer)

    response = client.get(f"/message-center/conversations/{question.conversation_id}/")

    assert before > 0
    assert live_after(response) == before
    assert last_sequence_of(buyer.pk) == before + 1  # conversation.read


def test_the_message_center_a_notice_and_a_case_say_where_they_were_read_from(
    client: Client, buyer: User
) -> None:
    notice = broadcast(subject="New terms of service")
    agent = factories.agent_in_team()
    case = support_actions.open_request(buyer, "Where is my parcel?", "Still nothing.")
    client.force_login(buyer)
    pages = {}
    for url in ["/message-center/", f"/message-center/announcements/{notice.pk}/"]:
        pages[url] = (last_sequence_of(buyer.pk), live_after(client.get(url)))
    client.force_login(agent)
    case_url = f"/console/cases/{case.pk}/"
    pages[case_url] = (last_sequence_of(agent.pk), live_after(client.get(case_url)))

    # Each, the position just before it (each then changes something: seen, read).
    assert all(before == said for before, said in pages.values()), pages


def test_partials_a_page_rendered_again_and_other_pages_start_from_now(
    client: Client, buyer: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Does it come with a tamper?")
    url = f"/message-center/conversations/{question.conversation_id}/"
    client.force_login(buyer)

    partial = client.get(url, headers={"X-Partial": "messages"})
    refused_reply = client.post(url, {"body": ""})
    account = client.get("/account/")

    assert "<body" not in partial.content.decode()
    assert refused_reply.status_code == 400
    assert live_after(refused_reply) is None
    assert live_after(account) is None
