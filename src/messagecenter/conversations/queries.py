"""Reads of conversations, always starting from the person asking (docs/conversations.md)."""

from collections.abc import Callable, Collection, Container, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from django.conf import settings
from django.db.models import (
    Avg,
    Count,
    DurationField,
    Exists,
    ExpressionWrapper,
    F,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
)
from django.db.models.expressions import Combinable
from django.db.models.lookups import Exact, In
from django.utils import timezone

from messagecenter.accounts import closed_accounts
from messagecenter.accounts.models import User
from messagecenter.conversations import hooks
from messagecenter.conversations.models import (
    Attachment,
    HiddenMessage,
    Kind,
    Message,
    Participant,
    ParticipantRole,
    ResponseTime,
    SavedReply,
    UnreadCounter,
)
from messagecenter.db.plans import joined_as_written
from messagecenter.errors import InvalidInput, NotFound
from messagecenter.hub.boxes import COUNTER_KEYS, UNSEEN, VISIBLE_BOXES, Box, Folder
from messagecenter.hub.cursors import decode_cursor, encode_cursor
from messagecenter.hub.feeds import Position
from messagecenter.rows import CompiledQuery, parse_id, unique_row


def access_conversation(user: User, conversation_id: Any) -> Participant:
    """The only way from a conversation id given by a person to the conversation.

    Returns the person's Participant (with its conversation). A conversation that does not
    exist, is not theirs, or that they deleted raises the same NotFound.
    """
    conversation_id = parse_id(
        conversation_id, code="conversation_not_found", message="No such conversation."
    )
    found = _ACCESSIBLE_PARTICIPANT(user.pk, conversation_id)
    if not found or not shown(user, found[0].folder):
        raise NotFound("No such conversation.", code="conversation_not_found")
    return found[0]


def opens_conversation(user: User, conversation: Any) -> Exists:
    """Whether the person may still open the conversation (`conversation`: an OuterRef to
    its id), as access_conversation decides, for annotating rows that name one: not after
    they deleted it for ever or stopped taking part."""
    participants = Participant.objects.filter(
        user_id=user.pk, conversation_id=conversation, box__in=VISIBLE_BOXES
    )
    if not user.shows_promotions:
        participants = participants.exclude(folder=Folder.PROMOTIONS)
    return Exists(participants)


def shown(user: User, folder: str) -> bool:
    """Promotions switched off in the Message Center hide promotion conversations like
    promotion broadcasts: one rule for every promotion, whichever way it was sent. The
    switch is on the user row (accounts.User.shows_promotions), read with the request."""
    return folder != Folder.PROMOTIONS or user.shows_promotions


# --- which messages a person may see -------------------------------------------------------
# One definition, for every app that reads messages for a person (the pages and the API,
# search, attachments, e-mail references, the marketplace's order pages): a message is
# theirs to see when they take part in its conversation, have not deleted the conversation
# (VISIBLE_BOXES), it is not one from before they deleted the conversation and it came back
# (Participant.history_after_message_id), not a promotion while they switched promotions off
# (shown), not one they reported (HiddenMessage) and not one customer service removed
# (Message.removed_at) unless they sent it (docs/safety.md#reports).


def visible_conversations(user: User) -> QuerySet[Participant]:
    """The person's own rows of the conversations they can see: in any box but DELETED,
    and no promotion while they switched promotions off (shown)."""
    rows = Participant.objects.filter(user_id=user.pk, box__in=VISIBLE_BOXES)
    if not user.shows_promotions:
        rows = rows.exclude(folder=Folder.PROMOTIONS)
    return rows


def visible_messages(
    user: User,
    *,
    to_message: str = "",
    boxes: Sequence[str] = VISIBLE_BOXES,
    column: Callable[[F], Combinable] | None = None,
) -> Q:
    """The messages this person may see, as a filter for a queryset of Message
    (`to_message` "") or of rows that point at one ("message__"): give it to the same
    filter() call as any other condition on the person's Participant row, so that they are
    all about that one row. `boxes` narrows the boxes (never wider than VISIBLE_BOXES);
    `column` wraps the Participant columns the person is found by (search steers SQLite's
    planner with it, docs/search.md#cost)."""
    # Straight from the message to the Participant rows (Message.conversation_participants).
    participant = f"{to_message}conversation_participants__"
    if column is None:
        person = Q(**{f"{participant}user_id": user.pk, f"{participant}box__in": boxes})
    else:
        person = Q(
            Exact(column(F(f"{participant}user_id")), user.pk),
            In(column(F(f"{participant}box")), boxes),
        )
    message_id = f"{to_message.removesuffix('__')}_id" if to_message else "id"
    history_after = f"{participant}history_after_message_id"
    # "No history deleted, or a message after it": the same rows as the comparison alone
    # (ids start at 1, and the column's default is 0), but a condition PostgreSQL can
    # estimate — most people never deleted a conversation that came back. A comparison of
    # two tables' columns it takes to keep a third of the rows, whatever they hold: a
    # search for a word in half a seller's messages was estimated at a fourteenth of its
    # matches, and the planner read and sorted all of them (3.6 ms on the small dataset)
    # instead of walking the mailbox newest first and stopping at a page (0.4 ms;
    # docs/benchmarks.md, "Search: the deleted history's condition estimated").
    visible = person & (Q(**{history_after: 0}) | Q(**{f"{message_id}__gt": F(history_after)}))
    if not user.shows_promotions:
        # The conversation's kind decides its folder (FOLDER_OF_KIND): shown()'s rule,
        # without a negated condition on the multi-valued Participant join.
        visible &= ~Q(**{f"{to_message}conversation__kind": Kind.PROMOTION})
    return visible & in_sight(user.pk, to_message=to_message)


def in_sight(viewer_id: int, *, to_message: str = "") -> Q:
    """Of the messages of a conversation the person sees, those not taken out of their
    sight after a report: not one they reported (hidden for them), not one customer service
    removed (hidden for all but its sender). Part of visible_messages; on its own for a
    conversation's messages (conversation_messages_from), whose Participant row is known.
    For many viewers of messages already read: with_reported_by_some, out_of_sight."""
    message_id = f"{to_message.removesuffix('__')}_id" if to_message else "pk"
    hidden = HiddenMessage.objects.filter(user_id=viewer_id, message_id=OuterRef(message_id))
    return (
        Q(**{f"{to_message}removed_at__isnull": True}) | Q(**{f"{to_message}sender_id": viewer_id})
    ) & ~Q(Exists(hidden))


# The same rule for many viewers at once (the e-mail worker renders a batch of e-mails to
# many people from the messages it read once): an annotation of the messages, then a
# predicate in Python. in_sight is its SQL form for one viewer; the two are tested against
# each other (tests/conversations/test_message_access.py).


class OutOfSight(StrEnum):
    """Why a message is out of a person's sight."""

    REMOVED = "removed"  # customer service removed it, and the person did not send it
    REPORTED = "reported"  # the person reported it


def with_reported_by_some(
    messages: QuerySet[Message], viewer_ids: Collection[int]
) -> QuerySet[Message]:
    """Messages that know whether one of these people reported them (`reported_by_some`),
    in their own statement: an EXISTS on conversations_hiddenmessage's unique (user,
    message) index. Reports are rare, so which of them did is read only when one did
    (reported_by)."""
    return messages.annotate(
        reported_by_some=Exists(
            HiddenMessage.objects.filter(message_id=OuterRef("pk"), user_id__in=viewer_ids)
        )
    )


def reported_by(messages: Iterable[Message], viewer_ids: Collection[int]) -> set[tuple[int, int]]:
    """(viewer id, message id) for each of these messages (read with_reported_by_some) that
    one of these people reported: one query, and none when nobody did."""
    reported = {message.pk for message in messages if getattr(message, "reported_by_some", False)}
    if not reported:
        return set()
    return set(
        HiddenMessage.objects.filter(message_id__in=reported, user_id__in=viewer_ids).values_list(
            "user_id", "message_id"
        )
    )


def out_of_sight(
    message: Message, viewer_id: int, reported: Container[tuple[int, int]]
) -> OutOfSight | None:
    """in_sight's rule on a message already read: why the viewer no longer sees it —
    customer service removed it and they did not send it, or they reported it (`reported`,
    from reported_by) — or None."""
    if message.removed_at is not None and message.sender_id != viewer_id:
        return OutOfSight.REMOVED
    if (viewer_id, message.pk) in reported:
        return OutOfSight.REPORTED
    return None


def access_message(user: User, message_id: Any) -> Message:
    """The only way from a message id given by a person to the message (with its
    conversation and sender): one they may see (visible_messages). A message that does not
    exist, is in someone else's conversation, in one they deleted, from before they deleted
    it, a promotion they switched off, one they reported or one customer service removed
    raises the same NotFound."""
    message_id = parse_id(message_id, code="message_not_found", message="No such message.")
    message = unique_row(
        Message.objects.select_related("conversation", "sender__storefront").filter(
            visible_messages(user), pk=message_id
        )
    )
    if message is None:
        raise NotFound("No such message.", code="message_not_found")
    return message


# Every conversation page and API call starts here: compiled once (rows.CompiledQuery).
_ACCESSIBLE_PARTICIPANT = CompiledQuery(
    lambda user_id, conversation_id: with_last_message_hidden(
        Participant.objects.select_related(
            "conversation",
            "conversation__storefront",
            # Whether the shop's account is closed (closed_counterpart), in the same read.
            "conversation__storefront__seller",
            "conversation__buyer",
            "conversation__buyer__storefront",
            "conversation__product",
            "conversation__order",
        ).filter(user_id=user_id, conversation_id=conversation_id, box__in=VISIBLE_BOXES),
        user_id,
    )[:1]
)


def with_last_message_hidden(rows: QuerySet[Participant], user_id: int) -> QuerySet[Participant]:
    """Rows that know whether the person reported their conversation's last message
    (`last_message_hidden`): a list row or the API's conversation then does not preview it
    (presentation.last_message_preview). In the rows' own statement: an EXISTS on the
    unique (user, message) index of conversations_hiddenmessage."""
    return rows.annotate(
        last_message_hidden=Exists(
            HiddenMessage.objects.filter(
                user_id=user_id, message_id=OuterRef("conversation__last_message_id")
            )
        )
    )


# What a row of any conversation list shows, fetched in the list's one query.
LIST_ROW_RELATIONS = (
    "conversation",
    "conversation__storefront",
    "conversation__buyer",
    # A buyer's public name is their storefront's when they have one.
    "conversation__buyer__storefront",
    "conversation__last_message",
    "conversation__last_message__sender",
    "conversation__last_message__sender__storefront",
    # What it is about: the API's list shows the order number and the product SKU.
    "conversation__order",
    "conversation__product",
)


# In the Message Center's merged list, at one time conversations come before broadcasts
# (hub/feeds.py).
CONVERSATION_RANK = 1


@dataclass(frozen=True)
class InboxPage:
    participants: list[Participant]
    next_cursor: str | None

    @property
    def entries(self) -> list[Participant]:
        return self.participants


def inbox_page(
    user: User,
    *,
    box: str = Box.INBOX,
    folder: str | None = None,
    cursor: str | None = None,
    limit: int | None = None,
) -> InboxPage:
    """One page of a person's conversations, newest activity first (the API's list; the
    Message Center's pages merge in broadcasts through hub.queries.message_center_page).

    An ordered range scan of participant_box_recent / participant_folder_recent: the cost is
    the page size, not the size of the inbox. Pages continue from a keyset cursor.
    """
    if box not in VISIBLE_BOXES:
        raise InvalidInput(f"Unknown box {box!r}.", code="invalid_box")
    if folder is not None and folder not in Folder.values:
        raise InvalidInput(f"Unknown folder {folder!r}.", code="invalid_folder")
    page_size = limit or settings.INBOX_PAGE_SIZE
    after: Position | None = None
    if cursor:
        last_activity_at, last_id = decode_cursor(cursor)
        after = (last_activity_at, CONVERSATION_RANK, last_id)
    participants = conversation_rows(user, box, folder, after, page_size + 1)
    next_cursor = None
    if len(participants) > page_size:
        participants = participants[:page_size]
        last = participants[-1]
        next_cursor = encode_cursor(last.last_activity_at, last.pk)
    return InboxPage(participants=participants, next_cursor=next_cursor)


def conversation_rows(
    user: User, box: str, folder: str | None, after: Position | None, limit: int
) -> list[Participant]:
    """Up to `limit` of the person's conversations in a box (and a folder of the inbox),
    newest activity first, after a position of a list: the conversations' feed of the
    Message Center (hub/feeds.py)."""
    values: list[int | str | datetime] = [user.pk, box]
    if folder is not None:
        values.append(folder)
    older = None
    if after is not None:
        last_activity_at, rank, last_id = after
        values.append(last_activity_at)
        # At one time, conversations come before broadcasts: after a broadcast, only older
        # conversations are left (the statement then has no id to compare).
        older = "older"
        if rank == CONVERSATION_RANK:
            older = "then_older_id"
            values.append(last_id)
    shape = (folder is not None, user.shows_promotions, older, limit)
    # The person's rows first, then a look-up by primary key in each of the nine other
    # tables: on PostgreSQL, searching for a better order of ten tables took 30 times as
    # long as the run at 10M messages (db/plans.py).
    with joined_as_written():
        participants = _CONVERSATION_ROWS(*values, shape=shape)
    statuses = hooks.row_statuses(
        user, [(row.conversation_id, row.conversation.kind) for row in participants]
    )
    if statuses:
        for row in participants:
            row.row_status = statuses.get(row.conversation_id)
    return participants


def _conversation_rows(
    user_id: int, box: str, *values: str | datetime | int, shape: tuple[Any, ...]
) -> QuerySet[Participant]:
    """conversation_rows' statement, compiled once per shape (rows.CompiledQuery): Django
    compiling this ten-table queryset on every call was about a third of the API list's
    CPU at 10M messages and half the Message Center page's (docs/benchmarks.md, "The
    inbox list compiled once"). `shape`: whether a folder is given, whether the person
    sees promotions, what the cursor compares (None: the first page) and the number of
    rows; `values` the folder and the cursor's moment and id, those the shape says are
    given."""
    by_folder, shows_promotions, older, limit = shape
    given = iter(values)
    rows = Participant.objects.filter(user_id=user_id, box=box)
    if by_folder:
        rows = rows.filter(folder=next(given))
    if not shows_promotions:
        rows = rows.exclude(folder=Folder.PROMOTIONS)
    if older is not None:
        last_activity_at = next(given)
        if older == "then_older_id":
            rows = rows.filter(
                Q(last_activity_at__lt=last_activity_at)
                | Q(last_activity_at=last_activity_at, id__lt=next(given))
            )
        else:
            rows = rows.filter(last_activity_at__lt=last_activity_at)
    page = with_last_message_hidden(rows.select_related(*LIST_ROW_RELATIONS), user_id)
    return page.order_by("-last_activity_at", "-id")[:limit]


_CONVERSATION_ROWS = CompiledQuery(_conversation_rows)


def counter_sql(user: User, now: datetime) -> tuple[str, list[Any]]:
    """The person's maintained unread counters as (key, count) rows keyed
    "conversation:<key>", for the Message Center's counts (hub.queries.unread_counts):
    one indexed read of at most ten rows, never a count over conversations.

    With promotions switched off, also how many of the person's promotion conversations
    the Archive, Trash and unseen counters hold (index participant_folder_recent: their
    promotion conversations only), which fold_counter_rows takes off."""
    sql = (
        f'SELECT \'conversation:\' || "key", "conversations"'
        f" FROM {UnreadCounter._meta.db_table} WHERE user_id = %s"
    )
    params: list[Any] = [user.pk]
    if not user.shows_promotions:
        participants = Participant._meta.db_table
        sql += (
            f" UNION ALL SELECT 'conversation:{HIDDEN}unread_' || box, COUNT(*)"
            f" FROM {participants} WHERE user_id = %s AND folder = %s AND unread_count > 0"
            " AND box IN (%s, %s) GROUP BY box"
            f" UNION ALL SELECT 'conversation:{HIDDEN}unseen', COUNT(*) FROM {participants}"
            " WHERE user_id = %s AND folder = %s AND is_seen = %s AND box IN (%s, %s, %s)"
        )
        params += [user.pk, Folder.PROMOTIONS, Box.ARCHIVE, Box.TRASH]
        params += [user.pk, Folder.PROMOTIONS, False, *VISIBLE_BOXES]
    return sql, params


# Count keys of the promotion conversations hidden by the switch (counter_sql).
HIDDEN = "hidden_promotions_"


def fold_counter_rows(user: User, rows: dict[str, int]) -> dict[str, int]:
    counts = {key: rows.get(key, 0) for key in COUNTER_KEYS}
    if not user.shows_promotions:
        counts[Folder.PROMOTIONS] = 0
        for key in (Box.ARCHIVE, Box.TRASH):
            counts[key] = max(0, counts[key] - rows.get(f"{HIDDEN}unread_{key}", 0))
        counts[UNSEEN] = max(0, counts[UNSEEN] - rows.get(f"{HIDDEN}unseen", 0))
    return counts


def conversation_messages(participant: Participant) -> QuerySet[Message]:
    """The messages this person can see in their conversation, oldest first."""
    return conversation_messages_from(
        participant.conversation_id, participant.history_after_message_id, participant.user_id
    )


def conversation_messages_from(
    conversation_id: int, history_after: int, viewer_id: int
) -> QuerySet[Message]:
    """The messages of a conversation after `history_after` (what the person deleted
    before the conversation came back), oldest first, without those the viewer reported
    (hidden for them) or customer service removed (hidden for all but their sender)."""
    return (
        Message.objects.filter(
            in_sight(viewer_id), conversation_id=conversation_id, id__gt=history_after
        )
        .select_related("sender", "sender__storefront")
        .prefetch_related(attachments_in_order())
        .order_by("id")
    )


def attachments_in_order() -> Prefetch[Any]:
    """Messages' attachments in one statement, oldest first, into a plain list
    (`fetched_attachments`): Django's default would make a queryset for each message to hold
    its cache — half the time of a 100-message page."""
    return Prefetch(
        "attachments", queryset=Attachment.objects.order_by("id"), to_attr="fetched_attachments"
    )


def access_attachment(user: User, attachment_id: Any) -> Attachment:
    """An attachment, only of a message the person can see in a conversation they can see."""
    attachment_id = parse_id(
        attachment_id, code="attachment_not_found", message="No such attachment."
    )
    attachment = (
        Attachment.objects.select_related("message")
        # visible_messages holds in_sight: not a message they reported, nor one customer
        # service removed (its sender still sees theirs).
        .filter(visible_messages(user, to_message="message__"), pk=attachment_id)
        .first()
    )
    if attachment is None:
        raise NotFound("No such attachment.", code="attachment_not_found")
    return attachment


def waiting_buyer_is_active() -> Q:
    """A seller's wait counts while its buyer can be answered: not a buyer whose account
    was suspended or erased (or made inactive in the admin), whom no message reaches
    (closed_counterpart). Their questions leave Response needed, the deadline sweep and
    the seller's figures; a suspension lifted brings them back
    (actions.resume_waits_for). Conversations without a buyer are not concerned."""
    return Q(conversation__buyer__isnull=True) | Q(conversation__buyer__is_active=True)


def wait_counts() -> Q:
    """A seller's wait counts (Response needed, the deadline sweep, the figures, "No
    response needed") while its buyer can be answered (waiting_buyer_is_active) and no
    block stands between the two (docs/safety.md#blocking): a buyer who blocked the shop
    refuses its reply, and a seller who blocked the buyer owes them none. The block sets
    the wait aside (actions.set_aside_waits_between), the unblock brings it back."""
    return waiting_buyer_is_active() & Q(
        is_blocked_by_other_side=False, has_blocked_other_side=False
    )


def response_needed_page(
    seller: User, *, cursor: str | None = None, limit: int | None = None
) -> InboxPage:
    """A seller's conversations where a buyer is waiting for an answer, longest wait first
    (index participant_response_needed)."""
    page_size = limit or settings.INBOX_PAGE_SIZE
    rows = visible_conversations(seller).filter(
        wait_counts(), awaiting_response_since__isnull=False
    )
    if cursor:
        since, last_id = decode_cursor(cursor)
        rows = rows.filter(
            Q(awaiting_response_since__gt=since) | Q(awaiting_response_since=since, id__gt=last_id)
        )
    participants = list(
        with_last_message_hidden(rows.select_related(*LIST_ROW_RELATIONS), seller.pk).order_by(
            "awaiting_response_since", "id"
        )[: page_size + 1]
    )
    next_cursor = None
    if len(participants) > page_size:
        participants = participants[:page_size]
        last = participants[-1]
        assert last.awaiting_response_since is not None
        next_cursor = encode_cursor(last.awaiting_response_since, last.pk)
    return InboxPage(participants=participants, next_cursor=next_cursor)


RESPONSE_WINDOWS_DAYS = (7, 30, 90)
RESPONSE_TARGET = timedelta(hours=24)


@dataclass(frozen=True)
class ResponseFigures:
    """A seller's answers to buyers over the last `days` days, counted by when the buyer
    asked. Waits marked "No response needed" are not counted; waits still open and
    younger than 24 hours are not counted yet.

    Late responses (docs/escalation.md): of the waits with a deadline whose deadline has
    come (answered, or still open past it), those answered after it or not at all."""

    days: int
    answered: int
    answered_within_target: int
    overdue: int
    average_response: timedelta | None
    late: int = 0
    with_deadline: int = 0
    # What apps above add beside these (support: the claim rate), by hook.
    extra: tuple["hooks.SellerRate", ...] = ()

    @property
    def counted(self) -> int:
        return self.answered + self.overdue

    @property
    def share_within_target(self) -> float | None:
        """Share of buyer messages answered within 24 hours, 0.0-1.0; None without any."""
        return self.answered_within_target / self.counted if self.counted else None

    @property
    def late_rate(self) -> float | None:
        """Share of waits answered after their deadline or not at all, 0.0-1.0; None
        when no deadline has come in the period."""
        return self.late / self.with_deadline if self.with_deadline else None


def response_figures(seller: User, *, now: datetime | None = None) -> list[ResponseFigures]:
    """Response-time and late-response figures for 7, 30 and 90 days: two aggregate
    queries (and what the seller-figure hooks add)."""
    now = now or timezone.now()
    duration = ExpressionWrapper(F("answered_at") - F("asked_at"), output_field=DurationField())
    aggregates: dict[str, Any] = {}
    for days in RESPONSE_WINDOWS_DAYS:
        in_window = Q(asked_at__gte=now - timedelta(days=days))
        aggregates[f"answered_{days}"] = Count("pk", filter=in_window)
        aggregates[f"within_{days}"] = Count(
            "pk", filter=in_window & Q(response__lte=RESPONSE_TARGET)
        )
        aggregates[f"average_{days}"] = Avg("response", filter=in_window)
        aggregates[f"deadline_{days}"] = Count("pk", filter=in_window & Q(due_at__isnull=False))
        aggregates[f"late_{days}"] = Count(
            "pk", filter=in_window & Q(due_at__isnull=False, answered_at__gt=F("due_at"))
        )
    answered = (
        ResponseTime.objects.filter(
            seller=seller, asked_at__gte=now - timedelta(days=max(RESPONSE_WINDOWS_DAYS))
        )
        .annotate(response=duration)
        .aggregate(**aggregates)
    )
    is_overdue = Q(awaiting_response_since__lt=now - RESPONSE_TARGET)
    is_past_deadline = Q(response_due_at__lte=now)
    open_waits: dict[str, Any] = {}
    for days in RESPONSE_WINDOWS_DAYS:
        in_window = Q(awaiting_response_since__gte=now - timedelta(days=days))
        open_waits[f"overdue_{days}"] = Count("pk", filter=in_window & is_overdue)
        open_waits[f"late_{days}"] = Count("pk", filter=in_window & is_past_deadline)
    still_open = Participant.objects.filter(
        is_overdue | is_past_deadline,
        wait_counts(),
        user=seller,
        awaiting_response_since__isnull=False,
    ).aggregate(**open_waits)
    extra = hooks.seller_rates(seller, now, RESPONSE_WINDOWS_DAYS)
    return [
        ResponseFigures(
            days=days,
            answered=answered[f"answered_{days}"],
            answered_within_target=answered[f"within_{days}"],
            overdue=still_open[f"overdue_{days}"],
            average_response=answered[f"average_{days}"],
            late=answered[f"late_{days}"] + still_open[f"late_{days}"],
            with_deadline=answered[f"deadline_{days}"] + still_open[f"late_{days}"],
            extra=tuple(rate for rate in extra if rate.days == days),
        )
        for days in RESPONSE_WINDOWS_DAYS
    ]


def usual_response_time(seller_id: int, *, now: datetime | None = None) -> timedelta | None:
    """What "The seller usually answers within …" says: the seller's average response
    time over the last 30 days, else over 90 days (the response-time figures' own
    periods); None for a seller with no answer in 90 days. One query."""
    now = now or timezone.now()
    duration = ExpressionWrapper(F("answered_at") - F("asked_at"), output_field=DurationField())
    averages = (
        ResponseTime.objects.filter(seller_id=seller_id, asked_at__gte=now - timedelta(days=90))
        .annotate(response=duration)
        .aggregate(
            recent=Avg("response", filter=Q(asked_at__gte=now - timedelta(days=30))),
            longer=Avg("response"),
        )
    )
    usual: timedelta | None = averages["recent"] or averages["longer"]
    return usual


def closed_counterpart(participant: Participant) -> str | None:
    """Why nobody reads a reply in this buyer–seller conversation, or None: the other side's
    account is closed — erased at their request (docs/privacy.md#erasure) — or suspended
    by customer service (docs/accounts.md#a-suspended-account). Neither can sign in to read
    or answer, so the page and the API say so instead of offering a reply, and the send
    refuses one (`recipient_closed`, actions/sending.py). No query while the other side is
    active: the conversation's buyer and its shop's seller come with access_conversation."""
    conversation = participant.conversation
    if conversation.kind != Kind.BUYER_SELLER:
        return None
    if participant.role == ParticipantRole.BUYER:
        shop = conversation.storefront
        return None if shop is None else closed_account(shop.seller, is_shop=True)
    if participant.role == ParticipantRole.SELLER:
        buyer = conversation.buyer
        return None if buyer is None else closed_account(buyer, is_shop=False)
    return None


def blocked_by_counterpart(participant: Participant) -> str | None:
    """Why this person's reply is refused here (`403 blocked`, safety.checks), or None:
    the other side of the buyer–seller conversation blocked them (docs/safety.md#blocking).
    A seller's message about the buyer's own order still reaches them, marked, so a
    seller may still reply in an order's conversation. No query: the person's own row
    carries the block (`is_blocked_by_other_side`, written by the block and the unblock)."""
    if not participant.is_blocked_by_other_side:
        return None
    if participant.role == ParticipantRole.SELLER:
        if participant.conversation.order_id is not None:
            return None
        return "This buyer does not accept messages from you any more, so you cannot reply."
    return "This seller does not accept messages from you any more, so you cannot reply."


# An agent in a buyer–seller conversation (docs/escalation.md): they joined it to write from
# the request about it, whose checks (its team, open or pending) and history every such
# message goes through; the ordinary reply, on the page, in the API or by e-mail, is not
# that way in.
WRITTEN_FROM_THE_REQUEST = (
    "Customer service writes in a conversation between a buyer and a seller from the "
    "request about it, in the console: not from the Message Center."
)


def written_from_the_request(participant: Participant) -> str | None:
    """Why this participant does not reply here like the others, or None: an agent (or an
    admin answering as one) in a buyer–seller conversation writes from the request about
    it (support's escalation_actions.write_in_conversation), never through the ordinary
    reply (actions/sending.py refuses it: `write_from_the_request`)."""
    if (
        participant.role == ParticipantRole.AGENT
        and participant.conversation.kind == Kind.BUYER_SELLER
    ):
        return WRITTEN_FROM_THE_REQUEST
    return None


def other_side(participant: Participant) -> User | None:
    """The buyer, or the shop's seller, on the other side of a conversation between a buyer
    and a shop (a claim's included), read from the conversation itself: it still names them
    after an erasure took their own copy of it (their Participant) with their data, where a
    look for the other participant finds nobody. None for anyone else in it (an agent) and
    for the marketplace's and customer service's conversations. No query: the buyer and the
    shop's seller come with access_conversation."""
    conversation = participant.conversation
    if conversation.kind not in (Kind.BUYER_SELLER, Kind.CLAIM):
        return None
    if participant.role == ParticipantRole.BUYER:
        shop = conversation.storefront
        return None if shop is None else shop.seller
    if participant.role == ParticipantRole.SELLER:
        return conversation.buyer
    return None


def other_side_erased(participant: Participant) -> bool:
    """Whether the other side of this conversation between a buyer and a shop was erased
    at their request (one query when they are inactive, none otherwise)."""
    other = other_side(participant)
    return other is not None and closed_accounts.closure_of(other) == closed_accounts.Closure.ERASED


def erased_senders(messages: Iterable[Message]) -> set[int]:
    """Who among the messages' senders was erased at their request (their messages read
    "[removed at the person's request]"): nothing of theirs is offered for a report. Only
    an inactive sender is asked about — one query each, none on an ordinary page (the
    senders come with the messages)."""
    inactive = {
        message.sender.pk: message.sender
        for message in messages
        if message.sender is not None and not message.sender.is_active
    }
    return {
        person_id
        for person_id, person in inactive.items()
        if closed_accounts.closure_of(person) == closed_accounts.Closure.ERASED
    }


def closed_account(person: User, *, is_shop: bool) -> str | None:
    """What to tell someone about to write to this buyer, or to this seller's shop, whose
    account cannot read messages; None while it can. The words follow how it was closed:
    an erasure is for good, a suspension may be lifted on appeal (accounts/closed_accounts.py)."""
    closure = closed_accounts.closure_of(person)
    if closure is None:
        return None
    if closure == closed_accounts.Closure.ERASED:
        return CLOSED_SHOP if is_shop else CLOSED_BUYER
    return SUSPENDED_SHOP if is_shop else SUSPENDED_BUYER


CLOSED_SHOP = "This shop's account is closed: they can no longer read or answer messages."
CLOSED_BUYER = "This buyer's account is closed: they can no longer read or answer messages."
SUSPENDED_SHOP = (
    "This shop's account is suspended: your messages cannot be delivered to them for now."
)
SUSPENDED_BUYER = (
    "This buyer's account is suspended: your messages cannot be delivered to them for now."
)


@dataclass(frozen=True)
class ResponseWindow:
    """A buyer's wait for a seller's answer, as both sides see it (docs/escalation.md)."""

    conversation_id: int
    seller_id: int
    seller_name: str
    buyer_id: int | None
    asked_at: datetime
    due_at: datetime
    # The seller's average response time (None: not enough answers to say).
    usually: timedelta | None
    # The periodic sweep has seen it pass (and told the buyer).
    is_marked_overdue: bool

    def has_passed(self, now: datetime) -> bool:
        return now >= self.due_at


def response_window(participant: Participant) -> ResponseWindow | None:
    """The open wait of a buyer–seller conversation the person takes part in (from
    access_conversation), or None when the seller is not waiting to answer. Two queries
    for the buyer (the seller's row, their usual response time); none for the seller."""
    conversation = participant.conversation
    if conversation.kind != Kind.BUYER_SELLER:
        return None
    if participant.role == ParticipantRole.SELLER:
        seller_row: Participant | None = participant
    elif participant.role == ParticipantRole.BUYER:
        seller_row = unique_row(
            Participant.objects.select_related("user__storefront").filter(
                conversation_id=participant.conversation_id,
                role=ParticipantRole.SELLER,
                response_due_at__isnull=False,
            )
        )
    else:
        return None
    if (
        seller_row is None
        or seller_row.response_due_at is None
        or seller_row.awaiting_response_since is None
        # A block between the two sets the wait aside (actions.set_aside_waits_between).
        or seller_row.is_blocked_by_other_side
        or seller_row.has_blocked_other_side
    ):
        return None
    is_buyer = participant.role == ParticipantRole.BUYER
    # A side that cannot sign in (suspended, erased) sets the wait aside
    # (actions.set_aside_waits_for): no deadline to count down to, whatever a row written
    # before that rule says. No query: the buyer comes with access_conversation, the seller
    # with their row (and a seller reading is signed in).
    buyer = conversation.buyer
    if (is_buyer and not seller_row.user.is_active) or (buyer is not None and not buyer.is_active):
        return None
    return ResponseWindow(
        conversation_id=participant.conversation_id,
        seller_id=seller_row.user_id,
        seller_name=seller_row.user.public_name if is_buyer else "",
        buyer_id=conversation.buyer_id,
        asked_at=seller_row.awaiting_response_since,
        due_at=seller_row.response_due_at,
        usually=usual_response_time(seller_row.user_id) if is_buyer else None,
        is_marked_overdue=seller_row.is_response_overdue,
    )


@dataclass(frozen=True)
class LateResponse:
    """A wait that made a seller late: answered after its deadline, or still open past it."""

    conversation_id: int
    subject: str
    buyer_name: str
    asked_at: datetime
    due_at: datetime
    # None: not answered yet.
    answered_at: datetime | None


def late_responses(
    seller: User, *, now: datetime | None = None, days: int = 90, limit: int = 50
) -> list[LateResponse]:
    """The seller's late waits of the last `days` days (by when the buyer asked), the
    latest deadline first: still-open ones and late answers. Two queries."""
    now = now or timezone.now()
    since = now - timedelta(days=days)
    open_rows = (
        Participant.objects.filter(
            wait_counts(),
            user=seller,
            response_due_at__lte=now,
            awaiting_response_since__gte=since,
        )
        .select_related("conversation__buyer__storefront")
        .order_by("-response_due_at", "-id")[:limit]
    )
    late: list[LateResponse] = []
    for row in open_rows:
        assert row.response_due_at is not None
        assert row.awaiting_response_since is not None
        buyer = row.conversation.buyer
        late.append(
            LateResponse(
                conversation_id=row.conversation_id,
                subject=row.conversation.subject,
                buyer_name=buyer.public_name if buyer is not None else "",
                asked_at=row.awaiting_response_since,
                due_at=row.response_due_at,
                answered_at=None,
            )
        )
    answered_rows = (
        ResponseTime.objects.filter(
            seller=seller, asked_at__gte=since, due_at__isnull=False, answered_at__gt=F("due_at")
        )
        .select_related("conversation__buyer__storefront")
        .order_by("-due_at", "-id")[:limit]
    )
    for answer in answered_rows:
        assert answer.due_at is not None
        buyer = answer.conversation.buyer
        late.append(
            LateResponse(
                conversation_id=answer.conversation_id,
                subject=answer.conversation.subject,
                buyer_name=buyer.public_name if buyer is not None else "",
                asked_at=answer.asked_at,
                due_at=answer.due_at,
                answered_at=answer.answered_at,
            )
        )
    late.sort(key=lambda item: item.due_at, reverse=True)
    return late[:limit]


def saved_replies(seller: User) -> QuerySet[SavedReply]:
    return SavedReply.objects.filter(seller=seller).order_by("title")


@dataclass(frozen=True)
class MessagePage:
    # Oldest first, as they are read.
    messages: list[Message]
    # More messages beyond this page in the direction asked: older ones for the latest
    # page and `before`, newer ones for `after`.
    has_more: bool


def message_page(
    participant: Participant,
    *,
    after: int | None = None,
    before: int | None = None,
    limit: int,
) -> MessagePage:
    """One page of conversation_messages, by message id: the latest `limit` messages, the
    `limit` before a message (scrolling back), or the `limit` after one (catching up)."""
    if after is not None and before is not None:
        raise InvalidInput(
            "Ask for messages after one or before one, not both.", code="invalid_cursor"
        )
    visible = (
        participant.conversation_id,
        participant.history_after_message_id,
        participant.user_id,
    )
    if after is not None:
        rows = _MESSAGE_ROWS(*visible, after, shape=("after", limit + 1))
        return MessagePage(_with_attachments(rows[:limit]), has_more=len(rows) > limit)
    if before is not None:
        rows = _MESSAGE_ROWS(*visible, before, shape=("before", limit + 1))
    else:
        rows = _MESSAGE_ROWS(*visible, shape=("latest", limit + 1))
    return MessagePage(_with_attachments(rows[:limit][::-1]), has_more=len(rows) > limit)


def _message_rows(
    conversation_id: int, history_after: int, viewer_id: int, *cursor: int, shape: tuple[str, int]
) -> QuerySet[Message]:
    """conversation_messages as message_page reads it: `shape` is the direction and the
    number of rows; the cursor is the message id it starts from, if any. The attachments
    come after, from their own compiled statement (_with_attachments)."""
    direction, count = shape
    messages = conversation_messages_from(conversation_id, history_after, viewer_id)
    # Whether each has attachments, an index probe beside its row: a page without any —
    # most of them — reads no attachments at all (_with_attachments).
    messages = messages.prefetch_related(None).annotate(
        has_attachments=Exists(Attachment.objects.filter(message_id=OuterRef("pk")))
    )
    if direction == "after":
        return messages.filter(id__gt=cursor[0])[:count]
    if direction == "before":
        messages = messages.filter(id__lt=cursor[0])
    return messages.order_by("-id")[:count]


# The history page of every conversation: compiled once per direction and page size.
_MESSAGE_ROWS = CompiledQuery(_message_rows)


def _with_attachments(messages: list[Message]) -> list[Message]:
    """The messages, each with its attachments in `fetched_attachments` (what
    Message.listed_attachments reads; in the order they were added), read in one
    statement compiled once per number of messages with any — what conversation_messages'
    prefetch reads, which Django built and compiled again on every page: an eighth of a
    history page's CPU (docs/benchmarks.md, "Search planned apart from what it shows")."""
    if not messages:
        return messages
    listed: dict[int, list[Attachment]] = {message.pk: [] for message in messages}
    # Only those the page's statement found with attachments (_message_rows): one statement
    # for a page with any, none for a page without — one round trip of the history page's
    # four (docs/benchmarks.md, "Reads: the badges on the express lane…").
    with_files = [message.pk for message in messages if getattr(message, "has_attachments", True)]
    if with_files:
        for attachment in _ATTACHMENTS_OF(*with_files, shape=len(with_files)):
            listed[attachment.message_id].append(attachment)
    for message in messages:
        message.fetched_attachments = listed[message.pk]  # type: ignore[attr-defined]
    return messages


_ATTACHMENTS_OF = CompiledQuery(
    lambda *message_ids, shape: Attachment.objects.filter(message_id__in=message_ids).order_by("id")
)


@dataclass(frozen=True)
class MessageWindow:
    """The messages a conversation's page shows, oldest first, and whether the person has
    more on either side of them (the page's "Show older messages" and "Show newer
    messages")."""

    messages: list[Message]
    has_older: bool
    has_newer: bool


def message_window(
    participant: Participant,
    *,
    before: int | None = None,
    after: int | None = None,
    showing: int | None = None,
    limit: int,
) -> MessageWindow:
    """The messages of a conversation's page, `limit` at most, through message_page: the
    latest; those before a message (`before`, the first one a page showed) or after one
    (`after`, the last one it showed); or the page that shows a message (`showing`: a link
    to one, from a search result or an e-mail) — the latest when it is among them, else
    that message and those after it. A window that would be empty (the messages were
    deleted or hidden since), or a message the person cannot see here, gives the latest.

    Reads as message_page does, one statement and one for the attachments when any of
    the messages has some; `showing` a message older than the latest page reads that page
    too, then one more statement asks whether there is anything before it.
    """
    if before is not None:
        page = message_page(participant, before=before, limit=limit)
        if page.messages:
            # There is a newer one: the message the page was asked to end before.
            return MessageWindow(page.messages, has_older=page.has_more, has_newer=True)
    elif after is not None:
        page = message_page(participant, after=after, limit=limit)
        if page.messages:
            return MessageWindow(page.messages, has_older=True, has_newer=page.has_more)
    latest = message_page(participant, limit=limit)
    newest = MessageWindow(latest.messages, has_older=latest.has_more, has_newer=False)
    if showing is None or not latest.has_more or showing >= latest.messages[0].pk:
        return newest
    page = message_page(participant, after=showing - 1, limit=limit)
    if not page.messages or page.messages[0].pk != showing:
        return newest
    has_older = conversation_messages(participant).filter(id__lt=showing).order_by().exists()
    return MessageWindow(page.messages, has_older=has_older, has_newer=page.has_more)
