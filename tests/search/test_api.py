"""GET /api/v1/search: the search page's filters as query parameters, the same results."""

from collections.abc import Callable
from typing import Any

import pytest
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from tests.api.helpers import Caller, anonymous, error_of, with_session, with_token
from tests.databases import PLANNER_SETTINGS
from tests.search.conftest import ORDER_NUMBER, Mailbox

pytestmark = pytest.mark.django_db

SignIn = Callable[[User], Caller]


@pytest.fixture(params=["token", "session"])
def sign_in(request: pytest.FixtureRequest) -> SignIn:
    """As a device with an API token, and as a browser with its session."""
    return with_token if request.param == "token" else with_session


@pytest.fixture
def mailbox(mailbox_built_once: Mailbox) -> Mailbox:
    """Built once for this module (tests/search/conftest.py): what a test writes goes with
    its savepoint."""
    return mailbox_built_once


def found(mailbox: Mailbox, body: dict[str, Any]) -> list[str]:
    return mailbox.names([result["message_id"] for result in body["results"]])


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"q": "kettle"}, ["a3", "e1", "a2", "a1"]),
        ({"q": '"kettle"'}, ["a3", "a2", "a1"]),
        ({"q": ORDER_NUMBER}, ["c1", "b2", "b1"]),
        ({"q": "a OR b"}, ["b1"]),
        ({"q": "kettle", "box": "trash"}, ["e1"]),
        ({"sender": "marketplace"}, ["e1", "c1"]),
        ({"date_from": "2026-03-03", "date_to": "2026-03-05"}, ["c1", "b2", "b1"]),
        ({"folder": "orders"}, ["c1"]),
        ({"unread_only": "true"}, ["f2", "a3", "e1"]),
        ({"has_attachment": "true", "q": "kett"}, ["a3"]),
        ({"order_number": ORDER_NUMBER, "box": "archive"}, ["c1"]),
    ],
)
def test_search_with_filters(
    sign_in: SignIn, mailbox: Mailbox, params: dict[str, str], expected: list[str]
) -> None:
    response = sign_in(mailbox.buyer).get("/search", params)

    assert response.status_code == 200
    assert found(mailbox, response.json()) == expected


def test_days_are_the_persons_own(sign_in: SignIn, mailbox: Mailbox) -> None:
    # UTC+14: b2 (March 4, 12:00 UTC) was sent at 2 a.m. on March 5 there, c1 on March 6.
    account_actions.set_time_zone(mailbox.buyer, "Pacific/Kiritimati")

    response = sign_in(mailbox.buyer).get(
        "/search", {"date_from": "2026-03-05", "date_to": "2026-03-05"}
    )

    assert found(mailbox, response.json()) == ["b2"]


def test_a_result_carries_what_a_list_shows(sign_in: SignIn, mailbox: Mailbox) -> None:
    body = sign_in(mailbox.buyer).get("/search", {"q": "refund script"}).json()

    conversation_id = body["results"][0]["conversation_id"]
    assert body == {
        "results": [
            {
                "kind": "message",
                "message_id": mailbox.ids["b2"],
                "conversation_id": conversation_id,
                "broadcast_id": None,
                "subject": f"Order {ORDER_NUMBER}",
                "subject_html": f"Order {ORDER_NUMBER}",
                "snippet": "Sorry about the delay! &lt;<mark>script</mark>&gt;alert(&#x27;x&#x27;)"
                "&lt;/<mark>script</mark>&gt; We&#x27;ll <mark>refund</mark> you &amp; apologise.",
                "sender_name": "Acme Kitchen",
                "is_official": False,
                "is_from_you": False,
                "created_at": "2026-03-04T12:00:00Z",
                "box": "inbox",
            }
        ],
        "next_cursor": None,
        "terms": ["refund", "script"],
        "needs_input": False,
        "corrected_from": None,
    }


def test_a_misspelt_word_says_what_was_searched_for_instead(
    sign_in: SignIn, mailbox: Mailbox
) -> None:
    body = sign_in(mailbox.buyer).get("/search", {"q": "refnud"}).json()

    assert found(mailbox, body) == ["d2", "d1", "b2"]
    assert (body["terms"], body["corrected_from"]) == (["refund"], ["refnud"])


def test_pages_follow_the_cursor(sign_in: SignIn, mailbox: Mailbox) -> None:
    caller = sign_in(mailbox.buyer)
    first = caller.get("/search", {"q": "kettle", "limit": "3"}).json()
    second = caller.get(
        "/search", {"q": "kettle", "limit": "3", "cursor": first["next_cursor"]}
    ).json()

    assert (found(mailbox, first), found(mailbox, second)) == (["a3", "e1", "a2"], ["a1"])
    assert second["next_cursor"] is None


@pytest.mark.parametrize("q", ['"', "#", "*", ")))", "🙂", "NEAR(", "x" * 5_000])
def test_hostile_input_never_fails(sign_in: SignIn, mailbox: Mailbox, q: str) -> None:
    response = sign_in(mailbox.buyer).get("/search", {"q": q})

    assert response.status_code == 200
    assert response.json()["results"] == []


def test_nothing_to_search_for_says_so(sign_in: SignIn, mailbox: Mailbox) -> None:
    body = sign_in(mailbox.buyer).get("/search", {"q": "###"}).json()

    assert body == {
        "results": [],
        "next_cursor": None,
        "terms": [],
        "needs_input": True,
        "corrected_from": None,
    }


def test_only_your_own_messages(sign_in: SignIn, mailbox: Mailbox) -> None:
    body = sign_in(mailbox.other_buyer).get("/search", {"q": "kettle"}).json()

    assert found(mailbox, body) == ["g1"]


@pytest.mark.parametrize(
    ("params", "refusal"),
    [
        ({"q": "kettle", "date_from": "2026-13-01"}, (422, "invalid_input")),
        ({"q": "kettle", "box": "deleted"}, (422, "invalid_input")),
        ({"q": "kettle", "folder": "junk"}, (422, "invalid_input")),
        ({"q": "kettle", "limit": "0"}, (422, "invalid_input")),
        ({"q": "kettle", "limit": "101"}, (422, "invalid_input")),
        ({"q": "kettle", "cursor": "junk"}, (400, "invalid_cursor")),
        (
            {"q": "kettle", "date_from": "2026-03-05", "date_to": "2026-03-01"},
            (400, "invalid_date_range"),
        ),
    ],
)
def test_bad_filters_are_refused_in_the_error_shape(
    sign_in: SignIn, mailbox: Mailbox, params: dict[str, str], refusal: tuple[int, str]
) -> None:
    assert error_of(sign_in(mailbox.buyer).get("/search", params)) == refusal


def test_a_visitor_without_credentials_is_refused(mailbox: Mailbox) -> None:
    assert error_of(anonymous().get("/search", {"q": "kettle"})) == (401, "not_authenticated")


def test_a_search_costs_two_queries_besides_authentication(
    mailbox: Mailbox, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    caller = with_session(mailbox.buyer)

    # session, user, the search of messages, the search of broadcasts; on PostgreSQL the
    # messages' search with its planner setting before it and taken back after it.
    with django_assert_num_queries(4 + PLANNER_SETTINGS):
        response = caller.get("/search", {"q": "question"})

    assert len(response.json()["results"]) == 6
