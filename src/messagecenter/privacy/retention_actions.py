"""The retention purge (docs/privacy.md#how-long-we-keep-messages): the worker deletes, in
bounded batches, what is past its kind's rule (retention.py) — whole conversations whose
last message is older than the rule, and broadcasts that ended before it. The records the
operator must keep stay: order updates, returns and claims have no rule; a conversation an
open case or report is about waits until the case is done; a case's conversation and an
order's keep their (empty) row for the case or the order."""

from datetime import datetime, timedelta

from django.db.models import Exists, OuterRef, Q
from django.utils import timezone

from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Conversation
from messagecenter.notifications import actions as notification_actions
from messagecenter.privacy.retention import RetentionRule, retention_rules
from messagecenter.support.models import ACTIVE, Case, ReportFiling

BATCH_SIZE = 100


def purge_past_retention(
    *, now: datetime | None = None, batch_size: int = BATCH_SIZE
) -> dict[str, int]:
    """The periodic job: for each rule with a number of days, how many conversations lost
    their messages and broadcasts were deleted. Safe to run twice, or in two workers."""
    now = now or timezone.now()
    purged: dict[str, int] = {}
    for rule in retention_rules():
        if rule.days is None:
            continue
        cutoff = now - timedelta(days=rule.days)
        purged[rule.kind] = _purge_broadcasts(rule, cutoff, batch_size) + _purge_conversations(
            rule, cutoff, batch_size
        )
    return purged


def _purge_broadcasts(rule: RetentionRule, cutoff: datetime, batch_size: int) -> int:
    if rule.broadcast_kind is None:
        return 0
    deleted = 0
    while True:
        batch = notification_actions.delete_broadcasts_ended_before(
            rule.broadcast_kind, cutoff, batch_size=batch_size
        )
        deleted += batch
        if batch < batch_size:
            return deleted


def _purge_conversations(rule: RetentionRule, cutoff: datetime, batch_size: int) -> int:
    open_case = Case.objects.filter(status__in=ACTIVE).filter(
        Q(conversation=OuterRef("pk")) | Q(about_conversation=OuterRef("pk"))
    )
    open_report = ReportFiling.objects.filter(
        conversation=OuterRef("pk"), report__case__status__in=ACTIVE
    )
    purged = 0
    after = 0
    while True:
        batch = list(
            Conversation.objects.filter(
                kind__in=rule.conversation_kinds,
                last_message__isnull=False,
                last_message_at__lt=cutoff,
                pk__gt=after,
            )
            .exclude(Exists(open_case))
            .exclude(Exists(open_report))
            .order_by("pk")
            .values_list("pk", flat=True)[:batch_size]
        )
        if not batch:
            return purged
        after = batch[-1]
        purged += conversation_actions.delete_conversations_for_everyone(
            batch, last_message_before=cutoff, keep_rows=_kept_by_records(batch)
        )


def _kept_by_records(conversation_ids: list[int]) -> set[int]:
    """The conversations a case (its own or the one it is about) or a report points at."""
    kept = set(
        Case.objects.filter(conversation_id__in=conversation_ids).values_list(
            "conversation_id", flat=True
        )
    )
    kept |= set(
        Case.objects.filter(about_conversation_id__in=conversation_ids).values_list(
            "about_conversation_id", flat=True
        )
    )
    kept |= set(
        ReportFiling.objects.filter(conversation_id__in=conversation_ids).values_list(
            "conversation_id", flat=True
        )
    )
    return {pk for pk in kept if pk is not None}
