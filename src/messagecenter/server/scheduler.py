"""The background worker: django-tasks-db's database worker, plus a small scheduler that
enqueues the periodic jobs (docs/operations.md). Several workers may run at once: jobs are
claimed with row locks, and a periodic job is not enqueued while one is still pending."""

import logging
import threading
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from django.db import close_old_connections
from django.tasks import Task, TaskResultStatus
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from messagecenter.conversations.tasks import pass_response_deadlines, purge_expired_trash
from messagecenter.delivery.tasks import purge_old_emails
from messagecenter.notifications.tasks import purge_trashed_broadcasts
from messagecenter.privacy.tasks import purge_expired_exports, purge_past_retention
from messagecenter.realtime.tasks import purge_old_events
from messagecenter.support.tasks import sweep_claim_deadlines

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Periodic:
    task: Task[[], Any]
    every: timedelta


PERIODIC = (
    Periodic(purge_expired_trash, timedelta(hours=1)),
    Periodic(purge_old_events, timedelta(hours=1)),
    Periodic(purge_old_emails, timedelta(hours=1)),
    Periodic(purge_trashed_broadcasts, timedelta(hours=1)),
    # Data exports past their download time lose their file (docs/privacy.md#your-data).
    Periodic(purge_expired_exports, timedelta(hours=1)),
    # Messages past their kind's retention rule (docs/privacy.md#how-long-we-keep-messages).
    Periodic(purge_past_retention, timedelta(hours=1)),
    # A buyer learns within a minute that they can ask customer service to step in.
    Periodic(pass_response_deadlines, timedelta(minutes=1)),
    # Claims' deadlines (docs/support.md#guarantee-claims): a minute late at most.
    Periodic(sweep_claim_deadlines, timedelta(minutes=1)),
)
# A job that has been RUNNING this long belongs to a worker that died.
STALE_AFTER = timedelta(hours=1)


def enqueue_due(periodic: Periodic) -> bool:
    """Enqueue the job unless one is already waiting or recently started."""
    now = timezone.now()
    pending = DBTaskResult.objects.filter(task_path=periodic.task.module_path).filter(
        status=TaskResultStatus.READY
    ) | DBTaskResult.objects.filter(
        task_path=periodic.task.module_path,
        status=TaskResultStatus.RUNNING,
        started_at__gt=now - STALE_AFTER,
    )
    if pending.exists():
        return False
    periodic.task.enqueue()
    return True


class Scheduler(threading.Thread):
    def __init__(self, periodic: tuple[Periodic, ...] = PERIODIC, tick: float = 5.0) -> None:
        super().__init__(name="periodic-scheduler", daemon=True)
        self.periodic = periodic
        self.tick = tick
        self.stopping = threading.Event()

    def run(self) -> None:
        next_run = dict.fromkeys(range(len(self.periodic)), timezone.now())
        while not self.stopping.is_set():
            for index, periodic in enumerate(self.periodic):
                if timezone.now() < next_run[index]:
                    continue
                try:
                    enqueue_due(periodic)
                except Exception:
                    # A database hiccup must not kill the scheduler; it tries again next tick.
                    logger.exception("could not enqueue %s", periodic.task.module_path)
                    continue
                finally:
                    close_old_connections()
                next_run[index] = timezone.now() + periodic.every
            self.stopping.wait(self.tick)
