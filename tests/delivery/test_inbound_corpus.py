"""A few thousand e-mails of every shape (tests/delivery/email_corpus.py) through the
inbound action: none crashes it or leaves it half-done, each is posted or refused with a
reason, and no posted text carries an e-mail address. The figures are in docs/email.md
(`make email-corpus` prints them)."""

import os
import re
from collections import Counter

import pytest
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Attachment, Message, Participant
from messagecenter.delivery import relay
from messagecenter.delivery.inbound.actions import ROUTE_SMTP, receive_email
from messagecenter.delivery.models import InboundEmail
from messagecenter.delivery.rendering import reply_address
from messagecenter.marketplace.models import Product
from tests.delivery.email_corpus import corpus

pytestmark = pytest.mark.django_db

# The suite takes every 4th e-mail (about 30 s); `make email-corpus` takes them all.
EVERY = int(os.environ.get("EMAIL_CORPUS_EVERY", "4"))
ADDRESS = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")


def addressed(raw: bytes, *, number: int, sender: str | None) -> bytes:
    """The e-mail with a Message-ID of its own and, unless it keeps its sender, the
    participant's address in From: the rest of it exactly as it was."""
    separator = b"\r\n\r\n" if b"\r\n\r\n" in raw else b"\n\n"
    head, found, body = raw.partition(separator)
    dropped = (b"message-id:", b"from:") if sender else (b"message-id:",)
    kept: list[bytes] = []
    skipping = False
    for line in head.splitlines(keepends=True):
        if line[:1] in (b" ", b"\t") and skipping:
            continue
        skipping = line.lower().startswith(dropped)
        if not skipping:
            kept.append(line)
    added = f"Message-ID: <corpus-{number}@mail.example.test>\r\n"
    if sender:
        added += f"From: {sender}\r\n"
    return added.encode() + b"".join(kept) + found + body


def test_every_email_of_the_corpus_is_posted_or_refused_with_a_reason(
    buyer: User, seller: User, product: Product, settings: Settings
) -> None:
    # Authentication is the SMTP tests' subject; these senders' domains have no DNS here.
    settings.INBOUND_REQUIRE_AUTHENTICATION = False
    settings.INBOUND_EMAILS_PER_HOUR = 100_000
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Available?")
    seat = Participant.objects.get(conversation_id=question.conversation_id, user=seller)
    address = reply_address(seat)
    assert address is not None
    assert relay.parse(address) is not None

    outcomes: Counter[str] = Counter()
    posted = 0
    for number, (name, raw, keeps_sender) in enumerate(list(corpus())[::EVERY]):
        mail = addressed(raw, number=number, sender=None if keeps_sender else seller.email)
        row = receive_email(mail, route=ROUTE_SMTP, recipients=[address], envelope_from=None)
        assert row.pk is not None, name
        assert row.status in ("posted", "refused", "quarantined"), name
        if row.status == "posted":
            posted += 1
            assert row.message is not None, name
            assert row.message.body.strip(), name
            assert [
                found
                for found in ADDRESS.findall(row.message.body)
                if not relay.is_relay_domain(found)
            ] == [], name
        else:
            assert row.message_id is None, name
            assert row.reason_code, name
            assert row.reason, name
        outcomes[row.status if row.status == "posted" else f"{row.status}: {row.reason_code}"] += 1

    total = sum(outcomes.values())
    print(
        f"\n{total} e-mails: "
        + ", ".join(f"{key} {count}" for key, count in outcomes.most_common())
    )
    assert total >= 2000 // EVERY
    assert InboundEmail.objects.count() == total
    # Nothing half-done: every posted e-mail is one message, every message one e-mail.
    assert Message.objects.filter(conversation_id=question.conversation_id).count() == posted + 1
    assert (
        Attachment.objects.filter(message__conversation_id=question.conversation_id)
        .exclude(message_id__in=InboundEmail.objects.values("message_id"))
        .count()
        == 0
    )
    assert outcomes["posted"] > total // 2
    assert outcomes["refused: sender_mismatch"] > 0
