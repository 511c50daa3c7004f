"""A seller's tools: "No response needed" and saved replies."""

from collections.abc import Iterable
from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.accounts.roles import require_seller
from messagecenter.conversations import send_checks
from messagecenter.conversations.actions.checks import clean_body, clean_text
from messagecenter.conversations.actions.claim_waits import refuse_ending_claim_waits
from messagecenter.conversations.actions.own_rows import finish, lock_own
from messagecenter.conversations.deadlines import describe_due
from messagecenter.conversations.models import (
    SAVED_REPLY_TITLE_UNIQUE,
    Conversation,
    Participant,
    SavedReply,
)
from messagecenter.conversations.queries import wait_counts
from messagecenter.errors import Conflict, InvalidInput, NotFound
from messagecenter.realtime.models import EventKind
from messagecenter.rows import parse_id


def mark_no_response_needed(seller: User, conversation_ids: Iterable[Any]) -> int:
    """A seller says a buyer's message needs no answer ("Thanks!"): it leaves the
    Response needed list and is left out of the response-time figures. Refused, nothing
    changed, when one of them is a guarantee claim's conversation still waiting for the
    seller's response to the claim (claim_waits.refuse_ending_claim_waits).

    A wait set aside because its buyer's account is suspended or erased is no wait here,
    as nowhere else (the list, the page, the API's response_due_at): it is left as it is
    and not counted, like a conversation nobody waits in — the page then says that no
    conversation needed it, the API answers `changed: 0`. Ended, it would not come back
    when the buyer's suspension is lifted, and the seller would have ended a wait they
    were never shown. (It used to be ended through the bulk bar and the API, while the
    conversation's page no longer offered the button.)"""
    require_seller(seller)
    with transaction.atomic():
        waiting = [
            p for p in lock_own(seller, conversation_ids) if p.awaiting_response_since is not None
        ]
        if not waiting:
            return 0
        # A claim's conversation waits for the claim's formal response, not for an answer.
        refuse_ending_claim_waits(waiting)
        counted = set(
            Participant.objects.filter(wait_counts(), pk__in=[p.pk for p in waiting]).values_list(
                "pk", flat=True
            )
        )
        changed = [p for p in waiting if p.pk in counted]
        if not changed:
            return 0
        _refuse_ending_late_waits(changed)
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(
            awaiting_response_since=None, response_due_at=None, is_response_overdue=False
        )
        return finish(changed, EventKind.CONVERSATION_NO_RESPONSE_NEEDED)


def _refuse_ending_late_waits(waiting: list[Participant]) -> None:
    """Refused, for the whole selection, when one of the waits is past its deadline: it
    counts as a late response (docs/escalation.md), and "No response needed" took it out of
    the late responses, the sweep's and the buyer's "ask customer service" too — a seller
    silent past the deadline undid being late with a tick. An answer, even late, ends it."""
    now = timezone.now()
    late = [
        row for row in waiting if row.response_due_at is not None and row.response_due_at <= now
    ]
    if not late:
        return
    first = min(late, key=lambda row: row.response_due_at or now)
    subject = (
        Conversation.objects.filter(pk=first.conversation_id)
        .values_list("subject", flat=True)
        .first()
    )
    others = " (and another)" if len(late) > 1 else ""
    assert first.response_due_at is not None
    raise Conflict(
        f"Your answer to “{subject}”{others} was due by {describe_due(first.response_due_at)}: "
        "answer the buyer instead. “No response needed” cannot take a question past its "
        "deadline out of your late responses; nothing was changed.",
        code="response_overdue",
    )


MAX_SAVED_REPLIES = 100


def save_reply(seller: User, title: str, body: str, *, saved_reply_id: Any = None) -> SavedReply:
    """Create a saved reply, or change one of the seller's own (by id)."""
    require_seller(seller)
    title = clean_text(title)
    if not title or len(title) > 80:
        raise InvalidInput("A title is 1 to 80 characters.", code="invalid_title")
    body = clean_body(body)
    # Checked as the away message is when saved: a reply the safety check would hold was
    # accepted, then every send of it waited for review (a review saved "pay me via
    # paypal.me/joe"). What it would only warn about or mask is the send's to say.
    send_checks.decide_kept_text(
        seller,
        body,
        what="saved reply",
        why="Every message sent with it would wait for review. ",
    )
    now = timezone.now()
    with transaction.atomic():
        if saved_reply_id is not None:
            reply = (
                SavedReply.objects.select_for_update()
                .filter(seller=seller, pk=parse_id(saved_reply_id))
                .first()
            )
            if reply is None:
                raise NotFound("No such saved reply.", code="saved_reply_not_found")
        else:
            # Locks the seller's row so two tabs cannot both pass the limit.
            User.objects.select_for_update().filter(pk=seller.pk).first()
            if SavedReply.objects.filter(seller=seller).count() >= MAX_SAVED_REPLIES:
                raise InvalidInput(
                    f"At most {MAX_SAVED_REPLIES} saved replies.", code="too_many_saved_replies"
                )
            reply = SavedReply(seller=seller, created_at=now)
        if _title_taken(seller, title, reply):
            raise _title_in_use()
        reply.title, reply.body, reply.updated_at = title, body, now
        _save_titled(reply)
        return reply


def _title_in_use() -> Conflict:
    return Conflict("You already have a saved reply with that title.", code="title_taken")


def _title_taken(seller: User, title: str, reply: SavedReply) -> bool:
    """Whether another of the seller's replies has the title in any case: compared as the
    database's constraint (SAVED_REPLY_TITLE_UNIQUE) compares, LOWER() of both sides, so
    the check and the constraint never disagree about a letter."""
    return (
        SavedReply.objects.filter(seller=seller)
        .alias(folded=Lower("title"))
        .filter(folded=Lower(Value(title)))
        .exclude(pk=reply.pk)
        .exists()
    )


def _save_titled(reply: SavedReply) -> None:
    """Save, or refuse the title as taken when another change took the title since _title_taken
    looked (an edit holds only its own reply's lock, so a new reply in another tab may
    commit the title first): the constraint refuses the second. In a savepoint, so the
    enclosing transaction stays usable for the raise to roll back."""
    try:
        with transaction.atomic():
            reply.save()
    except IntegrityError as error:
        if SAVED_REPLY_TITLE_UNIQUE not in str(error):
            raise
        raise _title_in_use() from None


def delete_saved_reply(seller: User, saved_reply_id: Any) -> None:
    require_seller(seller)
    deleted, _ = SavedReply.objects.filter(seller=seller, pk=parse_id(saved_reply_id)).delete()
    if not deleted:
        raise NotFound("No such saved reply.", code="saved_reply_not_found")
