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

    def handle(self, *args: Any, host: str, port: int, workers: int, **options: Any) -> None:
        uvicorn.run(
            "messagecenter.asgi:application",
            host=host,
            port=port,
            workers=workers,
            lifespan="off",
            log_level="warning",
            # Behind a proxy, trust X-Forwarded-* only from loopback.
            proxy_headers=True,
            forwarded_allow_ips="127.0.0.1",
            # Open event streams never end by themselves: on shutdown, close them after a
            # few seconds (clients reconnect elsewhere) instead of waiting for ever.
            timeout_graceful_shutdown=5,
        )
