from collections.abc import Callable

import pytest
from django.db import transaction

from messagecenter.accounts.models import User
from messagecenter.realtime.actions import PendingEvent, record_events
from messagecenter.realtime.models import UserEvent
from tests.api.helpers import Caller, anonymous, error_of, with_session, with_token

pytestmark = pytest.mark.django_db(transaction=True)


def write_events(user: User, count: int) -> None:
    with transaction.atomic():
        record_events(
            [
                PendingEvent(user.pk, "conversation.read", {"conversation_id": n})
                for n in range(count)
            ]
        )


@pytest.mark.parametrize("caller_for", [with_token, with_session], ids=["token", "session"])
def test_catch_up_returns_the_events_after_a_position(
    buyer: User, caller_for: Callable[[User], Caller]
) -> None:
    write_events(buyer, 3)

    response = caller_for(buyer).get("/sync/events", {"after": 1})

    assert response.status_code == 200
    body = response.json()
    assert [(event["id"], event["kind"], event["payload"]) for event in body["events"]] == [
        (2, "conversation.read", {"conversation_id": 1}),
        (3, "conversation.read", {"conversation_id": 2}),
    ]
    assert all(event["created_at"] for event in body["events"])
    assert (body["last_sequence"], body["has_more"], body["resync"]) == (3, False, False)


def test_catch_up_pages_with_limit(buyer: User) -> None:
    write_events(buyer, 5)
    caller = with_token(buyer)

    first = caller.get("/sync/events", {"after": 0, "limit": 2}).json()
    second = caller.get("/sync/events", {"after": first["last_sequence"], "limit": 2}).json()

    assert [event["id"] for event in first["events"]] == [1, 2]
    assert first["has_more"] is True
    assert [event["id"] for event in second["events"]] == [3, 4]


def test_catch_up_never_shows_another_persons_events(buyer: User, other_buyer: User) -> None:
    write_events(other_buyer, 4)

    body = with_token(buyer).get("/sync/events", {"after": 0}).json()

    assert (body["events"], body["last_sequence"], body["resync"]) == ([], 0, False)


def test_catch_up_after_purged_events_answers_resync(buyer: User) -> None:
    write_events(buyer, 4)
    UserEvent.objects.filter(user=buyer, sequence__lte=2).delete()

    body = with_token(buyer).get("/sync/events", {"after": 0}).json()

    assert body == {"resync": True, "events": [], "last_sequence": 4, "has_more": False}


def test_catch_up_refuses_anonymous_callers() -> None:
    assert error_of(anonymous().get("/sync/events")) == (401, "not_authenticated")


@pytest.mark.parametrize("params", [{"after": -1}, {"limit": 0}, {"limit": 501}])
def test_catch_up_refuses_out_of_range_parameters(buyer: User, params: dict[str, int]) -> None:
    assert error_of(with_token(buyer).get("/sync/events", params)) == (422, "invalid_input")
