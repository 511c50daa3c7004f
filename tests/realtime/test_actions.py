import pytest
from django.db import transaction

from messagecenter.accounts.models import User
from messagecenter.realtime import pubsub
from messagecenter.realtime.actions import (
    PendingEvent,
    announce_broadcast,
    nudge_after_commit,
    record_events,
)
from messagecenter.realtime.models import EventStream, UserEvent
from tests import factories

pytestmark = pytest.mark.django_db(transaction=True)


def test_events_are_numbered_per_user_in_the_order_given(buyer: User, seller: User) -> None:
    with transaction.atomic():
        record_events(
            [
                PendingEvent(buyer.pk, "conversation.read", {"n": 1}),
                PendingEvent(seller.pk, "conversation.read", {"n": 2}),
                PendingEvent(buyer.pk, "conversation.archived", {"n": 3}),
            ]
        )
    with transaction.atomic():
        record_events([PendingEvent(buyer.pk, "conversation.trashed", {"n": 4})])

    rows = UserEvent.objects.order_by("user_id", "sequence")
    assert [(e.user_id, e.sequence, e.payload["n"]) for e in rows] == [
        (buyer.pk, 1, 1),
        (buyer.pk, 2, 3),
        (buyer.pk, 3, 4),
        (seller.pk, 1, 2),
    ]
    assert EventStream.objects.get(user=buyer).last_sequence == 3


def failing_action(user: User) -> None:
    with transaction.atomic():
        record_events([PendingEvent(user.pk, "conversation.read")])
        raise RuntimeError("the action failed after recording its event")


def test_a_rolled_back_change_leaves_no_event_and_no_gap(buyer: User) -> None:
    with pytest.raises(RuntimeError):
        failing_action(buyer)
    with transaction.atomic():
        record_events([PendingEvent(buyer.pk, "conversation.archived")])

    assert list(UserEvent.objects.values_list("sequence", "kind")) == [(1, "conversation.archived")]


def test_events_can_only_be_recorded_inside_the_actions_transaction(buyer: User) -> None:
    with pytest.raises(RuntimeError, match="inside the action's transaction"):
        record_events([PendingEvent(buyer.pk, "conversation.read")])
    assert UserEvent.objects.count() == 0


def test_many_users_get_their_first_events_in_one_call() -> None:
    users = factories.BuyerFactory.create_batch(5)
    with transaction.atomic():
        record_events(PendingEvent(user.pk, "message.created") for user in users)
    assert sorted(UserEvent.objects.values_list("sequence", flat=True)) == [1, 1, 1, 1, 1]
    assert EventStream.objects.count() == 5


def test_a_wake_up_that_fails_after_the_commit_keeps_neither_the_change_nor_the_others_back(
    buyer: User, seller: User, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Pub/sub failing for one publish (logged) fails nothing that committed, and the
    commit's other wake-ups and nudges still go out."""
    sent: list[object] = []

    def publish(user_ids: list[int]) -> None:
        raise RuntimeError("pub/sub is down")

    monkeypatch.setattr(pubsub, "publish", publish)
    monkeypatch.setattr(pubsub, "nudge", sent.append)
    monkeypatch.setattr(pubsub, "announce", sent.append)

    with transaction.atomic():
        record_events([PendingEvent(buyer.pk, "conversation.read")])
        nudge_after_commit("case.changed", {"case_id": 1}, [seller.pk])
        announce_broadcast(7)

    assert UserEvent.objects.filter(user=buyer).count() == 1
    assert sent == [pubsub.Nudge("case.changed", {"case_id": 1}, (seller.pk,)), 7]
    assert "pub/sub is down" in caplog.text
