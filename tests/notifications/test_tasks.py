"""The worker announces each broadcast once when it becomes due; visibility never waits
for it."""

import time
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from messagecenter.delivery.models import BroadcastEmailRun
from messagecenter.notifications import actions
from messagecenter.notifications.models import Broadcast
from messagecenter.notifications.tasks import BroadcastAnnouncer
from messagecenter.realtime import pubsub
from tests.notifications.helpers import broadcast


@pytest.mark.django_db
def test_due_broadcasts_are_announced_once_with_their_e_mail_fan_out() -> None:
    due = broadcast()
    later = broadcast(send_at=timezone.now() + timedelta(hours=1))
    cancelled = broadcast()
    actions.cancel_broadcast(cancelled.created_by, cancelled.pk)

    first = actions.announce_due_broadcasts()
    again = actions.announce_due_broadcasts()

    assert (first, again) == ([due.pk], [])
    assert list(BroadcastEmailRun.objects.values_list("broadcast_id", flat=True)) == [due.pk]
    # The realtime nudge waits for the commit, and is for the due broadcast alone.
    nudges = [
        callback.args
        for _, callback, _ in connection.run_on_commit
        if getattr(callback, "func", None) is pubsub.announce
    ]
    assert nudges == [(due.pk,)]
    assert Broadcast.objects.get(pk=later.pk).announced_at is None


@pytest.mark.django_db(transaction=True)
def test_the_announcer_loop_announces_within_a_second_of_send_time() -> None:
    send_at = timezone.now() + timedelta(seconds=1)
    scheduled = broadcast(send_at=send_at)
    announcer = BroadcastAnnouncer()
    announcer.start()
    try:
        deadline = time.monotonic() + 5
        while time.monotonic() < deadline:
            scheduled.refresh_from_db()
            if scheduled.announced_at is not None:
                break
            time.sleep(0.05)
    finally:
        announcer.stopping.set()
        announcer.join(timeout=5)

    assert scheduled.announced_at is not None
    assert timedelta(0) <= scheduled.announced_at - send_at < timedelta(seconds=1)
