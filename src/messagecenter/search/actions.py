"""Writes to the search index (docs/search.md): a document per message and a mailbox row
per message and participant, in the transaction that creates the message, and a rebuild
from all messages in batches."""

from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence

from django.db import transaction
from django.db.models import Q

from messagecenter.conversations.models import Conversation, Message, Participant
from messagecenter.rows import insert_rows
from messagecenter.search.backends import optimize_index
from messagecenter.search.broadcasts import broadcast_source
from messagecenter.search.models import BroadcastDocument, MailboxMessage, SearchDocument
from messagecenter.search.tokens import document, folded, token_texts

MARKETPLACE_NAME = "Marketplace"
REBUILD_BATCH_SIZE = 500


def index_messages(
    messages: Sequence[Message], *, members: Mapping[int, Sequence[int]] | None = None
) -> None:
    """Write the search documents of new messages, and put each in the mailbox of everyone
    in its conversation. Called by conversations.actions inside the transaction that
    inserts them, so a message is searchable exactly when it exists.

    `members`: the user ids of each conversation's participants, when the caller has them
    (the send path has just locked them); otherwise they are read.

    Costs two INSERTs, plus one SELECT for the conversations' subjects and order numbers
    when the messages do not carry them already (select_related) and one for the members
    when they are not given.
    """
    if not messages:
        return
    subjects: dict[int, tuple[str, str | None]] = {}
    missing = {
        message.conversation_id
        for message in messages
        if not Message.conversation.is_cached(message)
    }
    if missing:
        subjects = {
            conversation_id: (subject, order_number)
            for conversation_id, subject, order_number in Conversation.objects.filter(
                pk__in=missing
            ).values_list("pk", "subject", "order__number")
        }
    for message in messages:
        if message.conversation_id not in subjects:
            conversation = message.conversation
            order = conversation.order
            subjects[message.conversation_id] = (
                conversation.subject,
                order.number if order is not None else None,
            )
    # Rows as tuples (rows.insert_rows): the statements are written once per process, and
    # no model instance is built for each row of each send.
    insert_rows(
        SearchDocument,
        _DOCUMENT_COLUMNS,
        [_document(message, *subjects[message.conversation_id]) for message in messages],
    )
    if members is None:
        members = _members({message.conversation_id for message in messages})
    insert_rows(
        MailboxMessage,
        ("message_id", "user_id", "created_at"),
        [
            (message.pk, user_id, message.created_at)
            for message in messages
            for user_id in members.get(message.conversation_id, ())
        ],
    )


def index_broadcast(broadcast_id: int, subject: str, body: str) -> None:
    """Write the search document of a new broadcast (notice or promotion): one row however
    many people its audience holds. Called by notifications.actions inside the transaction
    that schedules it, so it is searchable exactly when it exists; who may find it is read
    when searching (search/broadcasts.py). One INSERT."""
    BroadcastDocument.objects.create(**broadcast_document(broadcast_id, subject, body))


def broadcast_document(broadcast_id: int, subject: str, body: str) -> dict[str, object]:
    """A broadcast's document, made like a message's: subject, the marketplace's name (the
    sender people see on it) and body."""
    subject_tokens = token_texts(subject)
    return {
        "broadcast_id": broadcast_id,
        "tokens": document([subject_tokens, token_texts(MARKETPLACE_NAME), token_texts(body)]),
        "subject_tokens": " ".join(subject_tokens),
    }


def add_to_mailboxes(conversation_id: int, user_ids: Sequence[int]) -> None:
    """Put a conversation's messages so far in the mailboxes of people who join it after it
    started (the search finds what a participant can see: the whole conversation). Whoever
    adds a Participant to an existing conversation calls this in the same transaction."""
    MailboxMessage.objects.bulk_create(
        MailboxMessage(message_id=message_id, user_id=user_id, created_at=created_at)
        for message_id, created_at in Message.objects.filter(
            conversation_id=conversation_id
        ).values_list("pk", "created_at")
        for user_id in user_ids
    )


def remove_from_mailboxes(conversation_id: int, user_ids: Sequence[int]) -> None:
    """The other way: people who leave a conversation no longer find its messages."""
    MailboxMessage.objects.filter(
        user_id__in=user_ids,
        message_id__in=Message.objects.filter(conversation_id=conversation_id).values("pk"),
    ).delete()


def rebuild_search_index(
    *,
    batch_size: int = REBUILD_BATCH_SIZE,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Write every message's document and mailbox rows again, in id order, one transaction
    per batch (new messages arriving meanwhile index themselves), then every broadcast's
    document. Returns how many messages and broadcasts it indexed."""
    last_id = 0
    indexed = 0
    while True:
        with transaction.atomic():
            batch = list(
                Message.objects.filter(pk__gt=last_id)
                .select_related("conversation__order", "sender__storefront")
                .order_by("pk")[:batch_size]
            )
            if not batch:
                break
            written = Q(message_id__gt=last_id, message_id__lte=batch[-1].pk)
            SearchDocument.objects.filter(written).delete()
            MailboxMessage.objects.filter(written).delete()
            index_messages(batch)
        last_id = batch[-1].pk
        indexed += len(batch)
        if progress is not None:
            progress(indexed)
    indexed += _rebuild_broadcast_documents(batch_size, progress, indexed)
    optimize_index()
    return indexed


def _rebuild_broadcast_documents(
    batch_size: int, progress: Callable[[int], None] | None, indexed_before: int
) -> int:
    """Every broadcast's document again, in id order, a batch per transaction."""
    last_id = 0
    indexed = 0
    while True:
        with transaction.atomic():
            batch = broadcast_source().texts_after(last_id, batch_size)
            if not batch:
                break
            BroadcastDocument.objects.filter(
                broadcast_id__gt=last_id, broadcast_id__lte=batch[-1][0]
            ).delete()
            BroadcastDocument.objects.bulk_create(
                BroadcastDocument(**broadcast_document(*texts)) for texts in batch
            )
        last_id = batch[-1][0]
        indexed += len(batch)
        if progress is not None:
            progress(indexed_before + indexed)
    return indexed


def _members(conversation_ids: set[int]) -> dict[int, list[int]]:
    members: dict[int, list[int]] = defaultdict(list)
    for conversation_id, user_id in Participant.objects.filter(
        conversation_id__in=conversation_ids
    ).values_list("conversation_id", "user_id"):
        members[conversation_id].append(user_id)
    return members


_DOCUMENT_COLUMNS = ("message_id", "tokens", "subject_tokens", "sender_names")


def _document(
    message: Message, subject: str, order_number: str | None
) -> tuple[int, str, str, str]:
    """A message's search document, as the row of _DOCUMENT_COLUMNS."""
    subject_tokens = token_texts(subject) + token_texts(order_number or "")
    sender = message.sender
    if sender is None:
        sender_name, sender_names = MARKETPLACE_NAME, [folded(MARKETPLACE_NAME)]
    else:
        # Only the name people see: matching a seller's personal name or anyone's username
        # would let a search probe for what the page never shows.
        sender_name = sender.public_name
        sender_names = [folded(sender_name)]
    return (
        message.pk,
        document([subject_tokens, token_texts(sender_name), token_texts(message.body)]),
        " ".join(subject_tokens),
        "\n".join(sender_names),
    )


def remove_messages_from_mailboxes(
    message_ids: Sequence[int], *, user_id: int | None = None, keep_user_id: int | None = None
) -> None:
    """Messages no longer found by one person (`user_id`: they reported it) or by anyone
    but their sender (`keep_user_id`: customer service removed them), in the caller's
    transaction (docs/safety.md#reports)."""
    entries = MailboxMessage.objects.filter(message_id__in=message_ids)
    if user_id is not None:
        entries = entries.filter(user_id=user_id)
    if keep_user_id is not None:
        entries = entries.exclude(user_id=keep_user_id)
    entries.delete()
