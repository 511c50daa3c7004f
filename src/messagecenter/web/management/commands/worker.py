from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from messagecenter.delivery.sender import EmailSender
from messagecenter.notifications.tasks import BroadcastAnnouncer
from messagecenter.worker import Scheduler


class Command(BaseCommand):
    help = (
        "Run background jobs, send e-mail, and schedule the periodic ones (trash purge, "
        "event purge)."
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
        if not no_scheduler:
            Scheduler().start()
            # Due broadcasts are announced within a fraction of a second, not on a tick.
            BroadcastAnnouncer().start()
        if not no_email:
            # Several workers may send at once: each claims its own rows (docs/email.md).
            EmailSender().start()
        call_command("db_worker", interval=interval, reload=False, verbosity=options["verbosity"])
