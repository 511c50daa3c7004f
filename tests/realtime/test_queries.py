from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.db import transaction
from django.test import Client
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries
from pytest_django.fixtures import Settings

from messagecenter.accounts.actions import create_api_token, revoke_api_token
from messagecenter.accounts.models import User
from messagecenter.realtime.actions import PendingEvent, purge_old_events, record_events
from messagecenter.realtime.models import UserEvent
from messagecenter.realtime.queries import (
    StreamCredential,
    events_after,
    newest_sequences,
    signed_in,
)
from tests.factories import BuyerFactory

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


def signed_in_session(user: User) -> str:
    browser = Client()
    browser.force_login(user)
    return browser.cookies["sessionid"].value


def test_one_check_finds_which_tokens_and_sessions_still_sign_in(
    django_assert_num_queries: DjangoAssertNumQueries, buyer: User, other_buyer: User
) -> None:
    """Revoked, of someone deactivated, signed out, password changed: all refused, in three
    queries whatever the number of streams (tokens; sessions; their people)."""
    kept_token, _ = create_api_token(buyer, "Phone")
    revoked_token, _ = create_api_token(buyer, "Lost phone")
    revoke_api_token(buyer, revoked_token.pk)
    deactivated = BuyerFactory()
    deactivated_token, _ = create_api_token(deactivated, "Phone")
    kept_session = signed_in_session(buyer)
    signed_out = signed_in_session(buyer)
    Session.objects.filter(session_key=signed_out).delete()
    password_changed = signed_in_session(other_buyer)
    other_buyer.set_password("a new long password 7")
    other_buyer.save(update_fields=["password"])
    User.objects.filter(pk=deactivated.pk).update(is_active=False)
    credentials = {
        "kept token": StreamCredential(buyer.pk, token_id=kept_token.pk),
        "revoked token": StreamCredential(buyer.pk, token_id=revoked_token.pk),
        "deactivated": StreamCredential(deactivated.pk, token_id=deactivated_token.pk),
        "kept session": StreamCredential(buyer.pk, session_key=kept_session),
        "signed out": StreamCredential(buyer.pk, session_key=signed_out),
        "password changed": StreamCredential(other_buyer.pk, session_key=password_changed),
        "someone else's session": StreamCredential(other_buyer.pk, session_key=kept_session),
    }

    with django_assert_num_queries(3):
        valid = signed_in(set(credentials.values()))

    assert sorted(name for name, credential in credentials.items() if credential in valid) == [
        "kept session",
        "kept token",
    ]


def test_newest_sequences_of_many_people_is_one_query(
    django_assert_num_queries: DjangoAssertNumQueries, buyer: User, other_buyer: User
) -> None:
    write_events(buyer, 3)
    write_events(other_buyer, 1)
    never_had_an_event = BuyerFactory()

    with django_assert_num_queries(1):
        newest = newest_sequences({buyer.pk, other_buyer.pk, never_had_an_event.pk})

    assert newest == {buyer.pk: 3, other_buyer.pk: 1}
