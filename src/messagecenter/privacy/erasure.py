"""Erasing a person at their request (docs/privacy.md#erasure): an operator's action, from
the admin (an action on people) or `messagecenter erase-person <username>`.

One transaction. What the person wrote and everything about them goes — removed, or
pseudonymised where a row must stay for someone else (the other party's conversation) or
for the operator's records (orders, refunds, claims and cases stay, without personal
data). The `Erasure` row it leaves says what was removed and what was kept, and why; the
admin shows it. Stored files go after the commit (a crash leaves an orphan file, never a
row pointing at nothing).
"""

import re
from collections import Counter
from collections.abc import Iterable
from functools import partial
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.conf import settings
from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.contrib.sessions.models import Session
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from messagecenter.accounts.closed_accounts import Closure
from messagecenter.accounts.models import ApiToken, BrowserSession, Passkey, Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import (
    Attachment,
    AwayMessage,
    Conversation,
    HiddenMessage,
    Kind,
    Message,
    Participant,
    ResponseTime,
    SavedReply,
    UnreadCounter,
)
from messagecenter.delivery.models import (
    Email,
    InboundEmail,
    MailboxEmail,
    Preference,
    Suppression,
)
from messagecenter.errors import Conflict, MessageCenterError, NotAllowed
from messagecenter.marketplace.models import (
    Order,
    OrderItem,
    Product,
    Refund,
    ReturnPhoto,
    ReturnRequest,
    Storefront,
)
from messagecenter.notifications.models import BroadcastRecipient, BroadcastsSeen, BroadcastState
from messagecenter.privacy.models import DataExport, Erasure
from messagecenter.realtime.actions import forget_conversation_content
from messagecenter.realtime.models import EventStream, UserEvent
from messagecenter.safety.models import Block, HeldMessage, SendingCount
from messagecenter.search.actions import index_messages
from messagecenter.search.models import MailboxMessage, SearchDocument
from messagecenter.support import claim_actions
from messagecenter.support.actions import close_cases_of_erased
from messagecenter.support.models import (
    Case,
    CaseKind,
    CaseNote,
    ChatAvailability,
    Claim,
    ForwardedEmail,
    Report,
    ReportFiling,
    TeamMember,
)

# What the other party's copy of an erased person's message says instead (the rule:
# docs/privacy.md#erasure). The message stays in its place, with its time.
REMOVED = "[removed at the person's request]"


def refusal(operator: User, person: User) -> MessageCenterError | None:
    """Why the operator may not erase this person, or None. The admin's confirmation page
    lists these before anything is done, and erase_person refuses with the same."""
    if not (operator.is_superuser or operator.role == Role.ADMIN):
        return NotAllowed("Only an administrator erases people.", code="admins_only")
    if operator.pk == person.pk:
        return NotAllowed("An administrator cannot erase themselves.", code="cannot_erase_self")
    if Erasure.objects.filter(person=person).exists():
        return Conflict("This person was erased already.", code="already_erased")
    return None


def erase_person(operator: User, person: User) -> Erasure:
    refused = refusal(operator, person)
    if refused is not None:
        raise refused
    removed: Counter[str] = Counter()
    files: list[str] = []
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=person.pk)
        username, email = person.get_username(), person.email
        names, first_name = _names_of(person), person.first_name
        # First, while their conversations still have them: requests and appeals nobody
        # can answer any more leave the agents' queues, closed with the reason.
        closed = close_cases_of_erased(operator, person)
        # Claims still waiting for their response as a seller go to an agent now, as a
        # claim filed against a closed shop does: nobody will ever respond for it.
        claim_actions.hand_claims_to_customer_service(person, closure=Closure.ERASED)
        _messages(person, removed, files)
        _own_rows(person, username, email, removed, files)
        # Before the records: what is indexed again below names the pseudonym.
        _pseudonymise(person)
        # Nobody can answer them now: their questions leave the sellers' Response needed,
        # and the deadlines stop counting against the sellers.
        conversation_actions.set_aside_waits_for(person)
        kept = _operator_records(person, names, first_name, removed, files, closed=closed)
        kept += _reports(person, names, removed)
        kept += _forwarded_emails(person, names, first_name)
        kept += _shop(person, names, removed)
        _named_elsewhere(person, names, removed)
        erasure = Erasure.objects.create(
            person=person,
            pseudonym=person.get_username(),
            erased_by=operator,
            erased_at=timezone.now(),
            removed=dict(sorted(removed.items())),
            kept=kept,
        )
        transaction.on_commit(partial(_delete_files, files))
    return erasure


def _messages(person: User, removed: Counter[str], files: list[str]) -> None:
    """The person's messages keep their place in the other party's conversation, with the
    text replaced; their attachments, search entries and the events' previews go."""
    message_ids = list(Message.objects.filter(sender=person).values_list("pk", flat=True))
    attachments = Attachment.objects.filter(message_id__in=message_ids)
    files += [str(name) for name in attachments.values_list("file", flat=True) if name]
    removed["attachments"] += attachments.delete()[0]
    removed["search entries"] += SearchDocument.objects.filter(message_id__in=message_ids).delete()[
        0
    ]
    removed["search entries"] += MailboxMessage.objects.filter(
        Q(message_id__in=message_ids) | Q(user=person)
    ).delete()[0]
    removed["message texts replaced"] += Message.objects.filter(pk__in=message_ids).update(
        body=REMOVED, safety_reasons=[], is_masked=False, idempotency_key=None
    )
    # Other people's e-mails about those messages: the delivery record stays, its subject
    # (which may quote the person) goes.
    Email.objects.filter(message_id__in=message_ids).update(subject="")
    # Every participant's event log: the previews and names of the person's conversations.
    conversation_ids = list(
        Participant.objects.filter(user=person).values_list("conversation_id", flat=True)
    )
    pairs = Participant.objects.filter(conversation_id__in=conversation_ids).values_list(
        "user_id", "conversation_id"
    )
    removed["event previews"] += forget_conversation_content(list(pairs))
    removed["messages held for review"] += HeldMessage.objects.filter(sender=person).delete()[0]
    _messages_to_them_alone(person, conversation_ids, removed, files)


def _messages_to_them_alone(
    person: User, conversation_ids: list[int], removed: Counter[str], files: list[str]
) -> None:
    """What the marketplace and customer service wrote to the person alone (order updates,
    notices, the outcome of a report — which quotes the reported message): nobody else
    reads those conversations, and their text is about the person, so it goes like their
    own. A customer-service case's conversation is the operator's record of the case and
    follows the case's rule instead (below)."""
    shared = Participant.objects.filter(conversation_id__in=conversation_ids).exclude(user=person)
    alone = (
        Conversation.objects.filter(pk__in=conversation_ids)
        .exclude(pk__in=shared.values("conversation_id"))
        .exclude(pk__in=Case.objects.filter(conversation__isnull=False).values("conversation_id"))
    )
    messages = Message.objects.filter(conversation__in=alone).exclude(sender=person)
    message_ids = list(messages.values_list("pk", flat=True))
    attachments = Attachment.objects.filter(message_id__in=message_ids)
    files += [str(name) for name in attachments.values_list("file", flat=True) if name]
    removed["attachments"] += attachments.delete()[0]
    removed["search entries"] += SearchDocument.objects.filter(message_id__in=message_ids).delete()[
        0
    ]
    removed["messages to them replaced"] += Message.objects.filter(pk__in=message_ids).update(
        body=REMOVED, safety_reasons=[], is_masked=False
    )
    Email.objects.filter(message_id__in=message_ids).update(subject="")
    alone.update(subject=REMOVED)


def _own_rows(
    person: User, username: str, email: str, removed: Counter[str], files: list[str]
) -> None:
    """Rows that are the person's alone: removed."""
    session_keys = list(
        BrowserSession.objects.filter(user=person).values_list("session_key", flat=True)
    )
    Session.objects.filter(session_key__in=session_keys).delete()
    removed["signed-in browsers"] += BrowserSession.objects.filter(user=person).delete()[0]
    removed["API tokens"] += ApiToken.objects.filter(user=person).delete()[0]
    removed["two-factor devices"] += TOTPDevice.objects.filter(user=person).delete()[0]
    removed["two-factor devices"] += StaticDevice.objects.filter(user=person).delete()[0]
    removed["two-factor devices"] += Passkey.objects.filter(user=person).delete()[0]
    removed["sign-in records"] += AccessAttempt.objects.filter(username=username).delete()[0]
    removed["sign-in records"] += AccessFailureLog.objects.filter(username=username).delete()[0]
    removed["sign-in records"] += AccessLog.objects.filter(username=username).delete()[0]
    removed["their copies of conversations"] += Participant.objects.filter(user=person).delete()[0]
    UnreadCounter.objects.filter(user=person).delete()
    removed["event log"] += UserEvent.objects.filter(user=person).delete()[0]
    EventStream.objects.filter(user=person).delete()
    removed["notice states"] += BroadcastState.objects.filter(user=person).delete()[0]
    BroadcastRecipient.objects.filter(user=person).delete()
    BroadcastsSeen.objects.filter(user=person).delete()
    removed["e-mail preferences"] += Preference.objects.filter(user=person).delete()[0]
    removed["e-mail log"] += Email.objects.filter(user=person).delete()[0]
    removed["replies by e-mail"] += InboundEmail.objects.filter(
        Q(user=person) | (Q(from_address__iexact=email) if email else Q(pk__in=[]))
    ).delete()[0]
    if email:
        removed["e-mail log"] += MailboxEmail.objects.filter(
            to_addresses__icontains=email
        ).delete()[0]
        Suppression.objects.filter(address__iexact=email).delete()
    removed["blocks"] += Block.objects.filter(Q(blocker=person) | Q(blocked=person)).delete()[0]
    # The messages they reported stay hidden from nobody else: the state was theirs alone.
    removed["messages hidden by their reports"] += HiddenMessage.objects.filter(
        user=person
    ).delete()[0]
    SendingCount.objects.filter(user=person).delete()
    removed["saved replies"] += SavedReply.objects.filter(seller=person).delete()[0]
    AwayMessage.objects.filter(seller=person).delete()
    ResponseTime.objects.filter(seller=person).delete()
    ChatAvailability.objects.filter(agent=person).delete()
    TeamMember.objects.filter(agent=person).delete()
    exports = DataExport.objects.filter(user=person)
    files += [str(name) for name in exports.values_list("file", flat=True) if name]
    removed["data exports"] += exports.delete()[0]


def _operator_records(
    person: User,
    names: list[str],
    first_name: str,
    removed: Counter[str],
    files: list[str],
    *,
    closed: int,
) -> list[Any]:
    """Records the operator must keep stay, with the person's own words taken out."""
    returns = ReturnRequest.objects.filter(order__buyer=person)
    photos = ReturnPhoto.objects.filter(return_request__in=returns)
    files += [str(name) for name in photos.values_list("file", flat=True) if name]
    removed["return photos"] += photos.delete()[0]
    returns.exclude(note="").update(note=REMOVED)
    pseudonym = person.get_username()
    cases = Case.objects.filter(customer=person)
    # The subjects they wrote — a request's (typed, a chat's first line, an e-mail's
    # subject) — are replaced. A report's subject names the person reported, and other
    # reporters' filings join the same case: it follows the reported person's rule
    # (_reports). A claim's and an appeal's subjects are the marketplace's words ("Claim:
    # item not received — order …"), which the seller of a claim reads too: they keep
    # them, with the person's names replaced by the pseudonym (an appeal's names them).
    requests = cases.filter(kind=CaseKind.REQUEST)
    requests.update(subject=REMOVED)
    for case in cases.filter(kind__in=(CaseKind.CLAIM, CaseKind.APPEAL)):
        subject = _without_names(case.subject, names, pseudonym)
        if subject != case.subject:
            Case.objects.filter(pk=case.pk).update(subject=subject)
    CaseNote.objects.filter(case__in=cases).update(body=REMOVED)
    # Their own case conversations: a buyer's (a claim's too) names them as its buyer, a
    # seller's or an agent's names no buyer.
    case_conversations = list(
        Conversation.objects.filter(
            Q(buyer=person) | Q(buyer__isnull=True), pk__in=cases.values("conversation_id")
        ).values_list("pk", flat=True)
    )
    Conversation.objects.filter(pk__in=case_conversations, case__kind=CaseKind.REQUEST).update(
        subject=REMOVED
    )
    written = list(
        Conversation.objects.filter(pk__in=case_conversations).exclude(case__kind=CaseKind.REQUEST)
    )
    for conversation in written:
        conversation.subject = _without_names(conversation.subject, names, pseudonym)
    Conversation.objects.bulk_update(written, ["subject"])
    # Customer service's answers in them greet the person by name (a canned response's
    # {customer_name} is their first name): the names become the pseudonym — the first
    # name only as a whole, capitalised word, in these conversations with them alone.
    answers = list(
        Message.objects.filter(conversation_id__in=case_conversations).exclude(sender=person)
    )
    for answer in answers:
        body = _without_names(answer.body, names, pseudonym)
        if len(first_name) >= 2:
            body = re.sub(rf"\b{re.escape(first_name)}\b", pseudonym, body)
        answer.body = body
    Message.objects.bulk_update(answers, ["body"])
    # Their messages' search entries carried the old subject: indexed again under the new.
    case_messages = list(
        Message.objects.filter(conversation_id__in=case_conversations).select_related(
            "sender", "sender__storefront", "conversation__order"
        )
    )
    SearchDocument.objects.filter(message__in=case_messages).delete()
    MailboxMessage.objects.filter(message__in=case_messages).delete()
    index_messages(case_messages)
    # The admin's change log names the account as it was.
    LogEntry.objects.filter(
        content_type=ContentType.objects.get_for_model(User), object_id=str(person.pk)
    ).update(object_repr=f"erased-{person.pk}")
    return [
        {
            "what": "orders",
            "count": Order.objects.filter(buyer=person).count(),
            "why": "the operator's sales record (accounting, tax, disputes); they point at "
            "the pseudonymised account and hold no name or address",
        },
        {
            "what": "returns and refunds",
            "count": returns.count() + Refund.objects.filter(order__buyer=person).count(),
            "why": "money paid back is accounted for; the buyer's note and photos are removed",
        },
        {
            "what": "customer-service cases and claims",
            "count": cases.count() + Claim.objects.filter(case__customer=person).count(),
            "why": "decisions and refunds the operator must be able to show; the subjects "
            "they wrote and agents' notes are replaced"
            + (
                f"; {closed} still waiting for an answer closed, as nobody can answer them"
                if closed
                else ""
            ),
        },
        {
            "what": "conversations with other people",
            "count": Conversation.objects.filter(
                pk__in=Message.objects.filter(sender=person).values("conversation_id")
            ).count(),
            "why": f"the other party's copy: each of the person's messages says “{REMOVED}”",
        },
    ]


def _reports(person: User, names: list[str], removed: Counter[str]) -> list[Any]:
    """Reports filed by the person and about them stay: the operator must be able to show
    what was reported, what was decided and the restriction or suspension it led to (and
    the other reporters' filings rest on the same case). What identifies the person in
    them goes: their messages' text was replaced above (_messages), and the report's
    subject and the check's reasons name the pseudonym."""
    pseudonym = person.get_username()
    about = Report.objects.filter(sender=person).select_related("case")
    for report in about:
        subject = _without_names(report.case.subject, names, pseudonym)
        if subject != report.case.subject:
            Case.objects.filter(pk=report.case_id).update(subject=subject)
        reasons = [
            {**reason, "text": _without_names(str(reason.get("text", "")), names, pseudonym)}
            for reason in report.reasons
        ]
        if reasons != report.reasons:
            Report.objects.filter(pk=report.pk).update(reasons=reasons)
    _notes_without_names(Case.objects.filter(report__sender=person), names, pseudonym)
    filed = ReportFiling.objects.filter(reporter=person)
    return [
        {
            "what": "reports about them",
            "count": about.count(),
            "why": "what was reported, the decision and the restriction or suspension it led "
            "to, which the operator must be able to show; the reported messages' text is "
            "replaced and the report names the pseudonym",
        },
        {
            "what": "their reports of other people",
            "count": filed.count(),
            "why": "the decisions about the people they reported rest on them; a filing "
            "holds no words of theirs (a category, which message or conversation) and "
            "points at the pseudonymised account",
        },
    ]


def _forwarded_emails(person: User, names: list[str], first_name: str) -> list[Any]:
    """The suspicious e-mails the person forwarded (docs/safety.md#forwarded-e-mails) stay
    as evidence against whoever sent them; the person's own words above each go, and the
    e-mail's words that named them (its "To:", "Dear Alice", its subject) name the
    pseudonym — the first name only as a whole, capitalised word, as in customer
    service's answers — in the case's subject too."""
    pseudonym = person.get_username()

    def scrubbed(text: str) -> str:
        text = _without_names(text, names, pseudonym)
        if len(first_name) >= 2:
            text = re.sub(rf"\b{re.escape(first_name)}\b", pseudonym, text)
        return text

    rows = list(ForwardedEmail.objects.filter(reporter=person).select_related("case"))
    fields = ("from_header", "reply_to", "subject", "date", "text")
    for row in rows:
        row.note = ""
        for name in fields:
            setattr(row, name, scrubbed(getattr(row, name)))
        row.links = [
            {key: scrubbed(str(value)) for key, value in link.items()} for link in row.links
        ]
        subject = scrubbed(row.case.subject)
        if subject != row.case.subject:
            Case.objects.filter(pk=row.case_id).update(subject=subject)
    ForwardedEmail.objects.bulk_update(rows, ["note", *fields, "links"])
    return [
        {
            "what": "suspicious e-mails they forwarded to the report address",
            "count": len(rows),
            "why": "trust and safety's evidence of someone else's phishing; what they wrote "
            "above it is removed, and their names and address in it are the pseudonym",
        }
    ]


def _shop(person: User, names: list[str], removed: Counter[str]) -> list[Any]:
    """A seller's shop, already named by the pseudonym (_pseudonymise): what it sold stays
    as the orders' record (the order lines keep their titles and prices), products nobody
    ordered or asked about go, and the ones that stay lose the seller's description."""
    storefront = Storefront.objects.filter(seller=person).first()
    if storefront is None:
        return []
    pseudonym = person.get_username()
    products = Product.objects.filter(storefront=storefront)
    needed = (
        Q(pk__in=OrderItem.objects.filter(storefront=storefront).values("product_id"))
        | Q(pk__in=Conversation.objects.filter(product__storefront=storefront).values("product_id"))
        | Q(pk__in=Case.objects.filter(product__storefront=storefront).values("product_id"))
    )
    removed["products"] += products.exclude(needed).delete()[0]
    for product in products:
        title = _without_names(product.title, names, pseudonym)
        Product.objects.filter(pk=product.pk).update(title=title, description="")
    for item in OrderItem.objects.filter(storefront=storefront):
        title = _without_names(item.title, names, pseudonym)
        if title != item.title:
            OrderItem.objects.filter(pk=item.pk).update(title=title)
    # The seller's own words to buyers about their returns (a reason for declining,
    # instructions that often give the seller's address), on the return and where the
    # marketplace's messages quote them in the buyer's Returns & refunds conversation.
    returns = ReturnRequest.objects.filter(storefront=storefront)
    quoted: dict[int, Message] = {}
    for return_request in returns.exclude(decline_reason="", instructions=""):
        for words in (return_request.decline_reason, return_request.instructions):
            if not words:
                continue
            for message in Message.objects.filter(
                conversation__order_id=return_request.order_id,
                sender__isnull=True,
                body__contains=words,
            ):
                # One copy per message, so a second quote in it keeps the first's change.
                message = quoted.get(message.pk, message)
                body = _without_quote(message.body, words)
                if body != message.body:
                    message.body = body
                    quoted[message.pk] = message
    Message.objects.bulk_update(list(quoted.values()), ["body"])
    _written_again(quoted.values(), removed)
    removed["seller's words quoted in messages replaced"] += len(quoted)
    returns.exclude(decline_reason="").update(decline_reason=REMOVED)
    returns.exclude(instructions="").update(instructions=REMOVED)
    # Cases about the shop's sales (a claim against it names the shop in its subject).
    sold_cases = Case.objects.filter(
        Q(claim__storefront=storefront)
        | Q(order__in=OrderItem.objects.filter(storefront=storefront).values("order_id"))
    )
    for case in sold_cases:
        subject = _without_names(case.subject, names, pseudonym)
        if subject != case.subject:
            Case.objects.filter(pk=case.pk).update(subject=subject)
    _notes_without_names(sold_cases, names, pseudonym)
    sold = Order.objects.filter(
        pk__in=OrderItem.objects.filter(storefront=storefront).values("order_id")
    )
    return [
        {
            "what": "orders sold by their shop",
            "count": sold.count(),
            "why": "the operator's sales record and the buyers' (accounting, tax, returns, "
            "claims); the shop is named by the pseudonym",
        },
        {
            "what": "products",
            "count": products.count(),
            "why": "kept orders, conversations or cases point at them; their descriptions "
            "are removed",
        },
        {
            "what": "claims against their shop",
            "count": Claim.objects.filter(storefront=storefront).count(),
            "why": "decisions and refunds the operator must be able to show",
        },
    ]


def _named_elsewhere(person: User, names: list[str], removed: Counter[str]) -> None:
    """Messages the marketplace and customer service wrote to other people that name the
    person — a seller's note of a buyer's order or return, a buyer's order updates naming
    the shop, a reporter told the outcome of their report of the person — and the subjects
    of conversations about them: the names become the pseudonym, the message stays.
    Looked for only where such messages go (conversations of their orders and their
    shop's, the outcome notices of the people who reported them), never across everyone's
    messages."""
    pseudonym = person.get_username()
    reporters = ReportFiling.objects.filter(report__sender=person).values("reporter_id")
    # A reporter is told the outcome in a customer-service conversation of its own (no
    # case): only those of theirs, not every conversation they have with anyone — a word
    # that is also the person's name ("Rose candle") in a reporter's other orders is not them.
    told = Conversation.objects.filter(
        kind=Kind.CUSTOMER_SERVICE, participants__user__in=reporters
    ).exclude(pk__in=Case.objects.filter(conversation__isnull=False).values("conversation_id"))
    where = (
        Q(order__buyer=person)
        | Q(order__in=OrderItem.objects.filter(storefront__seller=person).values("order_id"))
        | Q(pk__in=told.values("pk"))
        | Q(storefront__seller=person)
    )
    conversations = Conversation.objects.filter(where).distinct()
    named = Q()
    for name in names:
        named |= Q(body__icontains=name)
    messages = list(
        Message.objects.filter(named, conversation__in=conversations, sender__isnull=True)
    )
    for message in messages:
        message.body = _without_names(message.body, names, pseudonym)
    Message.objects.bulk_update(messages, ["body"])
    removed["names replaced in other people's messages"] += len(messages)
    subjects = Q()
    for name in names:
        subjects |= Q(subject__icontains=name)
    renamed = list(Conversation.objects.filter(subjects, pk__in=conversations.values("pk")))
    for conversation in renamed:
        conversation.subject = _without_names(conversation.subject, names, pseudonym)
    Conversation.objects.bulk_update(renamed, ["subject"])
    # Their search entries carried the names: indexed again from the new text.
    reindexed = _written_again(
        Message.objects.filter(
            Q(pk__in=[m.pk for m in messages]) | Q(conversation__in=[c.pk for c in renamed])
        ),
        removed,
    )
    emails = list(Email.objects.filter(message__in=reindexed))
    for email in emails:
        email.subject = _without_names(email.subject, names, pseudonym)
    Email.objects.bulk_update(emails, ["subject"])


def _written_again(messages: Iterable[Message], removed: Counter[str]) -> list[Message]:
    """Messages whose text erasure changed: their search entries are written again from
    the new text, and their readers' event logs forget the previews that quoted the old."""
    changed = list(
        Message.objects.filter(pk__in=[message.pk for message in messages]).select_related(
            "sender", "sender__storefront", "conversation__order"
        )
    )
    SearchDocument.objects.filter(message__in=changed).delete()
    MailboxMessage.objects.filter(message__in=changed).delete()
    index_messages(changed)
    pairs = Participant.objects.filter(
        conversation_id__in={message.conversation_id for message in changed}
    ).values_list("user_id", "conversation_id")
    removed["event previews"] += forget_conversation_content(list(pairs))
    return changed


def _without_quote(text: str, words: str) -> str:
    """The seller's words where the marketplace's message quotes them — in “…”, as lines of
    their own (return instructions), or after a colon to the end of a line — and nowhere
    else: a short reason ("No") is also the start of the marketplace's own "Reason: No
    longer needed" in the same conversation."""
    quote = rf"(?:(?<=“)|(?<=\n)|(?<=: )|^){re.escape(words)}(?=”|\n|$)"
    return re.sub(quote, lambda _: REMOVED, text, flags=re.MULTILINE)


def _notes_without_names(cases: Any, names: list[str], pseudonym: str) -> None:
    """Agents' internal notes on cases about the person (a report of them, a claim against
    their shop) stay as the operator's record, naming the pseudonym instead of them."""
    named = Q()
    for name in names:
        named |= Q(body__icontains=name)
    notes = list(CaseNote.objects.filter(named, case__in=cases))
    for note in notes:
        note.body = _without_names(note.body, names, pseudonym)
    CaseNote.objects.bulk_update(notes, ["body"])


def _names_of(person: User) -> list[str]:
    """What identifies the person in text others see: their public name (a seller's shop
    name), display and full name, username, e-mail address — longest first, so a name
    inside another is replaced with it. Shorter than three characters is no name to look
    for."""
    storefront = Storefront.objects.filter(seller=person).first()
    names = {
        person.public_name,
        person.display_name,
        person.get_full_name(),
        person.get_username(),
        person.email,
        storefront.name if storefront is not None else "",
    }
    # Agents and admins write to customers as "Customer Service" (User.public_name): a
    # label every colleague shares, no name of theirs — scrubbed, it would turn customer
    # service's own words in other people's conversations into the pseudonym.
    shared = str(settings.SUPPORT_AGENT_PUBLIC_NAME).casefold()
    return sorted(
        (name for name in names if len(name.strip()) >= 3 and name.casefold() != shared),
        key=len,
        reverse=True,
    )


def _without_names(text: str, names: Iterable[str], pseudonym: str) -> str:
    """Each name as a whole word (a display name "Sam" is not the start of "same")."""
    for name in names:
        text = re.sub(rf"(?<!\w){re.escape(name)}(?!\w)", pseudonym, text, flags=re.IGNORECASE)
    return text


def _pseudonymise(person: User) -> None:
    """The account stays as the row orders and conversations point at, with nothing of
    the person left in it and no way to sign in."""
    person.username = f"erased-{person.pk}"
    person.first_name = person.last_name = person.display_name = person.email = ""
    person.country = ""
    person.time_zone = settings.DEFAULT_USER_TIME_ZONE
    # Nobody can write to a closed shop: no away period either (its text is gone).
    person.away_from = person.away_until = None
    person.is_active = False
    person.last_login = None
    person.set_unusable_password()
    person.save()
    # A seller's shop is named after them as often as not: it takes the pseudonym too,
    # before anything is indexed again under the names it shows.
    Storefront.objects.filter(seller=person).update(name=person.username, slug=person.username)
    User.objects.filter(pk=person.pk).update(session_generation=F("session_generation") + 1)


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
