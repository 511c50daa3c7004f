"""The inbox list's plans on PostgreSQL, for the dataset's small buyer and biggest seller:
`EXPLAIN (ANALYZE, BUFFERS, SUMMARY)` of the list statement as the API runs it, prepared,
three times each way, each in a fresh session — planned for each call's values (what
every call of the biggest seller got before db/plans.py), planned once without them
(`plan_cache_mode = force_generic_plan`: the average person's plan), and for each call's
values with the joins in the order written (`join_collapse_limit = 1`, what
db/plans.joined_as_written asks for). Prints each run's first plan line, planning and
execution times; SHOW_PLAN=1 prints each way's last plan whole (docs/benchmarks.md,
"Full speed (issue 19)").

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/bench .venv/bin/python \\
        bench/list_plans.py /tmp/mc-bench/tokens-postgresql-10m.json
"""

import json
import os
import re
import sys
from pathlib import Path
from typing import Any

# How the plan is made, as SET statements run before the three EXPLAINs.
WAYS = {
    "for each call's values": [],
    "once, without the values": ["SET plan_cache_mode = force_generic_plan"],
    "joins as written": ["SET join_collapse_limit = 1", "SET plan_cache_mode = force_custom_plan"],
}
RUNS = 3
TIMES = ("Planning Time", "Execution Time")


def list_statement(user_id: int) -> tuple[str, list[Any]]:
    """The list statement of the API's first inbox page for this person, and its values."""
    from django.db import connection

    from messagecenter.accounts.models import User
    from messagecenter.conversations import queries

    seen: list[tuple[str, list[Any]]] = []

    def keep(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        if 'FROM "conversations_participant"' in sql and "ORDER BY" in sql:
            seen.append((sql, list(params)))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(keep):
        queries.inbox_page(User.objects.get(pk=user_id))
    [found] = seen
    return found


def numbered(sql: str) -> str:
    """Django's `%s` placeholders as PREPARE's $1, $2, …"""
    numbers = iter(range(1, sql.count("%s") + 1))
    return re.sub(r"%s", lambda _: f"${next(numbers)}", sql).replace("%%", "%")


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    import django

    django.setup()
    import psycopg
    from django.conf import settings
    from psycopg import sql as pg

    tokens = json.loads(Path(sys.argv[1]).read_text())
    database = settings.DATABASES["default"]
    for who in ("small_buyer", "biggest_seller"):
        text, values = list_statement(tokens[who]["user_id"])
        arguments = pg.SQL(", ").join(pg.Literal(value) for value in values)
        for way, settings_sql in WAYS.items():
            # A fresh session each way: nothing planned before, every setting at its default.
            with psycopg.connect(
                host=database["HOST"],
                port=database["PORT"] or 5432,
                user=database["USER"],
                password=database["PASSWORD"] or None,
                dbname=database["NAME"],
                autocommit=True,
                cursor_factory=psycopg.ClientCursor,
            ) as session:
                for statement in settings_sql:
                    session.execute(statement)
                session.execute(f"PREPARE inbox AS {numbered(text)}")
                explain = pg.SQL("EXPLAIN (ANALYZE, BUFFERS, SUMMARY) EXECUTE inbox({})").format(
                    arguments
                )
                for run in range(1, RUNS + 1):
                    lines = [row[0] for row in session.execute(explain).fetchall()]
                    times = [line for line in lines if line.startswith(TIMES)]
                    print(f"{who}, {way}, run {run}: {lines[0].strip()} | {' | '.join(times)}")
                    if run == RUNS and os.environ.get("SHOW_PLAN"):
                        print("\n".join(lines))


if __name__ == "__main__":
    main()
