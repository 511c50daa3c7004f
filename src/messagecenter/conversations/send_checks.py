"""What checks a message before it is sent: a small registry the safety app fills
(messagecenter/safety/apps.py), so conversations never imports the apps above it.

A check sees the sender, the conversation's kind and the body, before anything is written,
and decides what the recipients get: the body (contact details may be masked), a verdict
with reasons to store with the message, or a hold (nothing is delivered, the sender is told).
A check is registered with the kinds of conversation it looks at; it runs before the send's
transaction (`Decisions`), because it is pure CPU work that would otherwise hold the write
turn of every send batched with this one (db/group_commit.py).
"""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Kind
from messagecenter.errors import HeldForReview, InvalidInput

if TYPE_CHECKING:
    from messagecenter.conversations.models import Conversation


@dataclass(frozen=True)
class SendDecision:
    body: str
    verdict: str = "ok"
    reasons: list[dict[str, str]] = field(default_factory=list)
    is_masked: bool = False
    version: str = ""


class MessageHeld(HeldForReview):
    """Not delivered: the message waits for review (docs/safety.md#hold). Nothing is added
    to the conversation; the person is told why (a page beside its form: the errors'
    FORM_ERRORS lists HeldForReview, so every page that sends shows it instead of a 500)."""

    def __init__(self, decision: SendDecision) -> None:
        reasons = " ".join(reason["text"] for reason in decision.reasons)
        super().__init__(
            "Your message was not delivered: it waits for our team to review it. " + reasons
        )
        self.decision = decision


Check = Callable[[User, str, str], SendDecision]
# Sees who the message goes to (in the send's transaction, participants locked): refuses it
# (raises) or returns notes to store with it as reasons (e.g. "from a shop you blocked,
# delivered because it is about your order"). Its last argument: what its batch reader
# read for the send's batch (RecipientBatchRead), None when the check reads for itself.
RecipientCheck = Callable[[User, "Conversation", list[int], Any], list[dict[str, str]]]
# Reads at once, for a group commit's batch, what its recipient check would read for each
# of its sends, among these people (ids sorted: everyone in the batch's conversations).
RecipientBatchRead = Callable[[list[int]], Any]
HeldRecorder = Callable[[User, dict[str, Any], str, SendDecision, str | None], None]
# Counts the send against the sender's limits, in the send's transaction (participants
# locked), and raises TooManyRequests when one is reached; `is_first_contact`: nobody else
# in the conversation has ever written in it. Its last argument: what its batch reader
# read for the send's batch (LimitBatchRead), None when the check counts for itself.
LimitCheck = Callable[[User, "Conversation", bool, Any], None]
# Reads, in a group commit's batch before its sends run, the rows a limit check will
# update for these senders (ids sorted), locking them on PostgreSQL, so the batch takes
# them in the order a send alone does: after the participants, before the counters and
# event streams (decision 0010); its sends then count in what it read.
LimitBatchRead = Callable[[list[int]], Any]
_checks: list[Check] = []
# The kinds of conversation any check looks at; a message in any other kind goes as typed.
_checked_kinds: set[str] = set()
_limit_checks: list[LimitCheck] = []
_limit_batch_reads: list[LimitBatchRead] = []
_held_recorders: list[HeldRecorder] = []
_recipient_checks: list[RecipientCheck] = []
_recipient_batch_reads: list[RecipientBatchRead] = []


def register(
    check: Check,
    on_held: HeldRecorder,
    recipients: RecipientCheck,
    recipients_for_batch: RecipientBatchRead,
    *,
    kinds: Iterable[str],
) -> None:
    """`kinds`: the kinds of conversation the check looks at. It decides alike for all of
    them (they are all people writing to each other): a message's decision is made once,
    whatever the kind its conversation turns out to be (Decisions)."""
    if check not in _checks:
        _checks.append(check)
        _checked_kinds.update(kinds)
        _held_recorders.append(on_held)
        _recipient_checks.append(recipients)
        _recipient_batch_reads.append(recipients_for_batch)


# Reads the blocks among some people: (blocker, blocked) pairs (safety.checks.blocks_among).
BlockRead = Callable[[list[int]], frozenset[tuple[int, int]]]
_block_reads: list[BlockRead] = []


def register_block_read(read: BlockRead) -> None:
    if read not in _block_reads:
        _block_reads.append(read)


def blocks_among(people: list[int]) -> frozenset[tuple[int, int]]:
    """(blocker, blocked) for every block between two of these people: a buyer–seller
    conversation started after a block carries it on its rows as the block wrote it on
    the older ones (actions.set_aside_waits_between). No query without a reader."""
    found: set[tuple[int, int]] = set()
    for read in _block_reads:
        found.update(read(people))
    return frozenset(found)


def register_limit(check: LimitCheck, read_for_batch: LimitBatchRead) -> None:
    if check not in _limit_checks:
        _limit_checks.append(check)
        _limit_batch_reads.append(read_for_batch)


class LimitReads:
    """What the limit checks read (and lock) for a batch of sends, for its senders: one
    statement for the batch where each send ran its own upsert."""

    def __init__(self, senders: list[int]) -> None:
        self.reads = [read(senders) for read in _limit_batch_reads]


def count_send(
    sender: User | None,
    conversation: "Conversation",
    *,
    is_first_contact: bool,
    reads: LimitReads | None = None,
) -> None:
    """`reads`: what a batch read for its senders; each check counts for itself when it
    is not given or does not cover the sender."""
    if sender is None:
        return
    for position, check in enumerate(_limit_checks):
        check(
            sender, conversation, is_first_contact, None if reads is None else reads.reads[position]
        )


class RecipientReads:
    """What the recipient checks read for a batch of sends among its people (one statement
    each for the batch where each send ran its own), for the sends between those people."""

    def __init__(self, people: list[int]) -> None:
        self.people = frozenset(people)
        self.reads = [read(people) for read in _recipient_batch_reads]


def check_recipients(
    sender: User | None,
    conversation: "Conversation",
    recipient_ids: list[int],
    reads: RecipientReads | None = None,
) -> list[dict[str, str]]:
    """`reads`: what a batch read for its sends; each check reads for itself when it is
    not given or does not cover the sender and every recipient (a conversation started in
    the batch)."""
    notes: list[dict[str, str]] = []
    if sender is None:
        return notes
    if reads is not None and not (reads.people >= {sender.pk, *recipient_ids}):
        reads = None
    for position, check in enumerate(_recipient_checks):
        notes.extend(
            check(
                sender,
                conversation,
                recipient_ids,
                None if reads is None else reads.reads[position],
            )
        )
    return notes


def decide(sender: User | None, kind: str, body: str) -> SendDecision:
    decision = SendDecision(body)
    if sender is None or kind not in _checked_kinds:
        return decision
    for check in _checks:
        decision = check(sender, kind, decision.body)
        if decision.verdict == "hold":
            return decision
    return decision


def decide_kept_text(seller: User, body: str, *, what: str, why: str = "") -> SendDecision:
    """The checks' decision on a text a seller keeps to send later (an away message, a saved
    reply), made when it is saved as for a message to a buyer: one they would hold is
    refused there (`text_refused`, "Your <what> was not saved: <reasons> <why>Write it
    again…"), not held at every send of it."""
    decision = decide(seller, Kind.BUYER_SELLER, body)
    if decision.verdict == "hold":
        reasons = " ".join(reason["text"] for reason in decision.reasons)
        raise InvalidInput(
            f"Your {what} was not saved: {reasons} {why}Write it again without that.",
            code="text_refused",
        )
    return decision


class Decisions:
    """What the checks decide about one message, made before its send's transaction for
    each kind of conversation they look at: a reply's kind is known only once its
    conversation is locked, and the checks' work (the detector: about a seventh of a
    batch's time in the group commit's writer, docs/benchmarks.md) then held back every
    send batched with it. `for_kind` answers in the transaction without running them."""

    def __init__(self, sender: User | None, body: str) -> None:
        self.body = body
        # Once for every checked kind (register: the checks decide alike for them), not once
        # per kind: with claims checked too, the detector ran twice for each message.
        self._decision = (
            decide(sender, min(_checked_kinds), body)
            if sender is not None and _checked_kinds
            else None
        )

    def for_kind(self, kind: str) -> SendDecision:
        if self._decision is not None and kind in _checked_kinds:
            return self._decision
        return SendDecision(self.body)


def record_held(
    sender: User,
    held_as: dict[str, Any],
    body: str,
    decision: SendDecision,
    idempotency_key: str | None,
) -> None:
    """After the send's transaction was rolled back: keep the held message for review.
    `held_as` says how to send it again once released ({"send": "reply", "conversation_id":
    …} and the like)."""
    for recorder in _held_recorders:
        recorder(sender, held_as, body, decision, idempotency_key)
