from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.realtime.actions import PendingEvent, purge_old_events, record_events
from messagecenter.realtime.models import UserEvent
from messagecenter.realtime.queries import events_after

pytestmark = pytest.mark.django_db(transaction=True)


def write_events(user: User, count: int) -> None:
    with transaction.atomic():
        record_events([PendingEvent(user.pk, "conversation.read", {"n": n}) for n in range(count)])


def age_events(user: User, up_to_sequence: int, days: int) -> None:
    UserEvent.objects.filter(user=user, sequence__lte=up_to_sequence).update(
        created_at=timezone.now() - timedelta(days=days)
    )


def test_events_after_pages_through_the_log_in_order(buyer: User) -> None:
    write_events(buyer, 5)

    first = events_after(buyer, 0, 3)
    second = events_after(buyer, first.last_sequence, 3)

    assert [event.sequence for event in first.events] == [1, 2, 3]
    assert (first.last_sequence, first.has_more, first.resync) == (3, True, False)
    assert [event.sequence for event in second.events] == [4, 5]
    assert (second.last_sequence, second.has_more, second.resync) == (5, False, False)


def test_events_after_the_newest_is_an_empty_page_at_the_same_position(buyer: User) -> None:
    write_events(buyer, 2)

    page = events_after(buyer, 2, 10)

    assert (page.events, page.last_sequence, page.has_more, page.resync) == ([], 2, False, False)


def test_a_person_without_events_starts_at_zero(buyer: User) -> None:
    page = events_after(buyer, 0, 10)

    assert (page.events, page.last_sequence, page.has_more, page.resync) == ([], 0, False, False)


def test_events_after_never_shows_another_persons_events(buyer: User, other_buyer: User) -> None:
    write_events(other_buyer, 3)
    write_events(buyer, 1)

    page = events_after(buyer, 0, 10)

    assert [(event.user_id, event.sequence) for event in page.events] == [(buyer.pk, 1)]


def test_a_position_before_the_oldest_kept_event_gets_a_resync(buyer: User) -> None:
    write_events(buyer, 6)
    UserEvent.objects.filter(user=buyer, sequence__lte=3).delete()

    page = events_after(buyer, 2, 10)

    assert (page.events, page.last_sequence, page.has_more, page.resync) == ([], 6, False, True)


def test_the_position_just_before_the_oldest_kept_event_still_catches_up(buyer: User) -> None:
    write_events(buyer, 6)
    UserEvent.objects.filter(user=buyer, sequence__lte=3).delete()

    page = events_after(buyer, 3, 10)

    assert [event.sequence for event in page.events] == [4, 5, 6]
    assert page.resync is False


def test_a_position_beyond_the_log_gets_a_resync(buyer: User) -> None:
    write_events(buyer, 2)

    page = events_after(buyer, 9, 10)

    assert (page.events, page.last_sequence, page.resync) == ([], 2, True)


def test_purge_deletes_events_older_than_retention(buyer: User, settings: Settings) -> None:
    settings.REALTIME_EVENT_RETENTION_DAYS = 30
    write_events(buyer, 5)
    age_events(buyer, 3, days=31)

    purged = purge_old_events(batch_size=2)

    assert purged == 3
    assert list(UserEvent.objects.filter(user=buyer).values_list("sequence", flat=True)) == [
        4,
        5,
    ]


def test_purge_keeps_each_persons_newest_event(buyer: User, other_buyer: User) -> None:
    write_events(buyer, 3)
    write_events(other_buyer, 1)
    age_events(buyer, 3, days=400)
    age_events(other_buyer, 1, days=400)

    purged = purge_old_events()

    assert purged == 2
    kept = UserEvent.objects.order_by("user_id").values_list("user_id", "sequence")
    assert list(kept) == sorted([(buyer.pk, 3), (other_buyer.pk, 1)])
    assert events_after(buyer, 3, 10).resync is False
    assert events_after(buyer, 1, 10).resync is True


def test_purge_twice_deletes_nothing_more(buyer: User) -> None:
    write_events(buyer, 3)
    age_events(buyer, 3, days=400)
    purge_old_events()

    assert purge_old_events() == 0
