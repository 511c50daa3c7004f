"""The e-mail sender: claims due outbox rows, builds and sends them, records the outcome
(docs/email.md). Runs as a loop in `messagecenter worker`; several may run at once.

Crash safety: a claim is a lease (EMAIL_CLAIM_SECONDS). A sender killed mid-batch leaves
its rows claimed until the lease ends; then any sender takes them again and sends them
with the same Message-ID. Nothing queued is lost; a repeat is recognisable as one. Mail
people cannot switch off is recorded as sent right after each send, so a kill repeats at
most the one in flight; mail they can switch off is sent and recorded CHECKED_CHUNK at a
time under their row locks (an unsubscribe is never overtaken), so a kill repeats at most
that chunk.
"""

import logging
import random
import smtplib
import threading
from collections import defaultdict
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.mail import mailers
from django.db import close_old_connections, transaction
from django.db.models import F, OuterRef, Q, Subquery
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import topics
from messagecenter.delivery.actions import lock_people, suppress
from messagecenter.delivery.broadcasts import broadcasts
from messagecenter.delivery.models import (
    ACCOUNT_EMAIL_KINDS,
    ADDRESSED_EMAIL_KINDS,
    Channel,
    Email,
    EmailKind,
    EmailStatus,
    Suppression,
    SuppressionReason,
)
from messagecenter.delivery.preferences import RULES, enabled_user_ids
from messagecenter.delivery.rendering import BroadcastContent, Loaded, NothingToSend, build, load

logger = logging.getLogger(__name__)

# Why an e-mail to an inactive (suspended or erased) account was not sent.
NOT_ACTIVE = "The account is not active: only the notices about its suspension reach it."

# Mail that people can switch off is checked against their choices and the suppression
# list under their row lock, this many at a time (sets how long an unsubscribe can wait).
CHECKED_CHUNK = 50


class Outcome:
    def __init__(self) -> None:
        self.sent: list[Email] = []
        self.cancelled: list[Email] = []
        self.bounced: list[Email] = []
        self.retry: list[Email] = []
        self.failed: list[Email] = []


def send_due_emails(*, limit: int = 200, now: datetime | None = None) -> int:
    """Send what is due; returns how many rows were handled (sent or not)."""
    now = now or timezone.now()
    claimed = _claim(limit, now)
    if not claimed:
        return 0
    emails = list(Email.objects.filter(pk__in=claimed).order_by("pk"))
    people = User.objects.in_bulk({email.user_id for email in emails})
    outcome = Outcome()
    broadcasts: dict[int, BroadcastContent] = {}
    switchable = [email for email in emails if RULES[(email.category, Channel.EMAIL)].can_change]
    fixed = [email for email in emails if not RULES[(email.category, Channel.EMAIL)].can_change]
    connection = mailers.default
    try:
        connection.open()
        # Recorded one by one, each as it is sent: a sender killed here repeats at most the
        # e-mail in flight (recorded per batch, a kill repeated up to the whole claim).
        # What they are about is still read for all of them at once.
        loaded_fixed = load(fixed)
        for email in fixed:
            sent = Outcome()
            _send_all(connection, [email], people, broadcasts, sent, loaded_fixed)
            _record(sent, timezone.now())
        for start in range(0, len(switchable), CHECKED_CHUNK):
            chunk = switchable[start : start + CHECKED_CHUNK]
            # Held while this chunk is checked and sent: an unsubscribe waits for it, and
            # once recorded is seen by the next chunk (actions.set_preferences).
            with transaction.atomic():
                lock_people([email.user_id for email in chunk])
                allowed = _still_wanted(chunk, people)
                for email in chunk:
                    if email.pk not in allowed:
                        email.last_error = "Unsubscribed, switched off or suppressed."
                        outcome.cancelled.append(email)
                _send_all(
                    connection,
                    [email for email in chunk if email.pk in allowed],
                    people,
                    broadcasts,
                    outcome,
                )
                _record(outcome, timezone.now())
                outcome = Outcome()
    finally:
        connection.close()
        _record(outcome, timezone.now())
    return len(emails)


def _claim(limit: int, now: datetime) -> list[int]:
    lease = now + timedelta(seconds=settings.EMAIL_CLAIM_SECONDS)
    with transaction.atomic():
        ids = list(
            Email.objects.select_for_update(skip_locked=True)
            .filter(status=EmailStatus.QUEUED, next_attempt_at__lte=now)
            .filter(Q(claimed_until__isnull=True) | Q(claimed_until__lt=now))
            .order_by("next_attempt_at")
            .values_list("pk", flat=True)[:limit]
        )
        if ids:
            Email.objects.filter(pk__in=ids).update(claimed_until=lease, attempts=F("attempts") + 1)
    return ids


def _still_wanted(chunk: Sequence[Email], people: dict[int, User]) -> set[int]:
    by_category: dict[str, list[Email]] = {}
    # A password reset link or a data export was asked for by the person: no preference
    # turns it off.
    wanted = {email.pk for email in chunk if email.kind in ACCOUNT_EMAIL_KINDS}
    for email in chunk:
        if email.pk not in wanted:
            by_category.setdefault(email.category, []).append(email)
    for category, emails in by_category.items():
        enabled = enabled_user_ids({email.user_id for email in emails}, category, Channel.EMAIL)
        wanted |= {email.pk for email in emails if email.user_id in enabled}
    addresses = {
        email.pk: email.recipient_address(people[email.user_id]).strip().lower() for email in chunk
    }
    suppressed = set(
        Suppression.objects.filter(address__in=set(addresses.values())).values_list(
            "address", flat=True
        )
    )
    return {
        email.pk for email in chunk if email.pk in wanted and addresses[email.pk] not in suppressed
    }


def _send_all(
    connection: Any,
    emails: Sequence[Email],
    people: dict[int, User],
    broadcasts: dict[int, BroadcastContent],
    outcome: Outcome,
    loaded: Loaded | None = None,
) -> None:
    # What the e-mails are about, read for the batch at once (not a query per e-mail),
    # unless the caller read it for a larger batch already.
    if loaded is None:
        loaded = load(emails)
    for email in emails:
        user = people[email.user_id]
        address = email.recipient_address(user)
        if not address:
            email.last_error = "The person has no e-mail address."
            outcome.cancelled.append(email)
            continue
        if not user.is_active and not about_own_suspension(email, user, loaded):
            email.last_error = NOT_ACTIVE
            outcome.cancelled.append(email)
            continue
        try:
            message = build(email, user, broadcasts, loaded)
        except NothingToSend as reason:
            email.last_error = str(reason)
            outcome.cancelled.append(email)
            continue
        email.to_address = address
        if email.kind == EmailKind.DIGEST:
            email.subject = str(message.subject)[:255]
        try:
            connection.send_messages([message])
        except ValueError as error:
            # An address this transport cannot carry (e.g. a non-ASCII local part without
            # SMTPUTF8): no retry will change that.
            email.last_error = f"The address cannot be used: {error}"
            outcome.failed.append(email)
        except smtplib.SMTPRecipientsRefused as refused:
            code, reply = next(iter(refused.recipients.values()))
            email.last_error = f"{code} {reply.decode(errors='replace')}"
            (outcome.bounced if 500 <= code < 600 else outcome.retry).append(email)
        except (smtplib.SMTPException, OSError) as error:
            # The server or the network failed: try again later; reconnect for the rest.
            email.last_error = f"{type(error).__name__}: {error}"
            outcome.retry.append(email)
            connection.close()
            connection.open()
        else:
            outcome.sent.append(email)
            # A provider's own id (anymail), to match its bounce and complaint reports.
            status = getattr(message, "anymail_status", None)
            if status is not None and status.message_id is not None:
                email.provider_message_id = str(status.message_id)


def about_own_suspension(email: Email, user: User, loaded: Loaded) -> bool:
    """Whether an e-mail to an inactive account may still go: only a message in the
    person's own suspension conversation (the notice, their appeal's answers, the
    decision: docs/safety.md#appeals), which is how a suspended person learns why and
    appeals. Digests, broadcasts, other messages and account e-mails do not."""
    if email.kind != EmailKind.MESSAGE or email.message_id is None:
        return False
    message = loaded.messages.get(email.message_id)
    return message is not None and message.conversation.topic_key == topics.account_suspension(
        user.pk
    )


def _record(outcome: Outcome, now: datetime) -> None:
    """Write the outcome: one UPDATE for everything sent plainly and one per reason not
    to send (a batch is mostly one of these); row by row only for the rare rest."""
    # The person's address now, written in the same UPDATE (an addressed kind keeps its own).
    plain = [
        e.pk
        for e in outcome.sent
        if e.kind != EmailKind.DIGEST
        and e.kind not in ADDRESSED_EMAIL_KINDS
        and not e.provider_message_id
    ]
    if plain:
        Email.objects.filter(pk__in=plain).update(
            status=EmailStatus.SENT,
            sent_at=now,
            claimed_until=None,
            to_address=Subquery(User.objects.filter(pk=OuterRef("user_id")).values("email")[:1]),
        )
    by_reason: dict[str, list[int]] = defaultdict(list)
    for email in outcome.cancelled:
        by_reason[email.last_error].append(email.pk)
    for reason, ids in by_reason.items():
        Email.objects.filter(pk__in=ids).update(
            status=EmailStatus.CANCELLED, claimed_until=None, last_error=reason
        )
    plain_ids = set(plain)
    rest = [e for e in outcome.sent if e.pk not in plain_ids]
    for email in rest:
        email.status, email.sent_at, email.claimed_until = EmailStatus.SENT, now, None
    for email in outcome.bounced:
        email.status, email.claimed_until = EmailStatus.BOUNCED, None
    for email in outcome.failed:
        email.status, email.claimed_until = EmailStatus.FAILED, None
    for email in outcome.retry:
        email.claimed_until = None
        if email.attempts >= settings.EMAIL_MAX_ATTEMPTS:
            email.status = EmailStatus.FAILED
        else:
            email.next_attempt_at = now + backoff(email.attempts)
    one_by_one = rest + outcome.bounced + outcome.failed + outcome.retry
    if one_by_one:
        Email.objects.bulk_update(
            one_by_one,
            [
                "status",
                "sent_at",
                "claimed_until",
                "next_attempt_at",
                "last_error",
                "to_address",
                "subject",
                "provider_message_id",
            ],
            batch_size=500,
        )
    for email in outcome.bounced:
        suppress(email.to_address, reason=SuppressionReason.HARD_BOUNCE, detail=email.last_error)


def backoff(attempts: int) -> timedelta:
    """30 s, 1 min, 2 min, … up to 6 h, with jitter so a recovered server is not hit by
    every retry at once."""
    seconds = min(30 * 2 ** max(attempts - 1, 0), 6 * 3600)
    return timedelta(seconds=seconds * random.uniform(0.8, 1.2))


class EmailSender(threading.Thread):
    """The worker's sending loop: queue broadcast recipients, send what is due, rest
    briefly when there is nothing to do."""

    def __init__(self, *, idle_seconds: float | None = None) -> None:
        super().__init__(name="email-sender", daemon=True)
        self.idle_seconds = (
            idle_seconds if idle_seconds is not None else settings.EMAIL_SENDER_IDLE_SECONDS
        )
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                busy = broadcasts().queue_next_batches() + send_due_emails()
            except Exception:
                # A database or mail server hiccup must not end the loop; leases make the
                # retry safe.
                logger.exception("e-mail sending failed; trying again")
                busy = 0
            finally:
                close_old_connections()
            if not busy:
                self.stopping.wait(self.idle_seconds)
