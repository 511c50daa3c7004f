"""`messagecenter inbound-smtp`: the SMTP listener for replies by e-mail
(delivery/inbound/listener.py, docs/email.md#reply-by-e-mail)."""

import asyncio
import contextlib
import signal
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from messagecenter.delivery.inbound.listener import serve_forever


class Command(BaseCommand):
    help = "Receive replies by e-mail over SMTP, for the relay addresses of EMAIL_REPLY_DOMAIN."

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default=settings.INBOUND_SMTP_HOST)
        parser.add_argument("--port", type=int, default=settings.INBOUND_SMTP_PORT)

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        self.stdout.write(
            f"Receiving replies for *@{settings.EMAIL_REPLY_DOMAIN} by SMTP on {host}:{port}\n"
        )
        asyncio.run(self._serve(host, port))

    async def _serve(self, host: str, port: int) -> None:
        task = asyncio.ensure_future(serve_forever(host, port))
        loop = asyncio.get_running_loop()
        # SIGTERM (from `messagecenter run` or a process manager) ends it like Ctrl-C.
        for signal_number in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signal_number, task.cancel)
        with contextlib.suppress(asyncio.CancelledError):
            await task
