"""Benchmark of broadcasts (fan-out on read), issue 4's "a notice to 1,000,000 users
visible in every inbox within a second of its send time".

    .venv/bin/python bench/broadcasts.py --users 1000000 \
        --database-url postgres://postgres@127.0.0.1:5432/bcast_bench
    .venv/bin/python bench/broadcasts.py --users 1000000          # SQLite, temporary file

Measures, in a throwaway database it creates (and drops, for PostgreSQL):

- setup: bulk-creating N users (COPY on PostgreSQL, executemany on SQLite), with roles,
  countries and memberships spread over the id range;
- scheduling: a notice to everyone, and others to all buyers, one country and a list of
  10,000 ids, through notifications.actions.schedule_broadcast (what the admin calls);
- visibility: the notice to everyone is scheduled SEND_DELAY seconds ahead; sampled users
  across the whole id range (first, last, evenly spaced) each poll their inbox page and
  their badge counts in a loop, each on its own database connection; for each, the delay
  from send_at to the first inbox query and the first badge query that shows it. The
  worker's announcer runs meanwhile: the delay from send_at to announced_at too;
- read cost per user: the Message Center page's reads (inbox page + badge counts) for
  sampled users with 0, 10 and 100 live broadcasts, against a reference measured in the
  same run: the same page before broadcasts existed (the conversation list and the
  conversation counters alone).

Writes JSON to bench/results/. Not a test: numbers depend on the machine.
"""

import argparse
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"
SEND_DELAY = 3.0
COUNTRIES = ("US", "DE", "FR", "GB", "JP", "IT", "ES", "NL", "PL", "SE")
LIST_SIZE = 10_000


def setup_django(database_url: str, var_dir: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ["MESSAGECENTER_VAR_DIR"] = var_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    sys.path.insert(0, str(ROOT / "src"))
    import django

    django.setup()


def bulk_users(count: int) -> float:
    """N users, created the fastest way each database has; returns seconds taken."""
    from django.db import connection

    from messagecenter.accounts.models import User

    started = time.perf_counter()
    joined = datetime(2025, 1, 1, tzinfo=UTC)
    member_until = datetime(2030, 1, 1, tzinfo=UTC)
    # Unusable passwords: nobody signs in as these.
    columns = (
        "password, is_superuser, username, first_name, last_name, email, is_staff, "
        "is_active, date_joined, role, display_name, country, member_until"
    )

    def row(n: int) -> tuple[Any, ...]:
        role = "seller" if n % 10 == 0 else "buyer"
        return (
            "!",
            False,
            f"user{n}",
            "",
            "",
            f"user{n}@example.test",
            False,
            True,
            joined,
            role,
            f"Person {n}",
            COUNTRIES[n % len(COUNTRIES)],
            member_until if n % 3 == 0 else None,
        )

    table = User._meta.db_table
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            raw = cursor.cursor
            with raw.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for n in range(count):
                    copy.write_row(row(n))
            cursor.execute(f"ANALYZE {table}")
    else:
        placeholders = ", ".join(["%s"] * 13)
        batch = 50_000
        with connection.cursor() as cursor:
            for start in range(0, count, batch):
                cursor.executemany(
                    f"INSERT INTO {table} ({columns}) VALUES ({placeholders})",
                    [row(n) for n in range(start, min(start + batch, count))],
                )
            cursor.execute("ANALYZE")
    return time.perf_counter() - started


def percentiles(values: list[float]) -> dict[str, float]:
    ordered = sorted(values)

    def at(share: float) -> float:
        return ordered[min(len(ordered) - 1, int(share * len(ordered)))]

    return {
        "n": len(ordered),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
        "p50_ms": round(at(0.50) * 1000, 3),
        "p95_ms": round(at(0.95) * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
    }


def sample_user_ids(count: int) -> list[int]:
    from messagecenter.accounts.models import User

    first = User.objects.order_by("id").values_list("id", flat=True).first() or 1
    last = User.objects.order_by("-id").values_list("id", flat=True).first() or 1
    step = max(1, (last - first) // (count - 1))
    return sorted({*range(first, last + 1, step), last})[:count]


def read_costs(users: list[Any], label: str, repeats: int) -> dict[str, Any]:
    """The Message Center page's reads, per user: with broadcasts, and the reference
    (conversations only: the page as it was before broadcasts)."""
    from django.db import connection, reset_queries
    from django.test.utils import CaptureQueriesContext

    from messagecenter.conversations import queries
    from messagecenter.conversations.models import UnreadCounter
    from messagecenter.hub import queries as hub_queries

    def with_broadcasts(user: Any) -> int:
        page = hub_queries.message_center_page(user)
        hub_queries.unread_counts(user)
        return len(page.entries)

    def reference(user: Any) -> int:
        page = queries.inbox_page(user)
        list(UnreadCounter.objects.filter(user=user).values_list("key", "conversations"))
        return len(page.entries)

    results: dict[str, Any] = {"label": label}
    reads = (("reference", reference), ("with_broadcasts", with_broadcasts))
    timings: dict[str, list[float]] = {name: [] for name, _ in reads}
    rows: dict[str, int] = {}
    queries_per_user: dict[str, int] = {}
    for name, read in reads:
        users[0].__dict__.pop("_broadcast_promotions_shown", None)
        with CaptureQueriesContext(connection) as captured:
            read(users[0])
        queries_per_user[name] = len(captured)
    # Interleaved, user by user, so both see the same load on a shared machine.
    for _ in range(repeats):
        for user in users:
            for name, read in reads:
                # A fresh object per read, as each request has.
                user.__dict__.pop("_broadcast_promotions_shown", None)
                started = time.perf_counter()
                rows[name] = read(user)
                timings[name].append(time.perf_counter() - started)
    reset_queries()
    for name, _ in reads:
        results[name] = {
            **percentiles(timings[name]),
            "queries": queries_per_user[name],
            "rows": rows[name],
        }
    return results


def watch_visibility(user_ids: list[int], send_at: datetime, timeout: float) -> dict[str, Any]:
    """Each sampled user polls their inbox and badge on their own connection (threads of
    one process); the first of each that shows the notice, minus its send time."""
    from django.db import connection

    from messagecenter.accounts.models import User
    from messagecenter.hub import queries as hub_queries
    from messagecenter.notifications.models import Broadcast
    from messagecenter.notifications.queries import BroadcastItem

    notice_id = Broadcast.objects.filter(send_at=send_at).values_list("pk", flat=True).get()
    inbox_delays: list[float] = []
    badge_delays: list[float] = []
    polls: list[int] = []
    lock = threading.Lock()

    def watch(user_id: int) -> None:
        try:
            user = User.objects.get(pk=user_id)
            # Older notices already count: the new one is one more.
            baseline = hub_queries.unread_counts(user)["notices"]
            inbox_at = badge_at = None
            count = 0
            deadline = time.monotonic() + timeout
            while (inbox_at is None or badge_at is None) and time.monotonic() < deadline:
                count += 1
                if inbox_at is None:
                    page = hub_queries.message_center_page(user)
                    if any(
                        isinstance(row, BroadcastItem) and row.pk == notice_id
                        for row in page.entries
                    ):
                        inbox_at = datetime.now(UTC)
                if badge_at is None and hub_queries.unread_counts(user)["notices"] > baseline:
                    badge_at = datetime.now(UTC)
            with lock:
                polls.append(count)
                if inbox_at is not None:
                    inbox_delays.append((inbox_at - send_at).total_seconds())
                if badge_at is not None:
                    badge_delays.append((badge_at - send_at).total_seconds())
        finally:
            connection.close()

    threads = [threading.Thread(target=watch, args=(user_id,)) for user_id in user_ids]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return {
        "sampled_users": len(user_ids),
        "saw_it_in_the_inbox": len(inbox_delays),
        "saw_it_in_the_badge": len(badge_delays),
        "inbox_delay_after_send_at": percentiles(inbox_delays) if inbox_delays else None,
        "badge_delay_after_send_at": percentiles(badge_delays) if badge_delays else None,
        "polls_per_user": {"min": min(polls), "max": max(polls)} if polls else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--users", type=int, default=1_000_000)
    parser.add_argument(
        "--database-url",
        default="",
        help="an empty PostgreSQL database to create and drop (default: SQLite, temporary)",
    )
    parser.add_argument("--samples", type=int, default=50, help="users sampled across the ids")
    parser.add_argument("--watchers", type=int, default=20, help="users polling for the notice")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--output", default="")
    args = parser.parse_args()

    var_dir = tempfile.mkdtemp(prefix="bench-broadcasts-")
    database_url = args.database_url or f"sqlite:///{var_dir}/bench.sqlite3"
    is_postgresql = database_url.startswith("postgres")
    if is_postgresql:
        name = database_url.rsplit("/", 1)[-1]
        for command in ("dropdb --if-exists --force", "createdb"):
            subprocess.run(
                [*command.split(), "-h", "127.0.0.1", "-U", "postgres", name], check=True
            )
    setup_django(database_url, var_dir)

    from django.core.management import call_command
    from django.utils import timezone

    from messagecenter.accounts.models import Role, User
    from messagecenter.notifications import actions
    from messagecenter.notifications.models import Audience, Broadcast, BroadcastKind
    from messagecenter.notifications.queries import broadcast_audience
    from messagecenter.notifications.tasks import BroadcastAnnouncer

    results: dict[str, Any] = {
        "benchmark": "broadcasts",
        "started_at": datetime.now(UTC).isoformat(),
        "database": "postgresql" if is_postgresql else "sqlite",
        "users": args.users,
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count()},
    }
    call_command("migrate", verbosity=0)
    results["bulk_create_users_seconds"] = round(bulk_users(args.users), 2)
    print(f"{args.users:,} users in {results['bulk_create_users_seconds']} s", flush=True)

    staff = User.objects.create(username="bench-staff", role=Role.ADMIN, is_staff=True)
    samples = [User.objects.get(pk=pk) for pk in sample_user_ids(args.samples)]

    # Read cost with no broadcast at all, then 10, then 100 live ones.
    results["read_cost"] = [read_costs(samples, "0 live broadcasts", args.repeats)]
    rng = random.Random(4)
    all_ids = list(User.objects.values_list("pk", flat=True))
    listed = rng.sample(all_ids, min(LIST_SIZE, len(all_ids)))
    audiences = (
        {"audience": Audience.EVERYONE},
        {"audience": Audience.BUYERS},
        {"audience": Audience.SELLERS},
        {"audience": Audience.MEMBERS},
        {"audience": Audience.COUNTRY, "country": "DE"},
        {"audience": Audience.LIST, "user_ids": listed},
    )
    scheduling: list[float] = []

    def schedule(count: int, **extra: Any) -> None:
        for n in range(count):
            started = time.perf_counter()
            actions.schedule_broadcast(
                staff,
                kind=BroadcastKind.PROMOTION if n % 4 == 3 else BroadcastKind.NOTICE,
                subject=f"Broadcast {Broadcast.objects.count() + 1}",
                body="Our terms change on 1 January.\n\nhttps://example.test/terms",
                send_at=timezone.now() - timedelta(minutes=10),
                **{**audiences[n % len(audiences)], **extra},
            )
            scheduling.append(time.perf_counter() - started)

    schedule(10)
    results["read_cost"].append(read_costs(samples, "10 live broadcasts", args.repeats))
    schedule(90)
    results["read_cost"].append(read_costs(samples, "100 live broadcasts", args.repeats))
    results["scheduling"] = percentiles(scheduling)
    # Announce what is already due, so the announcer below only has the new notice.
    actions.announce_due_broadcasts()
    while actions.announce_due_broadcasts():
        pass

    # The notice to everyone, due SEND_DELAY seconds from now.
    send_at = timezone.now() + timedelta(seconds=SEND_DELAY)
    notice = actions.schedule_broadcast(
        staff,
        kind=BroadcastKind.NOTICE,
        subject="Important: new terms of service",
        body="Our terms change on 1 January.",
        send_at=send_at,
        audience=Audience.EVERYONE,
    )
    announcer = BroadcastAnnouncer()
    announcer.start()
    watchers = sample_user_ids(args.watchers)
    results["visibility"] = watch_visibility(watchers, send_at, timeout=SEND_DELAY + 10)
    announcer.stopping.set()
    announcer.join(timeout=5)
    notice.refresh_from_db()
    results["visibility"]["announced_after_send_at_ms"] = (
        round((notice.announced_at - send_at).total_seconds() * 1000, 1)
        if notice.announced_at
        else None
    )
    started = time.perf_counter()
    results["visibility"]["audience_for_email"] = broadcast_audience(notice).count()
    results["visibility"]["audience_count_seconds"] = round(time.perf_counter() - started, 3)
    results["finished_at"] = datetime.now(UTC).isoformat()

    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    output = (
        Path(args.output)
        if args.output
        else RESULTS_DIR
        / (f"broadcasts-{datetime.now(UTC):%Y-%m-%d}-{results['database']}-{args.users}.json")
    )
    output.write_text(json.dumps(results, indent=2) + "\n")
    print(json.dumps(results, indent=2))
    print(f"written to {output}")

    from django.db import connections

    connections.close_all()
    if is_postgresql:
        name = database_url.rsplit("/", 1)[-1]
        subprocess.run(
            ["dropdb", "--if-exists", "--force", "-h", "127.0.0.1", "-U", "postgres", name],
            check=True,
        )


if __name__ == "__main__":
    main()
