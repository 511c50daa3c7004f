from datetime import timedelta

import pytest
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.notifications import actions
from messagecenter.notifications.models import BroadcastState
from tests import factories

pytestmark = pytest.mark.django_db


def test_broadcasts_in_trash_for_30_days_are_deleted_for_that_person(buyer: User) -> None:
    broadcast = factories.BroadcastFactory()
    actions.trash_broadcasts(buyer, [broadcast.pk])

    assert actions.purge_trashed_broadcasts(now=timezone.now() + timedelta(days=29)) == 0
    assert actions.purge_trashed_broadcasts(now=timezone.now() + timedelta(days=31)) == 1
    assert BroadcastState.objects.get().box == "deleted"
