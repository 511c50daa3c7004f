"""Broadcasts by e-mail: the fan-out that queues one e-mail per recipient who wants it,
and what delivery needs to render and recognise a broadcast's e-mail (registered with
delivery.broadcasts in NotificationsConfig.ready; delivery sends the rows it is given and
never imports notifications). docs/notifications.md, docs/email.md."""

from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.delivery.broadcasts import BroadcastForEmail, ReferencedBroadcast
from messagecenter.delivery.models import BroadcastEmailRun, Category, Channel, Email, EmailKind
from messagecenter.delivery.preferences import enabled_user_ids
from messagecenter.errors import NotFound
from messagecenter.notifications.models import Broadcast, BroadcastKind
from messagecenter.notifications.queries import access_broadcast, broadcast_audience


def enqueue_broadcast_emails(broadcast: Broadcast) -> None:
    """Start the e-mail fan-out of a broadcast that has just become due, in the transaction
    that announces it. The sender's loop then queues its recipients in batches
    (advance_broadcast_runs); calling this twice is harmless."""
    BroadcastEmailRun.objects.bulk_create(
        [BroadcastEmailRun(broadcast_id=broadcast.pk, created_at=timezone.now())],
        ignore_conflicts=True,
    )


def advance_broadcast_runs(*, batch_size: int = 1000) -> int:
    """Queue the next batch of recipients of every unfinished broadcast fan-out; returns
    how many e-mails were queued. Each batch is one transaction that also moves the
    cursor, so a crash repeats at most that batch (whose rows then already exist)."""
    run_ids = list(BroadcastEmailRun.objects.filter(finished_at=None).values_list("pk", flat=True))
    queued = 0
    for run_id in run_ids:
        with transaction.atomic():
            run = (
                BroadcastEmailRun.objects.select_for_update(skip_locked=True)
                .filter(pk=run_id, finished_at=None)
                .first()
            )
            if run is None:
                continue
            now = timezone.now()
            broadcast = Broadcast.objects.filter(pk=run.broadcast_id).first()
            if broadcast is None or broadcast.cancelled_at is not None:
                run.finished_at = now
                run.save(update_fields=["finished_at"])
                continue
            user_ids = list(
                broadcast_audience(broadcast)
                .filter(pk__gt=run.cursor)
                .order_by("pk")
                .values_list("pk", flat=True)[:batch_size]
            )
            category = (
                Category.PROMOTIONS
                if broadcast.kind == BroadcastKind.PROMOTION
                else Category.NOTICES
            )
            wanted = enabled_user_ids(user_ids, category, Channel.EMAIL)
            Email.objects.bulk_create(
                [
                    Email(
                        user_id=user_id,
                        kind=EmailKind.BROADCAST,
                        category=category,
                        broadcast_id=broadcast.pk,
                        subject=broadcast.subject[:255],
                        next_attempt_at=now,
                        created_at=now,
                    )
                    for user_id in sorted(wanted)
                ],
                ignore_conflicts=True,
            )
            queued += len(wanted)
            run.queued += len(wanted)
            if user_ids:
                run.cursor = user_ids[-1]
            if len(user_ids) < batch_size:
                run.finished_at = now
            run.save(update_fields=["cursor", "queued", "finished_at"])
    return queued


def broadcast_for_email(broadcast_id: int) -> BroadcastForEmail | None:
    """What the e-mails of a broadcast say (one query, for a whole batch of them)."""
    broadcast = Broadcast.objects.filter(pk=broadcast_id).first()
    if broadcast is None:
        return None
    return BroadcastForEmail(
        kind=broadcast.kind,
        subject=broadcast.subject,
        body=broadcast.body,
        is_promotion=broadcast.kind == BroadcastKind.PROMOTION,
        is_active=broadcast.cancelled_at is None
        and (broadcast.expires_at is None or broadcast.expires_at > timezone.now()),
    )


def referenced_broadcast(user: User, broadcast_id: int) -> ReferencedBroadcast | None:
    """The broadcast an e-mail's reference names: with the link to it when the person can
    open it (access_broadcast), else its subject alone (the reference is ours, the copy is
    gone); None when there is no such broadcast."""
    try:
        item = access_broadcast(user, broadcast_id)
    except NotFound:
        broadcast = (
            Broadcast.objects.filter(pk=broadcast_id).only("subject", "kind", "body").first()
        )
        if broadcast is None:
            return None
        return ReferencedBroadcast(
            broadcast.subject,
            is_promotion=broadcast.kind == BroadcastKind.PROMOTION,
            body=broadcast.body,
        )
    return ReferencedBroadcast(
        item.broadcast.subject, reverse("broadcast", args=[item.pk]), body=item.broadcast.body
    )
