"""What the scam check costs a send (docs/benchmarks.md, "Send with and without the safety
check"): the send action in process, with the detector on and off (SAFETY_DETECTOR), in
alternating rounds of one run, beside an empty transaction as the floor.

    MESSAGECENTER_VAR_DIR=/tmp/mc-safety-bench .venv/bin/python bench/send_safety.py --rounds 30

Builds its own small marketplace in a fresh SQLite database under MESSAGECENTER_VAR_DIR (or
uses DATABASE_URL): --conversations buyers each ask one seller a question; the seller then
answers them in turn — buyer↔seller replies, the messages the check judges — with the
ordinary messages of the evaluation set as bodies (delivered as they are: ok, nothing masked
or held). Each round sends --sends replies with the check on and as many with it off (which
goes first alternates) and commits as many empty transactions (`SELECT 1`); per mode it
prints the medians over rounds of sends per second, p50 and p99 of the wall clock and the
median CPU time of a send, and the median over rounds of each round's ratio off/on (paired:
on a shared machine the load moves between rounds far more than within one). One thread:
the check is CPU work, so one thread shows its share of a send without the queueing of many.
"""

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path
from typing import Any

# Run as a script: the repository's root, for the bench package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.limits import lift_send_limits


def setup() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    lift_send_limits()
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def marketplace(conversations: int) -> tuple[Any, list[int]]:
    from messagecenter.accounts.models import Role, User
    from messagecenter.conversations import actions
    from messagecenter.marketplace.models import Product, Storefront

    stamp = time.time_ns()
    seller = User.objects.create_user(
        username=f"bench-seller-{stamp}", email=f"seller-{stamp}@bench.example", role=Role.SELLER
    )
    storefront = Storefront.objects.create(
        seller=seller, name=f"Bench Kitchen {stamp}", slug=f"bench-kitchen-{stamp}"
    )
    product = Product.objects.create(
        storefront=storefront, title="Espresso machine", sku=f"B{stamp}", price_cents=12900
    )
    ids = []
    for number in range(conversations):
        buyer = User.objects.create_user(
            username=f"bench-buyer-{stamp}-{number}",
            email=f"buyer-{stamp}-{number}@bench.example",
            role=Role.BUYER,
        )
        question = actions.ask_seller_about_product(buyer, product.pk, "Is it still in stock?")
        ids.append(question.conversation_id)
    return seller, ids


def run(rounds: int, sends: int, conversations: int) -> dict[str, Any]:
    from django.conf import settings
    from django.db import connection, transaction

    from messagecenter.conversations import actions
    from messagecenter.conversations.models import Message
    from messagecenter.safety import evaluation

    bodies = [
        record["body"]
        for record in evaluation.load(evaluation.default_set())
        if record["group"] == "ordinary"
    ]
    seller, conversation_ids = marketplace(conversations)
    counter = 0

    def sample(mode: str) -> dict[str, Any]:
        nonlocal counter
        wall: list[float] = []
        cpu: list[float] = []
        settings.SAFETY_DETECTOR = "off" if mode == "off" else "on"
        started = time.perf_counter()
        for _ in range(sends):
            counter += 1
            began, began_cpu = time.perf_counter(), time.thread_time()
            if mode == "floor":
                with transaction.atomic(), connection.cursor() as cursor:
                    cursor.execute("SELECT 1")
                    cursor.fetchone()
            else:
                actions.send_message(
                    seller,
                    conversation_ids[counter % len(conversation_ids)],
                    bodies[counter % len(bodies)],
                    idempotency_key=f"safety-bench-{counter}",
                )
            wall.append((time.perf_counter() - began) * 1000)
            cpu.append((time.thread_time() - began_cpu) * 1000)
        elapsed = time.perf_counter() - started
        wall.sort()
        return {
            "per_second": sends / elapsed,
            "p50_ms": statistics.median(wall),
            "p99_ms": wall[int(len(wall) * 0.99) - 1],
            "cpu_p50_ms": statistics.median(cpu),
        }

    # A round of each to warm the caches (the vocabulary, the detector's patterns, the
    # compiled statements), not counted.
    for mode in ("floor", "on", "off"):
        sample(mode)
    results: dict[str, list[dict[str, Any]]] = {"floor": [], "on": [], "off": []}
    for number in range(rounds):
        order = ("floor", "on", "off") if number % 2 == 0 else ("floor", "off", "on")
        for mode in order:
            results[mode].append(sample(mode))
        print(
            f"[{number + 1}/{rounds}] "
            + "  ".join(
                f"{mode}: {results[mode][-1]['per_second']:.0f}/s "
                f"p50 {results[mode][-1]['p50_ms']:.2f} ms"
                for mode in order
            ),
            flush=True,
        )
    settings.SAFETY_DETECTOR = "on"
    warned = Message.objects.filter(
        conversation_id__in=conversation_ids, sender=seller, safety_verdict="warn"
    ).count()
    medians = {
        mode: {
            key: round(statistics.median(run[key] for run in runs), 3)
            for key in ("per_second", "p50_ms", "p99_ms", "cpu_p50_ms")
        }
        for mode, runs in results.items()
    }
    return {
        "database": connection.vendor,
        "rounds": rounds,
        "sends_per_round": sends,
        "conversations": conversations,
        "bodies": len(bodies),
        "warned_sends": warned,
        "runs": results,
        "median": medians,
        # Paired: each round's off against the same round's on, then the median of those
        # ratios — the machine's load moves between rounds far more than within one.
        "off_over_on": {
            key: round(
                statistics.median(
                    off[key] / on[key]
                    for off, on in zip(results["off"], results["on"], strict=True)
                ),
                3,
            )
            for key in ("per_second", "p50_ms", "p99_ms", "cpu_p50_ms")
        },
        "on_over_floor_per_second": round(
            medians["on"]["per_second"] / medians["floor"]["per_second"], 4
        ),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=30)
    parser.add_argument("--sends", type=int, default=60, help="per mode and round")
    parser.add_argument("--conversations", type=int, default=50)
    parser.add_argument("--output", type=Path, help="write the figures as JSON here")
    arguments = parser.parse_args()
    setup()
    load_before = os.getloadavg()
    document = run(arguments.rounds, arguments.sends, arguments.conversations)
    document["load_average"] = {"before": load_before, "after": os.getloadavg()}
    print(
        json.dumps(
            {key: document[key] for key in ("median", "off_over_on", "load_average")}, indent=1
        )
    )
    if arguments.output:
        arguments.output.write_text(json.dumps(document, indent=1) + "\n")


if __name__ == "__main__":
    sys.exit(main())
