from datetime import timedelta

import pytest
from django.db import transaction
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.realtime import tasks
from messagecenter.realtime.actions import PendingEvent, record_events
from messagecenter.realtime.models import UserEvent
from messagecenter.server.scheduler import PERIODIC, Periodic

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_worker_purges_old_events_every_hour() -> None:
    assert Periodic(tasks.purge_old_events, timedelta(hours=1)) in PERIODIC


def test_the_purge_job_deletes_old_events_but_the_newest(buyer: User) -> None:
    with transaction.atomic():
        record_events([PendingEvent(buyer.pk, "conversation.read") for _ in range(3)])
    UserEvent.objects.update(created_at=timezone.now() - timedelta(days=31))

    assert tasks.purge_old_events.call() == 2
    assert list(UserEvent.objects.values_list("sequence", flat=True)) == [3]
