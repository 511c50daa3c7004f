"""The Message Center pages: conversations by folder (and a seller's "Response needed"
list), one conversation, actions on the selected conversations, attachments. Writing to
customer service is the support app's (support/views.py); a seller's other tools are in
seller_views.py.

Every conversation is reached through queries.access_conversation (or the person's own
inbox page); every change is one call to conversations.actions (docs/conversations.md).
"""

from collections.abc import Collection
from contextlib import nullcontext
from dataclasses import dataclass

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.db import transaction
from django.http import FileResponse, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from messagecenter.accounts.models import User
from messagecenter.accounts.roles import require_seller_page
from messagecenter.conversations import actions, hooks, page_rows, queries
from messagecenter.conversations.bulk import BULK_ACTIONS
from messagecenter.conversations.downloads import attachment_response
from messagecenter.conversations.models import Kind, Participant, ParticipantRole, SavedReply
from messagecenter.conversations.templatetags.message_center import undo_restore_tags
from messagecenter.errors import FORM_ERRORS, InvalidInput, MessageCenterError, NotFound
from messagecenter.hub import actions as hub_actions
from messagecenter.hub import queries as hub_queries
from messagecenter.hub.boxes import UNSEEN, Box, Folder
from messagecenter.hub.feeds import bulk_action_of_feed
from messagecenter.hub.selection import RESPONSE_NEEDED, ListSelection
from messagecenter.realtime.pages import live_page
from messagecenter.rows import parse_id
from messagecenter.web.shortcuts import (
    AuthenticatedHttpRequest,
    new_idempotency_key,
    redirect_to_next,
)
from messagecenter.web.uploads import form_files, takes_files


@dataclass(frozen=True)
class FolderTab:
    # The list's key in GET /api/v1/folders, which live pages read its count from; "" for
    # a list without a count.
    key: str
    label: str
    url: str
    unread: int
    is_current: bool


def _folder_tabs(
    selection: ListSelection, counts: dict[str, int], *, is_seller: bool
) -> list[FolderTab]:
    lists = [(ListSelection(), "all", "All", counts["all"])]
    if is_seller:
        # No count: waits are not a maintained counter, and counting them would put a
        # COUNT over the seller's whole backlog on every page.
        lists.append((ListSelection(view=RESPONSE_NEEDED), "", "Response needed", 0))
    for folder, label in Folder.choices:
        lists.append((ListSelection(folder=folder), folder, label, counts[folder]))
    lists += [
        (ListSelection(box=Box.ARCHIVE), Box.ARCHIVE, "Archive", counts[Box.ARCHIVE]),
        (ListSelection(box=Box.TRASH), Box.TRASH, "Trash", counts[Box.TRASH]),
    ]
    return [
        FolderTab(
            str(key),
            label,
            tab.url(),
            unread,
            is_current=(tab.box, tab.folder, tab.view)
            == (selection.box, selection.folder, selection.view),
        )
        for tab, key, label, unread in lists
    ]


@login_required
@require_safe
@live_page
def message_center(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Opening the Message Center marks what is new as seen: the header badge clears,
    while each conversation stays unread until it is opened (docs/conversations.md)."""
    return _message_center_page(
        request, ListSelection.from_data(request.GET), opened=request.method == "GET"
    )


def _message_center_page(
    request: AuthenticatedHttpRequest,
    selection: ListSelection,
    *,
    opened: bool = False,
    error: MessageCenterError | None = None,
    selected: Collection[int] = (),
    status: int = 200,
) -> HttpResponse:
    page: hub_queries.MessageCenterPage | queries.InboxPage | None
    now = timezone.now()
    try:
        page = _list_page(request.user, selection)
    except InvalidInput as invalid:
        page, error, status = None, invalid, invalid.status
    read = hub_queries.message_center_counts(request.user, now=now)
    counts = read.counts
    if opened and counts[UNSEEN]:
        # The page's only write, and only when there is news: a GET of a page with
        # nothing unseen stays read-only (no write lock taken on SQLite).
        hub_actions.mark_seen(request.user, now=now, counts=read)
        counts = {**counts, UNSEEN: 0}
    older_url = ""
    if page is not None and page.next_cursor:
        older_url = selection.url(cursor=page.next_cursor)
    # A live page (web/static/web/site.js) asks for the list alone to refresh it in place.
    is_partial = request.headers.get("X-Partial") == "list"
    response = render(
        request,
        "conversations/_list.html" if is_partial else "conversations/message_center.html",
        {
            "page": page,
            "rows": page_rows.list_rows(page.entries, request.user.pk, now=now, selected=selected)
            if page is not None
            else [],
            "selection": selection,
            "tabs": _folder_tabs(selection, counts, is_seller=request.user.is_seller),
            # Also feeds the header badge, so the page reads the counters once.
            "unread_counts": counts,
            "list_url": selection.url(cursor=selection.cursor),
            "older_url": older_url,
            "newest_url": selection.url() if selection.cursor else "",
            "trash_retention_days": settings.TRASH_RETENTION_DAYS,
            "error": error,
            # What a buyer's wait is measured against.
            "now": now,
        },
        status=status,
    )
    patch_vary_headers(response, ["X-Partial"])
    return response


def _list_page(
    user: User, selection: ListSelection
) -> hub_queries.MessageCenterPage | queries.InboxPage:
    if selection.view is None:
        return hub_queries.message_center_page(
            user, box=selection.box, folder=selection.folder, cursor=selection.cursor
        )
    if selection.is_response_needed:
        require_seller_page(user)
        return queries.response_needed_page(user, cursor=selection.cursor)
    raise InvalidInput(f"Unknown list {selection.view!r}.", code="invalid_view")


# --- actions on selected conversations -----------------------------------------------------


@login_required
@require_POST
def conversation_actions(request: AuthenticatedHttpRequest) -> HttpResponse:
    """One endpoint for the bulk bar and a conversation's own buttons: `action` names what
    to do, `conversation_ids` what to do it to, `next` where to go back to."""
    selection = ListSelection.from_data(request.POST)
    conversation_ids = request.POST.getlist("conversation_ids")
    selected = {int(value) for value in conversation_ids if value.isdigit()}
    # Notices and promotions selected beside conversations (docs/notifications.md).
    broadcast_ids = request.POST.getlist("broadcast_ids")
    action_name = request.POST.get("action", "")
    # What the action does to the notices and promotions selected with the conversations;
    # the conversation-only actions (mute, no response needed) leave them be.
    broadcast_action = bulk_action_of_feed("broadcast", action_name)
    bulk_action = BULK_ACTIONS.get(action_name)
    if bulk_action is None:
        unknown = InvalidInput("Choose what to do with the conversations.", code="unknown_action")
        return _message_center_page(
            request, selection, error=unknown, selected=selected, status=unknown.status
        )
    if bulk_action.is_for_sellers:
        require_seller_page(request.user, missing="No such action.")
    try:
        # All or nothing across both kinds.
        with transaction.atomic() if broadcast_ids else nullcontext():
            changed = 0
            if conversation_ids or not broadcast_ids:
                changed = bulk_action.run(request.user, conversation_ids)
            broadcasts_changed = 0
            if broadcast_ids and broadcast_action is not None:
                broadcasts_changed = broadcast_action(request.user, broadcast_ids)
    except FORM_ERRORS as error:
        return _message_center_page(
            request, selection, error=error, selected=selected, status=error.status
        )
    if broadcasts_changed:
        # Undo restores all that this action moved: the conversations and the broadcasts.
        messages.success(
            request,
            f"{_changed(changed, broadcasts_changed)} {bulk_action.done}.",
            extra_tags=undo_restore_tags(
                sorted(selected), sorted({int(value) for value in broadcast_ids if value.isdigit()})
            )
            if action_name == "trash"
            else "",
        )
    elif not changed:
        messages.info(request, f"No conversations needed to be {bulk_action.done}.")
    elif action_name == "trash":
        messages.success(
            request,
            f"{_conversations(changed)} {bulk_action.done}.",
            extra_tags=undo_restore_tags(sorted(selected)),
        )
    else:
        messages.success(request, f"{_conversations(changed)} {bulk_action.done}.")
    return redirect_to_next(request, fallback=selection.url())


def _conversations(count: int) -> str:
    return f"{count} conversation" if count == 1 else f"{count} conversations"


def _changed(conversations: int, broadcasts: int) -> str:
    """ "2 conversations and 1 announcement", leaving out a kind with none."""
    parts = [_conversations(conversations)] if conversations else []
    parts.append(f"{broadcasts} announcement" if broadcasts == 1 else f"{broadcasts} announcements")
    return " and ".join(parts)


# --- one conversation -----------------------------------------------------------------------


@takes_files("attachments")
@login_required
@require_http_methods(["GET", "POST"])
@live_page
def conversation(request: AuthenticatedHttpRequest, conversation_id: int) -> HttpResponse:
    """A conversation: reading it marks it read; posting the form replies."""
    participant = _participant(request.user, conversation_id)
    if request.method == "POST":
        return _reply(request, participant)
    if participant.unread_count:
        actions.mark_read(request.user, [participant.conversation_id])
    asked = request.GET
    return _conversation_page(
        request,
        participant,
        saved_reply_id=asked.get("saved_reply"),
        before=_message_id(asked.get("before")),
        after=_message_id(asked.get("after")),
        showing=_message_id(asked.get("message")),
    )


# How many messages a conversation's page shows at once: the newest, then older ones on
# asking ("Show older messages"). A page of all 200 messages of a long conversation took
# 121 ms of CPU and 287 KB (docs/benchmarks.md, "Pages beside their API calls").
MESSAGES_PER_PAGE = 50


def _message_id(value: str | None) -> int | None:
    """A message id from the page's query string (?before=, ?after=: the messages before or
    after one; ?message=: the page that shows one, for links to a message from search
    results and e-mails — queries.message_window). A malformed one is left out (the page
    shows the newest messages) rather than refusing the conversation."""
    if value is None:
        return None
    try:
        return parse_id(value)
    except NotFound:
        return None


def _reply(request: AuthenticatedHttpRequest, participant: Participant) -> HttpResponse:
    body = request.POST.get("body", "")
    try:
        message = actions.send_message(
            request.user,
            participant.conversation_id,
            body,
            idempotency_key=request.POST.get("idempotency_key") or None,
            attachments=form_files(request, "attachments"),
        )
    except FORM_ERRORS as error:
        return _conversation_page(request, participant, error=error, body=body, status=error.status)
    if participant.box == Box.TRASH:
        # A reply brings a conversation back (a buyer would not answer into the void), but
        # the page it was written on may be an old tab that never learnt of the Trash.
        messages.info(
            request, "This conversation was in Trash: your reply moved it back to your inbox."
        )
    url = reverse("conversation", args=[participant.conversation_id])
    return redirect(f"{url}#message-{message.pk}")


def _participant(user: User, conversation_id: int) -> Participant:
    return queries.access_conversation(user, conversation_id)


def _conversation_page(
    request: AuthenticatedHttpRequest,
    participant: Participant,
    *,
    error: MessageCenterError | None = None,
    body: str = "",
    saved_reply_id: str | None = None,
    before: int | None = None,
    after: int | None = None,
    showing: int | None = None,
    status: int = 200,
) -> HttpResponse:
    conversation = participant.conversation
    shown = queries.message_window(
        participant, before=before, after=after, showing=showing, limit=MESSAGES_PER_PAGE
    )
    path = reverse("conversation", args=[participant.conversation_id])
    older_url = newer_url = ""
    if shown.has_older:
        older_url = f"{path}?before={shown.messages[0].pk}"
    if shown.has_newer:
        newer_url = f"{path}?after={shown.messages[-1].pk}"
    now = timezone.now()
    message_rows = page_rows.message_rows(shown.messages, request.user.pk, now=now)
    # A live page (web/static/web/site.js) asks for the messages alone to add older or newer
    # ones in place ("Show older messages").
    if request.headers.get("X-Partial") == "messages":
        response = render(
            request,
            "conversations/_messages.html",
            {
                "message_rows": message_rows,
                "older_url": older_url,
                "newer_url": newer_url,
                "is_partial": True,
            },
        )
        patch_vary_headers(response, ["X-Partial"])
        return response
    order = conversation.order
    # Only an order's buyer files a guarantee claim on it (a seller who followed the link
    # got a 404: the claim page is the buyer's).
    can_file_claim = (
        order is not None
        and order.buyer_id == request.user.pk
        and conversation.kind == Kind.BUYER_SELLER
    )
    # Order updates and notices come from the marketplace's systems: nobody reads replies
    # to them, so the page points to customer service instead.
    # A shop or buyer whose account is closed (erased, suspended) reads nothing any more:
    # the page says so and points to customer service instead of offering a reply.
    closed_counterpart = queries.closed_counterpart(participant)
    # "Block" and "Report" stay offered while the other side is only suspended (it may be
    # lifted, and the API takes both): an erased person has nothing left to block or
    # report. Asked only when the other side is closed: no query on an ordinary page.
    counterpart_erased = closed_counterpart is not None and queries.other_side_erased(participant)
    # An agent in a buyer–seller conversation writes from the request about it, in the
    # console: the page says so, with the way there (support's status line).
    written_from_the_request = queries.written_from_the_request(participant)
    # The other side blocked the person: their reply would be refused (`blocked`).
    blocked_by_counterpart = queries.blocked_by_counterpart(participant)
    # Where the page offers "Block …" (below): whether the person blocked them already, so
    # it shows the block and "Unblock" instead — from their own row, which the block marked
    # (safety's set_aside_waits_between): no query.
    blocked = (
        conversation.kind == Kind.BUYER_SELLER
        and not counterpart_erased
        and written_from_the_request is None
        and participant.has_blocked_other_side
    )
    can_reply = (
        participant.role != ParticipantRole.RECIPIENT
        and closed_counterpart is None
        and written_from_the_request is None
        and blocked_by_counterpart is None
    )
    saved_replies: list[SavedReply] = []
    if can_reply and request.user.is_seller:
        saved_replies = list(queries.saved_replies(request.user))
    # "Insert saved reply" without script: the page comes back with the reply in the box.
    # Only the seller's own, found in the list just read; any other id is ignored.
    chosen = next((reply for reply in saved_replies if str(reply.pk) == saved_reply_id), None)
    if chosen is not None and not body:
        body = chosen.body
    is_awaiting_response = (
        participant.role == ParticipantRole.SELLER
        and participant.awaiting_response_since is not None
        and closed_counterpart is None
        # Nor one a block between the two sides set aside (actions.set_aside_waits_between).
        and not participant.is_blocked_by_other_side
        and not participant.has_blocked_other_side
    )
    # The seller's deadline to answer, for both sides (docs/escalation.md).
    response_window = queries.response_window(participant)
    response_window_passed = response_window is not None and response_window.has_passed(now)
    response = render(
        request,
        "conversations/conversation.html",
        {
            "participant": participant,
            "conversation": conversation,
            "message_rows": message_rows,
            "older_url": older_url,
            "newer_url": newer_url,
            "list_url": ListSelection.of(participant).url(),
            "folder_label": dict(Folder.choices)[participant.folder],
            "can_reply": can_reply,
            "closed_counterpart": closed_counterpart,
            "blocked_by_counterpart": blocked_by_counterpart,
            "counterpart_erased": counterpart_erased,
            "written_from_the_request": written_from_the_request,
            "saved_replies": saved_replies,
            "chosen_saved_reply_id": chosen.pk if chosen is not None else None,
            # A wait set aside because the buyer's account is closed is not shown as one:
            # their Response needed, the sweep and the figures leave it out too.
            "is_awaiting_response": is_awaiting_response,
            # A claim's wait ends with the claim's response, never "No response needed"
            # (conversations/actions/claim_waits.py), nor does a wait past its deadline
            # (seller_tools): the button is not offered there.
            "can_mark_no_response_needed": is_awaiting_response
            and conversation.kind != Kind.CLAIM
            and (participant.response_due_at is None or participant.response_due_at > now),
            "response_window": response_window,
            "response_window_passed": response_window_passed,
            "now": now,
            # The order's page is its buyer's, and its sellers' (their part of it).
            "order_is_yours": order is not None
            and (
                order.buyer_id == request.user.pk
                or (
                    conversation.storefront is not None
                    and conversation.storefront.seller_id == request.user.pk
                )
            ),
            "blocked": blocked,
            "can_file_claim": can_file_claim,
            # Why no claim can be filed on the order at all (cancelled, past the window,
            # refunded in full; support, by hook): said instead of the link, as the
            # order's page says it.
            "claim_refusal": hooks.claim_refusal(order)
            if can_file_claim and order is not None
            else None,
            # A customer-service case's status and expected answer (support, by hook); on a
            # buyer–seller conversation, the request the buyer opened once the seller's
            # deadline passed, for as long as it is open: asked whatever the wait, since
            # the seller's answer (or a new question) leaves the request as it was.
            "status_line": hooks.status_line(
                request.user, conversation.kind, participant.conversation_id
            ),
            "idempotency_key": new_idempotency_key(),
            "body": body,
            "error": error,
            "conversation_report_url": reverse(
                "report-conversation", args=[participant.conversation_id]
            ),
        },
        status=status,
    )
    patch_vary_headers(response, ["X-Partial"])
    return response


@login_required
@require_safe
def attachment(request: AuthenticatedHttpRequest, attachment_id: int) -> FileResponse:
    """A download; an image also opens in the browser (?view=inline, the thumbnails and
    their full size). The stored type was checked by content, nosniff stops a browser from
    guessing a different one, and the sandbox keeps anything else from running."""
    return attachment_response(
        queries.access_attachment(request.user, attachment_id),
        inline=request.GET.get("view") == "inline",
    )
