import ipaddress
import os
import signal
import socket
import subprocess
import sys
import time
from argparse import ArgumentParser
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand

from messagecenter.accounts.sign_in_hints import sign_in_hints


class Command(BaseCommand):
    help = (
        "Run the whole Message Center in the foreground: web server, worker and the SMTP "
        "listener for replies by e-mail. Ctrl-C stops them all."
    )

    def add_arguments(self, parser: ArgumentParser) -> None:
        parser.add_argument("--host", default="127.0.0.1")
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args: Any, host: str, port: int, **options: Any) -> None:
        command = [sys.executable, "-m", "messagecenter"]
        inbound_host, inbound_port = settings.INBOUND_SMTP_HOST, settings.INBOUND_SMTP_PORT
        # Every absolute link the children write — in e-mails (View it, E-mail preferences,
        # List-Unsubscribe, "Is this e-mail from us?"), in the marketplace's messages — is
        # made from SITE_URL, whose default names port 8000: `run --port 8141` sent people
        # to a server that was not there. Unless the operator set it, it is where this run
        # serves.
        environment = dict(os.environ)
        if not os.environ.get("SITE_URL"):
            environment["SITE_URL"] = site_url(host, port)
        site = environment["SITE_URL"]
        inbound_environment = dict(environment)
        # Replies tried on this machine come from the demo's made-up domains, which no DNS
        # vouches for: with the development mailbox on loopback, they are not checked.
        is_local_trial = settings.MAILBOX_ENABLED and _is_loopback(inbound_host)
        if is_local_trial:
            inbound_environment["INBOUND_REQUIRE_AUTHENTICATION"] = "0"
        children = [
            subprocess.Popen(
                [*command, "serve", "--host", host, "--port", str(port)], env=environment
            ),
            subprocess.Popen([*command, "worker"], env=environment),
            subprocess.Popen(
                [*command, "inbound-smtp", "--host", inbound_host, "--port", str(inbound_port)],
                env=inbound_environment,
            ),
        ]
        # Ctrl-C may come at any moment from here — while the server still loads, or while
        # the sign-in hints are read from the database (a pool still connecting under
        # load) — and stops the children the same way.
        try:
            # A server process listens once it has loaded what requests need (server/warm.py):
            # "running" is said when the address answers, not while it still refuses.
            self.stdout.write(f"\nStarting Message Center on http://{host}:{port}/ …\n")
            if not _accepting(host, port, children):
                _stop(children, grace=0)
                raise SystemExit(1)
            self.stdout.write(f"Message Center is running on http://{host}:{port}/\n")
            if settings.MAILBOX_ENABLED:
                self.stdout.write(
                    f"E-mail is kept, not sent (EMAIL_URL=mailbox:): http://{host}:{port}/mailbox/\n"
                )
            if settings.MARKETPLACE_EVENTS_SECRETS:
                # Shown so that the README's send_marketplace_event example works as it is.
                self.stdout.write(
                    f"Order events: POST http://{host}:{port}/api/v1/marketplace-events, signed "
                    f"with {settings.MARKETPLACE_EVENTS_SECRETS[0]} (MARKETPLACE_EVENTS_SECRETS)\n"
                )
            self.stdout.write(f"Links in e-mails and messages: {site} (SITE_URL)\n")
            self.stdout.write(
                f"Replies by e-mail: SMTP on {inbound_host}:{inbound_port}"
                + (" (senders not checked: local trial)\n" if is_local_trial else "\n")
            )
            hints = sign_in_hints()
            if hints is not None:
                self.stdout.write(hints.as_text())
            self.stdout.write("Press Ctrl-C to stop.\n")
            # Ctrl-C in a terminal reaches the whole process group: the children stop by
            # themselves, and are only terminated if they have not after a grace period.
            # A SIGTERM to this process alone is passed on to them.
            signal.signal(signal.SIGTERM, lambda *_: _stop(children, grace=0))
            while all(child.poll() is None for child in children):
                time.sleep(0.5)
        except KeyboardInterrupt:
            stopped_by_ctrl_c = True
            _stop(children, grace=10)
        else:
            stopped_by_ctrl_c = False
        finally:
            _stop(children, grace=0)
        # After a Ctrl-C, whatever the children exit with is its doing: one still starting
        # (the worker's system checks still importing the API) ends with an error, not
        # SIGINT's code, when the interrupt lands inside a library's native code (pydantic
        # building a validator: seen in a CI run of the process test).
        failed = [child.returncode for child in children if child.returncode not in (0, -2, -15)]
        if failed and not stopped_by_ctrl_c:
            raise SystemExit(1)


def _accepting(
    host: str, port: int, children: list[subprocess.Popen[bytes]], timeout: float = 600
) -> bool:
    """Whether the web server accepts connections before any child stops or `timeout`."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if any(child.poll() is not None for child in children):
            return False
        try:
            socket.create_connection((host, port), timeout=1).close()
            return True
        except OSError:
            time.sleep(0.2)
    return False


def site_url(host: str, port: int) -> str:
    """The address of a server listening on `host` and `port`, for links. A server on
    every address (0.0.0.0, ::) is reached on this machine at loopback; people elsewhere
    need SITE_URL set to the name they use."""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return f"http://{host}:{port}"
    if address.is_unspecified:
        address = ipaddress.ip_address("127.0.0.1" if address.version == 4 else "::1")
    shown = f"[{address}]" if address.version == 6 else str(address)
    return f"http://{shown}:{port}"


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _stop(children: list[subprocess.Popen[bytes]], *, grace: float) -> None:
    deadline = time.monotonic() + grace
    for child in children:
        try:
            child.wait(timeout=max(0.0, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            child.terminate()
    for child in children:
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
