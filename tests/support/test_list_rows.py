"""A case's status on the customer's Message Center rows (docs/support.md): one read for
the page, whatever the number of case rows."""

import re

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Kind
from messagecenter.support import actions
from tests import factories
from tests.databases import PLANNER_SETTINGS

pytestmark = pytest.mark.django_db

CUSTOMER_SERVICE = "/message-center/?folder=customer_service"
ROW_STATUS = re.compile(r'data-testid="case-row-status" title="(CS-\d+)">([^<]+)<')
# A folder of the Message Center: session, user, where the page's event stream starts
# (realtime/pages.py), the page's rows, the counts (a folder has no broadcasts to merge
# in; tests/conversations/test_views.py has the All page's six) — plus the cases of the
# page's customer-service rows: one read for the page, never one per row. On PostgreSQL
# the rows' statement comes with the planner's settings before and after it (db/plans.py,
# tests/databases.py).
FOLDER_QUERIES = 5 + PLANNER_SETTINGS
FOLDER_WITH_CASES_QUERIES = FOLDER_QUERIES + 1
ALL_PAGE_QUERIES = 6 + PLANNER_SETTINGS


def statuses_on(client: Client, url: str) -> dict[str, str]:
    return dict(ROW_STATUS.findall(client.get(url).content.decode()))


def test_each_request_row_shows_its_case_status_for_one_read(
    client: Client, buyer: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    agent = factories.agent_in_team()
    waiting = actions.open_request(buyer, "Where is my parcel?", "Still nothing.")
    client.force_login(buyer)
    statuses_on(client, CUSTOMER_SERVICE)  # marks everything seen: the pinned reads follow

    with django_assert_num_queries(FOLDER_WITH_CASES_QUERIES):
        one = statuses_on(client, CUSTOMER_SERVICE)

    answered = actions.open_request(buyer, "Refund", "Where is it?")
    actions.reply_to_case(agent, answered.pk, "It is on its way.")
    solved = actions.open_request(buyer, "Address", "Change it, please.")
    actions.reply_to_case(agent, solved.pk, "Done.", status="solved")
    statuses_on(client, CUSTOMER_SERVICE)

    with django_assert_num_queries(FOLDER_WITH_CASES_QUERIES):
        three = statuses_on(client, CUSTOMER_SERVICE)

    assert one == {waiting.number: "Waiting for us"}
    assert three == {
        waiting.number: "Waiting for us",
        answered.number: "Answered",
        solved.number: "Solved",
    }
    # The All list shows them too, for the same one read.
    with django_assert_num_queries(ALL_PAGE_QUERIES + 1):
        assert statuses_on(client, "/message-center/") == three


def test_a_list_without_case_rows_reads_no_cases(
    client: Client, buyer: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Shipped", body="On its way."
    )
    client.force_login(buyer)
    client.get("/message-center/")

    with django_assert_num_queries(ALL_PAGE_QUERIES):
        assert statuses_on(client, "/message-center/") == {}
