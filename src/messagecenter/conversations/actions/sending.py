"""Sending: starting a conversation (about a product, an order, with customer service, from
the marketplace) and replying in one; sending once per idempotency key."""

from collections import Counter, defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.accounts.queries import TokenAsRead, TokenRows, require_unchanged, token_rows
from messagecenter.accounts.time_zones import for_readers
from messagecenter.conversations import hooks, send_checks, topics
from messagecenter.conversations.actions.attachments import (
    StoredFile,
    keep_files,
    store_attachments,
)
from messagecenter.conversations.actions.checks import (
    clean_body,
    clean_idempotency_key,
    clean_text,
    require_buyer,
)
from messagecenter.conversations.actions.counters import apply_counter_deltas, count_transition
from messagecenter.conversations.deadlines import seller_response_due
from messagecenter.conversations.models import (
    FOLDER_OF_KIND,
    Attachment,
    AwayMessage,
    Conversation,
    Kind,
    Message,
    Participant,
    ParticipantRole,
    ResponseTime,
    UnreadCounter,
)
from messagecenter.conversations.queries import (
    CLOSED_BUYER,
    CLOSED_SHOP,
    closed_account,
    shown,
    written_from_the_request,
)
from messagecenter.conversations.send_checks import MessageHeld, SendDecision
from messagecenter.db import group_commit
from messagecenter.delivery.actions import NewMessage, record_emails_of_messages
from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.hub.boxes import COUNTER_KEYS, Box
from messagecenter.marketplace.models import Order, OrderItem, Product, Storefront
from messagecenter.realtime.actions import PendingEvent, record_events
from messagecenter.realtime.models import EventKind, EventStream
from messagecenter.rows import (
    CompiledQuery,
    CompiledRows,
    insert_objects,
    parse_id,
    people_rows_locker,
    reserved_ids,
    unique_row,
    update_rows,
)
from messagecenter.search.actions import index_messages

PREVIEW_CHARS = 140


def ask_seller_about_product(
    buyer: User,
    product_id: Any,
    body: str,
    *,
    idempotency_key: str | None = None,
    attachments: Sequence[Any] = (),
    is_reviewed: bool = False,
) -> Message:
    """ "Ask a question" from a product page. A buyer's questions about one product share one
    conversation with its seller."""
    body = clean_body(body)
    idempotency_key = clean_idempotency_key(idempotency_key)
    require_buyer(buyer)
    product = (
        Product.objects.select_related("storefront__seller").filter(pk=parse_id(product_id)).first()
    )
    if product is None:
        raise NotFound("No such product.", code="product_not_found")
    stored = store_attachments(attachments)
    storefront = product.storefront
    topic_key = topics.product_question(product.pk, buyer.pk)

    def attempt(decisions: send_checks.Decisions) -> Message:
        conversation = _open_conversation(
            topic_key=topic_key,
            kind=Kind.BUYER_SELLER,
            subject=f"Question about {product.title}"[:200],
            members=[(buyer, ParticipantRole.BUYER), (storefront.seller, ParticipantRole.SELLER)],
            buyer=buyer,
            storefront=storefront,
            product=product,
        )
        return _post(
            conversation.pk,
            buyer,
            body,
            idempotency_key,
            stored,
            reopen=True,
            is_reviewed=is_reviewed,
            decisions=decisions,
        )

    return _send_once(
        buyer,
        idempotency_key,
        body,
        topic_key=topic_key,
        attempt=attempt,
        held_as={"send": "product", "product_id": product.pk},
    )


def contact_seller_about_order(
    buyer: User,
    order_id: Any,
    storefront_id: Any,
    body: str,
    *,
    idempotency_key: str | None = None,
    attachments: Sequence[Any] = (),
    is_reviewed: bool = False,
) -> Message:
    """ "Contact seller" from Your Orders. Only the order's buyer can, and only a seller who
    sold something on that order."""
    body = clean_body(body)
    order = Order.objects.filter(pk=parse_id(order_id), buyer=buyer).first()
    if order is None:
        raise NotFound("No such order.", code="order_not_found")
    item = (
        OrderItem.objects.select_related("storefront__seller")
        .filter(order=order, storefront_id=parse_id(storefront_id))
        .first()
    )
    if item is None:
        raise InvalidInput(
            "That seller did not sell anything on this order.", code="seller_not_on_order"
        )
    return _send_about_order(
        order,
        item.storefront,
        buyer,
        body,
        idempotency_key,
        store_attachments(attachments),
        is_reviewed=is_reviewed,
    )


def contact_buyer_about_order(
    seller: User,
    order_id: Any,
    body: str,
    *,
    idempotency_key: str | None = None,
    attachments: Sequence[Any] = (),
    is_reviewed: bool = False,
) -> Message:
    """A seller writes to the buyer of an order it sold on (shipping questions, a
    customisation): the same conversation as the buyer's "Contact seller" for that order.
    Sellers can reach only their own orders' buyers, never buyers at large."""
    body = clean_body(body)
    storefront = Storefront.objects.filter(seller=seller).first()
    item = (
        OrderItem.objects.select_related("order__buyer", "storefront__seller")
        .filter(order_id=parse_id(order_id), storefront=storefront)
        .first()
        if storefront is not None
        else None
    )
    if storefront is None or item is None:
        raise NotFound("No such order.", code="order_not_found")
    return _send_about_order(
        item.order,
        storefront,
        seller,
        body,
        idempotency_key,
        store_attachments(attachments),
        is_reviewed=is_reviewed,
    )


def _send_about_order(
    order: Order,
    storefront: Storefront,
    sender: User,
    body: str,
    idempotency_key: str | None,
    stored: Sequence[StoredFile],
    *,
    is_reviewed: bool,
) -> Message:
    """The one conversation between an order's buyer and one of its sellers, whoever
    writes first."""
    idempotency_key = clean_idempotency_key(idempotency_key)
    topic_key = topics.order_with_seller(order.pk, storefront.pk)

    def attempt(decisions: send_checks.Decisions) -> Message:
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
        return _post(
            conversation.pk,
            sender,
            body,
            idempotency_key,
            stored,
            reopen=True,
            is_reviewed=is_reviewed,
            decisions=decisions,
        )

    return _send_once(
        sender,
        idempotency_key,
        body,
        topic_key=topic_key,
        attempt=attempt,
        held_as={"send": "order", "order_id": order.pk, "storefront_id": storefront.pk},
    )


def contact_customer_service(
    customer: User,
    subject: str,
    body: str,
    *,
    agent: User | None = None,
    order: Order | None = None,
    idempotency_key: str | None = None,
    files: Sequence[StoredFile] = (),
) -> Message:
    """Start a customer-service conversation, optionally with an agent already on it.
    `files`: the customer's attachments, stored by `store_attachments` before the caller's
    transaction (a request by e-mail keeps the e-mail's files)."""
    body = clean_body(body)
    idempotency_key = clean_idempotency_key(idempotency_key)
    subject = clean_text(subject)[:200]
    if not subject:
        raise InvalidInput("A subject is required.", code="subject_required")
    if agent is not None and agent.role != Role.AGENT:
        raise InvalidInput("Only an agent can take a customer-service case.", code="not_an_agent")
    if order is not None and order.buyer_id != customer.pk:
        raise NotFound("No such order.", code="order_not_found")
    members = [(customer, ParticipantRole.BUYER)]
    if agent is not None:
        members.append((agent, ParticipantRole.AGENT))

    def attempt(decisions: send_checks.Decisions) -> Message:
        conversation = _open_conversation(
            topic_key=None,
            kind=Kind.CUSTOMER_SERVICE,
            subject=subject,
            members=members,
            buyer=customer if customer.role == Role.BUYER else None,
            order=order,
        )
        return _post(
            conversation.pk,
            customer,
            body,
            idempotency_key,
            files,
            reopen=False,
            decisions=decisions,
        )

    return _send_once(customer, idempotency_key, body, topic_key=None, attempt=attempt)


def start_customer_service_conversation(
    customer: User,
    subject: str,
    body: str,
    *,
    order: Order | None = None,
    can_reply: bool = True,
    topic_key: str | None = None,
) -> Message:
    """A customer-service conversation customer service starts for a customer (a request
    split in two): the customer as its member, the marketplace's Official message first;
    the customer replies in it like in one they started. `can_reply=False`: a message to
    read (the outcome of a report), which the page points to customer service from.
    `topic_key`: the one conversation of that topic, continued if it exists (a person's
    suspension: topics.account_suspension)."""
    body = clean_body(body)
    subject = clean_text(subject)[:200]
    if not subject:
        raise InvalidInput("A subject is required.", code="subject_required")
    if order is not None and order.buyer_id != customer.pk:
        order = None
    with transaction.atomic():
        conversation = _open_conversation(
            topic_key=topic_key,
            kind=Kind.CUSTOMER_SERVICE,
            subject=subject,
            members=[(customer, ParticipantRole.BUYER if can_reply else ParticipantRole.RECIPIENT)],
            buyer=customer if customer.role == Role.BUYER else None,
            order=order,
        )
        return _post(conversation.pk, None, body, None, [], reopen=False)


def start_claim_conversation(
    buyer: User,
    order: Order,
    storefront: Storefront,
    subject: str,
    body: str,
    *,
    idempotency_key: str | None = None,
    files: Sequence[StoredFile] = (),
) -> Message:
    """A guarantee claim's conversation (kind `claim`, the Claims folder of both), started
    by the buyer's account of what went wrong, with their evidence attached (the
    attachment policy of any message, stored by `store_attachments` before the caller's
    transaction). The seller is in it from the start; agents join when they take the
    case. Called by support's claim action inside its transaction."""
    require_buyer(buyer)
    body = clean_body(body)
    idempotency_key = clean_idempotency_key(idempotency_key)
    if order.buyer_id != buyer.pk:
        raise NotFound("No such order.", code="order_not_found")

    def attempt(decisions: send_checks.Decisions) -> Message:
        conversation = _open_conversation(
            topic_key=None,
            kind=Kind.CLAIM,
            subject=subject[:200],
            members=[(buyer, ParticipantRole.BUYER), (storefront.seller, ParticipantRole.SELLER)],
            buyer=buyer,
            storefront=storefront,
            order=order,
        )
        return _post(
            conversation.pk, buyer, body, idempotency_key, files, reopen=False, decisions=decisions
        )

    return _send_once(buyer, idempotency_key, body, topic_key=None, attempt=attempt)


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
    body = clean_body(body)
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


def post_marketplace_message(conversation_id: int, body: str) -> Message:
    """A message from the marketplace itself in an existing conversation (customer
    service telling a customer their case was received or solved): Official, live and
    e-mailed like any message of its kind."""
    body = clean_body(body)
    with transaction.atomic():
        return _post(conversation_id, None, body, None, [], reopen=False)


def send_message(
    sender: User,
    conversation_id: Any,
    body: str,
    *,
    idempotency_key: str | None = None,
    attachments: Sequence[Any] = (),
    files: Sequence[StoredFile] = (),
    is_reviewed: bool = False,
    sent_by_email: bool = False,
    token: TokenAsRead | None = None,
) -> Message:
    """Reply in a conversation the sender takes part in.

    With an idempotency key, sending again (a retry after a timeout, a double click, a
    flaky phone) returns the first message instead of a second one. `sent_by_email`: a
    reply by e-mail (delivery.inbound), marked so in the conversation; a held one keeps
    the mark for when it is released. `files`: attachments already stored by
    `store_attachments` (a caller inside its own transaction stores them before opening
    it, so a slow disk never holds the write lock). `token`: the API token the sender was
    taken on trust from (accounts.queries.trusted_token), checked unchanged in the send's
    transaction — TokenChanged, and nothing sent, when it is not.
    """
    body = clean_body(body)
    idempotency_key = clean_idempotency_key(idempotency_key)
    stored = [*files, *store_attachments(attachments)]
    conversation_id = parse_id(conversation_id)
    return _send_once(
        sender,
        idempotency_key,
        body,
        conversation_id=conversation_id,
        attempt=lambda decisions: _post(
            conversation_id,
            sender,
            body,
            idempotency_key,
            stored,
            reopen=False,
            is_reviewed=is_reviewed,
            sent_by_email=sent_by_email,
            decisions=decisions,
        ),
        held_as={"send": "reply", "conversation_id": conversation_id}
        | ({"sent_by_email": True} if sent_by_email else {}),
        token=token,
    )


def send_from_a_request(
    agent: User, conversation_id: int, body: str, *, idempotency_key: str | None = None
) -> Message:
    """An agent's message in a buyer–seller conversation, written from the customer-service
    request about it (support's escalation_actions.write_in_conversation, which has checked
    the request — its team, open or pending — holds its locks and writes its history).
    The only way an agent writes there: `send_message` refuses them
    (`write_from_the_request`), whichever way the reply came (page, API, e-mail). Otherwise
    a reply like any other, once per idempotency key."""
    body = clean_body(body)
    idempotency_key = clean_idempotency_key(idempotency_key)
    return _send_once(
        agent,
        idempotency_key,
        body,
        conversation_id=conversation_id,
        attempt=lambda decisions: _post(
            conversation_id,
            agent,
            body,
            idempotency_key,
            [],
            reopen=False,
            from_a_request=True,
            decisions=decisions,
        ),
    )


def _send_once(
    sender: User,
    idempotency_key: str | None,
    body: str,
    *,
    attempt: Callable[[send_checks.Decisions], Message],
    conversation_id: int | None = None,
    topic_key: str | None = None,
    held_as: dict[str, Any] | None = None,
    token: TokenAsRead | None = None,
) -> Message:
    # The checks' work is done here, in the request's own thread, before the send joins
    # a batch (send_checks.Decisions).
    decisions = send_checks.Decisions(sender, body)
    try:
        return _send_or_find(
            sender,
            idempotency_key,
            body,
            attempt=lambda: attempt(decisions),
            conversation_id=conversation_id,
            topic_key=topic_key,
            token=token,
        )
    except MessageHeld as held:
        # The send's transaction is rolled back: nothing reached the conversation. The
        # message waits for review (docs/safety.md#hold), recorded in a transaction of its own.
        send_checks.record_held(sender, held_as or {}, body, held.decision, idempotency_key)
        raise


def _send_or_find(
    sender: User,
    idempotency_key: str | None,
    body: str,
    *,
    attempt: Callable[[], Message],
    conversation_id: int | None,
    topic_key: str | None,
    token: TokenAsRead | None = None,
) -> Message:
    # Committed together with the process's other sends waiting at this moment
    # (db/group_commit.py); alone, at once, when there are none.
    batch_key = (
        None
        if conversation_id is None
        else _SendKey(conversation_id, sender.pk, idempotency_key, token)
    )

    def send(work: Callable[[], Message]) -> Message:
        if token is None:
            return SENDS.run(work, key=batch_key)

        def with_token_unchanged() -> Message:
            # First, before a message found by its key is given back too.
            reads = group_commit.prepared()
            require_unchanged(token, reads.tokens if isinstance(reads, _BatchReads) else None)
            return work()

        return SENDS.run(with_token_unchanged, key=batch_key)

    if idempotency_key is None:
        return send(attempt)
    key = idempotency_key

    def unless_sent() -> Message:
        return _message_for_key(sender, key) or attempt()

    existing: Message | None
    try:
        existing = send(unless_sent)
        if not existing.found_by_idempotency_key:
            return existing
    except IntegrityError:
        # Another request with this key committed between our check and our insert.
        existing = _message_for_key(sender, idempotency_key)
        if existing is None:
            raise
    # A masked message keeps what its recipients see, not what was typed.
    if (body != existing.body and not existing.is_masked) or (
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


@dataclass(frozen=True)
class _SendKey:
    """What a send in a batch reads, for the batch to read for all its sends at once
    (`_prepare_batch`): its conversation's participants, its sender's idempotency key, the
    API token its sender was taken on trust from."""

    conversation_id: int
    sender_id: int
    idempotency_key: str | None
    token: TokenAsRead | None = None


def _prepare_batch(keys: list[_SendKey]) -> "_BatchReads":
    """A batch's locks and reads, before its sends run (group_commit.GroupCommitter).

    The locks: everything the sends will lock, in the order every other action takes
    them (participants, then what the message hooks lock — a case's team —, then the
    senders' sending-limit counts, then unread counters, then event streams), each class
    in key order; each send then finds its locks already held. Taken send by send
    instead, a batch would hold one send's event streams while asking for the next
    send's counters, and a mark-read holding that counter and asking for its event stream
    would close a cycle (PostgreSQL found exactly that, decision 0010). The unread
    counters and event streams come last and only the batch's piled writes touch them
    (group_commit.together): they are taken right before those writes
    (`_BatchReads.before_flush`), so that a seller's counters and stream, which every
    buyer's message writes, are held for the end of a batch only — taken here, they made
    the two processes' batches run one after the other (docs/benchmarks.md). SQLite has
    no row locks to order (the batch's BEGIN IMMEDIATE already holds the one write lock,
    db/sqlite3): there nothing is locked here.

    The reads: the API tokens of senders taken on trust (accounts.queries.trusted_token),
    which each such send checks unchanged before anything else, in one statement where
    each request read its own (decision 0015); the participants of the batch's
    conversations (locked, as each send would lock its own), in one statement instead of
    one per send; its senders' sending-limit counts (locked on PostgreSQL), which its
    sends count in and the batch writes once (safety/limits.py); and which of its
    senders' idempotency keys were used already (`_KEYS_USED`)."""
    trusted = [key.token.secret_hash for key in keys if key.token is not None]
    tokens = token_rows(trusted) if trusted else None
    conversation_ids = sorted({key.conversation_id for key in keys})
    participants: dict[int, list[Participant]] = {}
    if conversation_ids:
        for participant in _LOCKED_PARTICIPANTS(*conversation_ids, shape=len(conversation_ids)):
            participants.setdefault(participant.conversation_id, []).append(participant)
    people = sorted({p.user_id for rows in participants.values() for p in rows})
    if connection.features.has_select_for_update and participants:
        # What the apps' message hooks lock (support: the case's team) comes right after the
        # participants, where their own actions take it (docs/support.md, "Lock order").
        hooks.lock_for_batch(
            [
                (conversation_id, rows[0].conversation.kind)
                for conversation_id, rows in participants.items()
            ]
        )
    # What a send's checks update (the senders' sending-limit counts) comes next, where a
    # send alone takes it: read for the batch's senders (and locked, on PostgreSQL), so
    # that each send counts in what was read and the batch writes the rows once.
    limits = send_checks.LimitReads(sorted({key.sender_id for key in keys}))
    pairs = sorted({(k.sender_id, k.idempotency_key) for k in keys if k.idempotency_key})
    used = (
        {(sender_id, key) for _, sender_id, key in _KEYS_USED(*_flat(pairs), shape=len(pairs))}
        if pairs
        else set()
    )
    # The ids of the sends' messages, handed out at once: each send's message is then
    # inserted with the batch's others, in one statement (`_insert_message`).
    message_ids = reserved_ids(Message, len(keys)) if keys else None
    return _BatchReads(
        participants,
        people,
        limits,
        probed=set(pairs),
        used=used,
        message_ids=message_ids,
        tokens=tokens,
    )


def _flat(pairs: list[tuple[int, str]]) -> list[int | str]:
    return [value for pair in pairs for value in pair]


def _keys_used(*values: Any, shape: int) -> Any:
    """The batch's (sender, idempotency key) pairs that name a message already: one probe
    of the unique index on (sender, key) per pair, UNION ALL, whatever the planner's
    statistics say — a read of all pairs in one condition was planned from stale
    statistics (PostgreSQL without autovacuum, as on the benchmark machine) as a scan of
    each sender's keyed messages, thousands for a busy sender, or of the whole index
    (107 ms), and made sends 30 % slower (docs/benchmarks.md)."""
    probes = [
        Message.objects.filter(
            sender_id=values[2 * pair], idempotency_key=values[2 * pair + 1]
        ).values_list("pk", "sender_id", "idempotency_key")
        for pair in range(shape)
    ]
    return probes[0].union(*probes[1:], all=True) if shape > 1 else probes[0]


_KEYS_USED = CompiledRows(_keys_used)


class _BatchReads:
    """What a batch read for its sends (`_prepare_batch`), and the participants its sends
    read for themselves (a conversation started in the batch). A conversation's
    participants are handed to each of its sends in the batch as the same instances,
    which each send brings up to date as it writes them (`_update_participants`): the
    rows themselves are written once, for the whole batch, after its last send
    (group_commit.together, early), so a second send in the same conversation must see
    what the first one changed there, not read the rows again. A batch whose send failed
    runs again in a new transaction, `_prepare_batch` first (its locks), each send in a
    savepoint of its own reading for itself, without these (group_commit)."""

    def __init__(
        self,
        participants: dict[int, list[Participant]],
        people: list[int],
        limits: send_checks.LimitReads,
        *,
        probed: set[tuple[int, str]],
        used: set[tuple[int, str]],
        message_ids: list[int] | None,
        tokens: TokenRows | None,
    ) -> None:
        self._participants = participants
        # The rows of the API tokens its senders were taken on trust from (token_rows).
        self.tokens = tokens
        self._people = people
        # Ids handed out for the batch's messages, used in the sends' order.
        self._message_ids = iter(message_ids or ())
        # The senders' sending-limit counts, as the batch's sends leave them.
        self.limits = limits
        self._recipient_reads: send_checks.RecipientReads | None = None
        self._probed, self._used = probed, used

    def key_is_new(self, sender_id: int, idempotency_key: str) -> bool:
        """True when the batch found no message with this sender's key (a send of the
        batch may still use it: its INSERT then fails on the unique key, and every send
        runs again alone, where the other finds it)."""
        pair = (sender_id, idempotency_key)
        return pair in self._probed and pair not in self._used

    def message_id(self) -> int | None:
        """An id handed out for the batch's next message; None when none are left."""
        return next(self._message_ids, None)

    def recipient_reads(self) -> send_checks.RecipientReads:
        """What the recipient checks (blocks) read for every send of the batch, read by
        the first send that needs them."""
        if self._recipient_reads is None:
            self._recipient_reads = send_checks.RecipientReads(self._people)
        return self._recipient_reads

    def participants(self, conversation_id: int) -> list[Participant] | None:
        """The conversation's participants, locked, as the batch's sends left them; None
        when the batch has not read them."""
        return self._participants.get(conversation_id)

    def keep(self, conversation_id: int, participants: list[Participant]) -> None:
        """Participants a send of the batch read (and locked) for itself."""
        self._participants[conversation_id] = participants

    def before_flush(self) -> None:
        if not connection.features.has_select_for_update or not self._people:
            return
        shape = len(self._people)
        _LOCK_COUNTERS.lock(*self._people, shape=shape)
        _LOCK_EVENT_STREAMS.lock(*self._people, shape=shape)


# Every batch's, compiled once per number of people: built and compiled on each batch,
# these two were a twentieth of the writer's time (docs/benchmarks.md).
_LOCK_COUNTERS = people_rows_locker(UnreadCounter, "user_id", "key")
_LOCK_EVENT_STREAMS = people_rows_locker(EventStream, "user_id")


# One per process: its request threads hand their sends to it (db/group_commit.py).
SENDS = group_commit.GroupCommitter[_SendKey](prepare=_prepare_batch)


_MESSAGE_FOR_KEY = CompiledQuery(
    lambda sender_id, idempotency_key: Message.objects.select_related("conversation").filter(
        sender_id=sender_id, idempotency_key=idempotency_key
    )[:1]
)


def _message_for_key(sender: User, idempotency_key: str) -> Message | None:
    """The sender's message with this key, marked as found (the API answers 200). In a
    batch that probed the key and found none (`_KEYS_USED`), None without a statement;
    otherwise one probe of the unique index on (sender, key)."""
    reads = group_commit.prepared()
    if isinstance(reads, _BatchReads) and reads.key_is_new(sender.pk, idempotency_key):
        return None
    message = next(iter(_MESSAGE_FOR_KEY(sender.pk, idempotency_key)), None)
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
    is_reviewed: bool = False,
    sent_by_email: bool = False,
    from_a_request: bool = False,
    decisions: send_checks.Decisions | None = None,
) -> Message:
    """Add a message to a conversation and bring every participant's view up to date.

    `reopen`: the sender may be someone who deleted the conversation (asking a seller again
    about the same product); otherwise a deleted conversation is not theirs to reply in.
    `from_a_request`: an agent writing in a buyer–seller conversation from the request
    about it (send_from_a_request); without it an agent is refused there.
    `decisions`: the checks' decisions on the body, made before the transaction
    (send_checks.Decisions); made here when not given.
    """
    now = timezone.now()
    participants = _lock_participants(conversation_id)
    sending = _sending_participant(
        participants, sender, reopen=reopen, from_a_request=from_a_request
    )
    _refuse_closed_counterpart(participants, sending)
    safety = _safety_check(
        participants,
        sending,
        sender,
        decisions or send_checks.Decisions(sender, body),
        is_reviewed=is_reviewed,
    )
    message = _insert_message(
        participants, sender, safety, idempotency_key, files, now, sent_by_email=sent_by_email
    )
    # Searchable exactly when it exists (in this transaction), by everyone in the
    # conversation (docs/search.md).
    group_commit.together(_index, [(message, [p.user_id for p in participants])])
    _move_last_message(message, now)
    hook_events = _tell_hooks(message, sending, now)
    arrival = _arrival(participants, sending, message, now)
    _update_participants(
        arrival, participants, sending, message, now, _response_due(participants, sending, now)
    )
    group_commit.together(_count, [arrival.deltas])
    group_commit.together(record_events, [*arrival.events, *hook_events])
    group_commit.together(record_emails_of_messages, [_new_message(participants, arrival, message)])
    away = _away_seller(participants, sending, now)
    if away is not None:
        _post_away_reply(participants, away, now)
    return message


def _away_seller(
    participants: list[Participant], sending: Participant | None, now: datetime
) -> Participant | None:
    """The seller's row when a buyer's message is owed their away message: a buyer wrote
    in a buyer–seller conversation (not order updates, customer service or a claim) while
    the seller is away, neither of them has blocked the other, and the conversation has
    had no automatic reply this away period.
    Told from the rows the send read already (the seller's user row comes with their
    participant row): no query when the seller is not away."""
    if sending is None or sending.role != ParticipantRole.BUYER:
        return None
    if participants[0].conversation.kind != Kind.BUYER_SELLER:
        return None
    seller = next((p for p in participants if p.role == ParticipantRole.SELLER), None)
    if seller is None or not seller.user.is_away(now):
        return None
    if seller.is_blocked_by_other_side or seller.has_blocked_other_side:
        # A block between the two (set_aside_waits_between): the reply is the seller's
        # message, which a buyer who blocked the shop refused, and a blocked buyer is
        # owed nothing from it.
        return None
    replied = seller.away_replied_at
    if (
        replied is not None
        and seller.user.away_from is not None
        and replied >= seller.user.away_from
    ):
        return None
    return seller


def _post_away_reply(participants: list[Participant], seller: Participant, now: datetime) -> None:
    """The seller's away message, posted in the conversation right after the buyer's
    message, in the same transaction (docs/conversations.md, "Away message"). It is the
    seller's (shown under the shop's name) but labelled an automatic reply, and it is not
    their response: the buyer's wait and its deadline run on (they can still ask customer
    service to step in), the seller's own row is left as the buyer's message left it
    (still unread for them; only the once-per-period mark moves), and no response time is
    recorded. Not e-mailed: the buyer has just written (and is told on the page, live);
    a digest of it would read as the seller's answer. No hooks: it is no reply for
    customer service's request either."""
    away = unique_row(AwayMessage.objects.filter(seller_id=seller.user_id))
    seller.away_replied_at = now
    Participant.objects.filter(pk=seller.pk).update(away_replied_at=now)
    if away is None:
        return
    user = seller.user
    assert user.away_until is not None
    buyer = next(p.user for p in participants if p.role == ParticipantRole.BUYER)
    body = f"{user.public_name} is away until {for_readers(user.away_until, buyer)}.\n\n{away.body}"
    decision = SendDecision(
        body,
        verdict=away.safety_verdict,
        reasons=away.safety_reasons,
        is_masked=away.is_masked,
        version=away.safety_version,
    )
    message = _insert_message(participants, user, decision, None, (), now, automatic=True)
    group_commit.together(_index, [(message, [p.user_id for p in participants])])
    _move_last_message(message, now)
    others = [p for p in participants if p is not seller]
    arrival = _arrival(others, None, message, now)
    notified = set(arrival.notified)
    for participant in others:
        participant.unread_count += 1
        participant.last_activity_at = now
        if participant.pk in notified:
            participant.box, participant.trashed_at, participant.is_seen = Box.INBOX, None, False
    # The seller's devices show it in the conversation; their counts do not move.
    if seller.box != Box.DELETED and shown(user, seller.folder):
        arrival.events.append(
            PendingEvent(
                seller.user_id,
                EventKind.MESSAGE_CREATED,
                {
                    "conversation_id": message.conversation_id,
                    "message_id": message.pk,
                    "sender_name": message.sender_name,
                    "preview": message.body[:PREVIEW_CHARS],
                    "folder": seller.folder,
                    "box": seller.box,
                    "unread_count": seller.unread_count,
                    "is_muted": seller.is_muted(now),
                    "created_at": now.isoformat(),
                },
            )
        )
    group_commit.together(_write_participants, others, early=True)
    group_commit.together(_count, [arrival.deltas])
    group_commit.together(record_events, arrival.events)


# What every send appends, written once for a whole batch of sends, one statement per table
# (db/group_commit.together): nothing in a send reads these rows back before the commit.
# Alone, a send writes them at once, as it always did.


def _index(sent: list[tuple[Message, list[int]]]) -> None:
    index_messages(
        [message for message, _ in sent],
        members={message.conversation_id: members for message, members in sent},
    )


def _count(moves: list[dict[tuple[int, str], int]]) -> None:
    deltas: Counter[tuple[int, str]] = Counter()
    for move in moves:
        deltas.update(move)
    apply_counter_deltas(deltas)


def _tell_hooks(message: Message, sending: Participant | None, now: datetime) -> list[PendingEvent]:
    """Apps above (support: a customer's reply reopens their case) act in this
    transaction, after the participants' locks; their events join this send's."""
    kind = message.conversation.kind
    if not hooks.has_message_hooks(kind):
        return []
    return hooks.message_posted(
        hooks.PostedMessage(
            conversation_id=message.conversation_id,
            kind=kind,
            message_id=message.pk,
            sender_id=message.sender_id,
            sender_role=sending.role if sending is not None else None,
            created_at=now,
        )
    )


def _lock_participants(conversation_id: int) -> list[Participant]:
    """The conversation's participant rows, locked in id order. The conversation (and its
    order) come along for the search document, each person's user row for whether the
    conversation is shown to them (queries.shown); only the participant rows are locked.
    In a batch, the batch's (`_BatchReads`), as its earlier sends left them."""
    reads = group_commit.prepared()
    participants = reads.participants(conversation_id) if isinstance(reads, _BatchReads) else None
    if participants is None:
        participants = _LOCKED_PARTICIPANTS(conversation_id, shape=1)
        if participants and isinstance(reads, _BatchReads):
            reads.keep(conversation_id, participants)
    if not participants:
        raise NotFound("No such conversation.", code="conversation_not_found")
    return participants


# The send's statements are compiled once per process (rows.CompiledQuery):
# Django compiling each of them again on every send cost more than the database took to run
# them (docs/benchmarks.md, "Send: the lean statement path").
# For one conversation (a send alone) or all of a batch's (`_prepare_batch`).
_LOCKED_PARTICIPANTS = CompiledQuery(
    lambda *conversation_ids, shape: (
        Participant.objects.select_for_update(of=("self",))
        .select_related("conversation__order", "user")
        .filter(conversation_id__in=conversation_ids)
        .order_by("conversation_id", "id")
    )
)


def _sending_participant(
    participants: list[Participant],
    sender: User | None,
    *,
    reopen: bool,
    from_a_request: bool = False,
) -> Participant | None:
    """The sender's own row (None for the marketplace itself): the same NotFound as a
    missing conversation when they are not in it, no answers to the marketplace, and no
    agent in a buyer–seller conversation but from the request about it (its checks and
    history are support's: queries.written_from_the_request)."""
    if sender is None:
        return None
    sending = next((p for p in participants if p.user_id == sender.pk), None)
    if sending is None or (sending.box == Box.DELETED and not reopen):
        raise NotFound("No such conversation.", code="conversation_not_found")
    if sending.role == ParticipantRole.RECIPIENT:
        raise NotAllowed(
            "Messages from the marketplace's systems cannot be answered; contact customer "
            "service instead.",
            code="cannot_reply",
        )
    if not from_a_request and (refusal := written_from_the_request(sending)):
        raise NotAllowed(refusal, code="write_from_the_request")
    return sending


# Who reads a buyer's or a seller's message in a conversation between them.
_OTHER_SIDE: dict[str, str] = {
    ParticipantRole.BUYER: ParticipantRole.SELLER,
    ParticipantRole.SELLER: ParticipantRole.BUYER,
}


def _refuse_closed_counterpart(
    participants: list[Participant], sending: Participant | None
) -> None:
    """A buyer–seller message nobody would read: the other side's account is closed —
    erased (their row of the conversation is gone) or suspended (inactive; the locked rows
    carry each person's user row). Refused before anything is written: no message, no
    event, no e-mail (queries.closed_counterpart says so on the page and in the API), with
    the same words: closed for good, or suspended for now."""
    if sending is None or participants[0].conversation.kind != Kind.BUYER_SELLER:
        return
    other_role = _OTHER_SIDE.get(sending.role)
    if other_role is None:
        return
    is_shop = other_role == ParticipantRole.SELLER
    other = next((p for p in participants if p.role == other_role), None)
    if other is None:
        reason: str | None = CLOSED_SHOP if is_shop else CLOSED_BUYER
    else:
        reason = closed_account(other.user, is_shop=is_shop)
    if reason is not None:
        raise Conflict(reason, code="recipient_closed")


def _safety_check(
    participants: list[Participant],
    sending: Participant | None,
    sender: User | None,
    decisions: send_checks.Decisions,
    *,
    is_reviewed: bool,
) -> SendDecision:
    """The safety check (docs/safety.md), through the registry the safety app fills: the
    verdict, made before the transaction, costs no query here; a hold raises (the send is
    rolled back, the message kept for review); blocks are read once, refused or noted."""
    conversation = participants[0].conversation
    decision = decisions.for_kind(conversation.kind)
    if decision.verdict == "hold" and not is_reviewed:
        raise MessageHeld(decision)
    # Blocks (docs/safety.md#blocking): one read, for the whole batch in a batch; refused,
    # or noted when it is about the recipient's order.
    reads = group_commit.prepared()
    notes = send_checks.check_recipients(
        sender,
        conversation,
        [p.user_id for p in participants if p is not sending],
        reads.recipient_reads() if isinstance(reads, _BatchReads) and sender is not None else None,
    )
    # Sending limits (docs/safety.md#sending-limits): one upsert of the sender's counts.
    # Writing to customer service is never a first contact with someone: a restricted
    # person may still ask for help, and a suspended one appeal (docs/safety.md#appeals).
    # In a batch: counted in what the batch read for its senders, written once for it.
    send_checks.count_send(
        sender,
        conversation,
        is_first_contact=conversation.kind != Kind.CUSTOMER_SERVICE
        and not any(p.has_written for p in participants if p is not sending),
        reads=reads.limits if isinstance(reads, _BatchReads) else None,
    )
    return replace(
        decision,
        # A released hold is delivered with its warning.
        verdict="warn" if decision.verdict == "hold" else decision.verdict,
        reasons=decision.reasons + notes,
    )


def _insert_message(
    participants: list[Participant],
    sender: User | None,
    safety: SendDecision,
    idempotency_key: str | None,
    files: Sequence[StoredFile],
    now: datetime,
    *,
    sent_by_email: bool = False,
    automatic: bool = False,
) -> Message:
    message = Message(
        conversation=participants[0].conversation,
        sender=sender,
        body=safety.body,
        created_at=now,
        sent_by_email=sent_by_email,
        is_automatic_reply=automatic,
        idempotency_key=idempotency_key,
        safety_verdict=safety.verdict,
        safety_reasons=safety.reasons,
        is_masked=safety.is_masked,
        safety_version=safety.version,
    )
    reads = group_commit.prepared()
    message_id = reads.message_id() if isinstance(reads, _BatchReads) and not files else None
    if message_id is None:
        insert_objects([message])
    else:
        # Inserted with the batch's other messages, in one statement, after its last
        # send: the id was handed out before (`_prepare_batch`), and nothing in a send
        # reads the message's row back (its other rows refer to it by this id; the
        # foreign keys are checked at the commit).
        message.pk = message_id
        group_commit.together(_insert_messages, [message], early=True)
    # What the answer lists (Message.listed_attachments): known here, so not read again
    # after the commit. The attribute a page's prefetch fills (queries.py, to_attr).
    message.fetched_attachments = []  # type: ignore[attr-defined]
    if files:
        names = keep_files(files)
        message.fetched_attachments = Attachment.objects.bulk_create(  # type: ignore[attr-defined]
            Attachment(
                message=message,
                file=name,
                filename=stored.filename,
                content_type=stored.content_type,
                size=stored.size,
                sha256=stored.sha256,
            )
            for stored, name in zip(files, names, strict=True)
        )
    return message


def _insert_messages(messages: list[Message]) -> None:
    insert_objects(messages, with_ids=True)


def _move_last_message(message: Message, now: datetime) -> None:
    # The caller gets the message with its conversation as it now is in the database
    # (the participant locks make the count exact).
    conversation = message.conversation
    conversation.last_message, conversation.last_message_at = message, now
    conversation.message_count += 1
    # Written with the batch's other sends' (one UPDATE), before the locks its piled rows
    # take: where the conversation's own UPDATE took its row lock when run send by send.
    group_commit.together(
        _write_conversations, [(message.conversation_id, message.pk, now)], early=True
    )


def _write_conversations(moves: list[tuple[int, int, datetime]]) -> None:
    """(conversation id, message id, its moment) of each message sent: each conversation's
    last message and count, one UPDATE for all. The count is added to the row's, not
    set: the conversation row is not locked, only its participants are."""
    last: dict[int, tuple[int, datetime]] = {}
    counts: Counter[int] = Counter()
    for conversation_id, message_id, now in moves:
        counts[conversation_id] += 1
        if conversation_id not in last or message_id > last[conversation_id][0]:
            last[conversation_id] = (message_id, now)
    update_rows(
        Conversation,
        ["last_message_id", "last_message_at", "message_count"],
        # In id order, the order every action locks rows of one kind in.
        [(pk, *last[pk], counts[pk]) for pk in sorted(last)],
        added=["message_count"],
    )


@dataclass
class _Arrival:
    """What a new message does to each participant's view: who is notified (and comes back
    to the inbox), who has it muted, how counters move, and the events to record."""

    notified: list[int] = field(default_factory=list)
    muted: list[int] = field(default_factory=list)
    deltas: dict[tuple[int, str], int] = field(default_factory=lambda: defaultdict(int))
    events: list[PendingEvent] = field(default_factory=list)


def _arrival(
    participants: list[Participant],
    sending: Participant | None,
    message: Message,
    now: datetime,
) -> _Arrival:
    arrival = _Arrival()
    preview = message.body[:PREVIEW_CHARS]
    sender_name = message.sender.public_name if message.sender is not None else "Marketplace"
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
            arrival.muted.append(participant.pk)
        else:
            # A new message brings a conversation back to the inbox.
            new_box, new_unread, new_seen = Box.INBOX, participant.unread_count + 1, False
            arrival.notified.append(participant.pk)
        count_transition(arrival.deltas, participant, new_box, new_unread, new_seen)
        # A promotion conversation hidden by the person's switch is not news on their
        # devices either: no event, so no badge refresh or "1 new message" (its counts
        # are taken off when read, conversations.queries.fold_counter_rows).
        if new_box != Box.DELETED and shown(participant.user, participant.folder):
            arrival.events.append(
                PendingEvent(
                    participant.user_id,
                    EventKind.MESSAGE_CREATED,
                    {
                        "conversation_id": message.conversation_id,
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
    return arrival


def _response_due(
    participants: list[Participant], sending: Participant | None, now: datetime
) -> datetime | None:
    """The deadline of the wait a buyer's message starts: only when the seller is not
    already waiting to answer (a second question does not move the first's deadline).
    Only in a buyer–seller conversation: a guarantee claim's seller answers within the
    claim's own window (support's Claim), never the business-day one nor its sweep."""
    if sending is None or sending.role != ParticipantRole.BUYER:
        return None
    if participants[0].conversation.kind != Kind.BUYER_SELLER:
        return None
    seller = next(
        (p for p in participants if p.role == ParticipantRole.SELLER and p.response_due_at is None),
        None,
    )
    if seller is None:
        return None
    if seller.is_blocked_by_other_side or seller.has_blocked_other_side:
        # A block between the two set the wait aside (set_aside_waits_between): a buyer
        # who blocked the shop and writes again gives it no deadline it could not meet.
        return None
    return seller_response_due(seller.user_id, seller.awaiting_response_since or now)


def _update_participants(
    arrival: _Arrival,
    participants: list[Participant],
    sending: Participant | None,
    message: Message,
    now: datetime,
    response_due: datetime | None,
) -> None:
    """Each participant as the message leaves it, changed in place — the rows are locked,
    so what they hold is what was read and changed here — and written once with the
    batch's other sends' (one UPDATE for every row a batch changes, setting what each now
    holds), before the locks the batch's piled rows take."""
    # A buyer's message starts a seller's wait for an answer (if one is not running), due
    # on the seller's business-day calendar (docs/escalation.md). Not in a guarantee
    # claim's conversation: there the seller owes the claim's formal response, which only
    # the claim starts and ends (claim_waits.py) — a plain reply must not read as one.
    is_claim = participants[0].conversation.kind == Kind.CLAIM
    from_buyer = sending is not None and sending.role == ParticipantRole.BUYER and not is_claim
    # Everyone but the sender is notified or has it muted (_arrival).
    notified = set(arrival.notified)
    for participant in participants:
        if participant is sending:
            continue
        participant.unread_count += 1
        participant.last_activity_at = now
        if participant.pk in notified:
            # A new message brings the conversation back to their inbox (a muted one stays
            # where it is).
            participant.box, participant.trashed_at, participant.is_seen = Box.INBOX, None, False
        # Not on a copy that stays deleted (muted, then deleted for ever): the seller can
        # neither see that wait nor answer or dismiss it, yet the sweep passed its deadline
        # and the figures counted it against them.
        if participant.role == ParticipantRole.SELLER and participant.box != Box.DELETED:
            if from_buyer and participant.awaiting_response_since is None:
                participant.awaiting_response_since = now
            if response_due is not None and participant.response_due_at is None:
                participant.response_due_at = response_due
    if sending is not None:
        # A seller's answer ends the buyer's wait (_answered_wait reads it first).
        answered = not is_claim and _answered_wait(sending, message.conversation_id, now)
        sending.box, sending.trashed_at, sending.unread_count = Box.INBOX, None, 0
        sending.is_seen, sending.has_written = True, True
        sending.last_read_message_id = message.pk
        sending.last_activity_at = now
        if answered:
            sending.awaiting_response_since = sending.response_due_at = None
            sending.is_response_overdue = False
    group_commit.together(_write_participants, participants, early=True)


# What a message changes in its participants' rows (_update_participants).
_PARTICIPANT_COLUMNS = (
    "box",
    "trashed_at",
    "unread_count",
    "is_seen",
    "last_read_message_id",
    "last_activity_at",
    "has_written",
    "awaiting_response_since",
    "response_due_at",
    "is_response_overdue",
)


def _write_participants(changed: list[Participant]) -> None:
    """The participants a batch's messages changed, each once (a row two sends changed is
    the same instance: `_BatchReads`), as they now are."""
    rows = {participant.pk: participant for participant in changed}
    update_rows(
        Participant,
        _PARTICIPANT_COLUMNS,
        [
            (pk, *(getattr(rows[pk], column) for column in _PARTICIPANT_COLUMNS))
            for pk in sorted(rows)
        ],
    )


def _new_message(
    participants: list[Participant], arrival: _Arrival, message: Message
) -> NewMessage:
    # Agents work in the Message Center itself; everyone else notified may get e-mail.
    notified = set(arrival.notified)
    conversation = message.conversation
    return NewMessage(
        message_id=message.pk,
        kind=conversation.kind,
        subject=conversation.subject,
        recipient_ids=[
            p.user_id for p in participants if p.pk in notified and p.role != ParticipantRole.AGENT
        ],
        now=message.created_at,
    )


def _answered_wait(sending: Participant, conversation_id: int, now: datetime) -> bool:
    """A seller replying ends the buyer's wait and its deadline (True: _WROTE clears them),
    and the wait is recorded for the seller's response-time and late-response figures."""
    if sending.role != ParticipantRole.SELLER or sending.awaiting_response_since is None:
        return False
    ResponseTime.objects.create(
        seller_id=sending.user_id,
        conversation_id=conversation_id,
        asked_at=sending.awaiting_response_since,
        answered_at=now,
        due_at=sending.response_due_at,
    )
    return True


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
    # A block between the buyer and the shop's seller stands on their rows from the start,
    # as the block wrote it on their older conversations (set_aside_waits_between): the
    # blocked side is offered no reply, and the seller's wait gets no deadline. One read,
    # only for a new buyer–seller conversation.
    blocks: frozenset[tuple[int, int]] = frozenset()
    if kind == Kind.BUYER_SELLER and buyer is not None and storefront is not None:
        blocks = send_checks.blocks_among([buyer.pk, storefront.seller_id])
    Participant.objects.bulk_create(
        Participant(
            conversation=conversation,
            user=user,
            role=role,
            folder=folder,
            last_activity_at=now,
            has_blocked_other_side=any(blocker == user.pk for blocker, _ in blocks),
            is_blocked_by_other_side=any(blocked == user.pk for _, blocked in blocks),
        )
        for user, role in members
    )
    UnreadCounter.objects.bulk_create(
        [UnreadCounter(user=user, key=key) for user, _ in members for key in COUNTER_KEYS],
        ignore_conflicts=True,
    )
    return conversation
