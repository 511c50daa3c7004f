import json
import sys
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from messagecenter.marketplace.events import SIGNATURE_HEADER, signature_header

# The intake answers in well under a second; a hung server must not hang the operator.
TIMEOUT_SECONDS = 10


class Command(BaseCommand):
    help = (
        "Sign an order event (a JSON file, or - for standard input) and POST it to a "
        "Message Center's /api/v1/marketplace-events, as the marketplace's backend does "
        "(docs/marketplace-events.md). Prints the answer; fails unless it is 200 or 201."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("event_file", help="the event as JSON, or - for standard input")
        parser.add_argument(
            "--url",
            # The server this deployment's links name (SITE_URL), not a fixed port 8000:
            # with SITE_URL set as `run --port` uses it, the event reaches that server.
            default=f"{settings.SITE_URL.rstrip('/')}/api/v1/marketplace-events",
            help="the intake's URL (default: SITE_URL's, %(default)s)",
        )
        parser.add_argument(
            "--secret",
            help="the signing secret (default: the first of MARKETPLACE_EVENTS_SECRETS)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        secret = options["secret"] or next(iter(settings.MARKETPLACE_EVENTS_SECRETS), None)
        if not secret:
            raise CommandError("No secret: pass --secret or set MARKETPLACE_EVENTS_SECRETS.")
        source = options["event_file"]
        try:
            body = sys.stdin.buffer.read() if source == "-" else Path(source).read_bytes()
            json.loads(body)
        except OSError as error:
            raise CommandError(f"Cannot read {source}: {error.strerror}.") from error
        except ValueError as error:
            raise CommandError(f"{source} is not JSON: {error}.") from error
        request = urllib.request.Request(
            options["url"],
            data=body,
            method="POST",
            headers={
                "Content-Type": "application/json",
                SIGNATURE_HEADER: signature_header(body, secret),
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=TIMEOUT_SECONDS) as response:
                status, answer = response.status, response.read().decode()
        except urllib.error.HTTPError as error:
            raise CommandError(f"{error.code}: {error.read().decode()}") from error
        except urllib.error.URLError as error:
            raise CommandError(f"Cannot reach {options['url']}: {error.reason}") from error
        self.stdout.write(f"{status}: {answer}")
