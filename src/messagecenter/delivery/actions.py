"""Every change to e-mail delivery and preferences goes through here (docs/email.md).

The conversation actions call `record_emails_of_messages` inside their transaction, so the
e-mail exists exactly when the message does; the sender (sender.py) delivers it after
commit. Preference changes lock the person's row, which the sender also locks while it
checks and sends mail that can be switched off: an unsubscribe recorded is never followed
by another promotion, even one a sender is in the middle of sending.
"""

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.db.models.functions import Least
from django.utils import timezone

from messagecenter.accounts.actions import holders_of_address
from messagecenter.accounts.models import User
from messagecenter.delivery.models import (
    SHARED_EMAIL_LIMITS,
    BroadcastEmailRun,
    Category,
    Channel,
    Email,
    EmailKind,
    EmailStatus,
    MailboxEmail,
    Preference,
    Suppression,
    SuppressionReason,
)
from messagecenter.delivery.preferences import (
    CATEGORY_OF_KIND,
    ON_USER_ROW,
    RULES,
    enabled_user_ids,
    needs_message_center,
    stored_choices,
)
from messagecenter.errors import InvalidInput
from messagecenter.rows import CompiledUpdate, insert_rows


@dataclass(frozen=True)
class NewMessage:
    """A new message, as its e-mails need it: who it notifies (not its sender, not those who
    muted the conversation) and when it was sent."""

    message_id: int
    kind: str
    subject: str
    recipient_ids: Collection[int]
    now: datetime


def record_emails_of_messages(messages: Sequence[NewMessage]) -> None:
    """The e-mails of new messages, in the order they were sent (a batch of sends writes
    them once for all, db/group_commit.together). Constant queries for any number of
    messages and recipients: the digests' two statements, and for the other messages one
    read of preferences per category and one insert."""
    digests: dict[int, datetime] = {}
    latest: datetime | None = None
    emails: list[tuple[Any, ...]] = []
    wanted_by_category: dict[str, set[int]] = {}
    by_category: dict[str, list[NewMessage]] = {}
    for message in messages:
        if not message.recipient_ids:
            continue
        category = CATEGORY_OF_KIND[message.kind]
        if category == Category.BUYER_SELLER:
            # Whether the person wants these e-mails is checked when the digest is due (the
            # sender checks every switchable e-mail then anyway): one query less per message.
            for user_id in message.recipient_ids:
                # A digest covers from the first message it gathers.
                digests.setdefault(user_id, message.now)
            latest = message.now if latest is None else max(latest, message.now)
        else:
            by_category.setdefault(category, []).append(message)
    for category, category_messages in by_category.items():
        wanted_by_category[category] = enabled_user_ids(
            {user_id for message in category_messages for user_id in message.recipient_ids},
            category,
            Channel.EMAIL,
        )
        emails += [
            (
                user_id,
                EmailKind.MESSAGE,
                category,
                message.message_id,
                message.subject[:255],
                message.now,
                message.now,
            )
            for message in category_messages
            for user_id in sorted(set(message.recipient_ids) & wanted_by_category[category])
        ]
    if digests and latest is not None:
        _gather_digests(digests, latest)
    # As tuples (rows.insert_rows): no model instance per e-mail; the others' defaults.
    insert_rows(Email, _MESSAGE_EMAIL_COLUMNS, emails)


_MESSAGE_EMAIL_COLUMNS = (
    "user_id",
    "kind",
    "category",
    "message_id",
    "subject",
    "next_attempt_at",
    "created_at",
)
_DIGEST_COLUMNS = ("user_id", "kind", "category", "covers_from", "next_attempt_at", "created_at")


def _gather_digests(first_at: Mapping[int, datetime], latest: datetime) -> None:
    """Start a waiting digest for whoever has none (covering from their first message here),
    then push every waiting one to the end of a new quiet period after the latest message —
    but never past the longest wait, so a lively conversation still sends mail."""
    quiet = timedelta(minutes=settings.EMAIL_DIGEST_QUIET_MINUTES)
    longest = timedelta(minutes=settings.EMAIL_DIGEST_MAX_WAIT_MINUTES)
    user_ids = sorted(first_at)
    # Both statements are written once per process (rows.insert_rows, CompiledUpdate):
    # they run on every buyer–seller message. The digests' rows as tuples.
    insert_rows(
        Email,
        _DIGEST_COLUMNS,
        [
            (
                user_id,
                EmailKind.DIGEST,
                Category.BUYER_SELLER,
                first_at[user_id],
                first_at[user_id] + quiet,
                first_at[user_id],
            )
            for user_id in user_ids
        ],
        ignore_conflicts=True,
    )
    _PUSH_DIGESTS(*user_ids, latest + quiet, shape=(len(user_ids), longest))


_PUSH_DIGESTS = CompiledUpdate(
    lambda *values, shape: (
        Email.objects.filter(
            user_id__in=values[: shape[0]], kind=EmailKind.DIGEST, status=EmailStatus.QUEUED
        ),
        # The longest wait is part of the statement's shape: settings can change it.
        {"next_attempt_at": Least(F("created_at") + shape[1], values[shape[0]])},
    )
)


# --- preferences ---------------------------------------------------------------------------


def set_preferences(user: User, choices: Mapping[tuple[str, str], bool]) -> int:
    """Record a person's choices, {(category, channel): on?}; returns how many changed.
    A choice that cannot be changed is refused (and nothing is written). Only choices that
    differ from the default are stored."""
    for category, channel in choices:
        rule = RULES.get((category, channel))
        if rule is None:
            raise InvalidInput(
                f"No such preference: {category} by {channel}.", code="unknown_preference"
            )
        if not rule.can_change and choices[(category, channel)] != rule.default:
            raise InvalidInput(
                f"{Category(category).label} by {Channel(channel).label.lower()} cannot be "
                "switched off.",
                code="preference_fixed",
            )
    now = timezone.now()
    with transaction.atomic():
        # The sender holds this lock while it checks and sends switchable mail (sender.py).
        lock_people([user.pk])
        # The choices on the user row as they are now, under the lock (not the request's copy).
        user.refresh_from_db(fields=list(ON_USER_ROW.values()))
        stored = stored_choices(user)
        _refuse_email_without_message_center(choices, stored)
        changed = 0
        for (category, channel), is_enabled in choices.items():
            rule = RULES[(category, channel)]
            if stored.get((category, channel), rule.default) == is_enabled:
                continue
            changed += 1
            field = ON_USER_ROW.get((category, channel))
            if field is not None:
                User.objects.filter(pk=user.pk).update(**{field: is_enabled})
                setattr(user, field, is_enabled)
            elif is_enabled == rule.default:
                Preference.objects.filter(user=user, category=category, channel=channel).delete()
            else:
                Preference.objects.update_or_create(
                    user=user,
                    category=category,
                    channel=channel,
                    defaults={"is_enabled": is_enabled, "updated_at": now},
                )
        return changed


def _refuse_email_without_message_center(
    choices: Mapping[tuple[str, str], bool], stored: Mapping[tuple[str, str], bool]
) -> None:
    """E-mail of a category is sent only with its Message Center copy (every e-mail we send
    is also there: preferences.FOLLOWS_MESSAGE_CENTER), so asking for it with that copy
    off — now, or in the same change — is refused rather than stored as if it would work."""
    for (category, channel), is_enabled in choices.items():
        if not (is_enabled and needs_message_center(category, channel)):
            continue
        in_message_center = (category, Channel.MESSAGE_CENTER)
        if not choices.get(in_message_center, stored.get(in_message_center, True)):
            raise InvalidInput(
                f"{Category(category).label} by e-mail need {Category(category).label.lower()} "
                "in the Message Center: every e-mail we send is also there.",
                code="needs_message_center",
            )


def unsubscribe(user: User, category: str = Category.PROMOTIONS) -> int:
    """One-click unsubscribe (RFC 8058) and the preferences page's "no more e-mail of this
    kind": effective for every e-mail not yet handed over when this returns."""
    return set_preferences(user, {(category, Channel.EMAIL): False})


def lock_people(user_ids: Collection[int]) -> None:
    """Row locks on people, in id order. On SQLite every write transaction already holds
    the database's write lock (BEGIN IMMEDIATE), which serialises the same way."""
    list(
        User.objects.select_for_update(no_key=True)
        .filter(pk__in=sorted(user_ids))
        .order_by("pk")
        .values_list("pk", flat=True)
    )


# --- bounces and complaints ----------------------------------------------------------------


def record_bounce(
    *, address: str, is_complaint: bool = False, provider_message_id: str = "", detail: str = ""
) -> None:
    """A hard bounce or a spam complaint: no more switchable mail to the address, and the
    e-mail it answers (if known) is marked bounced."""
    reason = SuppressionReason.COMPLAINT if is_complaint else SuppressionReason.HARD_BOUNCE
    with transaction.atomic():
        suppress(address, reason=reason, detail=detail)
        if provider_message_id:
            Email.objects.filter(provider_message_id=provider_message_id).update(
                status=EmailStatus.BOUNCED, last_error=detail[:2000]
            )


def suppress(address: str, *, reason: str, detail: str = "") -> None:
    Suppression.objects.update_or_create(
        address=address.strip().lower(),
        defaults={"reason": reason, "detail": detail[:2000], "created_at": timezone.now()},
    )


# --- retention -----------------------------------------------------------------------------


def purge_old_emails(*, now: datetime | None = None, batch_size: int = 5000) -> int:
    """Delivery records (and development mailbox copies) older than EMAIL_RETENTION_DAYS,
    in batches so the table is never locked for long. Queued e-mails are never purged."""
    cutoff = (now or timezone.now()) - timedelta(days=settings.EMAIL_RETENTION_DAYS)
    removed = 0
    while True:
        ids = list(
            Email.objects.filter(created_at__lt=cutoff)
            .exclude(status=EmailStatus.QUEUED)
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        removed += Email.objects.filter(pk__in=ids).delete()[0]
    MailboxEmail.objects.filter(received_at__lt=cutoff).delete()
    BroadcastEmailRun.objects.filter(finished_at__lt=cutoff).delete()
    return removed


def record_account_email(
    user: User, kind: str, not_within: timedelta, to_address: str | None = None
) -> datetime | None:
    """An e-mail about the person's account (accounts.account_emails): queued whatever
    their preferences, at most one of a kind (or of the kinds sharing its limit) within
    `not_within`; to `to_address` when given (a new or old address), else to the
    account's. Its content — a reset or confirmation link — is made when it is sent, so no
    link sits in the database. None when queued; else when the one holding it back was."""
    now = timezone.now()
    kinds = SHARED_EMAIL_LIMITS.get(kind, frozenset({kind}))
    held_back_by = (
        Email.objects.filter(user=user, kind__in=kinds, created_at__gt=now - not_within)
        .order_by("-created_at")
        .values_list("created_at", flat=True)
        .first()
    )
    if held_back_by is not None:
        return held_back_by
    reader_id = None
    if kind == EmailKind.EMAIL_IN_USE and to_address:
        # Read by the account that holds the address now: a rebuild after it changed its
        # address signed the reference for the asker (rendering.account_email_reader).
        reader_id = (
            holders_of_address(to_address, other_than=user).values_list("pk", flat=True).first()
        )
    Email.objects.create(
        user=user,
        kind=kind,
        category=Category.NOTICES,
        status=EmailStatus.QUEUED,
        to_address=to_address or "",
        reader_id=reader_id,
        next_attempt_at=now,
        created_at=now,
    )
    return None
