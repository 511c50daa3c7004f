from argparse import ArgumentParser
from typing import Any

import uvicorn
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = "Serve the Message Center (web pages and API) over HTTP with uvicorn."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)
        parser.add_argument("--workers", type=int, default=1, help="server processes")
        # httptools and uvloop (C) are installed and chosen by "auto"; h11 and asyncio (pure
        # Python) are there to compare with: GET /healthz 429 vs 379 requests/s in one run
        # (docs/benchmarks.md, "How it got here").
        parser.add_argument("--http", choices=("auto", "httptools", "h11"), default="auto")
        parser.add_argument("--loop", choices=("auto", "uvloop", "asyncio"), default="auto")

    def handle(
        self, *args: Any, host: str, port: int, workers: int, http: str, loop: str, **options: Any
    ) -> None:
        uvicorn.run(
            "messagecenter.asgi:application",
            host=host,
            port=port,
            workers=workers,
            http=http,
            loop=loop,
            lifespan="off",
            log_level="warning",
            # Behind a proxy, trust X-Forwarded-* only from loopback.
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
            # Open event streams never end by themselves: on shutdown, close them after a
            # few seconds (clients reconnect elsewhere) instead of waiting for ever.
            timeout_graceful_shutdown=5,
        )
