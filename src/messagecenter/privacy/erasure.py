"""Erasing a person at their request (docs/privacy.md#erasure): an operator's action, from
the admin (an action on people) or `messagecenter erase-person <username>`.

One transaction. What the person wrote and everything about them goes — removed, or
pseudonymised where a row must stay for someone else (the other party's conversation) or
for the operator's records (orders, refunds, claims and cases stay, without personal
data). The `Erasure` row it leaves says what was removed and what was kept, and why; the
admin shows it. Stored files go after the commit (a crash leaves an orphan file, never a
row pointing at nothing).
"""

from collections import Counter
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

from messagecenter.accounts.models import ApiToken, BrowserSession, Role, User
from messagecenter.conversations.models import (
    Attachment,
    Conversation,
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
from messagecenter.errors import Conflict, NotAllowed
from messagecenter.marketplace.models import Order, Refund, ReturnPhoto, ReturnRequest
from messagecenter.notifications.models import BroadcastRecipient, BroadcastsSeen, BroadcastState
from messagecenter.privacy.models import DataExport, Erasure
from messagecenter.realtime.actions import forget_conversation_content
from messagecenter.realtime.models import EventStream, UserEvent
from messagecenter.safety.models import Block, HeldMessage, SendingCount
from messagecenter.search.actions import index_messages
from messagecenter.search.models import MailboxMessage, SearchDocument
from messagecenter.support.models import Case, CaseNote, ChatAvailability, Claim, TeamMember

# What the other party's copy of an erased person's message says instead (the rule:
# docs/privacy.md#erasure). The message stays in its place, with its time.
REMOVED = "[removed at the person's request]"


def erase_person(operator: User, person: User) -> Erasure:
    if not (operator.is_superuser or operator.role == Role.ADMIN):
        raise NotAllowed("Only an administrator erases people.", code="admins_only")
    if operator.pk == person.pk:
        raise NotAllowed("An administrator cannot erase themselves.", code="cannot_erase_self")
    if Erasure.objects.filter(person=person).exists():
        raise Conflict("This person was erased already.", code="already_erased")
    removed: Counter[str] = Counter()
    files: list[str] = []
    with transaction.atomic():
        person = User.objects.select_for_update().get(pk=person.pk)
        username, email = person.get_username(), person.email
        _messages(person, removed, files)
        _own_rows(person, username, email, removed, files)
        # Before the records: what is indexed again below names the pseudonym.
        _pseudonymise(person)
        kept = _operator_records(person, removed, files)
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
    SendingCount.objects.filter(user=person).delete()
    removed["saved replies"] += SavedReply.objects.filter(seller=person).delete()[0]
    ResponseTime.objects.filter(seller=person).delete()
    ChatAvailability.objects.filter(agent=person).delete()
    TeamMember.objects.filter(agent=person).delete()
    exports = DataExport.objects.filter(user=person)
    files += [str(name) for name in exports.values_list("file", flat=True) if name]
    removed["data exports"] += exports.delete()[0]


def _operator_records(person: User, removed: Counter[str], files: list[str]) -> list[Any]:
    """Records the operator must keep stay, with the person's own words taken out."""
    returns = ReturnRequest.objects.filter(order__buyer=person)
    photos = ReturnPhoto.objects.filter(return_request__in=returns)
    files += [str(name) for name in photos.values_list("file", flat=True) if name]
    removed["return photos"] += photos.delete()[0]
    returns.exclude(note="").update(note=REMOVED)
    cases = Case.objects.filter(customer=person)
    cases.update(subject=REMOVED)
    CaseNote.objects.filter(case__in=cases).update(body=REMOVED)
    case_conversations = list(
        Conversation.objects.filter(
            pk__in=cases.values("conversation_id"), buyer=person
        ).values_list("pk", flat=True)
    )
    Conversation.objects.filter(pk__in=case_conversations).update(subject=REMOVED)
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
            "why": "decisions and refunds the operator must be able to show; subjects and "
            "agents' notes are replaced",
        },
        {
            "what": "conversations with other people",
            "count": Conversation.objects.filter(
                pk__in=Message.objects.filter(sender=person).values("conversation_id")
            ).count(),
            "why": f"the other party's copy: each of the person's messages says “{REMOVED}”",
        },
    ]


def _pseudonymise(person: User) -> None:
    """The account stays as the row orders and conversations point at, with nothing of
    the person left in it and no way to sign in."""
    person.username = f"erased-{person.pk}"
    person.first_name = person.last_name = person.display_name = person.email = ""
    person.country = ""
    person.time_zone = settings.DEFAULT_USER_TIME_ZONE
    person.is_active = False
    person.last_login = None
    person.set_unusable_password()
    person.save()
    User.objects.filter(pk=person.pk).update(session_generation=F("session_generation") + 1)


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
