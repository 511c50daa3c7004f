import logging
import signal
import sys
from argparse import ArgumentParser
from types import FrameType
from typing import Any

from django.core.management.base import BaseCommand
from django.utils.crypto import get_random_string
from django_tasks_db.management.commands.db_worker import Worker

from messagecenter.delivery.sender import EmailSender
from messagecenter.notifications.tasks import BroadcastAnnouncer
from messagecenter.server.scheduler import Scheduler

logger = logging.getLogger(__name__)


class JobRunner(Worker):
    """django-tasks-db's database worker, stopping between database calls. Its own signal
    handler calls sys.exit() from inside the handler when no job is running, which can land
    in the middle of a COMMIT and end the process with an error; here the first Ctrl-C or
    SIGTERM only asks the loop to stop (within one poll interval), a second one exits."""

    def shutdown(self, signum: int, frame: FrameType | None) -> None:
        if not self.running:
            logger.warning("Received %s again: stopping now.", signal.strsignal(signum))
            self.reset_signals()
            sys.exit(1)
        logger.warning(
            "Received %s: stopping after the current job (press Ctrl-C again to force).",
            signal.strsignal(signum),
        )
        self.running = False


class Command(BaseCommand):
    help = (
        "Run background jobs, send e-mail, announce broadcasts, and schedule the periodic "
        "jobs (purges)."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument(
            "--no-scheduler", action="store_true", help="run jobs only; another worker schedules"
        )
        parser.add_argument(
            "--no-email", action="store_true", help="do not send e-mail from this worker"
        )

    def handle(
        self, *args: Any, interval: float, no_scheduler: bool, no_email: bool, **options: Any
    ) -> None:
        loops: list[Scheduler | BroadcastAnnouncer | EmailSender] = []
        if not no_scheduler:
            # Due broadcasts are announced within a fraction of a second, not on a tick.
            loops += [Scheduler(), BroadcastAnnouncer()]
        if not no_email:
            # Several workers may send at once: each claims its own rows (docs/email.md).
            loops.append(EmailSender())
        for loop in loops:
            loop.start()
        runner = JobRunner(
            queue_names=["default"],
            interval=interval,
            batch=False,
            backend_name="default",
            startup_delay=False,
            max_tasks=None,
            worker_id=get_random_string(32),
            excluded_queue_names=[],
        )
        runner.configure_signals()
        try:
            runner.run()
        finally:
            # Each loop finishes what it is doing (an e-mail batch, a scheduling round).
            for loop in loops:
                loop.stopping.set()
            for loop in loops:
                loop.join(timeout=30)
