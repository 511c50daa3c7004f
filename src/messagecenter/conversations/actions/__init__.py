"""Every change to conversations goes through a function here: the web pages, the API,
inbound e-mail and marketplace events all call these (docs/conversations.md). One module
per behaviour, this package's names their public surface:

- sending.py: starting conversations and replying, once per idempotency key;
- membership.py: people joining and leaving a started conversation (agents on a case);
- read_state.py: read, unread, seen, muted;
- boxes.py: inbox, Archive, Trash, and deleting for ever from Trash;
- purge.py: the periodic purge of old Trash, removing what nobody keeps, and deleting
  conversations past the operator's retention rule;
- seller_tools.py: "No response needed", saved replies;
- away.py: a seller's away message (the automatic reply itself is posted by sending.py);
- moderation.py: messages hidden for a person who reported them, removed after review;
- response_deadlines.py: the periodic sweep of sellers' response deadlines;
- claim_waits.py: a seller's wait in a guarantee claim's conversation, started and ended
  by the claim (its formal response), not by messages;
- typing.py: "… is typing", a nudge to the others' open pages, never stored.

Each action runs in one transaction that also records its side effects: the unread
counters and every affected person's event log change together with the rows, or not at
all. Rows are locked in one order everywhere (a conversation's participants by id, then
event streams by user), so concurrent actions on PostgreSQL queue instead of deadlocking.
"""

from messagecenter.conversations.actions.attachments import StoredFile, store_attachments
from messagecenter.conversations.actions.away import (
    AWAY_MAX_DAYS,
    AwayStatus,
    away_status,
    set_away_message,
    switch_off_away_message,
)
from messagecenter.conversations.actions.boxes import (
    archive_conversations,
    delete_conversations,
    move_to_inbox,
    restore_conversations,
    trash_conversations,
)
from messagecenter.conversations.actions.claim_waits import end_claim_wait, start_claim_wait
from messagecenter.conversations.actions.membership import (
    add_participants,
    lock_participants,
    remove_participant,
)
from messagecenter.conversations.actions.moderation import hide_messages_for, remove_messages
from messagecenter.conversations.actions.own_rows import MAX_CONVERSATIONS_PER_ACTION
from messagecenter.conversations.actions.purge import (
    delete_conversations_for_everyone,
    purge_expired_trash,
)
from messagecenter.conversations.actions.read_state import (
    mark_read,
    mark_seen,
    mark_unread,
    mute_conversations,
    unmute_conversations,
)
from messagecenter.conversations.actions.response_deadlines import (
    pass_response_deadlines,
    resume_waits_between,
    resume_waits_for,
    set_aside_waits_between,
    set_aside_waits_for,
    tell_the_other_sides,
)
from messagecenter.conversations.actions.seller_tools import (
    MAX_SAVED_REPLIES,
    delete_saved_reply,
    mark_no_response_needed,
    save_reply,
)
from messagecenter.conversations.actions.sending import (
    PREVIEW_CHARS,
    ask_seller_about_product,
    contact_buyer_about_order,
    contact_customer_service,
    contact_seller_about_order,
    post_marketplace_message,
    send_from_a_request,
    send_marketplace_message,
    send_message,
    start_claim_conversation,
    start_customer_service_conversation,
)
from messagecenter.conversations.actions.typing import TYPING, tell_typing

__all__ = [
    "AWAY_MAX_DAYS",
    "MAX_CONVERSATIONS_PER_ACTION",
    "MAX_SAVED_REPLIES",
    "PREVIEW_CHARS",
    "TYPING",
    "AwayStatus",
    "StoredFile",
    "add_participants",
    "archive_conversations",
    "ask_seller_about_product",
    "away_status",
    "contact_buyer_about_order",
    "contact_customer_service",
    "contact_seller_about_order",
    "delete_conversations",
    "delete_conversations_for_everyone",
    "delete_saved_reply",
    "end_claim_wait",
    "hide_messages_for",
    "lock_participants",
    "mark_no_response_needed",
    "mark_read",
    "mark_seen",
    "mark_unread",
    "move_to_inbox",
    "mute_conversations",
    "pass_response_deadlines",
    "post_marketplace_message",
    "purge_expired_trash",
    "remove_messages",
    "remove_participant",
    "restore_conversations",
    "resume_waits_between",
    "resume_waits_for",
    "save_reply",
    "send_from_a_request",
    "send_marketplace_message",
    "send_message",
    "set_aside_waits_between",
    "set_aside_waits_for",
    "set_away_message",
    "start_claim_conversation",
    "start_claim_wait",
    "start_customer_service_conversation",
    "store_attachments",
    "switch_off_away_message",
    "tell_the_other_sides",
    "tell_typing",
    "trash_conversations",
    "unmute_conversations",
]
