from datetime import timedelta

import pytest
from django.core.management import call_command
from django.tasks import TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Participant
from messagecenter.hub.boxes import Box
from messagecenter.marketplace.models import Product
from messagecenter.server.scheduler import PERIODIC, enqueue_due

pytestmark = pytest.mark.django_db(transaction=True)
purge = PERIODIC[0]


def test_a_periodic_job_is_enqueued_once_while_it_waits() -> None:
    assert enqueue_due(purge) is True
    assert enqueue_due(purge) is False
    assert DBTaskResult.objects.filter(status=TaskResultStatus.READY).count() == 1


def test_a_job_left_running_by_a_dead_worker_does_not_block_the_schedule() -> None:
    enqueue_due(purge)
    DBTaskResult.objects.update(
        status=TaskResultStatus.RUNNING, started_at=timezone.now() - timedelta(hours=2)
    )
    assert enqueue_due(purge) is True


def test_the_worker_runs_the_trash_purge(buyer: User, seller: User, product: Product) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    actions.trash_conversations(buyer, [conversation_id])
    Participant.objects.filter(user=buyer).update(trashed_at=timezone.now() - timedelta(days=31))
    enqueue_due(purge)

    call_command("db_worker", batch=True, interval=0, no_startup_delay=True, verbosity=0)

    assert Participant.objects.get(user=buyer).box == Box.DELETED
    job = DBTaskResult.objects.get()
    assert (job.status, job.return_value) == (TaskResultStatus.SUCCESSFUL, 1)
