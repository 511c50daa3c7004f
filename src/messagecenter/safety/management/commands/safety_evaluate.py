import json
from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandParser

from messagecenter.safety import evaluation, vocabulary_cache

# The hand-written rows, printed apart (scripts/safety_evaluation_set.py says how each came).
HELD_OUT_BATCHES = {
    1: "written after the rules were tuned; its three misses were looked at and fixed since",
    2: "written before those fixes, never tuned on",
    3: "a tester's report of payment outside the marketplace, and its fix's own examples",
    4: "an exploratory test's respellings and secrets asked for at a link, and their fix's "
    "own examples",
    5: "three reported misses (a gift card for a price, an app named beside paying on the "
    "marketplace, respelled contact details), and their fix's own examples",
    6: "an exploratory test's request let through by batch 5's fix, good advice still "
    "warned and listed sizes masked, and their fix's own examples",
    7: "a report of gift cards by brand or code, paying on the marketplace refused beside an "
    "app, letters for digits, spelled-out websites, a shop's gift card and numbers in order, "
    "and their fix's own examples",
    8: "findings on listed hosts and sites spelled out (paypal dot me, d0t, visit cedarpine "
    "dot shop), a verb before at taken for a mailbox, and their fix's own examples",
}


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
        vocabulary = vocabulary_cache.current()
        result = evaluation.evaluate(records, vocabulary)
        self.stdout.write(result.as_text())
        batches: dict[int, list[dict[str, Any]]] = {}
        for record in records:
            if record.get("held_out"):
                batches.setdefault(int(record["held_out"]), []).append(record)
        for batch, held_out in sorted(batches.items()):
            self.stdout.write(
                f"\nHeld out, batch {batch} ({HELD_OUT_BATCHES.get(batch, 'written by hand')}):\n"
                + evaluation.evaluate(held_out, vocabulary).as_text()
            )
        if options["show_misses"]:
            for miss in result.misses:
                self.stdout.write(json.dumps(miss, ensure_ascii=False))
        if not all(met for *_, met in result.goals):
            raise SystemExit(1)
