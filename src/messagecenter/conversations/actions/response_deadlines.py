"""The periodic sweep of sellers' response deadlines (docs/escalation.md).

A deadline is a column of the seller's participant row, written with the buyer's message
and cleared with the seller's answer, so it survives restarts and nothing sleeps in a
queue: the worker's scheduler runs this sweep every minute, which finds the deadlines that
passed without an answer (index participant_response_due), marks each once, and tells both
sides in the conversation — the buyer that customer service can now step in (live, and by
e-mail per the buyer's preferences for buyer–seller messages), the seller that the answer
is late.
"""

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Q, Subquery
from django.utils import timezone

if TYPE_CHECKING:
    from django.db.models import QuerySet

from messagecenter.accounts import closed_accounts
from messagecenter.accounts.models import User
from messagecenter.accounts.time_zones import for_readers
from messagecenter.conversations import tasks
from messagecenter.conversations.actions.membership import lock_participants
from messagecenter.conversations.actions.own_rows import finish, row_payload
from messagecenter.conversations.actions.sending import post_marketplace_message
from messagecenter.conversations.deadlines import seller_response_due
from messagecenter.conversations.models import Conversation, Kind, Participant, ParticipantRole
from messagecenter.conversations.queries import wait_counts
from messagecenter.marketplace.models import Storefront
from messagecenter.realtime.actions import PendingEvent, record_events
from messagecenter.realtime.models import EventKind


def pass_response_deadlines(*, now: datetime | None = None, batch_size: int = 200) -> int:
    """Mark every deadline that passed without an answer; returns how many. Safe to run
    twice or in two workers at once: each deadline is marked under its conversation's
    locks, and only once."""
    now = now or timezone.now()
    passed = 0
    while True:
        due = list(
            Participant.objects.filter(
                wait_counts(),
                # Nor to a seller who cannot sign in to answer. A suspension (customer
                # service's, or the admin's Active box, which takes the same steps) has
                # set their waits aside already; this leaves out an account made inactive
                # any other way (a script, a data migration), whose waits are still there.
                user__is_active=True,
                response_due_at__isnull=False,
                is_response_overdue=False,
                response_due_at__lte=now,
            )
            .order_by("response_due_at", "id")
            .values_list("conversation_id", flat=True)[:batch_size]
        )
        if not due:
            return passed
        for conversation_id in due:
            passed += _pass_deadline(conversation_id, now)


def _pass_deadline(conversation_id: int, now: datetime) -> int:
    with transaction.atomic():
        participants = lock_participants(conversation_id)
        seller = next(
            (
                p
                for p in participants
                if p.role == ParticipantRole.SELLER
                and p.response_due_at is not None
                and p.response_due_at <= now
                and not p.is_response_overdue
            ),
            None,
        )
        if seller is None:
            # Answered (or marked) since the sweep read it.
            return 0
        assert seller.response_due_at is not None
        Participant.objects.filter(pk=seller.pk).update(is_response_overdue=True)
        buyer = next((p for p in participants if p.role == ParticipantRole.BUYER), None)
        people = {
            user.pk: user
            for user in User.objects.select_related("storefront").filter(
                pk__in=[seller.user_id] + ([buyer.user_id] if buyer is not None else [])
            )
        }
        seller_name = people[seller.user_id].public_name
        # Both sides read this one message (and its e-mail): the deadline in each one's
        # zone, the buyer's first — not the worker's.
        readers = [people[buyer.user_id]] if buyer is not None else []
        due = for_readers(seller.response_due_at, *readers, people[seller.user_id])
        days = settings.SELLER_RESPONSE_BUSINESS_DAYS
        post_marketplace_message(
            conversation_id,
            f"No answer yet from {seller_name}: the answer was due within {days} business "
            f"days, by {due}. Customer service can now "
            "step in — the buyer can ask for help from this conversation "
            "(“Ask customer service to help”).",
        )
        return 1


# --- a buyer or a seller nobody can write to (accounts/closed_accounts.py) -------------------


def set_aside_waits_for(person: User) -> int:
    """The person's account was suspended or erased: nobody can write to them (a send is
    refused, recipient_closed), so no wait they are in can end. A buyer's questions leave
    each seller's Response needed (conversations.queries.waiting_buyer_is_active, which the
    list, the sweep and the figures read); a seller's own waits stop too — they cannot sign
    in to answer, and the buyer's way is customer service at once, which their page offers
    beside the suspension's words. Either way the deadlines stop: `response_due_at` is
    cleared, and an overdue mark with it, so neither a "No answer yet" notice nor a late
    response can come of a wait the seller could not end. `awaiting_response_since` stays:
    the wait is set aside, not answered, and resume_waits_for starts it again if a
    suspension is lifted. The other side of each of their conversations is told, so an
    open page shows it within a second or so (tell_the_other_sides, a job run after
    commit). Returns how many waits were set aside."""
    with transaction.atomic():
        # The rows in id order, as every action that locks several conversations' rows.
        waiting = list(_waits_of(person).select_for_update(of=("self",)).order_by("id"))
        Participant.objects.filter(pk__in=[p.pk for p in waiting]).update(
            response_due_at=None, is_response_overdue=False
        )
        # The sellers' devices: the conversation left Response needed, as after "No response
        # needed" (the wait's start stays for if the account comes back).
        as_buyer = [p for p in waiting if p.user_id != person.pk]
        own = [p for p in waiting if p.user_id == person.pk]
        set_aside = finish(
            as_buyer, EventKind.CONVERSATION_NO_RESPONSE_NEEDED, buyer_closed=True
        ) + finish(own, EventKind.CONVERSATION_NO_RESPONSE_NEEDED, seller_closed=True)
        # The other sides of all their conversations, after commit and in chunks.
        tasks.tell_the_other_sides.enqueue(person.pk)
        return set_aside


# How many of a person's conversations one job goes through, in its own short transaction.
OTHER_SIDES_CHUNK = 1000


def tell_the_other_sides(
    person_id: int,
    *,
    side: str = ParticipantRole.BUYER,
    after: int = 0,
    now: datetime | None = None,
) -> int:
    """One chunk of the news that a person's account was closed (suspended, erased) or is
    open again, for the other side of their buyer–seller conversations: the sellers a
    buyer wrote to, then the buyers of a shop (`side`: the person's). An open conversation
    page follows the events (site.js) and shows what now holds — the "suspended" notice
    and the way to customer service instead of a reply box nobody reads, or the reply box
    again.

    The job (tasks.tell_the_other_sides) is enqueued by the suspension, the erasure or the
    lifting in its own transaction, and runs after it commits: a shop with a quarter of a
    million conversations used to write an event for each inside the suspension's
    transaction, holding its locks the while. Here each job takes the next
    OTHER_SIDES_CHUNK of the person's conversations in id order (indexes
    conversation_buyer_order and conversation_storefront_order) in one short transaction
    and enqueues the next, so no transaction grows with the shop, and a crash repeats at
    most one chunk. Only conversations with a message in the last
    CLOSED_ACCOUNT_LIVE_NOTICE_DAYS are told: a page open at that moment is one on a
    conversation written in lately, not one quiet since last season — which shows the
    notice on its next load all the same, and refuses a reply with the reason. The
    conversations are found by their buyer and shop, not by the person's own rows, which an
    erasure deletes.

    The events say the account's state when the chunk runs, not when the job was enqueued:
    the person's row is locked while it writes, so a suspension lifted in between is told
    after it, and the last event of each conversation is the true one. A seller's wait on
    the person was told with its setting aside or coming back (set_aside_waits_for,
    resume_waits_for) and is skipped, and so is another side suspended (or erased) itself.
    Returns how many people's rows were told."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.CLOSED_ACCOUNT_LIVE_NOTICE_DAYS)
    with transaction.atomic():
        person = User.objects.select_for_update().filter(pk=person_id).first()
        if person is None:
            return 0
        closed = not person.is_active or closed_accounts.was_erased(person)
        theirs = Conversation.objects.filter(kind=Kind.BUYER_SELLER)
        if side == ParticipantRole.BUYER:
            theirs, other_role = theirs.filter(buyer_id=person_id), ParticipantRole.SELLER
        else:
            storefront = Storefront.objects.filter(seller_id=person_id).first()
            theirs = theirs.filter(storefront=storefront) if storefront else theirs.none()
            other_role = ParticipantRole.BUYER
        chunk = list(
            theirs.filter(pk__gt=after)
            .order_by("pk")
            .values_list("pk", "last_message_at")[:OTHER_SIDES_CHUNK]
        )
        recent = [
            pk for pk, last_message_at in chunk if last_message_at and last_message_at >= cutoff
        ]
        others = (
            list(
                # Not a side suspended itself: it has no page open and no device reading
                # its events (refused while suspended, signed out when it is lifted).
                Participant.objects.filter(
                    conversation_id__in=recent, role=other_role, user__is_active=True
                )
                .exclude(user_id=person_id)
                .exclude(role=ParticipantRole.SELLER, awaiting_response_since__isnull=False)
                .annotate(
                    # The deadline of the seller's wait, for a buyer told their shop is back.
                    seller_due=Subquery(
                        Participant.objects.filter(
                            conversation_id=OuterRef("conversation_id"), role=ParticipantRole.SELLER
                        ).values("response_due_at")[:1]
                    )
                )
                .order_by("id")
            )
            if recent
            else []
        )
        # Who can no longer, or can again, answer: the person, on the other side.
        whose = "buyer" if side == ParticipantRole.BUYER else "seller"
        events = []
        for other in others:
            payload = row_payload(other)
            if closed:
                kind = EventKind.CONVERSATION_NO_RESPONSE_NEEDED
                payload[f"{whose}_closed"] = True
            else:
                kind = EventKind.CONVERSATION_RESPONSE_NEEDED
                due = other.seller_due if whose == "seller" else None
                payload["response_due_at"] = due.isoformat() if due is not None else None
                payload[f"{whose}_reinstated"] = True
            events.append(PendingEvent(other.user_id, kind, payload))
        if events:
            record_events(events)
        if len(chunk) == OTHER_SIDES_CHUNK:
            tasks.tell_the_other_sides.enqueue(person_id, side=side, after=chunk[-1][0])
        elif (
            side == ParticipantRole.BUYER
            and Storefront.objects.filter(seller_id=person_id).exists()
        ):
            # Their conversations as a buyer are done: now those as a shop, if they have
            # one (a job more for every buyer, which found no shop, when it was not asked).
            tasks.tell_the_other_sides.enqueue(person_id, side=ParticipantRole.SELLER)
        return len(others)


def resume_waits_for(person: User, *, now: datetime | None = None) -> int:
    """The person's suspension was lifted (safety.actions.reinstate): the waits that were
    set aside — their questions as a buyer, the buyers' questions to them as a seller — are
    back in Response needed, each starting now with a new deadline on the seller's
    calendar: the seller could not answer while the account was suspended, and the old
    deadline may have passed meanwhile (kept, the sweep would have told everyone the answer
    was late the minute the suspension was lifted). A wait whose other side is still
    suspended (or erased) stays set aside: it comes back when that side's suspension is
    lifted. The sellers' devices are told, as they were told of the setting aside
    (`conversation.response_needed`), and so is the other side of each conversation of
    theirs, as of the setting aside (tell_the_other_sides): an open page shows the reply
    box again. Returns how many waits came back."""
    now = now or timezone.now()
    with transaction.atomic():
        # Only the waits whose other side can answer or be answered again: one whose seller
        # (or buyer) is still suspended stays set aside until that suspension is lifted too
        # — given a deadline, it showed the buyer a countdown to customer service beside
        # the shop's "suspended" notice, or the seller "Answer by …" for a buyer no message
        # reaches, while the list, the sweep and the figures left it out.
        waiting = list(
            _waits_of(person)
            .filter(wait_counts(), user__is_active=True)
            .select_for_update(of=("self",))
            .order_by("id")
        )
        events = []
        for participant in waiting:
            due = seller_response_due(participant.user_id, now)
            Participant.objects.filter(pk=participant.pk).update(
                awaiting_response_since=now, response_due_at=due, is_response_overdue=False
            )
            whose = "seller_reinstated" if participant.user_id == person.pk else "buyer_reinstated"
            events.append(
                PendingEvent(
                    participant.user_id,
                    EventKind.CONVERSATION_RESPONSE_NEEDED,
                    row_payload(participant, response_due_at=due.isoformat(), **{whose: True}),
                )
            )
        if events:
            record_events(events)
        tasks.tell_the_other_sides.enqueue(person.pk)
    return len(waiting)


def _waits_of(person: User) -> "QuerySet[Participant]":
    """The sellers' rows of buyer–seller conversations where a buyer waits: the person's
    questions as a buyer, and the person's own rows as a seller."""
    return Participant.objects.filter(
        Q(conversation__buyer=person) | Q(user=person),
        role=ParticipantRole.SELLER,
        conversation__kind=Kind.BUYER_SELLER,
        awaiting_response_since__isnull=False,
    )


# --- a block between a buyer and a shop (safety.actions.block, unblock) ---------------------


def _rows_between(one: User, other: User) -> "QuerySet[Participant]":
    """The two sides' rows of the buyer–seller conversations between the two people — a
    block is per pair of people: the one's questions to the other's shop, and the other's
    to the one's."""
    between = Q(conversation__buyer=one, conversation__storefront__seller=other) | Q(
        conversation__buyer=other, conversation__storefront__seller=one
    )
    return Participant.objects.filter(
        between,
        conversation__kind=Kind.BUYER_SELLER,
        user__in=[one, other],
        role__in=(ParticipantRole.BUYER, ParticipantRole.SELLER),
    )


def set_aside_waits_between(blocker: User, blocked: User) -> int:
    """`blocker` blocked `blocked` (safety.actions.block, in its transaction): in their
    conversations with each other, each side's row says so (the blocked one's reply is
    refused, `blocked`, so the page and the API offer none — but for a seller's about the
    buyer's order, which still arrives), and a seller's wait on the buyer is set aside as
    for a suspension (set_aside_waits_for): out of Response needed, the sweep and the
    figures (queries.wait_counts), its deadline cleared with any overdue mark, so neither a
    "No answer yet" notice nor a late response comes of a wait the seller could not end, or
    owes no more to someone they blocked. `awaiting_response_since` stays for the unblock.
    Both sides' devices are told (`conversation.no_response_needed`, `blocked`) of each
    of those conversations: the seller's list drops a wait, an open page shows the
    countdown gone, or the blocked one's no reply box. Returns how many waits were set
    aside."""
    # The rows in id order, as every action that locks several conversations' rows.
    rows = list(_rows_between(blocker, blocked).select_for_update(of=("self",)).order_by("id"))
    if not rows:
        return 0
    mine = [p.pk for p in rows if p.user_id == blocker.pk]
    theirs = [p.pk for p in rows if p.user_id == blocked.pk]
    Participant.objects.filter(pk__in=mine).update(has_blocked_other_side=True)
    Participant.objects.filter(pk__in=theirs).update(is_blocked_by_other_side=True)
    waiting = [
        p
        for p in rows
        if p.role == ParticipantRole.SELLER
        and p.awaiting_response_since is not None
        # Set aside already (a block the other way, a suspension): nothing to tell.
        and not (p.is_blocked_by_other_side or p.has_blocked_other_side)
        and p.response_due_at is not None
    ]
    Participant.objects.filter(pk__in=[p.pk for p in waiting]).update(
        response_due_at=None, is_response_overdue=False
    )
    # Every row of the two, whether or not anyone was waiting there, as the other side of
    # a suspension is told: an open page of the blocked one shows that a reply is refused
    # instead of the reply box (a pair's conversations: a few, told in the transaction).
    record_events(
        PendingEvent(
            p.user_id,
            EventKind.CONVERSATION_NO_RESPONSE_NEEDED,
            row_payload(p, response_due_at=None, blocked=True),
        )
        for p in rows
    )
    return len(waiting)


def resume_waits_between(blocker: User, blocked: User, *, now: datetime | None = None) -> int:
    """`blocker` unblocked `blocked` (safety.actions.unblock, in its transaction): the
    rows no longer say so, unless the other one still blocks this one, and the waits the
    block set aside are back in Response needed — each starting now with a new deadline on
    the seller's calendar, as when a suspension is lifted (resume_waits_for): the old one
    may have passed while the seller could not, or need not, answer. A wait still set
    aside by something else — a block the other way, a suspended (or erased) side — stays
    set aside until that ends too. Both sides' devices are told of each of those
    conversations (`conversation.response_needed`, `unblocked`). Returns how many waits
    came back."""
    now = now or timezone.now()
    rows = list(_rows_between(blocker, blocked).select_for_update(of=("self",)).order_by("id"))
    if not rows:
        return 0
    mine = [p for p in rows if p.user_id == blocker.pk]
    theirs = [p for p in rows if p.user_id == blocked.pk]
    Participant.objects.filter(pk__in=[p.pk for p in mine]).update(has_blocked_other_side=False)
    Participant.objects.filter(pk__in=[p.pk for p in theirs]).update(is_blocked_by_other_side=False)
    # Read again as the unblock leaves them: a block the other way, or a suspension, keeps
    # a wait set aside (wait_counts, and an active seller as in resume_waits_for).
    waiting = list(
        Participant.objects.filter(
            wait_counts(),
            pk__in=[p.pk for p in rows],
            role=ParticipantRole.SELLER,
            user__is_active=True,
            awaiting_response_since__isnull=False,
            response_due_at__isnull=True,
        ).order_by("id")
    )
    due_in: dict[int, str] = {}
    for participant in waiting:
        due = seller_response_due(participant.user_id, now)
        Participant.objects.filter(pk=participant.pk).update(
            awaiting_response_since=now, response_due_at=due, is_response_overdue=False
        )
        due_in[participant.conversation_id] = due.isoformat()
    # Every row of the two, as the block told them: an open page shows the reply box (and
    # the deadline, where a wait came back) again. `response_due_at`: the seller's new
    # deadline, null where nobody waits or a wait stays set aside.
    record_events(
        PendingEvent(
            p.user_id,
            EventKind.CONVERSATION_RESPONSE_NEEDED,
            row_payload(p, response_due_at=due_in.get(p.conversation_id), unblocked=True),
        )
        for p in rows
    )
    return len(waiting)
