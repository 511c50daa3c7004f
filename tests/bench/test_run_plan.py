"""bench/run.py's plans without a server: the client sweep, the pages beside the API calls
they are compared with, and the table of their ratios (docs/benchmarks.md)."""

from argparse import Namespace
from typing import Any

from bench import run

TOKENS: dict[str, Any] = {
    "small_buyer": {"token": "mc_small"},
    "biggest_seller": {
        "token": "mc_biggest",
        "search": {"common_word": "delivery", "rare_word": "tourmaline", "order_number": "1-2"},
    },
    "senders": [{"token": f"mc_sender_{n}", "conversation_id": 100 + n} for n in range(4)],
    "long_conversation": {"conversation_id": 1},
}


def _args(**given: Any) -> Namespace:
    defaults: dict[str, Any] = {
        "concurrency": 32,
        "read_concurrency": [1],
        "only": set(),
        "names": set(),
        "clients": [],
    }
    return Namespace(**(defaults | given))


def test_the_client_sweep_runs_the_send_and_the_history_page_at_each_count() -> None:
    plan = run.workloads(TOKENS, _args(clients=[1, 8, 32, 64]))

    assert [(workload.name, workload.concurrency) for workload in plan] == [
        ("floor: GET /healthz", 32),
        *(
            (name, clients)
            for clients in (1, 8, 32, 64)
            for name in (
                f"send a message ({clients} clients)",
                f"conversation: history page (25 messages) ({clients} clients)",
            )
        ),
    ]
    method, path, token, _, _ = plan[2].make(0, 0)
    assert (method, path, token) == (
        "GET",
        "/api/v1/conversations/1/messages?limit=25",
        "mc_biggest",
    )


def test_pages_come_with_the_api_calls_they_are_compared_with() -> None:
    plan = run.workloads(TOKENS, _args(only={"pages"}, read_concurrency=[1, 4]), "sessionid=k")

    names = {workload.name for workload in plan}
    for page, calls in run.PAGE_API_CALLS.items():
        for suffix in ("", " (4 clients)"):
            assert {page + suffix, *(call + suffix for call in calls)} <= names
    assert not any(workload.group == "search" for workload in plan)
    page = next(workload for workload in plan if workload.group == "pages")
    assert page.make(0, 0) == ("GET", "/message-center/", None, None, {"Cookie": "sessionid=k"})


def test_without_a_session_there_are_no_pages() -> None:
    assert not any(workload.group == "pages" for workload in run.workloads(TOKENS, _args()))


def _row(p50: float, p99: float) -> dict[str, Any]:
    return {"concurrency": 1, "server_p50_ms": p50, "server_p99_ms": p99}


def test_the_pages_table_divides_the_pages_times_by_its_api_calls_added() -> None:
    document = {
        "median": {
            "inbox page, biggest seller": _row(4, 6),
            "badges, biggest seller": _row(1, 2),
            run.PAGES["message center"]: _row(10, 20),
        }
    }

    [_, _, line] = run.pages_table(document).splitlines()

    assert line.startswith(f"| {run.PAGES['message center']} | 1 | 10 / 20 |")
    assert line.endswith("| 5.00 / 8.00 | 2.00 / 2.50 |")
