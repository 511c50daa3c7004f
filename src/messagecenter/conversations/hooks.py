"""Where apps above conversations attach to it without conversations importing them
(DESIGN: a lower app learns about a higher one through a registry the higher one fills).

The support app registers here when Django starts (support/apps.py): a new message in a
customer-service conversation moves its case (reopen, answered) in the sending
transaction, and a conversation page shows its case's status. Nothing here runs for the
kinds nobody registered, so buyer–seller sends cost what they did.
"""

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from messagecenter.accounts.models import User
from messagecenter.marketplace.models import Order
from messagecenter.realtime.actions import PendingEvent


@dataclass(frozen=True)
class PostedMessage:
    conversation_id: int
    kind: str
    message_id: int
    # None: the marketplace itself.
    sender_id: int | None
    # The sender's participant role ("buyer", "agent", …); None for the marketplace.
    sender_role: str | None
    created_at: datetime


@dataclass(frozen=True)
class StatusLine:
    """A line under a conversation's title: "CS-12 · Waiting for an agent · We expect to
    answer by …"."""

    label: str
    # What it is called: "CS-12".
    reference: str = ""
    detail: str = ""
    # A stable word for styling and live updates ("open", "pending", "solved").
    state: str = ""
    # Where to follow it, when that is another page ("Open your request").
    link_url: str = ""
    link_label: str = ""
    # What the reader must do that a reply here does not do, shown above the reply box
    # with the link (a guarantee claim's seller: the claim's formal response is due).
    notice: str = ""
    # With a notice, for the API (its `claim_notice`): the claim it is about, when its
    # response is due, and the address of the API that gives it.
    notice_claim_id: int | None = None
    notice_due_at: datetime | None = None
    notice_api_url: str = ""
    # The notice's own way on, where it is not link_url's (a closed case's customer: a new
    # request, while the line keeps "Open the claim").
    notice_link_url: str = ""
    notice_link_label: str = ""
    # The id the API opens it by (GET /cases/{id}), where it is the reader's own: the
    # phone app's way to what link_url is on the web.
    case_id: int | None = None


@dataclass(frozen=True)
class SellerRate:
    """A figure an app above adds to a seller's response-time figures (support: the claim
    rate), for one period of `days` days: `count` of `total` ("3 claims on 120 orders")."""

    days: int
    name: str
    count: int
    total: int
    # What it counts, for the page's and the API's explanation.
    detail: str = ""

    @property
    def rate(self) -> float | None:
        return self.count / self.total if self.total else None


# Returns events for the send's own event-log write (one write, in the send path's lock
# order, rather than a second one from inside the hook).
MessageHook = Callable[[PostedMessage], list[PendingEvent]]
StatusHook = Callable[[User, int], StatusLine | None]
# The short status of many conversations of a list page at once (by conversation id): one
# read for the page, never one per row.
RowStatusHook = Callable[[User, list[int]], dict[int, StatusLine]]

SellerRatesHook = Callable[[User, datetime, tuple[int, ...]], list[SellerRate]]

_message_hooks: dict[str, list[MessageHook]] = {}
_seller_rate_hooks: list[SellerRatesHook] = []
_status_hooks: dict[str, list[StatusHook]] = {}
_row_status_hooks: dict[str, list[RowStatusHook]] = {}
# Rows a hook's work will lock, taken for a whole batch of sends right after the
# participants (support: the cases' teams), so a batch takes them where an app's own
# actions do instead of after the batch's counters and event streams.
BatchLockHook = Callable[[list[int]], None]
_batch_lock_hooks: dict[str, list[BatchLockHook]] = {}


def on_message_posted(kinds: tuple[str, ...], hook: MessageHook) -> None:
    """Call `hook` inside the transaction of every message posted in a conversation of
    these kinds, after the participants are locked and the message is inserted."""
    for kind in kinds:
        hooks = _message_hooks.setdefault(kind, [])
        if hook not in hooks:
            hooks.append(hook)


def on_status_line(kinds: tuple[str, ...], hook: StatusHook) -> None:
    for kind in kinds:
        hooks = _status_hooks.setdefault(kind, [])
        if hook not in hooks:
            hooks.append(hook)


def on_row_status(kinds: tuple[str, ...], hook: RowStatusHook) -> None:
    """Call `hook` once per list page with the ids of its conversations of these kinds;
    its labels show on their rows ("Waiting for us", "Answered", "Solved")."""
    for kind in kinds:
        hooks = _row_status_hooks.setdefault(kind, [])
        if hook not in hooks:
            hooks.append(hook)


def on_batch_lock(kinds: tuple[str, ...], hook: BatchLockHook) -> None:
    """Call `hook` with the ids of a batch's conversations of these kinds, after their
    participants are locked and before anything else is (db/group_commit.py)."""
    for kind in kinds:
        hooks = _batch_lock_hooks.setdefault(kind, [])
        if hook not in hooks:
            hooks.append(hook)


def lock_for_batch(conversations: list[tuple[int, str]]) -> None:
    """(conversation id, kind) of a batch's conversations: each hook once, for its kinds'."""
    by_hook: dict[BatchLockHook, list[int]] = {}
    for conversation_id, kind in conversations:
        for hook in _batch_lock_hooks.get(kind, ()):
            by_hook.setdefault(hook, []).append(conversation_id)
    for hook, conversation_ids in by_hook.items():
        hook(sorted(set(conversation_ids)))


def has_message_hooks(kind: str) -> bool:
    return kind in _message_hooks


def message_posted(posted: PostedMessage) -> list[PendingEvent]:
    events: list[PendingEvent] = []
    for hook in _message_hooks.get(posted.kind, ()):
        events += hook(posted)
    return events


def status_line(user: User, kind: str, conversation_id: int) -> StatusLine | None:
    for hook in _status_hooks.get(kind, ()):
        line = hook(user, conversation_id)
        if line is not None:
            return line
    return None


def row_statuses(user: User, rows: list[tuple[int, str]]) -> dict[int, StatusLine]:
    """The labels of a page's rows, given as (conversation id, kind): each hook is asked
    once for all its kinds' rows; a page without such rows asks nothing."""
    by_hook: dict[RowStatusHook, list[int]] = {}
    for conversation_id, kind in rows:
        for hook in _row_status_hooks.get(kind, ()):
            by_hook.setdefault(hook, []).append(conversation_id)
    statuses: dict[int, StatusLine] = {}
    for hook, conversation_ids in by_hook.items():
        statuses.update(hook(user, conversation_ids))
    return statuses


# Why no guarantee claim can be filed on an order at all (support: cancelled, past the
# filing window, refunded in full), where a page would offer to file one; None: it may be.
ClaimRefusalHook = Callable[[Order], str | None]
_claim_refusal_hooks: list[ClaimRefusalHook] = []


def on_claim_refusal(hook: ClaimRefusalHook) -> None:
    if hook not in _claim_refusal_hooks:
        _claim_refusal_hooks.append(hook)


def claim_refusal(order: Order) -> str | None:
    """The first hook's reason why no claim can be filed on the order, or None (also
    when no app registered one: the claim page is where it is decided)."""
    for hook in _claim_refusal_hooks:
        reason = hook(order)
        if reason is not None:
            return reason
    return None


def on_seller_rates(hook: SellerRatesHook) -> None:
    """Add figures to sellers' response-time figures (their page and the API)."""
    if hook not in _seller_rate_hooks:
        _seller_rate_hooks.append(hook)


def seller_rates(seller: User, now: datetime, windows_days: tuple[int, ...]) -> list[SellerRate]:
    rates: list[SellerRate] = []
    for hook in _seller_rate_hooks:
        rates += hook(seller, now, windows_days)
    return rates
