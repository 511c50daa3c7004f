import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from messagecenter.safety import evaluation, vocabulary_cache


class Command(BaseCommand):
    help = (
        "Run the safety detector over its labelled evaluation set (or your own JSON lines "
        "with group, sender, body, expected) and print precision and recall per category "
        "(docs/safety.md#evaluation). Exits 1 when a goal is missed."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("path", nargs="?", type=Path, default=None)
        parser.add_argument(
            "--show-misses", action="store_true", help="print every message judged wrongly"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        path = options["path"] or evaluation.default_set()
        records = evaluation.load(path)
        result = evaluation.evaluate(records, vocabulary_cache.current())
        self.stdout.write(result.as_text())
        held_out = [record for record in records if record.get("held_out")]
        if held_out:
            self.stdout.write(
                "\nHeld out (written after the rules were tuned, never tuned on):\n"
                + evaluation.evaluate(held_out, vocabulary_cache.current()).as_text()
            )
        if options["show_misses"]:
            for miss in result.misses:
                self.stdout.write(json.dumps(miss, ensure_ascii=False))
        if not all(met for *_, met in result.goals):
            raise SystemExit(1)
