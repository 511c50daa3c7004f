from argparse import ArgumentParser
from typing import Any

from django.core.management.base import BaseCommand, CommandError

from messagecenter.search.actions import REBUILD_BATCH_SIZE, rebuild_search_index


class Command(BaseCommand):
    help = (
        "Write the search document of every message and broadcast again, in batches (after "
        "an upgrade, "
        "for data loaded before search existed, or to pick up changed sender names). "
        "Messages sent meanwhile index themselves; searching keeps working throughout."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument(
            "--batch-size",
            type=int,
            default=REBUILD_BATCH_SIZE,
            help=f"messages (or broadcasts) per transaction (default {REBUILD_BATCH_SIZE})",
        )

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        verbose = options["verbosity"] > 1

        def progress(indexed: int) -> None:
            if verbose:
                self.stdout.write(f"{indexed} messages and broadcasts indexed…")

        indexed = rebuild_search_index(batch_size=batch_size, progress=progress)
        self.stdout.write(f"Indexed {indexed} messages and broadcasts.")
