"""Replies by e-mail per second: real SMTP clients against the Message Center's own listener
(`delivery/inbound/listener.py`), each e-mail parsed, checked (SPF, DKIM and DMARC against
a DNS server on loopback, as in the tests) and posted — against the send action alone,
in the same run on the same database (docs/email.md#reply-by-e-mail).

    MESSAGECENTER_VAR_DIR=/tmp/mc-bench-inbound .venv/bin/python bench/inbound_email.py

A fresh database (DATABASE_URL, default SQLite under MESSAGECENTER_VAR_DIR) gets
--conversations buyer–seller conversations. Then:

1. inbound: --clients SMTP clients (threads, one connection each) send --emails
   DKIM-signed replies in total, each to its seller's relay address; the clock stops when
   every e-mail is recorded (posted);
2. send: the same number of threads call `conversations.actions.send_message` for the same
   number of replies.

Prints (and --output writes) e-mails per second through SMTP to posted messages, sends
per second of the action alone, and their ratio.
"""

import argparse
import json
import os
import smtplib
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "src"), str(ROOT)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--conversations", type=int, default=40)
    parser.add_argument("--emails", type=int, default=400)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--no-authentication", action="store_true")
    parser.add_argument("--output", type=Path)
    options = parser.parse_args()

    os.environ.setdefault("MESSAGECENTER_VAR_DIR", tempfile.mkdtemp(prefix="mc-bench-inbound-"))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    os.environ["INBOUND_EMAILS_PER_HOUR"] = str(options.emails * 10)
    from bench.limits import lift_send_limits

    lift_send_limits()
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from tests.delivery.dns import DnsServer, make_dkim_key
    from tests.delivery.replies import reply
    from tests.test_processes import free_port

    call_command("migrate", "--noinput", verbosity=0)
    # A database of its own: whatever an earlier run left goes.
    call_command("flush", "--noinput", verbosity=0)
    from tests import factories

    from messagecenter.conversations import actions as conversation_actions
    from messagecenter.conversations.models import Participant
    from messagecenter.delivery.inbound.listener import controller
    from messagecenter.delivery.models import InboundEmail
    from messagecenter.delivery.rendering import reply_address

    seller = factories.SellerFactory(username="bench-seller", email="seller@example.test")
    product = factories.ProductFactory(storefront=seller.storefront)
    seats: list[tuple[int, str]] = []
    for number in range(options.conversations):
        buyer = factories.BuyerFactory(username=f"bench-buyer{number}")
        question = conversation_actions.ask_seller_about_product(
            buyer, product.pk, f"Question {number}: is it in stock?"
        )
        seat = Participant.objects.get(conversation_id=question.conversation_id, user=seller)
        address = reply_address(seat)
        assert address is not None
        seats.append((question.conversation_id, address))

    folder = Path(tempfile.mkdtemp(prefix="mc-bench-dkim-"))
    key = make_dkim_key(folder)
    dns = DnsServer()
    dns.publish("example.test", "v=spf1 ip4:127.0.0.1 -all")
    dns.publish("mail._domainkey.example.test", f"v=DKIM1; k=rsa; p={key.public_base64}")
    dns.publish("_dmarc.example.test", "v=DMARC1; p=reject")
    dns.start()
    settings.INBOUND_DNS_SERVER = dns.address
    settings.INBOUND_REQUIRE_AUTHENTICATION = not options.no_authentication
    listener = controller(host="127.0.0.1", port=free_port())
    listener.start()
    connection.close()

    emails = [
        (
            seats[number % len(seats)][1],
            reply(
                sender=seller.email,
                to=seats[number % len(seats)][1],
                text=f"Reply {number}: yes, it ships tomorrow.\n\nOn Monday you wrote:\n> Is it?",
                message_id=f"<bench-{number}-{time.time_ns()}@mail.example.test>",
                sign_with=key,
            ),
        )
        for number in range(options.emails)
    ]

    def client(share: list[tuple[str, bytes]]) -> None:
        with smtplib.SMTP("127.0.0.1", listener.port, local_hostname="mail.example.test") as smtp:
            for address, raw in share:
                smtp.sendmail(seller.email, [address], raw)

    shares = [emails[number :: options.clients] for number in range(options.clients)]
    began = time.perf_counter()
    _run_threads(client, shares)
    inbound_seconds = time.perf_counter() - began
    posted = InboundEmail.objects.filter(status="posted").count()
    outcomes = dict(Counter(InboundEmail.objects.values_list("status", flat=True)))
    listener.stop()
    dns.stop()

    def sender(share: list[int]) -> None:
        try:
            for number in share:
                conversation_id = seats[number % len(seats)][0]
                conversation_actions.send_message(
                    seller, conversation_id, f"Send {number}: yes, it ships tomorrow."
                )
        finally:
            connection.close()

    numbers = list(range(options.emails))
    began = time.perf_counter()
    _run_threads(sender, [numbers[number :: options.clients] for number in range(options.clients)])
    send_seconds = time.perf_counter() - began

    result = {
        "database": settings.DATABASES["default"]["ENGINE"].rsplit(".", 1)[-1],
        "emails": options.emails,
        "clients": options.clients,
        "authentication": not options.no_authentication,
        "outcomes": outcomes,
        "inbound_per_second": round(posted / inbound_seconds, 1),
        "send_action_per_second": round(options.emails / send_seconds, 1),
    }
    result["inbound_share_of_send"] = round(
        result["inbound_per_second"] / result["send_action_per_second"], 2
    )
    print(json.dumps(result, indent=2))
    if options.output is not None:
        options.output.write_text(json.dumps(result, indent=2) + "\n")
    if posted != options.emails:
        raise SystemExit(f"only {posted} of {options.emails} e-mails were posted")


def _run_threads(target: Any, shares: list[Any]) -> None:
    threads = [threading.Thread(target=target, args=(share,)) for share in shares]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


if __name__ == "__main__":
    main()
