"""Profile one request of the workloads in-process with pyinstrument: the request alone,
repeated, with its timings (docs/benchmarks.md, "Against the goals").

    DATABASE_URL=... .venv/bin/python bench/profile.py --tokens FILE \\
        --path '/api/v1/search?q=delivery' --as biggest_seller --repeat 20
    DATABASE_URL=... .venv/bin/python bench/profile.py --tokens FILE --cpu \\
        --path /message-center/ --repeat 30    # a web page: signed in with a session
    DATABASE_URL=... .venv/bin/python bench/profile.py --tokens FILE --send --cpu --repeat 300
        # a send as bench/run.py's clients make it (a lone send: a batch of one)
"""

import argparse
import itertools
import json
import os
import sys
import time
from pathlib import Path
from typing import Any

# Run as a script: the repository's root, for the bench package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.limits import lift_send_limits

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--path", help="a GET request (or --send)")
    parser.add_argument(
        "--send",
        action="store_true",
        help="POST a message to the first bench sender's conversation, a new Idempotency-Key "
        "each time, as bench/run.py's send workload does",
    )
    parser.add_argument(
        "--body",
        default="Bench {run} 0-{number}: any news about the delivery?",
        help="with --send: the message, {run} (nanoseconds at the start) and {number} (the "
        "send's) filled in",
    )
    parser.add_argument("--as", dest="who", default="biggest_seller", help="small_buyer, ...")
    parser.add_argument("--repeat", type=int, default=20)
    parser.add_argument("--html", type=Path, help="write pyinstrument's HTML report here")
    parser.add_argument(
        "--cpu",
        action="store_true",
        help="no profiler: the median wall and CPU time of a request (CPU time holds still "
        "on a machine that others are loading)",
    )
    parser.add_argument(
        "--calls",
        action="store_true",
        help="no timing: function calls (Python and C) per request, through sys.setprofile (a "
        "count the machine's load does not move, for comparing old code with new)",
    )
    args = parser.parse_args()
    if bool(args.path) == args.send:
        parser.error("give --path or --send")
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    if args.send:
        lift_send_limits()
    import django

    django.setup()
    from django.test import Client
    from pyinstrument import Profiler

    tokens = json.loads(args.tokens.read_text())
    if args.send:
        sender = tokens["senders"][0]
        client = Client(HTTP_AUTHORIZATION=f"Bearer {sender['token']}")
        sends = itertools.count()
        run = time.time_ns()

        def request() -> Any:
            number = next(sends)
            return client.post(
                f"/api/v1/conversations/{sender['conversation_id']}/messages",
                {"body": args.body.format(run=run, number=number)},
                content_type="application/json",
                headers={"Idempotency-Key": f"profile-{run}-{number}"},
            )

        what, ok = "send a message", 201
    else:
        what, ok = f"{args.path} as {args.who}", 200
        client = _client_for(tokens[args.who]["token"], args.path)

        def request() -> Any:
            return client.get(args.path)

    response = request()  # warm: connection, caches
    assert response.status_code == ok, response.content[:300]
    if args.calls:
        # Counted with sys.setprofile (cProfile cannot be imported beside this file,
        # which is named like the standard library's `profile`).
        calls = 0

        def count(frame: Any, event: str, arg: Any) -> None:
            nonlocal calls
            if event == "call" or event == "c_call":
                calls += 1

        sys.setprofile(count)
        for _ in range(args.repeat):
            request()
        sys.setprofile(None)
        print(f"{what}: {calls / args.repeat:.0f} function calls per request (Python and C)")
        return
    if args.cpu:
        walls, cpus = [], []
        for _ in range(args.repeat):
            began, began_cpu = time.perf_counter(), time.process_time()
            request()
            cpus.append((time.process_time() - began_cpu) * 1000)
            walls.append((time.perf_counter() - began) * 1000)
        print(
            f"{what}: median wall {sorted(walls)[len(walls) // 2]:.2f} ms, "
            f"CPU {sorted(cpus)[len(cpus) // 2]:.2f} ms, mean CPU {sum(cpus) / len(cpus):.2f} ms"
        )
        return
    timings = []
    profiler = Profiler(interval=0.0005)
    profiler.start()
    for _ in range(args.repeat):
        began = time.perf_counter()
        request()
        timings.append((time.perf_counter() - began) * 1000)
    profiler.stop()
    timings.sort()
    print(
        f"{what}: ms min/median/max "
        f"{timings[0]:.1f}/{timings[len(timings) // 2]:.1f}/{timings[-1]:.1f}"
    )
    print(profiler.output_text(unicode=True, color=False, show_all=False)[:6000])
    if args.html:
        args.html.write_text(profiler.output_html())


def _client_for(token: str, path: str) -> Any:
    from django.test import Client

    client = Client(HTTP_AUTHORIZATION=f"Bearer {token}")
    if not path.startswith("/api/"):
        # A web page: the token's person signed in with a session, as a browser is.
        from messagecenter.accounts.queries import api_token_for_secret

        found = api_token_for_secret(token)
        assert found is not None, "the dataset's token is not valid: generate it again"
        client = Client()
        client.force_login(found.user)
    return client


if __name__ == "__main__":
    sys.exit(main())
