"""The agent console's queue with 100,000 open cases, over HTTP, beside the no-work floor
in the same run (docs/benchmarks.md, "Customer service").

    MESSAGECENTER_VAR_DIR=/tmp/mc-support-bench .venv/bin/python bench/support_queue.py \\
        --fresh --cases 100000 --requests 400
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/supportbench MESSAGECENTER_VAR_DIR=… \\
        .venv/bin/python bench/support_queue.py --fresh

Fills the database named by DATABASE_URL (--fresh: migrates it, then adds the cases;
SQLite's file under MESSAGECENTER_VAR_DIR is deleted first) with one customer-service
team of 20 agents and --cases open cases from 20,000 customers — 70 % unassigned, the rest
spread over the agents, every fifth case about an order — and the counters they imply.
Then starts `messagecenter serve` (one process) and, one client, sequentially: GET
/healthz (the floor), the queue in the JSON API (GET /api/v1/agent/cases?view=unassigned,
the first page, oldest first), the console page (GET /console/?view=unassigned, HTML with
every queue's count), the team's queue filtered by priority, the unassigned queue filtered
by a kind none of its cases has, and the counts (GET
/api/v1/agent/queues), --requests each after a warm-up, interleaved. Prints p50/p90/p99 per
request (client-measured, ms) and the server's own time (Server-Timing).
"""

import argparse
import http.client
import os
import random
import sys
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.run import HOST, running_server, summary

AGENTS = 20
CUSTOMERS = 20_000


def fill(cases: int, seed: int) -> tuple[str, str]:
    """The dataset; returns an agent's API token and session cookie."""
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.test import Client

    from messagecenter.accounts import actions as account_actions
    from messagecenter.accounts.models import Role
    from messagecenter.support import queries
    from messagecenter.support.models import UNASSIGNED, Case, CaseCounter, Team, TeamMember

    user_model = get_user_model()
    pick = random.Random(seed)
    team = Team.objects.create(slug="customer-service", name="Customer service")
    agents = user_model.objects.bulk_create(
        user_model(username=f"agent{n}", role=Role.AGENT, first_name=f"Agent {n}")
        for n in range(AGENTS)
    )
    TeamMember.objects.bulk_create(TeamMember(team=team, agent=agent) for agent in agents)
    customers = user_model.objects.bulk_create(
        (
            user_model(username=f"customer{n}", display_name=f"Customer {n}")
            for n in range(CUSTOMERS)
        ),
        batch_size=2_000,
    )
    start = datetime(2026, 1, 1, tzinfo=UTC)
    counts: dict[tuple[str, int], int] = {}
    batch: list[Case] = []
    for n in range(cases):
        assignee = None if pick.random() < 0.7 else pick.choice(agents)
        queued = start + timedelta(seconds=n * 30 + pick.randrange(30))
        batch.append(
            Case(
                kind="request",
                status="open",
                priority=pick.choice([1, 2, 2, 2, 3, 4]),
                team=team,
                assignee=assignee,
                customer=pick.choice(customers),
                subject=f"Question number {n}",
                created_at=queued,
                queued_at=queued,
                respond_by=queued + timedelta(hours=24),
            )
        )
        key = ("open", assignee.pk if assignee is not None else UNASSIGNED)
        counts[key] = counts.get(key, 0) + 1
        if len(batch) == 5_000:
            Case.objects.bulk_create(batch)
            batch = []
    Case.objects.bulk_create(batch)
    CaseCounter.objects.bulk_create(
        CaseCounter(team=team, status=status, assignee_key=assignee_key, cases=count)
        for (status, assignee_key), count in counts.items()
    )
    assert queries.stored_counts() == queries.recount()
    agent = agents[0]
    _, secret = account_actions.create_api_token(agent, "Benchmark")
    browser = Client()
    browser.force_login(agent)
    return secret, browser.cookies["sessionid"].value


def measure(
    port: int, path: str, headers: dict[str, str], requests: int
) -> tuple[list[float], list[float]]:
    connection = http.client.HTTPConnection(HOST, port, timeout=30)
    client, server = [], []
    for _ in range(requests):
        started = time.perf_counter()
        connection.request("GET", path, headers=headers)
        response = connection.getresponse()
        response.read()
        client.append((time.perf_counter() - started) * 1000)
        if response.status != 200:
            raise RuntimeError(f"{path}: {response.status}")
        timing = response.getheader("Server-Timing") or ""
        if "dur=" in timing:
            server.append(float(timing.split("dur=", 1)[1].split(",", 1)[0].split(";", 1)[0]))
    connection.close()
    return client, server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=100_000)
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--fresh", action="store_true")
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    var_dir = Path(os.environ.get("MESSAGECENTER_VAR_DIR", "/tmp/mc-support-bench"))
    var_dir.mkdir(parents=True, exist_ok=True)
    os.environ["MESSAGECENTER_VAR_DIR"] = str(var_dir)
    if args.fresh and not os.environ.get("DATABASE_URL"):
        for name in var_dir.glob("messagecenter.sqlite3*"):
            name.unlink()
    import subprocess

    subprocess.run([sys.executable, "-m", "messagecenter", "migrate", "-v", "0"], check=True)
    if args.fresh and os.environ.get("DATABASE_URL"):
        subprocess.run([sys.executable, "-m", "messagecenter", "flush", "--noinput"], check=True)
    began = time.monotonic()
    token, session = fill(args.cases, args.seed)
    print(f"{args.cases:,} open cases in {time.monotonic() - began:.0f} s")
    subprocess.run(
        [sys.executable, "-m", "messagecenter", "collectstatic", "--noinput", "-v", "0"], check=True
    )
    by_token = {"Authorization": f"Bearer {token}", "Accept": "application/json"}
    by_session = {"Cookie": f"sessionid={session}"}
    reads = [
        ("floor: GET /healthz", "/healthz", {}),
        ("queue (API): unassigned, first page", "/api/v1/agent/cases?view=unassigned", by_token),
        ("queue (page): /console/?view=unassigned", "/console/?view=unassigned", by_session),
        ("queue (API): team, priority 4", "/api/v1/agent/cases?view=team&priority=4", by_token),
        # A kind none of the team's cases has (reports go to another team): the filter's
        # range is empty, never a walk of the whole queue.
        (
            "queue (API): unassigned, kind report (none)",
            "/api/v1/agent/cases?view=unassigned&kind=report",
            by_token,
        ),
        ("counts: GET /api/v1/agent/queues", "/api/v1/agent/queues", by_token),
    ]
    results: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name, _, _ in reads}
    with running_server(1, var_dir / "bench-server.log", {}) as port:
        for _, path, headers in reads:
            measure(port, path, headers, 20)
        for _ in range(4):
            for name, path, headers in reads:
                client, server = measure(port, path, headers, args.requests // 4)
                results[name][0].extend(client)
                results[name][1].extend(server)
    # The machine is shared: each row's median as a multiple of the floor's, and its p99
    # above the floor's p99 (what the request itself added), measured in the same run.
    floor = summary(results[reads[0][0]][0])
    print(
        "| request | client p50 | p90 | p99 | p50 ÷ floor p50 | p99 − floor p99 "
        "| server p50 | server p99 |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for name, (client, server) in results.items():
        mine, theirs = summary(client), summary(server)
        print(
            f"| {name} | {mine['p50']} | {mine['p90']} | {mine['p99']} "
            f"| {(mine['p50'] or 0) / (floor['p50'] or 1):.1f} "
            f"| {(mine['p99'] or 0) - (floor['p99'] or 0):.2f} "
            f"| {theirs['p50']} | {theirs['p99']} |"
        )


if __name__ == "__main__":
    main()
