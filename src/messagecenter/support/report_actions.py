"""Reports of messages and conversations (docs/safety.md#reports): every write, each in one
transaction. A report hides what it is about for its reporter at once and opens — or
joins — a case of kind `report` in the trust-and-safety queue, carrying the safety check's
verdict, its reasons and the sender's history; an agent confirms it (removed for every
recipient, the sender restricted or suspended), dismisses it, or warns the sender, and
every reporter is told the outcome in a message of their own.

A reporter never learns who else reported the same thing: each is told in a conversation
of their own, the case is not theirs to open (support.queries.access_case), and nothing
they are shown names the case they joined."""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from messagecenter.accounts import closed_accounts, suspensions
from messagecenter.accounts.models import Role, User
from messagecenter.accounts.time_zones import zone_of
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations import topics
from messagecenter.conversations.models import (
    Conversation,
    Kind,
    Message,
    Participant,
    ParticipantRole,
)
from messagecenter.errors import Conflict, InvalidInput, NotAllowed
from messagecenter.rows import unique_row
from messagecenter.safety import actions as safety_actions
from messagecenter.safety.links import defang
from messagecenter.support import actions as support_actions
from messagecenter.support import report_queries
from messagecenter.support.models import (
    CaseEventKind,
    CaseKind,
    CaseStatus,
    Report,
    ReportCategory,
    ReportFiling,
    ReportOutcome,
    SenderAction,
)
from messagecenter.web.dates import email_time

# Kinds of conversation in which people write to each other (and so can be reported).
REPORTABLE_KINDS = (Kind.BUYER_SELLER, Kind.CLAIM)
VERDICT_ORDER = {"ok": 0, "warn": 1, "hold": 2}
EXCERPT_CHARS = 120
DECISIONS = (ReportOutcome.CONFIRMED, ReportOutcome.WARNED, ReportOutcome.DISMISSED)
# The subject of a suspended person's conversation with customer service about it, and so
# of every e-mail in it: the notice, the answers to an appeal, and the decision, which may
# be that the suspension is lifted (a subject saying "is suspended" would then be wrong).
SUSPENSION_SUBJECT = "Your account's suspension"


def report_message(reporter: User, message_id: Any, category: Any) -> ReportFiling:
    """Report one message of someone else's in one of the person's conversations."""
    participant, message = report_queries.reportable_message(reporter, message_id)
    _require_customer(reporter)
    category = _category(category)
    if message.sender is None or message.sender.role not in (Role.BUYER, Role.SELLER):
        raise InvalidInput(
            "Messages from the marketplace and its customer service cannot be reported.",
            code="cannot_report_marketplace",
        )
    if message.sender_id == reporter.pk:
        raise InvalidInput("You cannot report your own message.", code="cannot_report_own")
    _refuse_erased_sender(message.sender)
    return _file(
        reporter,
        participant.conversation,
        message.sender,
        category,
        message=message,
        hide=[message.pk],
    )


def _refuse_erased_sender(sender: User) -> None:
    """`409 sender_erased`: erasure replaced the person's messages ("[removed at the
    person's request]") and closed their account for good, so a report would open a case
    with nothing for an agent to review and no one to act on. A suspended sender's messages
    are kept and may still be reported. No query for an active sender."""
    if closed_accounts.closure_of(sender) == closed_accounts.Closure.ERASED:
        raise Conflict(
            "This person's account was erased at their request: their messages were "
            "removed and there is nothing left to report.",
            code="sender_erased",
        )


def report_conversation(reporter: User, conversation_id: Any, category: Any) -> ReportFiling:
    """Report the other side of a conversation (the shop, or the buyer): everything they
    wrote in it so far is hidden for the reporter and reviewed together."""
    participant = conversation_queries.access_conversation(reporter, conversation_id)
    _require_customer(reporter)
    category = _category(category)
    conversation = participant.conversation
    # An erased person's own copy of the conversation went with their data, so the look
    # for the other participant below finds nobody and would call them the marketplace:
    # the conversation itself still names them.
    other = conversation_queries.other_side(participant)
    if other is not None:
        _refuse_erased_sender(other)
    counterpart = (
        unique_row(
            Participant.objects.filter(
                conversation_id=conversation.pk,
                role__in=(ParticipantRole.BUYER, ParticipantRole.SELLER),
            )
            .exclude(user=reporter)
            .select_related("user__storefront")
        )
        if conversation.kind in REPORTABLE_KINDS
        else None
    )
    if counterpart is None:
        raise InvalidInput(
            "Only conversations with a buyer or a shop can be reported, not the marketplace "
            "or customer service.",
            code="cannot_report_marketplace",
        )
    visible = conversation_queries.conversation_messages(participant).filter(
        sender_id=counterpart.user_id
    )
    return _file(
        reporter,
        conversation,
        counterpart.user,
        category,
        message=None,
        hide=list(visible.values_list("pk", flat=True)),
    )


def _file(
    reporter: User,
    conversation: Conversation,
    sender: User,
    category: str,
    *,
    message: Message | None,
    hide: list[int],
) -> ReportFiling:
    with transaction.atomic():
        # The conversation's participants first (the lock order of every support action).
        conversation_actions.lock_participants(conversation.pk)
        if (
            message is None
            and ReportFiling.objects.filter(
                reporter=reporter,
                conversation=conversation,
                message__isnull=True,
                report__outcome=ReportOutcome.PENDING,
            ).exists()
        ):
            raise Conflict(
                "You reported this conversation already: customer service reviews it.",
                code="already_reported",
            )
        now = timezone.now()
        reported = (
            [message]
            if message is not None
            else list(Message.objects.filter(conversation=conversation, sender=sender))
        )
        report = _join(reporter, sender, category, reported, now=now)
        if report is None:
            try:
                # Two first reports of one sender from two conversations may race: the
                # index lets one open the case, and the other joins it.
                with transaction.atomic():
                    report = _open(reporter, conversation, sender, category, message, reported)
            except IntegrityError:
                report = _join(reporter, sender, category, reported, now=now)
                if report is None:
                    raise
        filing = ReportFiling.objects.create(
            report=report,
            reporter=reporter,
            category=category,
            conversation=conversation,
            message=message,
            created_at=now,
        )
        conversation_actions.hide_messages_for(reporter.pk, hide)
        return filing


def _join(
    reporter: User, sender: User, category: str, reported: list[Message], *, now: datetime
) -> Report | None:
    """The sender's report waiting for review, if any, with these messages' verdicts and
    reasons added (locked: the team, then the report's row)."""
    pending = unique_row(
        Report.objects.select_related("case").filter(sender=sender, outcome=ReportOutcome.PENDING)
    )
    if pending is None:
        return None
    support_actions.lock_team(pending.case.team_id)
    report = unique_row(
        Report.objects.select_for_update(of=("self",))
        .select_related("case")
        .filter(pk=pending.pk, outcome=ReportOutcome.PENDING)
    )
    if report is None:
        return None
    verdict, reasons, version = _verdict(
        reported, start=(report.verdict, report.reasons, report.safety_version)
    )
    if (verdict, reasons, version) != (report.verdict, report.reasons, report.safety_version):
        report.verdict, report.reasons, report.safety_version = verdict, reasons, version
        report.save(update_fields=["verdict", "reasons", "safety_version"])
    support_actions.record_case_event(
        report.case, reporter, CaseEventKind.REPORTED_AGAIN, now=now, category=category
    )
    return report


def _open(
    reporter: User,
    conversation: Conversation,
    sender: User,
    category: str,
    message: Message | None,
    reported: list[Message],
) -> Report:
    verdict, reasons, version = _verdict(reported)
    history = report_queries.sender_history(sender)
    case = support_actions.open_case(
        CaseKind.REPORT,
        reporter,
        f"Report: {sender.public_name} ({ReportCategory(category).label.lower()})",
        about_conversation=conversation,
        about_message=message,
        # Not the reporter's case to follow (others may join it): each reporter reads
        # their own filings, and the outcome in a message of their own.
        tell_customer=False,
        category=category,
    )
    return Report.objects.create(
        case=case,
        sender=sender,
        verdict=verdict,
        reasons=reasons,
        safety_version=version,
        sender_history=history,
    )


def _verdict(
    messages: list[Message],
    *,
    start: tuple[str, list[dict[str, str]], str] = ("ok", [], ""),
) -> tuple[str, list[dict[str, str]], str]:
    """The strictest verdict stored with the messages, and their reasons (each once)."""
    verdict, reasons, version = start[0], list(start[1]), start[2]
    seen = {reason.get("code") for reason in reasons}
    for message in messages:
        if VERDICT_ORDER.get(message.safety_verdict, 0) > VERDICT_ORDER.get(verdict, 0):
            verdict = message.safety_verdict
        version = message.safety_version or version
        for reason in message.safety_reasons or []:
            if reason.get("code") not in seen:
                seen.add(reason.get("code"))
                reasons.append(reason)
    return verdict, reasons, version


# --- the review -------------------------------------------------------------------------------


def decide_report(agent: User, case_id: Any, outcome: Any, sender_action: Any = None) -> Report:
    """Confirm (the reported messages removed for every recipient; the sender restricted or
    suspended, as chosen), dismiss, or warn the sender. Every reporter is told the outcome
    in a customer-service message of their own; the sender is told when warned or when
    their message was removed."""
    report = report_queries.access_report(agent, case_id)
    if outcome not in DECISIONS:
        raise InvalidInput(
            "Confirm the report, dismiss it, or warn the sender.", code="invalid_outcome"
        )
    sender_action = sender_action or ""
    if sender_action and sender_action not in SenderAction.values:
        # Not "choose which" (as for none): the value itself is wrong.
        raise InvalidInput(
            f"“{sender_action}” is not a sender action: restricted or suspended.",
            code="invalid_sender_action",
        )
    if outcome == ReportOutcome.CONFIRMED and not sender_action:
        raise InvalidInput(
            "A confirmed report restricts or suspends the sender: choose which.",
            code="sender_action_required",
        )
    if outcome != ReportOutcome.CONFIRMED and sender_action:
        raise InvalidInput(
            "Only a confirmed report restricts or suspends the sender.",
            code="sender_action_not_allowed",
        )
    with transaction.atomic():
        # The reported conversations' participants (by id), then the team and the case.
        for conversation_id in report_queries.reported_conversation_ids(report):
            conversation_actions.lock_participants(conversation_id)
        case = support_actions.lock_case(report.case)
        report = (
            Report.objects.select_for_update(of=("self",))
            .select_related("sender", "sender__storefront")
            .get(pk=case.pk)
        )
        report.case = case
        if report.outcome != ReportOutcome.PENDING:
            raise Conflict(
                f"This report was decided already: {ReportOutcome(report.outcome).label.lower()}.",
                code="report_already_decided",
            )
        now = timezone.now()
        messages = list(report_queries.reported_messages(report))
        if outcome == ReportOutcome.CONFIRMED:
            conversation_actions.remove_messages(
                report.sender_id, [message.pk for message in messages], now=now
            )
            if sender_action == SenderAction.SUSPENDED:
                # With what the apps above do about it: the claims still waiting for a
                # suspended seller's response go to an agent (accounts/suspensions.py).
                suspensions.suspend(report.sender)
            else:
                safety_actions.restrict_sending(report.sender, now=now)
        report.outcome, report.sender_action = outcome, sender_action
        report.decided_by, report.decided_at = agent, now
        report.save(update_fields=["outcome", "sender_action", "decided_by", "decided_at"])
        if case.assignee_id is None:
            support_actions.assign_locked_case(case, agent, actor=agent)
        support_actions.record_case_event(
            case,
            agent,
            CaseEventKind.REPORT_DECIDED,
            now=now,
            outcome=outcome,
            sender_action=sender_action,
        )
        support_actions.set_locked_case_status(case, CaseStatus.SOLVED, actor=agent)
        filings = list(report_queries.filings(report))
        # One message per reporter (about their earliest filing), in their own conversation.
        told: set[int] = set()
        sent = {message.pk: message.created_at for message in messages}
        for filing in filings:
            if filing.reporter_id in told:
                continue
            told.add(filing.reporter_id)
            conversation_actions.start_customer_service_conversation(
                filing.reporter,
                "Your report",
                _reporter_text(report, filing, sent),
                can_reply=False,
            )
        sender_text = _sender_text(report, messages, {filing.category for filing in filings})
        if sender_text:
            suspended = report.sender_action == SenderAction.SUSPENDED
            # A suspension's notice goes to the person's suspension conversation, the one
            # their e-mail still reaches and their reply to it appeals
            # (docs/safety.md#appeals); any other outcome is a message to read.
            conversation_actions.start_customer_service_conversation(
                report.sender,
                SUSPENSION_SUBJECT if suspended else "About your messages",
                sender_text,
                can_reply=suspended,
                topic_key=topics.account_suspension(report.sender_id) if suspended else None,
            )
        return report


def _reporter_text(report: Report, filing: ReportFiling, sent: dict[int, datetime]) -> str:
    """The outcome, told to one reporter. `sent`: when each reported message was sent —
    a message is recognised by when it came, not by when it was reported; a conversation
    reported as a whole, by when they reported it. In the reporter's own time zone, not
    the deciding agent's."""
    with timezone.override(zone_of(filing.reporter)):
        if filing.message_id is not None:
            what = (
                f"a message {report.sender.public_name} sent you on "
                f"{email_time(sent[filing.message_id])}"
            )
        else:
            what = (
                f"your conversation with {report.sender.public_name} on "
                f"{email_time(filing.created_at)}"
            )
    opening = f"Thank you for reporting {what}."
    if report.outcome == ReportOutcome.CONFIRMED:
        return (
            f"{opening} We reviewed it and removed it: nobody in the conversation sees it any "
            "more, and we have acted on the sender's account."
        )
    if report.outcome == ReportOutcome.WARNED:
        return (
            f"{opening} We reviewed it and warned the sender. It stays hidden for you; you "
            "can also block them from the conversation."
        )
    return (
        f"{opening} We reviewed it and found that it does not break the marketplace's "
        "rules, so we took no action. It stays hidden for you; you can also block the "
        "sender from the conversation."
    )


# What a message "was reported as", in words that follow "as" (the categories' labels are
# the report form's choices: "was reported as asks to pay…" read wrong).
_REPORTED_AS = {
    ReportCategory.SCAM: "phishing or scam",
    ReportCategory.PAY_OUTSIDE: "asking to be paid outside the marketplace",
    ReportCategory.OFFENSIVE: "offensive",
    ReportCategory.SPAM: "spam",
}


def _sender_text(report: Report, messages: list[Message], categories: set[str]) -> str:
    """What the reported person is told (nothing when dismissed): what was found, never by
    whom."""
    if report.outcome == ReportOutcome.DISMISSED:
        return ""
    found = " and ".join(
        _REPORTED_AS[ReportCategory(category)]
        for category in ReportCategory.values
        if category in categories
    )
    quoted = ""
    if messages:
        # The reported words travel inside an Official message, whose page makes addresses
        # links and whose e-mail mail apps link up: defanged (hxxp://host[.]example) like
        # every quoted word (docs/safety.md), before it is cut so that no half of an
        # address is left to link.
        excerpt = defang(messages[-1].body).replace("\n", " ")
        if len(excerpt) > EXCERPT_CHARS:
            excerpt = excerpt[: EXCERPT_CHARS - 1] + "…"
        quoted = f" (“{excerpt}”)"
    # A product's title, which its seller chose, is a conversation's subject.
    subject = defang(messages[-1].conversation.subject) if messages else ""
    where = f" in “{subject}”" if subject else ""
    about = f"Your message{where}{quoted} was reported as {found}, and our team reviewed it."
    if report.outcome == ReportOutcome.WARNED:
        return (
            f"{about} This is a warning: keep to the marketplace's rules — no requests for "
            "passwords, codes or card details, no payment outside the marketplace, no "
            "offensive messages or spam. Another confirmed report may restrict or suspend "
            "your account."
        )
    if report.sender_action == SenderAction.SUSPENDED:
        return (
            f"{about} We removed it: the others in the conversation no longer see it. "
            "Your account is suspended: you can no longer sign in, and we will not e-mail "
            "you about anything else while it is. "
            f"If you think this is a mistake, you can appeal: {appeal_ways()} Tell us why, "
            "in your own words. Our trust and safety team will review your appeal and "
            "answer you by e-mail."
        )
    return (
        f"{about} We removed it: the others in the conversation no longer see it. "
        "Your account is restricted: you can answer people who write to you, but no "
        "longer write to someone first. If you think this is a mistake, contact customer "
        "service."
    )


def appeal_ways() -> str:
    """How a suspended person appeals, in the notice's words: a reply to it, or an
    e-mail to customer service's address when there is one."""
    address = settings.SUPPORT_EMAIL_ADDRESS
    if not address:
        return "reply to this e-mail from your account's e-mail address."
    return f"reply to this e-mail, or write to {address}, from your account's e-mail address."


def _require_customer(user: User) -> None:
    if not report_queries.is_customer(user):
        raise NotAllowed(
            "Buyers and sellers report messages; customer service reviews them.",
            code="customers_only",
        )


def _category(value: Any) -> str:
    if value not in ReportCategory.values:
        raise InvalidInput(
            "Choose what is wrong: phishing or scam, asks to pay outside the marketplace, "
            "offensive, or spam.",
            code="invalid_report_category",
        )
    return str(value)
