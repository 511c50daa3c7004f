"""CPU per call of the API token lookup (accounts.queries.api_token_for_secret) for the
biggest seller's token, in-process: the median of 7 batches of 3,000 calls, in µs
(docs/benchmarks.md, "Verified tokens"). Old code against new: put the other `src` first
on PYTHONPATH and alternate.

    DATABASE_URL=sqlite:///var/bench/small.sqlite3 .venv/bin/python bench/token_lookup.py \\
        --tokens var/bench/tokens.json
"""

import argparse
import json
import os
import time
from pathlib import Path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tokens", type=Path, required=True)
    parser.add_argument("--calls", type=int, default=3000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    import django

    django.setup()
    from messagecenter.accounts.queries import api_token_for_secret

    secret = json.loads(args.tokens.read_text())["biggest_seller"]["token"]
    assert api_token_for_secret(secret) is not None, "the dataset's token is not valid"
    batches = []
    for _ in range(7):
        began = time.process_time()
        for _ in range(args.calls):
            api_token_for_secret(secret)
        batches.append((time.process_time() - began) / args.calls * 1e6)
    print(f"{sorted(batches)[3]:.1f}")


if __name__ == "__main__":
    main()
