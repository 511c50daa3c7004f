"""Benchmark of promotional e-mail (issue 4's "Must show"): recipients rendered and handed
to a local SMTP server per second.

    .venv/bin/python bench/email_delivery.py --recipients 10000 --repeats 3

What it does, on a throwaway database (SQLite under a temporary directory, or
--database-url for an empty PostgreSQL database):

1. creates N buyers in bulk and schedules a promotion to all buyers; announces it and runs
   the fan-out (advance_broadcast_runs) that queues one outbox row per recipient, timed;
2. starts a real SMTP server (aiosmtpd) in its own process on loopback that counts what
   it receives;
3. runs the sender (delivery.sender.send_due_emails, as the worker does) until the queue
   is empty, timed: build from templates + preference/suppression check under the
   person's row lock + SMTP hand-off + status update;
4. as a reference in the same run, the floor of this SMTP path: one pre-built message
   sent N times over one smtplib connection to the same server.

Reports recipients per second (median over repeats) and our rate as a share of the
reference. Not a test: numbers depend on the machine. Results: bench/results/email-*.json.
"""

import argparse
import json
import multiprocessing
import os
import platform
import smtplib
import socket
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RESULTS_DIR = ROOT / "bench" / "results"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def smtp_server(port: int, counter: Any, ready: Any) -> None:
    """A counting SMTP server, in its own process so it does not share our GIL."""
    from aiosmtpd.controller import Controller

    class Counting:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
            with counter.get_lock():
                counter.value += 1
            return "250 OK"

    controller = Controller(Counting(), hostname="127.0.0.1", port=port)
    controller.start()
    ready.set()
    while True:
        time.sleep(3600)


def smtp_sink(port: int, counter: Any, ready: Any) -> None:
    """A minimal SMTP server (EHLO, MAIL, RCPT, DATA, RSET, NOOP, QUIT) that reads the
    message data in blocks instead of line by line: aiosmtpd's per-line parsing is the
    slowest part of a run on this machine, and this measures our side."""
    import asyncio

    class Sink(asyncio.Protocol):
        def connection_made(self, transport: Any) -> None:
            self.transport = transport
            self.buffer = b""
            self.in_data = False
            transport.write(b"220 sink ESMTP\r\n")

        def data_received(self, data: bytes) -> None:
            self.buffer += data
            while True:
                if self.in_data:
                    end = self.buffer.find(b"\r\n.\r\n")
                    if end < 0:
                        return
                    self.buffer = self.buffer[end + 5 :]
                    self.in_data = False
                    with counter.get_lock():
                        counter.value += 1
                    self.transport.write(b"250 OK\r\n")
                    continue
                end = self.buffer.find(b"\r\n")
                if end < 0:
                    return
                line, self.buffer = self.buffer[:end], self.buffer[end + 2 :]
                verb = line[:4].upper()
                if verb == b"EHLO":
                    self.transport.write(b"250-sink\r\n250 8BITMIME\r\n")
                elif verb == b"DATA":
                    self.in_data = True
                    # A message may follow "354" directly: the data starts at a line.
                    self.buffer = b"\r\n" + self.buffer
                    self.transport.write(b"354 End data with <CR><LF>.<CR><LF>\r\n")
                elif verb == b"QUIT":
                    self.transport.write(b"221 Bye\r\n")
                    self.transport.close()
                    return
                else:
                    self.transport.write(b"250 OK\r\n")

    async def serve() -> None:
        server = await asyncio.get_running_loop().create_server(Sink, "127.0.0.1", port)
        ready.set()
        async with server:
            await server.serve_forever()

    asyncio.run(serve())


def setup_django(database_url: str | None, var_dir: str) -> None:
    os.environ["MESSAGECENTER_VAR_DIR"] = var_dir
    os.environ["DATABASE_URL"] = database_url or ""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    os.environ.setdefault("LOG_LEVEL", "WARNING")
    import django

    django.setup()
    from django.core.management import call_command

    call_command("migrate", verbosity=0)


def queue_message_emails(recipients: int, kind: str) -> int:
    """Queues one e-mail per recipient about a message: an order update each (`message`,
    one e-mail per message) or two unread seller messages each (`digest`, due now). Rows
    are written directly, as the send would leave them."""
    from django.utils import timezone

    from messagecenter.accounts.models import Role, User
    from messagecenter.conversations.models import (
        FOLDER_OF_KIND,
        Conversation,
        Kind,
        Message,
        Participant,
        ParticipantRole,
    )
    from messagecenter.delivery.models import Category, Email, EmailKind
    from messagecenter.marketplace.models import Storefront

    now = timezone.now()
    buyers = list(User.objects.filter(role=Role.BUYER).order_by("pk"))[:recipients]
    seller, _ = User.objects.get_or_create(
        username="bench-seller", defaults={"role": Role.SELLER, "email": "seller@example.test"}
    )
    if not Storefront.objects.filter(seller=seller).exists():
        Storefront.objects.create(seller=seller, name="Bench Kitchen", slug="bench-kitchen")
    conversation_kind = Kind.ORDER_UPDATES if kind == "message" else Kind.BUYER_SELLER
    conversations = Conversation.objects.bulk_create(
        [
            Conversation(
                kind=conversation_kind,
                subject=f"Order 112-{buyer.pk:07d}: shipped",
                buyer=buyer,
                created_at=now,
            )
            for buyer in buyers
        ],
        batch_size=2000,
    )
    per_conversation = 1 if kind == "message" else 2
    messages = Message.objects.bulk_create(
        [
            Message(
                conversation=conversation,
                sender=None if kind == "message" else seller,
                body=f"Your parcel is on its way (update {number + 1}). It should arrive "
                "within three business days.",
                created_at=now,
            )
            for conversation in conversations
            for number in range(per_conversation)
        ],
        batch_size=2000,
    )
    if kind == "message":
        emails = [
            Email(
                user_id=conversation.buyer_id,
                kind=EmailKind.MESSAGE,
                category=Category.ORDER_UPDATES,
                message_id=message.pk,
                subject=conversation.subject,
                next_attempt_at=now,
                created_at=now,
            )
            for conversation, message in zip(conversations, messages, strict=True)
        ]
    else:
        Participant.objects.bulk_create(
            [
                Participant(
                    conversation=conversation,
                    user_id=conversation.buyer_id,
                    role=ParticipantRole.BUYER,
                    folder=FOLDER_OF_KIND[conversation_kind],
                    last_activity_at=now,
                    unread_count=per_conversation,
                )
                for conversation in conversations
            ],
            batch_size=2000,
        )
        emails = [
            Email(
                user_id=buyer.pk,
                kind=EmailKind.DIGEST,
                category=Category.BUYER_SELLER,
                covers_from=now,
                next_attempt_at=now,
                created_at=now,
            )
            for buyer in buyers
        ]
    Email.objects.bulk_create(emails, batch_size=2000)
    return len(emails)


def run_once(
    recipients: int, port: int, counter: Any, batch: int, kind: str = "broadcast"
) -> dict[str, float]:
    from django.conf import settings
    from django.utils import timezone

    from messagecenter.accounts.models import Role, User
    from messagecenter.conversations.models import Conversation
    from messagecenter.delivery.models import BroadcastEmailRun, Email, EmailStatus
    from messagecenter.notifications import actions as notification_actions
    from messagecenter.notifications.emails import advance_broadcast_runs
    from messagecenter.notifications.models import Audience, Broadcast, BroadcastKind

    settings.MAILERS = {
        "default": {
            "BACKEND": "messagecenter.delivery.smtp.EmailBackend",
            "OPTIONS": {"host": "127.0.0.1", "port": port, "timeout": 30},
        }
    }
    Email.objects.all().delete()
    BroadcastEmailRun.objects.all().delete()
    Broadcast.objects.all().delete()
    Conversation.objects.all().delete()
    if User.objects.filter(role=Role.BUYER).count() != recipients:
        User.objects.all().delete()
        User.objects.bulk_create(
            [
                User(
                    username=f"shopper{number}",
                    email=f"shopper{number}@example.test",
                    display_name=f"Shopper {number}",
                    role=Role.BUYER,
                    country="US",
                    password="!",
                )
                for number in range(recipients)
            ],
            batch_size=2000,
        )
    if kind != "broadcast":
        started = time.perf_counter()
        queued = queue_message_emails(recipients, kind)
        fan_out = time.perf_counter() - started
        return _send_queued(queued, fan_out, counter)
    staff, _ = User.objects.get_or_create(
        username="bench-staff", defaults={"role": Role.ADMIN, "is_staff": True}
    )
    notification_actions.schedule_broadcast(
        staff,
        kind=BroadcastKind.PROMOTION,
        subject="Autumn sale: 20% off kitchen gear",
        body="This week only: 20% off espresso machines, grinders and kettles.\n\n"
        "See every offer in the marketplace.",
        send_at=timezone.now() - timedelta(seconds=1),
        audience=Audience.BUYERS,
    )
    started = time.perf_counter()
    notification_actions.announce_due_broadcasts()
    while advance_broadcast_runs(batch_size=batch):
        pass
    fan_out = time.perf_counter() - started
    queued = Email.objects.filter(status=EmailStatus.QUEUED).count()
    return _send_queued(queued, fan_out, counter)


def _send_queued(queued: int, fan_out: float, counter: Any) -> dict[str, float]:
    from django.db import connection

    from messagecenter.delivery.sender import send_due_emails

    before = counter.value
    started = time.perf_counter()
    while send_due_emails(limit=500):
        pass
    sending = time.perf_counter() - started
    delivered = counter.value - before
    connection.close()
    return {
        "queued": queued,
        "delivered": delivered,
        "fan_out_seconds": fan_out,
        "fan_out_per_second": queued / fan_out,
        "send_seconds": sending,
        "sent_per_second": delivered / sending,
    }


def reference_once(recipients: int, port: int, counter: Any) -> float:
    """The floor of the SMTP path: one of the e-mails just sent, its exact bytes sent N
    times over one smtplib connection (no database, no rendering)."""
    from django.core.mail import EmailMessage

    from messagecenter.accounts.models import User
    from messagecenter.delivery.models import Email
    from messagecenter.delivery.rendering import build

    email = Email.objects.order_by("pk").first()
    assert email is not None
    built: EmailMessage = build(email, User.objects.get(pk=email.user_id), {})
    raw = built.message().as_bytes()
    before = counter.value
    started = time.perf_counter()
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as client:
        for number in range(recipients):
            client.sendmail("no-reply@localhost", [f"shopper{number}@example.test"], raw)
    elapsed = time.perf_counter() - started
    assert counter.value - before == recipients
    return recipients / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--recipients", type=int, default=10_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch", type=int, default=1000, help="fan-out batch size")
    parser.add_argument("--database-url", default=None, help="an EMPTY PostgreSQL database")
    parser.add_argument("--profile", action="store_true", help="pyinstrument the first send")
    parser.add_argument("--server", choices=("sink", "aiosmtpd", "both"), default="both")
    parser.add_argument(
        "--kind",
        choices=("broadcast", "message", "digest"),
        default="broadcast",
        help="a promotion to everyone (default), an order-update e-mail per recipient, or a "
        "digest of two unread seller messages per recipient",
    )
    parser.add_argument("--output", type=Path, default=None)
    options = parser.parse_args()

    servers = {"sink": smtp_sink, "aiosmtpd": smtp_server}
    chosen = list(servers) if options.server == "both" else [options.server]
    runs: dict[str, list[dict[str, float]]] = {name: [] for name in chosen}
    references: dict[str, list[float]] = {name: [] for name in chosen}
    processes = []
    ports, counters = {}, {}
    for name in chosen:
        ports[name], counters[name] = free_port(), multiprocessing.Value("l", 0)
        ready = multiprocessing.Event()
        process = multiprocessing.Process(
            target=servers[name], args=(ports[name], counters[name], ready), daemon=True
        )
        process.start()
        processes.append(process)
        ready.wait(30)
    try:
        with tempfile.TemporaryDirectory(prefix="mc-bench-email-") as var_dir:
            setup_django(options.database_url, var_dir)
            from django.db import connection

            for repeat in range(options.repeats):
                for name in chosen:
                    port, counter = ports[name], counters[name]
                    if options.profile and repeat == 0:
                        from pyinstrument import Profiler

                        with Profiler() as profiler:
                            runs[name].append(
                                run_once(
                                    options.recipients, port, counter, options.batch, options.kind
                                )
                            )
                        profiler.print(show_all=False)
                    else:
                        runs[name].append(
                            run_once(options.recipients, port, counter, options.batch, options.kind)
                        )
                    references[name].append(reference_once(options.recipients, port, counter))
                    print(
                        f"run {repeat + 1} ({name}): "
                        f"fan-out {runs[name][-1]['fan_out_per_second']:,.0f}/s, "
                        f"sent {runs[name][-1]['sent_per_second']:,.0f}/s, "
                        f"same bytes over bare smtplib {references[name][-1]:,.0f}/s",
                        flush=True,
                    )
            vendor = connection.vendor
    finally:
        for process in processes:
            process.terminate()
    per_server = {
        name: {
            "median_sent_per_second": statistics.median(r["sent_per_second"] for r in runs[name]),
            "median_fan_out_per_second": statistics.median(
                r["fan_out_per_second"] for r in runs[name]
            ),
            "median_reference_smtp_per_second": statistics.median(references[name]),
            "runs": runs[name],
            "reference_runs": references[name],
        }
        for name in chosen
    }
    for figures in per_server.values():
        figures["share_of_reference"] = (
            figures["median_sent_per_second"] / figures["median_reference_smtp_per_second"]
        )
    result = {
        "benchmark": "email",
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": sys.version.split()[0],
            "platform": platform.platform(),
            "load_average": os.getloadavg(),
        },
        "database": vendor,
        "recipients": options.recipients,
        "kind": options.kind,
        "repeats": options.repeats,
        "servers": per_server,
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
    }
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    suffix = "" if options.kind == "broadcast" else f"-{options.kind}"
    output = options.output or RESULTS_DIR / f"email-{vendor}{suffix}.json"
    output.write_text(json.dumps(result, indent=2) + "\n")
    print(
        json.dumps(
            {
                key: value
                for key, value in result.items()
                if key not in {"runs", "reference_runs", "machine"}
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
