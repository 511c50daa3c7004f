"""Every change to conversations goes through a function here: the web pages, the API,
inbound e-mail and marketplace events all call these (docs/conversations.md).

Each action runs in one transaction that also records its side effects: the unread
counters and every affected person's event log change together with the rows, or not at
all. Rows are locked in one order everywhere (a conversation's participants by id, then
event streams by user), so concurrent actions on PostgreSQL queue instead of deadlocking.
"""

import hashlib
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import filetype
from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction
from django.db.models import Case, F, OuterRef, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.conversations.models import (
    COUNTER_KEYS,
    FOLDER_OF_KIND,
    MUTED_INDEFINITELY,
    UNSEEN,
    Attachment,
    Box,
    Conversation,
    Kind,
    Message,
    Participant,
    ParticipantRole,
    ResponseTime,
    SavedReply,
    UnreadCounter,
    counter_key,
)
from messagecenter.conversations.queries import VISIBLE_BOXES
from messagecenter.delivery.actions import record_message_emails
from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.marketplace.models import Order, OrderItem, Product, Storefront
from messagecenter.realtime.actions import PendingEvent, record_events
from messagecenter.realtime.models import EventKind
from messagecenter.rows import MAX_ID, unique_row
from messagecenter.search.actions import index_messages

# Bulk actions take at most this many conversations at once (one page of selection).
MAX_CONVERSATIONS_PER_ACTION = 500
PREVIEW_CHARS = 140


@dataclass(frozen=True)
class StoredFile:
    """An attachment checked and stored before the transaction (see _store_attachments)."""

    name: str
    filename: str
    content_type: str
    size: int
    sha256: str


# --- starting conversations ---------------------------------------------------------------


def ask_seller_about_product(
    buyer: User,
    product_id: Any,
    body: str,
    *,
    idempotency_key: str | None = None,
    attachments: Sequence[Any] = (),
) -> Message:
    """ "Ask a question" from a product page. A buyer's questions about one product share one
    conversation with its seller."""
    body = _clean_body(body)
    idempotency_key = _clean_idempotency_key(idempotency_key)
    _require_buyer(buyer)
    product = (
        Product.objects.select_related("storefront__seller").filter(pk=_as_id(product_id)).first()
    )
    if product is None:
        raise NotFound("No such product.", code="product_not_found")
    stored = _store_attachments(attachments)
    storefront = product.storefront
    topic_key = f"product:{product.pk}:buyer:{buyer.pk}"

    def attempt() -> Message:
        conversation = _open_conversation(
            topic_key=topic_key,
            kind=Kind.BUYER_SELLER,
            subject=f"Question about {product.title}"[:200],
            members=[(buyer, ParticipantRole.BUYER), (storefront.seller, ParticipantRole.SELLER)],
            buyer=buyer,
            storefront=storefront,
            product=product,
        )
        return _post(conversation.pk, buyer, body, idempotency_key, stored, reopen=True)

    return _send_once(buyer, idempotency_key, body, topic_key=topic_key, attempt=attempt)


def contact_seller_about_order(
    buyer: User,
    order_id: Any,
    storefront_id: Any,
    body: str,
    *,
    idempotency_key: str | None = None,
    attachments: Sequence[Any] = (),
) -> Message:
    """ "Contact seller" from Your Orders. Only the order's buyer can, and only a seller who
    sold something on that order."""
    body = _clean_body(body)
    order = Order.objects.filter(pk=_as_id(order_id), buyer=buyer).first()
    if order is None:
        raise NotFound("No such order.", code="order_not_found")
    item = (
        OrderItem.objects.select_related("storefront__seller")
        .filter(order=order, storefront_id=_as_id(storefront_id))
        .first()
    )
    if item is None:
        raise InvalidInput(
            "That seller did not sell anything on this order.", code="seller_not_on_order"
        )
    return _send_about_order(
        order, item.storefront, buyer, body, idempotency_key, _store_attachments(attachments)
    )


def contact_buyer_about_order(
    seller: User,
    order_id: Any,
    body: str,
    *,
    idempotency_key: str | None = None,
    attachments: Sequence[Any] = (),
) -> Message:
    """A seller writes to the buyer of an order it sold on (shipping questions, a
    customisation): the same conversation as the buyer's "Contact seller" for that order.
    Sellers can reach only their own orders' buyers, never buyers at large."""
    body = _clean_body(body)
    storefront = Storefront.objects.filter(seller=seller).first()
    item = (
        OrderItem.objects.select_related("order__buyer", "storefront__seller")
        .filter(order_id=_as_id(order_id), storefront=storefront)
        .first()
        if storefront is not None
        else None
    )
    if storefront is None or item is None:
        raise NotFound("No such order.", code="order_not_found")
    return _send_about_order(
        item.order, storefront, seller, body, idempotency_key, _store_attachments(attachments)
    )


def _send_about_order(
    order: Order,
    storefront: Storefront,
    sender: User,
    body: str,
    idempotency_key: str | None,
    stored: Sequence[StoredFile],
) -> Message:
    """The one conversation between an order's buyer and one of its sellers, whoever
    writes first."""
    idempotency_key = _clean_idempotency_key(idempotency_key)
    topic_key = f"order:{order.pk}:storefront:{storefront.pk}"

    def attempt() -> Message:
        conversation = _open_conversation(
            topic_key=topic_key,
            kind=Kind.BUYER_SELLER,
            subject=f"Order {order.number}",
            members=[
                (order.buyer, ParticipantRole.BUYER),
                (storefront.seller, ParticipantRole.SELLER),
            ],
            buyer=order.buyer,
            storefront=storefront,
            order=order,
        )
        return _post(conversation.pk, sender, body, idempotency_key, stored, reopen=True)

    return _send_once(sender, idempotency_key, body, topic_key=topic_key, attempt=attempt)


def contact_customer_service(
    customer: User,
    subject: str,
    body: str,
    *,
    agent: User | None = None,
    order: Order | None = None,
    idempotency_key: str | None = None,
) -> Message:
    """Start a customer-service conversation, optionally with an agent already on it."""
    body = _clean_body(body)
    idempotency_key = _clean_idempotency_key(idempotency_key)
    subject = _clean_text(subject)[:200]
    if not subject:
        raise InvalidInput("A subject is required.", code="subject_required")
    if agent is not None and agent.role != Role.AGENT:
        raise InvalidInput("Only an agent can take a customer-service case.", code="not_an_agent")
    if order is not None and order.buyer_id != customer.pk:
        raise NotFound("No such order.", code="order_not_found")
    members = [(customer, ParticipantRole.BUYER)]
    if agent is not None:
        members.append((agent, ParticipantRole.AGENT))

    def attempt() -> Message:
        conversation = _open_conversation(
            topic_key=None,
            kind=Kind.CUSTOMER_SERVICE,
            subject=subject,
            members=members,
            buyer=customer if customer.role == Role.BUYER else None,
            order=order,
        )
        return _post(conversation.pk, customer, body, idempotency_key, [], reopen=False)

    return _send_once(customer, idempotency_key, body, topic_key=None, attempt=attempt)


def send_marketplace_message(
    recipient: User,
    *,
    kind: str,
    subject: str,
    body: str,
    topic_key: str | None = None,
    order: Order | None = None,
) -> Message:
    """A message from the marketplace itself (order updates, notices): shown as official,
    which no person's message can be. Messages with the same topic key share a
    conversation, e.g. every update about one order."""
    if kind not in Kind.values or kind in (Kind.BUYER_SELLER, Kind.CUSTOMER_SERVICE):
        raise InvalidInput(f"The marketplace does not send {kind!r} messages.", code="invalid_kind")
    body = _clean_body(body)
    with transaction.atomic():
        conversation = _open_conversation(
            topic_key=topic_key,
            kind=kind,
            subject=subject[:200],
            members=[(recipient, ParticipantRole.RECIPIENT)],
            buyer=order.buyer if order is not None else None,
            order=order,
        )
        return _post(conversation.pk, None, body, None, [], reopen=True)


# --- replying -----------------------------------------------------------------------------


def send_message(
    sender: User,
    conversation_id: Any,
    body: str,
    *,
    idempotency_key: str | None = None,
    attachments: Sequence[Any] = (),
) -> Message:
    """Reply in a conversation the sender takes part in.

    With an idempotency key, sending again (a retry after a timeout, a double click, a
    flaky phone) returns the first message instead of a second one.
    """
    body = _clean_body(body)
    idempotency_key = _clean_idempotency_key(idempotency_key)
    stored = _store_attachments(attachments)
    conversation_id = _as_id(conversation_id)
    return _send_once(
        sender,
        idempotency_key,
        body,
        conversation_id=conversation_id,
        attempt=lambda: _post(conversation_id, sender, body, idempotency_key, stored, reopen=False),
    )


def _send_once(
    sender: User,
    idempotency_key: str | None,
    body: str,
    *,
    attempt: Callable[[], Message],
    conversation_id: int | None = None,
    topic_key: str | None = None,
) -> Message:
    if idempotency_key is None:
        with transaction.atomic():
            return attempt()
    try:
        with transaction.atomic():
            existing = _message_for_key(sender, idempotency_key)
            if existing is None:
                return attempt()
    except IntegrityError:
        # Another request with this key committed between our check and our insert.
        existing = _message_for_key(sender, idempotency_key)
        if existing is None:
            raise
    if body != existing.body or (
        conversation_id is not None and existing.conversation_id != conversation_id
    ):
        raise Conflict(
            "This idempotency key was already used for a different message.",
            code="idempotency_key_reused",
        )
    if topic_key is not None and existing.conversation.topic_key != topic_key:
        raise Conflict(
            "This idempotency key was already used for a different message.",
            code="idempotency_key_reused",
        )
    return existing


def _message_for_key(sender: User, idempotency_key: str) -> Message | None:
    """The sender's message with this key, marked as found (the API answers 200)."""
    message = unique_row(
        Message.objects.select_related("conversation").filter(
            sender=sender, idempotency_key=idempotency_key
        )
    )
    if message is not None:
        message.found_by_idempotency_key = True
        # The sender asking is the one who sent it (with their storefront, when loaded).
        message.sender = sender
    return message


def _post(
    conversation_id: int,
    sender: User | None,
    body: str,
    idempotency_key: str | None,
    files: Sequence[StoredFile],
    *,
    reopen: bool,
) -> Message:
    """Add a message to a conversation and bring every participant's view up to date.

    `reopen`: the sender may be someone who deleted the conversation (asking a seller again
    about the same product); otherwise a deleted conversation is not theirs to reply in.
    """
    now = timezone.now()
    # The conversation (and its order) come along for the search document; only the
    # participant rows are locked.
    participants = list(
        Participant.objects.select_for_update(of=("self",))
        .select_related("conversation__order")
        .filter(conversation_id=conversation_id)
        .order_by("id")
    )
    if not participants:
        raise NotFound("No such conversation.", code="conversation_not_found")
    sending: Participant | None = None
    if sender is not None:
        sending = next((p for p in participants if p.user_id == sender.pk), None)
        if sending is None or (sending.box == Box.DELETED and not reopen):
            raise NotFound("No such conversation.", code="conversation_not_found")
        if sending.role == ParticipantRole.RECIPIENT:
            raise NotAllowed(
                "Messages from the marketplace's systems cannot be answered; contact customer "
                "service instead.",
                code="cannot_reply",
            )

    message = Message(
        conversation=participants[0].conversation,
        sender=sender,
        body=body,
        created_at=now,
        idempotency_key=idempotency_key,
    )
    message.save(force_insert=True)
    if files:
        Attachment.objects.bulk_create(
            Attachment(
                message=message,
                file=stored.name,
                filename=stored.filename,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
            )
            for stored in files
        )
    # Searchable exactly when it exists, by everyone in the conversation (docs/search.md).
    index_messages([message], members={conversation_id: [p.user_id for p in participants]})
    Conversation.objects.filter(pk=conversation_id).update(
        last_message=message, last_message_at=now, message_count=F("message_count") + 1
    )
    # The caller gets the message with its conversation as it now is in the database
    # (the participant locks make the count exact).
    conversation = message.conversation
    conversation.last_message, conversation.last_message_at = message, now
    conversation.message_count += 1

    deltas: dict[tuple[int, str], int] = defaultdict(int)
    notified: list[int] = []
    muted: list[int] = []
    events: list[PendingEvent] = []
    preview = body[:PREVIEW_CHARS]
    sender_name = sender.public_name if sender is not None else "Marketplace"
    # A buyer's message starts a seller's wait for an answer (if one is not running).
    starts_wait = sending is not None and sending.role == ParticipantRole.BUYER
    for participant in participants:
        new_box: str
        if participant is sending:
            new_box, new_unread, new_seen = Box.INBOX, 0, True
        elif participant.is_muted(now):
            # Muted: it stays where it is and does not light up the badge.
            new_box, new_unread, new_seen = (
                participant.box,
                participant.unread_count + 1,
                participant.is_seen,
            )
            muted.append(participant.pk)
        else:
            # A new message brings a conversation back to the inbox.
            new_box, new_unread, new_seen = Box.INBOX, participant.unread_count + 1, False
            notified.append(participant.pk)
        _count_transition(deltas, participant, new_box, new_unread, new_seen)
        if new_box != Box.DELETED:
            events.append(
                PendingEvent(
                    participant.user_id,
                    EventKind.MESSAGE_CREATED,
                    {
                        "conversation_id": conversation_id,
                        "message_id": message.pk,
                        "sender_name": sender_name,
                        "preview": preview,
                        "folder": participant.folder,
                        "box": new_box,
                        "unread_count": new_unread,
                        "is_muted": participant.is_muted(now),
                        "created_at": now.isoformat(),
                    },
                )
            )
    received: dict[str, Any] = {"unread_count": F("unread_count") + 1, "last_activity_at": now}
    if starts_wait:
        received["awaiting_response_since"] = Case(
            When(role=ParticipantRole.SELLER, then=Coalesce(F("awaiting_response_since"), now)),
            default=F("awaiting_response_since"),
        )
    if muted:
        Participant.objects.filter(pk__in=muted).update(**received)
    if notified:
        Participant.objects.filter(pk__in=notified).update(
            **received, box=Box.INBOX, trashed_at=None, is_seen=False
        )
    if sending is not None:
        answered = _answered_wait(sending, conversation_id, now)
        Participant.objects.filter(pk=sending.pk).update(
            box=Box.INBOX,
            trashed_at=None,
            unread_count=0,
            is_seen=True,
            last_read_message=message,
            last_activity_at=now,
            **answered,
        )
    _apply_counter_deltas(deltas)
    record_events(events)
    # Agents work in the Message Center itself; everyone else notified may get e-mail.
    notified_ids = set(notified)
    emailed = {
        p.pk for p in participants if p.pk in notified_ids and p.role != ParticipantRole.AGENT
    }
    record_message_emails(
        message_id=message.pk,
        kind=conversation.kind,
        subject=conversation.subject,
        recipient_ids=[p.user_id for p in participants if p.pk in emailed],
        now=now,
    )
    return message


def _answered_wait(sending: Participant, conversation_id: int, now: datetime) -> dict[str, Any]:
    """A seller replying ends the buyer's wait, and the wait is recorded for the seller's
    response-time figures."""
    if sending.role != ParticipantRole.SELLER or sending.awaiting_response_since is None:
        return {}
    ResponseTime.objects.create(
        seller_id=sending.user_id,
        conversation_id=conversation_id,
        asked_at=sending.awaiting_response_since,
        answered_at=now,
    )
    return {"awaiting_response_since": None}


def _open_conversation(
    *,
    topic_key: str | None,
    kind: str,
    subject: str,
    members: Sequence[tuple[User, str]],
    buyer: User | None = None,
    storefront: Storefront | None = None,
    product: Product | None = None,
    order: Order | None = None,
) -> Conversation:
    """The conversation for this topic, started with its members if there is none yet."""
    if topic_key is not None:
        existing = Conversation.objects.filter(topic_key=topic_key).first()
        if existing is not None:
            return existing
    now = timezone.now()
    try:
        # A savepoint: two first messages about one topic at once both find none; the
        # second insert fails on the unique topic key (on PostgreSQL only after the first
        # commits) and takes the conversation the first one made.
        with transaction.atomic():
            conversation = Conversation.objects.create(
                kind=kind,
                subject=subject,
                topic_key=topic_key,
                buyer=buyer,
                storefront=storefront,
                product=product,
                order=order,
                created_at=now,
            )
    except IntegrityError:
        if topic_key is None:
            raise
        return Conversation.objects.get(topic_key=topic_key)
    folder = FOLDER_OF_KIND[kind]
    Participant.objects.bulk_create(
        Participant(
            conversation=conversation,
            user=user,
            role=role,
            folder=folder,
            last_activity_at=now,
        )
        for user, role in members
    )
    UnreadCounter.objects.bulk_create(
        [UnreadCounter(user=user, key=key) for user, _ in members for key in COUNTER_KEYS],
        ignore_conflicts=True,
    )
    return conversation


# --- one person's view: read, archive, trash, mute -----------------------------------------


def mark_read(user: User, conversation_ids: Iterable[Any]) -> int:
    """Everything in these conversations up to now is read. Returns how many changed."""
    with transaction.atomic():
        changed = [p for p in _lock_own(user, conversation_ids) if p.unread_count]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(
            unread_count=0,
            is_seen=True,
            last_read_message_id=Subquery(
                Conversation.objects.filter(pk=OuterRef("conversation_id")).values(
                    "last_message_id"
                )[:1]
            ),
        )
        return _finish(changed, EventKind.CONVERSATION_READ, unread=0, seen=True)


def mark_unread(user: User, conversation_ids: Iterable[Any]) -> int:
    with transaction.atomic():
        changed = [p for p in _lock_own(user, conversation_ids) if not p.unread_count]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(unread_count=1)
        return _finish(changed, EventKind.CONVERSATION_UNREAD, unread=1)


def archive_conversations(user: User, conversation_ids: Iterable[Any]) -> int:
    with transaction.atomic():
        changed = [p for p in _lock_own(user, conversation_ids) if p.box == Box.INBOX]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(
            box=Box.ARCHIVE, is_seen=True
        )
        return _finish(changed, EventKind.CONVERSATION_ARCHIVED, box=Box.ARCHIVE, seen=True)


def move_to_inbox(user: User, conversation_ids: Iterable[Any]) -> int:
    """Unarchive."""
    with transaction.atomic():
        changed = [p for p in _lock_own(user, conversation_ids) if p.box == Box.ARCHIVE]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(box=Box.INBOX)
        return _finish(changed, EventKind.CONVERSATION_MOVED_TO_INBOX, box=Box.INBOX)


def trash_conversations(user: User, conversation_ids: Iterable[Any]) -> int:
    """Move to Trash, where conversations stay restorable for TRASH_RETENTION_DAYS."""
    with transaction.atomic():
        changed = [p for p in _lock_own(user, conversation_ids) if p.box != Box.TRASH]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(
            box=Box.TRASH, trashed_at=timezone.now(), is_seen=True
        )
        return _finish(changed, EventKind.CONVERSATION_TRASHED, box=Box.TRASH, seen=True)


def restore_conversations(user: User, conversation_ids: Iterable[Any]) -> int:
    """Back from Trash to the inbox."""
    with transaction.atomic():
        changed = [p for p in _lock_own(user, conversation_ids) if p.box == Box.TRASH]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(
            box=Box.INBOX, trashed_at=None
        )
        return _finish(changed, EventKind.CONVERSATION_RESTORED, box=Box.INBOX)


def delete_conversations(user: User, conversation_ids: Iterable[Any]) -> int:
    """Delete for ever, from Trash only: the person's copy is gone; a conversation no one
    keeps any more is removed, unless it is about an order (kept as the order's record)."""
    with transaction.atomic():
        participants = _lock_own(user, conversation_ids)
        if any(p.box != Box.TRASH for p in participants):
            raise InvalidInput(
                "Only conversations in Trash can be deleted for ever.", code="not_in_trash"
            )
        return _delete_for_participants(participants)


def mute_conversations(
    user: User, conversation_ids: Iterable[Any], *, until: datetime | None = None
) -> int:
    """No notifications and no return to the inbox until `until` (None: until unmuted).
    Messages still arrive and count as unread."""
    muted_until = until if until is not None else MUTED_INDEFINITELY
    if muted_until <= timezone.now():
        raise InvalidInput("Mute until a time in the future.", code="invalid_mute_until")
    with transaction.atomic():
        changed = _lock_own(user, conversation_ids)
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(muted_until=muted_until)
        return _finish(
            changed,
            EventKind.CONVERSATION_MUTED,
            muted_until=None if until is None else muted_until.isoformat(),
        )


def unmute_conversations(user: User, conversation_ids: Iterable[Any]) -> int:
    with transaction.atomic():
        changed = [p for p in _lock_own(user, conversation_ids) if p.muted_until is not None]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(muted_until=None)
        return _finish(changed, EventKind.CONVERSATION_UNMUTED)


def mark_seen(user: User) -> int:
    """Opening the Message Center: everything new is now seen, so the header badge clears;
    each conversation stays unread until it is opened."""
    with transaction.atomic():
        # Locked in id order like every other action, so two tabs cannot deadlock.
        unseen = list(
            Participant.objects.select_for_update()
            .filter(user=user, is_seen=False)
            .order_by("id")
            .values_list("pk", flat=True)
        )
        if not unseen:
            return 0
        Participant.objects.filter(pk__in=unseen).update(is_seen=True)
        # By how many rows changed, not "set to 0": a message that arrives meanwhile keeps
        # its +1.
        _apply_counter_deltas({(user.pk, UNSEEN): -len(unseen)})
        record_events([PendingEvent(user.pk, EventKind.MESSAGE_CENTER_SEEN, {})])
        return len(unseen)


def mark_no_response_needed(seller: User, conversation_ids: Iterable[Any]) -> int:
    """A seller says a buyer's message needs no answer ("Thanks!"): it leaves the
    Response needed list and is left out of the response-time figures."""
    _require_seller(seller)
    with transaction.atomic():
        changed = [
            p for p in _lock_own(seller, conversation_ids) if p.awaiting_response_since is not None
        ]
        if not changed:
            return 0
        Participant.objects.filter(pk__in=[p.pk for p in changed]).update(
            awaiting_response_since=None
        )
        return _finish(changed, EventKind.CONVERSATION_NO_RESPONSE_NEEDED)


MAX_SAVED_REPLIES = 100


def save_reply(seller: User, title: str, body: str, *, saved_reply_id: Any = None) -> SavedReply:
    """Create a saved reply, or change one of the seller's own (by id)."""
    _require_seller(seller)
    title = _clean_text(title)
    if not title or len(title) > 80:
        raise InvalidInput("A title is 1 to 80 characters.", code="invalid_title")
    body = _clean_body(body)
    now = timezone.now()
    with transaction.atomic():
        if saved_reply_id is not None:
            reply = (
                SavedReply.objects.select_for_update()
                .filter(seller=seller, pk=_as_id(saved_reply_id))
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
        if SavedReply.objects.filter(seller=seller, title=title).exclude(pk=reply.pk).exists():
            raise Conflict("You already have a saved reply with that title.", code="title_taken")
        reply.title, reply.body, reply.updated_at = title, body, now
        reply.save()
        return reply


def delete_saved_reply(seller: User, saved_reply_id: Any) -> None:
    _require_seller(seller)
    deleted, _ = SavedReply.objects.filter(seller=seller, pk=_as_id(saved_reply_id)).delete()
    if not deleted:
        raise NotFound("No such saved reply.", code="saved_reply_not_found")


def purge_expired_trash(*, now: datetime | None = None, batch_size: int = 500) -> int:
    """Delete for ever what has been in Trash longer than the retention period. Runs
    periodically in the worker; in batches so it never holds locks for long."""
    now = now or timezone.now()
    cutoff = now - timedelta(days=settings.TRASH_RETENTION_DAYS)
    purged = 0
    while True:
        with transaction.atomic():
            batch = list(
                Participant.objects.select_for_update()
                .filter(box=Box.TRASH, trashed_at__lt=cutoff)
                .order_by("id")[:batch_size]
            )
            if not batch:
                return purged
            purged += _delete_for_participants(batch)


def _delete_for_participants(participants: list[Participant]) -> int:
    if not participants:
        return 0
    Participant.objects.filter(pk__in=[p.pk for p in participants]).update(
        box=Box.DELETED,
        trashed_at=None,
        unread_count=0,
        is_seen=True,
        awaiting_response_since=None,
        history_after_message_id=Coalesce(
            Subquery(
                Conversation.objects.filter(pk=OuterRef("conversation_id")).values(
                    "last_message_id"
                )[:1]
            ),
            Value(0),
        ),
    )
    deltas: dict[tuple[int, str], int] = defaultdict(int)
    for participant in participants:
        _count_transition(deltas, participant, Box.DELETED, 0, True)
    _apply_counter_deltas(deltas)
    record_events(
        PendingEvent(
            p.user_id, EventKind.CONVERSATION_DELETED, {"conversation_id": p.conversation_id}
        )
        for p in participants
    )
    _remove_abandoned_conversations({p.conversation_id for p in participants})
    return len(participants)


def _remove_abandoned_conversations(conversation_ids: set[int]) -> None:
    """Remove conversations nobody keeps any more. Never order conversations: they are the
    order's record, for claims and returns long after the messages were read."""
    abandoned = list(
        Conversation.objects.filter(pk__in=conversation_ids, order__isnull=True)
        .exclude(participants__box__in=VISIBLE_BOXES)
        .values_list("pk", flat=True)
    )
    if not abandoned:
        return
    files = list(
        Attachment.objects.filter(message__conversation_id__in=abandoned).values_list(
            "file", "sha256"
        )
    )
    Conversation.objects.filter(pk__in=abandoned).update(last_message=None)
    Participant.objects.filter(conversation_id__in=abandoned).delete()
    Attachment.objects.filter(message__conversation_id__in=abandoned).delete()
    Message.objects.filter(conversation_id__in=abandoned).delete()
    Conversation.objects.filter(pk__in=abandoned).delete()
    if files:
        # Files go only once the deletion is committed, and only if no other message
        # still uses the same content.
        transaction.on_commit(lambda: _delete_unused_files(files))


def _delete_unused_files(files: list[tuple[str, str]]) -> None:
    still_used = set(
        Attachment.objects.filter(sha256__in=[sha for _, sha in files]).values_list(
            "sha256", flat=True
        )
    )
    for name, sha256 in files:
        if sha256 not in still_used:
            default_storage.delete(name)


# --- shared pieces ------------------------------------------------------------------------


def _lock_own(user: User, conversation_ids: Iterable[Any]) -> list[Participant]:
    """Lock the person's own rows for these conversations, all or nothing: one id that is
    not theirs fails the whole request, and nothing changes."""
    wanted = {_as_id(value) for value in conversation_ids}
    if not wanted:
        raise InvalidInput("Choose at least one conversation.", code="no_conversations")
    if len(wanted) > MAX_CONVERSATIONS_PER_ACTION:
        raise InvalidInput(
            f"At most {MAX_CONVERSATIONS_PER_ACTION} conversations at once.",
            code="too_many_conversations",
        )
    participants = list(
        Participant.objects.select_for_update()
        .filter(user=user, conversation_id__in=wanted, box__in=VISIBLE_BOXES)
        .order_by("id")
    )
    if len(participants) != len(wanted):
        raise NotFound("No such conversation.", code="conversation_not_found")
    return participants


def _finish(changed: list[Participant], kind: str, **state: Any) -> int:
    """Counters and events for a change of box, read or seen state on the person's own
    rows. `state` holds the new values that changed: box, unread, seen, and extras for
    the event payload."""
    deltas: dict[tuple[int, str], int] = defaultdict(int)
    for participant in changed:
        _count_transition(
            deltas,
            participant,
            state.get("box", participant.box),
            state.get("unread", participant.unread_count),
            state.get("seen", participant.is_seen),
        )
    _apply_counter_deltas(deltas)
    payload_state = {key: value for key, value in state.items() if key not in ("unread", "seen")}
    record_events(
        PendingEvent(
            participant.user_id,
            kind,
            {
                "conversation_id": participant.conversation_id,
                "folder": participant.folder,
                "box": state.get("box", participant.box),
                "unread_count": state.get("unread", participant.unread_count),
                **payload_state,
            },
        )
        for participant in changed
    )
    return len(changed)


def _count_transition(
    deltas: dict[tuple[int, str], int],
    participant: Participant,
    new_box: str,
    new_unread: int,
    new_seen: bool,
) -> None:
    """Record how one participant's change moves its person's counters."""
    old_key = counter_key(participant.box, participant.folder) if participant.unread_count else None
    new_key = counter_key(new_box, participant.folder) if new_unread else None
    if old_key != new_key:
        if old_key is not None:
            deltas[(participant.user_id, old_key)] -= 1
        if new_key is not None:
            deltas[(participant.user_id, new_key)] += 1
    if participant.is_seen != new_seen:
        deltas[(participant.user_id, UNSEEN)] += -1 if new_seen else 1


def _apply_counter_deltas(deltas: dict[tuple[int, str], int]) -> None:
    """One UPDATE for every counter that moves, each by its own delta."""
    moving = {key: delta for key, delta in deltas.items() if delta}
    if not moving:
        return
    where = Q()
    cases = []
    for (user_id, key), delta in sorted(moving.items()):
        where |= Q(user_id=user_id, key=key)
        cases.append(When(user_id=user_id, key=key, then=Value(delta)))
    UnreadCounter.objects.filter(where).update(
        conversations=F("conversations") + Case(*cases, default=Value(0))
    )


def _store_attachments(uploads: Sequence[Any]) -> list[StoredFile]:
    """Check and store uploaded files before the transaction opens, so a slow disk never
    holds the database's write lock. Type is decided by content, never by the name."""
    if not uploads:
        return []
    if len(uploads) > settings.ATTACHMENTS_PER_MESSAGE:
        raise InvalidInput(
            f"At most {settings.ATTACHMENTS_PER_MESSAGE} attachments per message.",
            code="too_many_attachments",
        )
    checked = []
    for upload in uploads:
        size = upload.size
        if size > settings.ATTACHMENT_MAX_BYTES:
            raise InvalidInput(
                f"{upload.name} is larger than {settings.ATTACHMENT_MAX_BYTES // 2**20} MB.",
                code="attachment_too_large",
            )
        if size == 0:
            raise InvalidInput(f"{upload.name} is empty.", code="attachment_empty")
        upload.seek(0)
        content = upload.read()
        kind = filetype.guess(content[:8192])
        content_type = kind.mime if kind is not None else "unknown"
        if content_type not in settings.ATTACHMENT_TYPES:
            raise InvalidInput(
                f"{upload.name} is not an image (JPEG, PNG, GIF, WebP) or a PDF.",
                code="attachment_type_not_allowed",
            )
        checked.append((upload, content, content_type))
    stored = []
    for upload, content, content_type in checked:
        sha256 = hashlib.sha256(content).hexdigest()
        name = f"attachments/{sha256[:2]}/{sha256}"
        if not default_storage.exists(name):
            name = default_storage.save(name, ContentFile(content))
        filename = (upload.name or "attachment").rsplit("/", 1)[-1][:255]
        stored.append(StoredFile(name, filename, content_type, len(content), sha256))
    return stored


def _clean_text(text: str | None) -> str:
    """Trimmed text; control characters other than line breaks and tabs are refused
    (PostgreSQL cannot store NUL, and none of them belongs in a message)."""
    text = (text or "").strip()
    if any(ord(character) < 32 and character not in "\n\r\t" for character in text):
        raise InvalidInput("The text contains control characters.", code="invalid_characters")
    return text


def _clean_body(body: str) -> str:
    body = _clean_text(body)
    if not body:
        raise InvalidInput("Write a message first.", code="empty_message")
    if len(body) > settings.MESSAGE_BODY_MAX_CHARS:
        raise InvalidInput(
            f"Messages are limited to {settings.MESSAGE_BODY_MAX_CHARS:,} characters.",
            code="message_too_long",
        )
    return body


def _clean_idempotency_key(key: str | None) -> str | None:
    """Keys are compared as cleaned, so they are stored as cleaned too."""
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > 100 or not key.isprintable():
        raise InvalidInput(
            "An idempotency key is 1 to 100 characters.", code="invalid_idempotency_key"
        )
    return key


def _as_id(value: Any) -> int:
    try:
        number = int(value)
    except (TypeError, ValueError):
        raise NotFound("Not found.", code="not_found") from None
    if not 0 < number <= MAX_ID:
        raise NotFound("Not found.", code="not_found")
    return number


def _require_seller(user: User) -> None:
    if user.role != Role.SELLER:
        raise NotAllowed("This is for sellers.", code="sellers_only")


def _require_buyer(user: User) -> None:
    if user.role != Role.BUYER:
        raise NotAllowed("Only buyers can ask sellers questions.", code="buyers_only")
