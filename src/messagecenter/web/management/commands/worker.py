from argparse import ArgumentParser
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand

from messagecenter.worker import Scheduler


class Command(BaseCommand):
    help = "Run background jobs and schedule the periodic ones (trash purge)."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
        parser.add_argument(
            "--no-scheduler", action="store_true", help="run jobs only; another worker schedules"
        )

    def handle(self, *args: Any, interval: float, no_scheduler: bool, **options: Any) -> None:
        if not no_scheduler:
            Scheduler().start()
        call_command("db_worker", interval=interval, reload=False, verbosity=options["verbosity"])
