"""CPU per request of the middleware stack alone, for an API call with an Authorization
header: Django's `get_response` for GET /api/v1/ (the API's index: URL resolution and two
`reverse()`, no database), through every middleware of MIDDLEWARE ("whole", as before
server/token_calls.py) and through the token calls' own path ("lean"); with and without a
session cookie sent along. Alternating rounds of N requests, the median of the rounds'
means in µs (docs/benchmarks.md, "Token calls through their own middleware").

    DATABASE_URL=... .venv/bin/python bench/middleware_stack.py --rounds 7
"""

import argparse
import os
import statistics
import time
from typing import Any

COOKIE = "sessionid=abcdefghijklmnopqrstuvwxyz012345"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--requests", type=int, default=5000)
    args = parser.parse_args()
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    os.environ.setdefault("ALLOWED_HOSTS", "testserver")
    import django

    django.setup()
    from django.conf import settings
    from django.core.handlers.base import BaseHandler
    from django.test import RequestFactory, override_settings

    def handler(middleware: list[str]) -> BaseHandler:
        with override_settings(MIDDLEWARE=middleware):
            built = BaseHandler()
            built.load_middleware()
        return built

    lean = handler(settings.MIDDLEWARE)
    whole = handler([path for path in settings.MIDDLEWARE if ".token_calls." not in path])
    factory = RequestFactory()

    def cost(built: BaseHandler, **headers: Any) -> float:
        requests = [factory.get("/api/v1/", **headers) for _ in range(args.requests)]
        began = time.process_time()
        for request in requests:
            response = built.get_response(request)
        assert response.status_code == 200
        return (time.process_time() - began) / args.requests * 1e6

    token = {"HTTP_AUTHORIZATION": "Bearer mc_bench"}
    cases = {
        "whole": (whole, token),
        "lean": (lean, token),
        "whole, session cookie": (whole, {**token, "HTTP_COOKIE": COOKIE}),
        "lean, session cookie": (lean, {**token, "HTTP_COOKIE": COOKIE}),
    }
    results: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.rounds):
        for name, (built, headers) in cases.items():
            results[name].append(cost(built, **headers))
    for name, values in results.items():
        print(
            f"{name:22s} median {statistics.median(values):7.1f} µs  "
            f"rounds {[round(value) for value in values]}"
        )


if __name__ == "__main__":
    main()
