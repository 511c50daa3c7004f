"""The agent console (its own pages, apart from the buyer's Message Center) and the
customers' "Contact customer service" page (docs/support.md).

Console pages exist only for agents and admins: anyone else gets the same 404 as for a
page that does not exist. Every case is reached through queries.access_case; every
change is one call to support.actions.
"""

import contextlib
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_vary_headers
from django.utils.timesince import timesince
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.downloads import attachment_response
from messagecenter.conversations.models import Conversation
from messagecenter.errors import FORM_ERRORS, InvalidInput, MessageCenterError, NotFound
from messagecenter.marketplace import queries as marketplace_queries
from messagecenter.realtime.pages import live_page
from messagecenter.rows import parse_id
from messagecenter.support import (
    actions,
    appeal_actions,
    appeal_queries,
    claim_queries,
    escalation_actions,
    escalation_queries,
    queries,
    report_actions,
    report_queries,
)
from messagecenter.support.models import (
    Case,
    CaseKind,
    CasePriority,
    CaseStatus,
    ReportOutcome,
    SenderAction,
)
from messagecenter.web.shortcuts import AuthenticatedHttpRequest, new_idempotency_key

# Orders offered in the customer-service form's "About an order" list.
ORDERS_TO_CHOOSE_FROM = 20


def _staff(request: AuthenticatedHttpRequest) -> User:
    if not queries.is_staff(request.user):
        raise Http404("No such page.")
    return request.user


def _case(user: User, case_id: Any) -> Case:
    return queries.access_case(user, case_id, for_agent=True)


def _presence(agent: User) -> dict[str, Any]:
    """The console's "available for chat" switch; an open console page keeps an
    available agent taking chats (docs/support.md, "Live chat")."""
    if agent.role != Role.AGENT:
        return {}
    availability = queries.chat_availability(agent)
    actions.agent_seen(agent, availability)
    return {"chat_available": availability is not None and availability.is_available}


# --- the queues -----------------------------------------------------------------------------


@login_required
@require_safe
def console(request: AuthenticatedHttpRequest) -> HttpResponse:
    """A queue of cases, oldest waiting first, with filters and every queue's count."""
    agent = _staff(request)
    view = request.GET.get("view") or queries.UNASSIGNED_VIEW
    error: MessageCenterError | None = None
    page: queries.QueuePage | None = None
    filters = queries.QueueFilters()
    status = 200
    teams = queries.team_ids(agent)
    try:
        filters = queries.QueueFilters.parse(request.GET)
        page = queries.queue_page(
            agent, view, filters=filters, cursor=request.GET.get("cursor") or None, teams=teams
        )
    except InvalidInput as invalid:
        error, status = invalid, invalid.status
    counts = queries.queue_counts(agent, teams)
    return render(
        request,
        "support/console.html",
        {
            "view": view,
            "tabs": [
                (key, label, counts[key], _queue_url(key, filters))
                for key, label in queries.QUEUE_VIEWS.items()
            ],
            "page": page,
            "rows": _queue_rows(page.cases) if page is not None else [],
            "filters": filters,
            "older_url": _queue_url(view, filters, page.next_cursor)
            if page is not None and page.next_cursor
            else "",
            "kinds": CaseKind.choices,
            "priorities": CasePriority.choices,
            "error": error,
            **_presence(agent),
        },
        status=status,
    )


@login_required
@require_POST
def chat_availability(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The console's switch: available for chat, or away."""
    agent = _staff(request)
    try:
        availability = actions.set_chat_availability(agent, request.POST.get("available") == "true")
    except FORM_ERRORS as error:
        messages.error(request, error.message)
        return redirect("console")
    messages.success(
        request,
        "You are available for chat: new chats come to you while the console is open."
        if availability.is_available
        else "You are away: no new chats come to you.",
    )
    back = request.POST.get("next", "")
    return redirect(back if back.startswith("/console/") else "console")


# A queue row's labels, looked up rather than asked of each case (get_FOO_display flattens
# the field's choices on every call).
KIND_LABELS = dict(CaseKind.choices)
PRIORITY_LABELS = {value: str(label) for value, label in CasePriority.choices}
STATUS_LABELS = dict(CaseStatus.choices)


def _status_choices(case: Case) -> list[tuple[str, str]]:
    """What an agent may set the case to on its page ("Set status"): the statuses that
    make sense for it (actions.statuses_for: no "Waiting on customer" for a report)."""
    return [(value, CaseStatus(value).label) for value in actions.statuses_for(case)]


def _queue_rows(cases: list[Case]) -> list[dict[str, Any]]:
    """What the queue's table shows of each case, as text the template only places: the
    template's own lookups, filters and {% url %} for 26 rows were most of the page's
    time (docs/benchmarks.md, "Customer service")."""
    now = timezone.now()
    # The case link, reversed once for the page: only the id changes.
    before, _, after = reverse("console-case", args=[0]).rpartition("/0/")
    rows = []
    for case in cases:
        rows.append(
            {
                "url": f"{before}/{case.pk}/{after}",
                "number": case.number,
                "subject": case.subject,
                "order_number": case.order.number if case.order is not None else None,
                "customer": case.customer.public_name,
                "kind": KIND_LABELS[case.kind],
                "priority": str(case.priority),
                "priority_label": PRIORITY_LABELS[case.priority],
                "status": STATUS_LABELS[case.status],
                "assignee": queries.internal_name(case.assignee)
                if case.assignee is not None
                else None,
                # In the reader's time zone, as the date filter would give it.
                "queued_at": timezone.localtime(case.queued_at).isoformat(),
                "waiting": timesince(case.queued_at, now),
            }
        )
    return rows


def _queue_url(view: str, filters: queries.QueueFilters, cursor: str | None = None) -> str:
    params: dict[str, Any] = {"view": view}
    if filters.kind:
        params["kind"] = filters.kind
    if filters.priority:
        params["priority"] = filters.priority
    if filters.order_number:
        params["order"] = filters.order_number
    if filters.older_than_hours is not None:
        params["older_than_hours"] = filters.older_than_hours
    if cursor:
        params["cursor"] = cursor
    return f"{reverse('console')}?{urlencode(params)}"


# --- one case ------------------------------------------------------------------------------


@login_required
@require_safe
@live_page
def case(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    agent = _staff(request)
    found = _case(agent, case_id)
    if found.merged_into_id is not None:
        return redirect("console-case", found.merged_into_id)
    if request.headers.get("X-Partial") == "messages":
        return _case_messages(request, agent, found)
    if request.headers.get("X-Partial") == "standing":
        return _case_standing(request, found)
    response = _case_page(request, agent, found, canned_id=request.GET.get("canned"))
    patch_vary_headers(response, ["X-Partial"])
    return response


def _case_standing(request: AuthenticatedHttpRequest, found: Case) -> HttpResponse:
    """The line under the case's title as the case now stands (X-Partial: standing), for
    an open page of it told that its team's cases changed (console_case.js): who has it,
    its status, its team. A case the agent can no longer open (transferred to a team they
    are not in) is the 404 above, and a merged one the redirect to the case it was merged
    into: the page says so instead. Nothing is marked read: no message is shown."""
    response = render(
        request,
        "support/_case_status.html",
        {"case": found, "customer_line": queries.console_customer_line(found)},
    )
    patch_vary_headers(response, ["X-Partial"])
    return response


def _case_messages(request: AuthenticatedHttpRequest, agent: User, found: Case) -> HttpResponse:
    """The case's messages after ?after= alone, as the page renders them (X-Partial:
    messages): a message that arrives while the agent has the case open is added by site.js
    with everything a reload shows — its attachments, "From CS-n", Split. Seen here, so read
    for the agent everywhere, as the page's script marked it before. With them, the line
    under the title and the "Set status" form as the case now stands (a customer's message
    reopens it), from the case already read: site.js puts them in place of the page's."""
    try:
        after = parse_id(request.GET.get("after"))
    except NotFound:
        after = 0
    # Not (or no longer) in the conversation: nothing of theirs to mark.
    if found.conversation_id is not None:
        with contextlib.suppress(NotFound):
            conversation_actions.mark_read(agent, [found.conversation_id])
    response = render(
        request,
        "support/_case_live.html",
        {
            "case": found,
            "case_messages": queries.with_reporters(
                queries.case_messages(found).filter(pk__gt=after)
            ),
            "is_partial": True,
            "customer_line": queries.console_customer_line(found),
            "statuses": _status_choices(found),
            "customer_erased": queries.is_customer_erased(found),
        },
    )
    patch_vary_headers(response, ["X-Partial"])
    return response


@login_required
@require_safe
def case_attachment(
    request: AuthenticatedHttpRequest, case_id: int, attachment_id: int
) -> HttpResponse | FileResponse:
    """An attachment of a message the case's page shows, for whoever may open that page —
    the same checks as the page, in the same order (agents and admins; a case of their
    teams): an agent need not be in the conversation to see what the customer sent. A
    merged duplicate's address leads to the case it was merged into, as its page does, and
    is checked there. As the Message Center's download: ?view=inline opens an image."""
    agent = _staff(request)
    found = _case(agent, case_id)
    if found.merged_into_id is not None:
        url = reverse("console-case-attachment", args=[found.merged_into_id, attachment_id])
        query = request.GET.urlencode()
        return redirect(f"{url}?{query}" if query else url)
    return attachment_response(
        queries.case_attachment(found, attachment_id),
        inline=request.GET.get("view") == "inline",
    )


def _case_page(
    request: AuthenticatedHttpRequest,
    agent: User,
    found: Case,
    *,
    error: MessageCenterError | None = None,
    body: str = "",
    note: str = "",
    canned_id: str | None = None,
    claim_decision: Mapping[str, str] | None = None,
    transfer: Mapping[str, Any] | None = None,
    status: int = 200,
) -> HttpResponse:
    canned_responses = list(queries.canned_responses(agent, found.team_id))
    # "Insert" without script: the page comes back with the response, filled in for this
    # case, in the reply box. Only the team's own, found in the list just read.
    chosen = next((canned for canned in canned_responses if str(canned.pk) == canned_id), None)
    if chosen is not None and not body:
        body = actions.fill_placeholders(chosen.body, found, agent)
    return render(
        request,
        "support/case.html",
        {
            "case": found,
            "case_messages": queries.with_reporters(queries.case_messages(found)),
            "notes": list(queries.case_notes(found)),
            "merged_cases": queries.merged_cases(found),
            "history": queries.case_history_html(found),
            "context": queries.customer_context(found, agent),
            "teammates": queries.team_agents(found),
            "canned_responses": [
                (canned, actions.fill_placeholders(canned.body, found, agent))
                for canned in canned_responses
            ],
            "chosen_canned_id": chosen.pk if chosen is not None else None,
            "statuses": _status_choices(found),
            "priorities": CasePriority.choices,
            "customer_line": queries.console_customer_line(found),
            # Erased at their request: no reply box, no status to open it again and no
            # split into a new request, the reason instead (the actions refuse them all:
            # customer_erased).
            "customer_erased": queries.is_customer_erased(found),
            "customer_erased_reason": queries.CUSTOMER_ERASED,
            # The conversation the case is about: where the agent reads it, if anywhere.
            "about": queries.about_conversation(agent, found),
            # A report's panel: what was reported, by whom, the verdict, the sender's
            # history and the decision (docs/safety.md#reports).
            "report_panel": report_queries.report_panel(found)
            if found.kind == CaseKind.REPORT
            else None,
            # A suspicious e-mail a customer forwarded to the report address: its
            # evidence, as text (docs/safety.md#forwarded-e-mails).
            "forwarded_email": report_queries.forwarded_email(found)
            if found.kind == CaseKind.REPORT
            else None,
            "report_outcomes": [
                (value, ReportOutcome(value).label) for value in report_actions.DECISIONS
            ],
            "sender_actions": SenderAction.choices,
            # An appeal's panel: still suspended or not, the report that suspended them,
            # lift or keep (docs/safety.md#appeals).
            "appeal_panel": appeal_queries.appeal_panel(found)
            if found.kind == CaseKind.APPEAL
            else None,
            "appeal_decisions": appeal_actions.DECISIONS,
            "idempotency_key": new_idempotency_key(),
            "body": body,
            # A claim decision refused comes back as the agent wrote it (outcome, refund,
            # reasons), not blank.
            "claim_decision": claim_decision or {},
            # What a grant may still refund (the order's refunds so far), as the decision
            # says it: the order's total would promise what is gone.
            "claim_refund": claim_queries.refund_room(found.claim)
            if found.kind == CaseKind.CLAIM and hasattr(found, "claim")
            else None,
            "note": note,
            # "Transfer to another team": the other teams, for a request that can still
            # move (actions.transfer_case); a refusal comes back beside its field, with
            # the team and the note as chosen.
            "transfer_teams": [team for team in queries.every_team() if team.pk != found.team_id]
            if found.kind == CaseKind.REQUEST and found.status != CaseStatus.CLOSED
            else [],
            "transfer": transfer or {},
            "error": error,
            "now": timezone.now(),
            # The agent is in the conversation: new messages appear live (site.js).
            "is_live": found.conversation_id is not None and found.assignee_id == agent.pk,
            **_presence(agent),
        },
        status=status,
    )


CASE_ACTIONS = ("take", "assign", "unassign", "status", "priority", "merge", "split", "transfer")

# A refused transfer's field, for the error beside it; any other refusal (a case closed
# meanwhile) is the page's own alert.
TRANSFER_FIELDS = {"unknown_team": "team", "note_too_long": "note"}


@login_required
@require_POST
def case_action(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    """The case's buttons: take (assign to me), assign to a teammate, back to the queue,
    status, priority."""
    agent = _staff(request)
    found = _case(agent, case_id)
    action = request.POST.get("action", "")
    try:
        if action == "take":
            actions.take_case(agent, found.pk)
            done = "The case is yours."
        elif action == "assign":
            changed = actions.assign_case(agent, found.pk, request.POST.get("assignee_id"))
            assert changed.assignee is not None
            done = f"Assigned to {queries.internal_name(changed.assignee)}."
        elif action == "unassign":
            actions.unassign_case(agent, found.pk)
            done = "Back in the team's queue."
        elif action == "status":
            changed = actions.set_case_status(agent, found.pk, request.POST.get("status", ""))
            done = f"Status: {CaseStatus(changed.status).label}."
        elif action == "priority":
            changed = actions.set_case_priority(agent, found.pk, request.POST.get("priority"))
            done = f"Priority: {CasePriority(changed.priority).label}."
        elif action == "merge":
            kept = _merge(agent, found, request.POST.get("into", "").strip())
            messages.success(request, f"{found.number} is merged into this case.")
            return redirect("console-case", kept.pk)
        elif action == "transfer":
            return _transfer(request, agent, found)
        elif action == "split":
            new = actions.split_case(
                agent, found.pk, request.POST.get("message_id"), request.POST.get("subject")
            )
            messages.success(request, f"Split out of {found.number} into this new case.")
            return redirect("console-case", new.pk)
        else:
            raise InvalidInput("Choose what to do with the case.", code="unknown_action")
    except FORM_ERRORS as error:
        return _case_page(request, agent, _case(agent, found.pk), error=error, status=error.status)
    messages.success(request, done)
    return redirect("console-case", found.pk)


def _transfer(request: AuthenticatedHttpRequest, agent: User, found: Case) -> HttpResponse:
    """ "Transfer to another team". An agent who is not in the new team can no longer open
    the case: they go back to the queues, told where it went, rather than to a case page
    that would now be the site's 404."""
    team_id = request.POST.get("team_id", "")
    note = request.POST.get("note", "")
    try:
        moved = actions.transfer_case(agent, found.pk, team_id, note)
    except FORM_ERRORS as error:
        field = TRANSFER_FIELDS.get(error.code)
        return _case_page(
            request,
            agent,
            _case(agent, found.pk),
            error=None if field else error,
            transfer={"error": error, "field": field, "team_id": team_id, "note": note},
            status=error.status,
        )
    if moved.team_id == found.team_id:
        messages.success(request, f"{found.number} is in {moved.team.name} already.")
        return redirect("console-case", found.pk)
    if moved.team_id not in queries.team_ids(agent):
        messages.success(
            request,
            f"{found.number} is transferred to {moved.team.name}: it has left your teams' queues.",
        )
        return redirect("console")
    messages.success(request, f"{found.number} is transferred to {moved.team.name}.")
    return redirect("console-case", found.pk)


def _merge(agent: User, duplicate: Case, into: str) -> Case:
    """ "Duplicate of": the case found by _case is this page's own, so a NotFound here is
    the number the agent typed — a form error beside the field, not the site's 404 page
    (a case of another team reads the same as none, as everywhere)."""
    try:
        return actions.merge_cases(agent, duplicate.pk, into)
    except NotFound:
        number = into[3:] if into.upper().startswith("CS-") else into
        if not into:
            message = "Type the number of the case this one duplicates, like CS-123."
        else:
            message = f"No case CS-{number}." if number.isdigit() else f"No case {into}."
        raise InvalidInput(message, code="case_not_found") from None


@login_required
@require_POST
def reply(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    agent = _staff(request)
    found = _case(agent, case_id)
    body = request.POST.get("body", "")
    try:
        message = actions.reply_to_case(
            agent,
            found.pk,
            body,
            status=request.POST.get("status") or CaseStatus.PENDING,
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except FORM_ERRORS as error:
        return _case_page(
            request, agent, _case(agent, found.pk), error=error, body=body, status=error.status
        )
    url = reverse("console-case", args=[found.pk])
    return redirect(f"{url}#message-{message.pk}")


@login_required
@require_POST
def note(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    agent = _staff(request)
    found = _case(agent, case_id)
    body = request.POST.get("body", "")
    try:
        added = actions.add_note(agent, found.pk, body)
    except FORM_ERRORS as error:
        return _case_page(request, agent, found, error=error, note=body, status=error.status)
    url = reverse("console-case", args=[found.pk])
    return redirect(f"{url}#note-{added.pk}")


@login_required
@require_safe
def context_conversation(
    request: AuthenticatedHttpRequest, case_id: int, conversation_id: int
) -> HttpResponse:
    """One of the customer's conversations with a seller about the case, read only;
    opening it leaves an audit line in the case's history."""
    agent = _staff(request)
    found = _case(agent, case_id)
    conversation = queries.access_context_conversation(found, conversation_id)
    if request.method == "GET":
        actions.note_context_opened(agent, found, conversation)
    return _context_conversation_page(request, found, conversation)


def _context_conversation_page(
    request: AuthenticatedHttpRequest,
    found: Case,
    conversation: Conversation,
    *,
    error: MessageCenterError | None = None,
    body: str = "",
    status: int = 200,
) -> HttpResponse:
    # The conversation a request for help is about: its agents write to the buyer and the
    # seller in it while the request is open (docs/escalation.md); any other, read only.
    is_escalated = (
        conversation.pk == found.about_conversation_id
        and escalation_queries.is_escalation(found)
        and found.merged_into_id is None
    )
    customer_erased = is_escalated and queries.is_customer_erased(found)
    return render(
        request,
        "support/context_conversation.html",
        {
            "case": found,
            "conversation": conversation,
            "conversation_messages": queries.with_reporters(queries.context_messages(conversation)),
            "is_escalated": is_escalated,
            # Solved: sending opens it again (escalation_actions.write_in_conversation);
            # never for a buyer erased since.
            "can_write": is_escalated and found.status != CaseStatus.CLOSED and not customer_erased,
            "customer_erased": customer_erased,
            "idempotency_key": new_idempotency_key(),
            "body": body,
            "error": error,
        },
        status=status,
    )


@login_required
@require_POST
def write_in_context_conversation(
    request: AuthenticatedHttpRequest, case_id: int, conversation_id: int
) -> HttpResponse:
    """An agent of a request for help writes in the buyer–seller conversation it is about,
    to both sides (escalation_actions.write_in_conversation); a refusal comes back to the
    page with what they typed."""
    agent = _staff(request)
    found = _case(agent, case_id)
    conversation = queries.access_context_conversation(found, conversation_id)
    body = request.POST.get("body", "")
    try:
        message = escalation_actions.write_in_conversation(
            agent,
            found.pk,
            conversation.pk,
            body,
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except FORM_ERRORS as error:
        return _context_conversation_page(
            request,
            _case(agent, found.pk),
            conversation,
            error=error,
            body=body,
            status=error.status,
        )
    url = reverse("console-context-conversation", args=[found.pk, conversation.pk])
    return redirect(f"{url}#message-{message.pk}")


@login_required
@require_safe
def context_attachment(
    request: AuthenticatedHttpRequest, case_id: int, conversation_id: int, attachment_id: int
) -> HttpResponse | FileResponse:
    """A file of a message in a context conversation, for whoever may read that
    conversation beside the case — the same checks as its page, in the same order — and
    served only if it is one of that conversation's. A download leaves its own audit line
    (the page showed the file's name, not what is in it); an image shown inline does not:
    it is what the audited page already showed."""
    agent = _staff(request)
    found = _case(agent, case_id)
    conversation = queries.access_context_conversation(found, conversation_id)
    attachment = queries.context_attachment(conversation, attachment_id)
    inline = request.GET.get("view") == "inline"
    response = attachment_response(attachment, inline=inline)
    if request.method == "GET" and not (inline and attachment.is_image):
        actions.note_context_opened(agent, found, conversation, attachment=attachment)
    return response


# --- canned responses ------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def canned_responses(request: AuthenticatedHttpRequest) -> HttpResponse:
    agent = _staff(request)
    fields = {"title": "", "body": "", "team_id": ""}
    error: MessageCenterError | None = None
    status = 200
    if request.method == "POST":
        fields = {name: request.POST.get(name, "") for name in fields}
        try:
            actions.save_canned_response(agent, fields["team_id"], fields["title"], fields["body"])
        except FORM_ERRORS as refused:
            error, status = refused, refused.status
        else:
            messages.success(request, "Canned response saved.")
            return redirect("console-canned-responses")
    return render(
        request,
        "support/canned_responses.html",
        {
            "canned_responses": list(queries.canned_responses(agent)),
            "teams": queries.teams_of(agent),
            "error": error,
            **fields,
        },
        status=status,
    )


@login_required
@require_POST
def delete_canned_response(
    request: AuthenticatedHttpRequest, canned_response_id: int
) -> HttpResponse:
    agent = _staff(request)
    actions.delete_canned_response(agent, canned_response_id)
    messages.success(request, "Canned response deleted.")
    return redirect("console-canned-responses")


# --- transcripts ------------------------------------------------------------------------------


@login_required
@require_safe
def transcript(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    """The first "Download transcript" address (cases/<id>/transcript.txt), still in older
    e-mails and bookmarks: it leads to the transcript of today (privacy/transcripts.py),
    as plain text as it was — the customer's own copy of the conversation, the agents'
    the console's. Whoever could not read the case gets the same 404 as before."""
    found = queries.access_case(request.user, case_id)
    if queries.is_staff(request.user):
        target = reverse("console-case-transcript", args=[found.pk])
    elif found.conversation_id is not None:
        target = reverse("conversation-transcript", args=[found.conversation_id])
    else:
        raise NotFound("No such case.", code="case_not_found")
    return redirect(f"{target}?format=txt", permanent=True)


# --- customers: contact customer service ------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def contact_customer_service(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "Contact us": a new case, optionally about an order, a product or a conversation
    with a seller (also the way to go when a seller has not answered within
    SELLER_RESPONSE_BUSINESS_DAYS business days). Lists the person's cases with their status."""
    if request.method != "POST":
        return _customer_service_page(
            request,
            order_number=request.GET.get("order", ""),
            conversation_id=request.GET.get("conversation", ""),
            # A link that knows what the request is about ("Your data": closing the
            # account) fills in the subject; the person can still change it.
            subject=request.GET.get("subject", "")[:200],
        )
    subject = request.POST.get("subject", "")
    body = request.POST.get("body", "")
    order_number = request.POST.get("order", "")
    conversation_id = request.POST.get("conversation", "")
    try:
        opened = actions.open_request(
            request.user,
            actions.typed_subject(subject),
            body,
            order_number=order_number or None,
            about_conversation_id=conversation_id or None,
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except FORM_ERRORS as error:
        return _customer_service_page(
            request,
            order_number=order_number,
            conversation_id=conversation_id,
            subject=subject,
            body=body,
            error=error,
            status=error.status,
        )
    return redirect("conversation", opened.conversation_id)


def _customer_service_page(
    request: AuthenticatedHttpRequest, *, status: int = 200, **fields: Any
) -> HttpResponse:
    user = request.user
    return render(
        request,
        "support/customer_service.html",
        {
            "orders": marketplace_queries.recent_orders(user, ORDERS_TO_CHOOSE_FROM),
            "cases": [
                (case, queries.customer_status_label(case)) for case in queries.customer_cases(user)
            ],
            "is_customer": not queries.is_staff(user),
            "idempotency_key": new_idempotency_key(),
            # When a buyer may ask for help with a silent seller (docs/escalation.md).
            "business_days": settings.SELLER_RESPONSE_BUSINESS_DAYS,
            **fields,
        },
        status=status,
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def chat(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "Chat with us": when an agent is available, the chat starts as a case they take
    at once and the conversation updates live on both sides; otherwise the page says so
    and the question becomes an ordinary request with the expected response time."""
    user = request.user
    if request.method != "POST":
        return _chat_page(request, order_number=request.GET.get("order", ""))
    body = request.POST.get("body", "")
    order_number = request.POST.get("order", "")
    try:
        opened = actions.start_chat(
            user,
            body,
            order_number=order_number or None,
            idempotency_key=request.POST.get("idempotency_key") or None,
        )
    except FORM_ERRORS as error:
        return _chat_page(
            request, order_number=order_number, body=body, error=error, status=error.status
        )
    if opened.assignee_id is None and request.POST.get("expected") == "chat":
        messages.info(
            request,
            "The agent who was available has just become busy: we answer here as soon as we can.",
        )
    return redirect("conversation", opened.conversation_id)


def _chat_page(
    request: AuthenticatedHttpRequest, *, status: int = 200, **fields: Any
) -> HttpResponse:
    user = request.user
    team = actions.team_for(CaseKind.REQUEST)
    is_customer = not queries.is_staff(user)
    return render(
        request,
        "support/chat.html",
        {
            "is_customer": is_customer,
            "agent_available": is_customer and queries.chat_agent(team) is not None,
            "expected": queries.describe_duration(queries.expected_response(team)),
            "orders": marketplace_queries.recent_orders(user, ORDERS_TO_CHOOSE_FROM),
            "idempotency_key": new_idempotency_key(),
            **fields,
        },
        status=status,
    )
