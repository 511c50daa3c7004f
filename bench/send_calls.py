"""Where a batched send's Python goes, in calls (docs/benchmarks.md, "Sends: what one
statement for a batch's writes could save at most"): --threads senders of the dataset
call `conversations.actions.send_message` at once, --sends times each, so the group
commit batches them as it does under load; every thread's calls (Python and C, through
`threading.setprofile_all_threads`) are counted, and attributed to the parts below when
one of their functions is on the calling thread's stack. A count the machine's load does
not move, for comparing designs; the batch sizes do move with it (printed).

    DATABASE_URL=postgres://postgres@127.0.0.1:5432/mc_bench MESSAGECENTER_VAR_DIR=/tmp/mc-bench \\
        .venv/bin/python bench/send_calls.py --tokens /tmp/mc-bench/T.json
"""

import argparse
import json
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType
from typing import Any

# Run as a script: the repository's root, for the bench package.
sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from bench.limits import lift_send_limits

# A part: (the end of a function's file name, its qualified name).
PARTS = {
    "the safety check (request's thread)": ("safety/detector.py", "check"),
    "statements through rows.py": ("messagecenter/rows.py", "_Statement.execute"),
    "statements through Django's cursor": ("django/db/backends/utils.py", "CursorWrapper.execute"),
}
# Any call inside psycopg, or in one of the two statement parts: what executing statements
# costs in Python, the part one statement for the batch's writes would shrink.
STATEMENTS = "any statement (the two above, or psycopg: commits, pipelines)"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--threads", type=int, default=16)
    parser.add_argument("--sends", type=int, default=20, help="per thread")
    parser.add_argument(
        "--body",
        default="Bench {run} 0-{number}: any news about the delivery?",
        help="bench/run.py's send body by default ({run}: a long number, {number}: the send's)",
    )
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    lift_send_limits()
    import django

    django.setup()
    from messagecenter.accounts.models import User
    from messagecenter.conversations.actions import send_message
    from messagecenter.conversations.actions.sending import SENDS

    senders = json.loads(args.tokens.read_text())["senders"][: args.threads]
    users = {s["user_id"]: User.objects.get(pk=s["user_id"]) for s in senders}
    run = time.time_ns()

    def sends(sender: dict[str, Any], count: int, label: str) -> None:
        for number in range(count):
            send_message(
                users[sender["user_id"]],
                sender["conversation_id"],
                args.body.format(run=run, number=number),
                idempotency_key=f"calls-{label}-{run}-{sender['user_id']}-{number}",
            )

    for sender in senders:  # warm: connections, caches, statements prepared
        sends(sender, 1, "warm")
    counts: Counter[str] = Counter()
    total = 0
    stacks = threading.local()

    def count(frame: FrameType, event: str, arg: object) -> None:
        nonlocal total
        stack: list[tuple[str, str]] = stacks.__dict__.setdefault("stack", [])
        if event == "call":
            stack.append((frame.f_code.co_filename, frame.f_code.co_qualname))
        elif event == "return":
            if stack:
                stack.pop()
            return
        elif event != "c_call":
            return
        total += 1
        inside = {
            part
            for part, (file, name) in PARTS.items()
            for f, q in stack
            if q == name and f.endswith(file)
        }
        counts.update(inside)
        if inside - {"the safety check (request's thread)"} or any(
            "/psycopg/" in f for f, _ in stack
        ):
            counts[STATEMENTS] += 1

    batches, units = SENDS.batches, SENDS.units
    threads = [threading.Thread(target=sends, args=(s, args.sends, "run")) for s in senders]
    threading.setprofile_all_threads(count)
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    threading.setprofile_all_threads(None)
    sent = len(senders) * args.sends
    batches, units = SENDS.batches - batches, SENDS.units - units
    print(f"{sent} sends in {batches} batches ({units / max(batches, 1):.1f} a batch)")
    print(f"{total / sent:,.0f} calls a send (Python and C), of which:")
    for part in (*PARTS, STATEMENTS):
        print(f"  {counts[part] / sent:8,.0f}  {counts[part] / total:6.1%}  {part}")


if __name__ == "__main__":
    main()
