"""The Message Center's hottest reads, in process on one (pooled) connection: the inbox
page with broadcasts plus the badge counts, for the dataset's small buyer and biggest
seller, and a rare word, a common word and an order number searched as the biggest seller
and the small buyer (SEARCH_CALLS calls each, 40 by default). Medians over
repeated calls after a warm-up — what a request costs without HTTP, the framework or
other clients (docs/benchmarks.md).

    MESSAGECENTER_VAR_DIR=/tmp/mc-bench DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench \\
        .venv/bin/python bench/reads_in_process.py /tmp/mc-bench/tokens-postgresql-1m.json
"""

import json
import os
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path


def timed(call: Callable[[], object], calls: int, warmup: int) -> tuple[float, float]:
    times = []
    for _ in range(warmup + calls):
        started = time.perf_counter()
        call()
        times.append((time.perf_counter() - started) * 1000)
    measured = sorted(times[warmup:])
    return statistics.median(measured), measured[max(0, int(len(measured) * 0.99) - 1)]


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    import django

    django.setup()
    from messagecenter.accounts.models import User
    from messagecenter.hub import queries as hub_queries
    from messagecenter.search.queries import SearchFilters, search_messages

    tokens = json.loads(Path(sys.argv[1]).read_text())
    for who in ("small_buyer", "biggest_seller"):
        user = User.objects.get(pk=tokens[who]["user_id"])

        def page(user: User = user) -> None:
            hub_queries.message_center_page(user)
            hub_queries.unread_counts(user)

        p50, p99 = timed(page, 200, 20)
        print(f"inbox page + badges, {who}: p50 {p50:.2f} ms, p99 {p99:.2f} ms")
    # The searches of bench/run.py (a rare word, a common word, an order number typed in
    # the box), as the biggest seller and as the small buyer.
    search = tokens["biggest_seller"]["search"]
    calls = int(os.environ.get("SEARCH_CALLS", "40"))
    for who in ("biggest_seller", "small_buyer"):
        user = User.objects.get(pk=tokens[who]["user_id"])
        for key in ("rare_word", "common_word", "order_number"):
            text = search[key]
            p50, p99 = timed(
                lambda user=user, text=text: search_messages(user, SearchFilters(text=text)),
                calls,
                5,
            )
            print(f"search {text!r} ({key}), {who}: p50 {p50:.1f} ms, p99 {p99:.1f} ms")


if __name__ == "__main__":
    main()
