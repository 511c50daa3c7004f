"""What the support app attaches to conversations (conversations/hooks.py)."""

from dataclasses import replace
from urllib.parse import quote

from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import hooks
from messagecenter.conversations.models import Kind
from messagecenter.delivery.inbound import mailboxes
from messagecenter.marketplace import queries as marketplace_queries
from messagecenter.marketplace.models import Order
from messagecenter.support import (
    actions,
    appeal_actions,
    claim_queries,
    escalation_queries,
    forwarded_email_actions,
    queries,
)
from messagecenter.support.models import Case, CaseKind, CaseStatus, ClaimStage
from messagecenter.web.dates import full_time

CASE_KINDS = (Kind.CUSTOMER_SERVICE, Kind.CLAIM)


def status_line(user: User, conversation_id: int) -> hooks.StatusLine | None:
    case = queries.case_for_conversation(user, conversation_id)
    if case is None:
        return None
    line = (
        _claim_status_line(user, case) if case.kind == CaseKind.CLAIM else _request_line(user, case)
    )
    if line is not None and _closed_for_its_customer(user, case):
        # The reply box stays (the conversation is theirs, and what they write is kept), but
        # a reply no longer reopens a closed case nor reaches a queue: said where they
        # would write it, with the way to be helped again (docs/support.md).
        what = "claim" if case.kind == CaseKind.CLAIM else "request"
        order = f"?order={quote(case.order.number)}" if case.order is not None else ""
        line = replace(
            line,
            notice=(
                f"This {what} is closed: a reply here is kept in the conversation, but it "
                "does not open it again and no agent is asked to read it. If you need more "
                "help, open a new request."
            ),
            notice_link_url=f"{reverse('contact-customer-service')}{order}",
            notice_link_label="Contact customer service",
        )
    return line


def _closed_for_its_customer(user: User, case: Case) -> bool:
    # A merged case says where it went instead (its status line: "Merged into CS-…").
    return (
        case.status == CaseStatus.CLOSED
        and case.merged_into_id is None
        and case.customer_id == user.pk
    )


def _request_line(user: User, case: Case) -> hooks.StatusLine:
    detail = ""
    if case.status == CaseStatus.OPEN and case.respond_by is not None:
        when = full_time(case.respond_by)
        detail = f"We expect to answer by {when}."
    elif case.status == CaseStatus.SOLVED:
        detail = "Reply to open it again."
    # A request about an order can become a guarantee claim (the claim page says whether
    # the buyer may file for the seller and reason they choose). Not for an order nothing
    # can be claimed on — cancelled, past the filing window, refunded in full: the form
    # said only why.
    can_claim = (
        case.order is not None and case.customer_id == user.pk and claim_refusal(case.order) is None
    )
    return hooks.StatusLine(
        label=queries.customer_status_label(case),
        reference=case.number,
        detail=detail,
        state=case.status,
        link_url=f"{reverse('claim-file', args=[case.order.number])}?case={case.pk}"
        if can_claim and case.order is not None
        else "",
        link_label="File a guarantee claim" if can_claim else "",
        case_id=case.pk if case.customer_id == user.pk else None,
    )


def _claim_status_line(user: User, case: Case) -> hooks.StatusLine | None:
    claim = claim_queries.claim_for_conversation(case.conversation_id or 0)
    if claim is None:
        return None
    claim.case = case
    due = claim_queries.response_due(user, claim)
    if due is not None:
        # The seller, while the claim waits for their formal response: a reply in the
        # conversation (or to its e-mails) is not it, and they are told so where they
        # would reply, with the way to the claim's Respond form.
        when = claim_queries.when(due)
        return hooks.StatusLine(
            label="Guarantee claim · Your response is due",
            reference=case.number,
            detail=f"Respond to the claim on its page by {when}; then an agent decides.",
            state=case.status,
            link_url=f"{reverse('claim', args=[case.pk])}#respond-title",
            link_label="Respond to the claim",
            notice=(
                f"Your response to claim {claim.number} is due by {when}. A reply here is "
                "read by the buyer and the agent but is not a response to the claim: "
                "respond on the claim's page, with your evidence, or at the deadline an "
                "agent decides on what the buyer sent."
            ),
            notice_claim_id=claim.pk,
            notice_due_at=due,
            notice_api_url=f"/api/v1/claims/{claim.pk}/response",
        )
    return hooks.StatusLine(
        label=f"Guarantee claim · {ClaimStage(claim.stage).label}",
        reference=case.number,
        detail=claim_queries.stage_detail(claim, user),
        state=case.status,
        link_url=reverse("claim", args=[case.pk]),
        link_label="Open the claim",
    )


def row_statuses(user: User, conversation_ids: list[int]) -> dict[int, hooks.StatusLine]:
    """The short status on the person's list rows of case conversations: one read for
    the page."""
    statuses = {}
    for conversation_id, (case_id, status, merged_into_id, kind) in queries.row_statuses(
        conversation_ids
    ).items():
        labels = queries.CLAIM_ROW_LABELS if kind == CaseKind.CLAIM else queries.ROW_LABELS
        if merged_into_id is not None:
            label, state = f"Merged into CS-{merged_into_id}", "merged"
        else:
            label, state = labels[CaseStatus(status)], status
        statuses[conversation_id] = hooks.StatusLine(
            label=label, reference=f"CS-{case_id}", state=state
        )
    return statuses


SUPPORT_MAILBOX = mailboxes.Mailbox(
    name="customer-service",
    address=lambda: settings.SUPPORT_EMAIL_ADDRESS,
    receive=actions.open_request_by_email,
    unknown_sender_reason=(
        "We opened nothing: this address is not the e-mail address of an account of ours. "
        "Write to us from your account's address, or sign in and use Contact customer "
        "service."
    ),
    # A suspended person writes here to appeal (docs/safety.md#appeals).
    takes_appeals=True,
)


PHISHING_MAILBOX = mailboxes.Mailbox(
    name="report-phishing",
    address=lambda: settings.PHISHING_REPORT_ADDRESS,
    receive=forwarded_email_actions.report_forwarded_email,
    # Said in the SMTP session only (never an e-mail back to an address we cannot tie
    # to an account): the sender's own server tells them.
    unknown_sender_reason=(
        "We took nothing: this address is not the e-mail address of an account of ours. "
        "Forward the suspicious e-mail from your account's address, or sign in and check "
        "its reference on Is this e-mail from us?"
    ),
    reads_forwards=True,
)


def escalation_line(user: User, conversation_id: int) -> hooks.StatusLine | None:
    """On a buyer–seller conversation: the buyer's open request about it, if any
    ("CS-12 · Customer service is helping", with the way to the request). Its seller is
    told that the buyer asked, without the request's number or a way to it (the buyer's):
    their page said the buyer "can now ask" after they had."""
    if user.is_seller:
        if escalation_queries.open_escalation_about(conversation_id) is None:
            return None
        return hooks.StatusLine(
            label="The buyer asked customer service to step in",
            reference="",
            detail="An agent reads this conversation and may write to you here.",
            state="escalated",
        )
    if user.answers_as_customer_service:
        return _escalation_line_for_agents(conversation_id)
    if not user.is_buyer:
        return None
    case = escalation_queries.open_escalation(user, conversation_id)
    if case is None:
        return None
    return hooks.StatusLine(
        label="Customer service is helping",
        reference=case.number,
        detail=f"You asked us to step in: {queries.customer_status_label(case).lower()}.",
        state="escalated",
        link_url=reverse("conversation", args=[case.conversation_id])
        if case.conversation_id is not None
        else "",
        link_label="Open your request",
        case_id=case.pk,
    )


def _escalation_line_for_agents(conversation_id: int) -> hooks.StatusLine | None:
    """An agent who wrote from a request is in the buyer–seller conversation, and reads it
    in their Message Center too; they write there only from the request (its checks, its
    history: docs/escalation.md), so the line says which and leads to it in the console."""
    case = escalation_queries.latest_escalation_about(conversation_id)
    if case is None:
        return None
    return hooks.StatusLine(
        label=f"Request for help · {CaseStatus(case.status).label}",
        reference=case.number,
        detail="Customer service writes here from the request, in the console.",
        state="escalated",
        link_url=reverse("console-context-conversation", args=[case.pk, conversation_id]),
        link_label="Write from the request",
    )


def claim_refusal(order: Order) -> str | None:
    """Why no claim can be filed on the order whatever its shop or reason (the claim
    page's own rule, marketplace.queries.order_claim_refusal), or None. A claim still
    open on it first: a review's buyer read "No guarantee claim: … refunded in full" —
    refunded by that claim — with no word of the claim itself, in its appeal window."""
    open_claim = claim_queries.open_claim_on(order)
    if open_claim is not None:
        return claim_queries.already_open(open_claim).message
    refusal = marketplace_queries.order_claim_refusal(
        order, marketplace_queries.refunded_cents(order), now=timezone.now()
    )
    return None if refusal is None else refusal.message


def register() -> None:
    hooks.on_message_posted(CASE_KINDS, actions.case_message_posted)
    hooks.on_status_line(CASE_KINDS, status_line)
    hooks.on_row_status(CASE_KINDS, row_statuses)
    hooks.on_batch_lock(CASE_KINDS, actions.lock_case_teams)
    mailboxes.register(SUPPORT_MAILBOX)
    mailboxes.register(PHISHING_MAILBOX)
    mailboxes.register_appeal(appeal_actions.appeal_by_email)
    hooks.on_status_line((Kind.BUYER_SELLER,), escalation_line)
    hooks.on_seller_rates(escalation_queries.claim_rates)
    hooks.on_claim_refusal(claim_refusal)
