"""Reads for e-mail delivery: the reference checker and the development mailbox."""

from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db.models import Exists, OuterRef, Q, QuerySet

from messagecenter.accounts.models import Role, User
from messagecenter.conversations.models import Kind, Message, Participant
from messagecenter.conversations.presentation import message_url
from messagecenter.conversations.queries import access_message, opens_conversation
from messagecenter.delivery import references
from messagecenter.delivery.broadcasts import broadcasts
from messagecenter.delivery.inbound.actions import reply_idempotency_key
from messagecenter.delivery.models import (
    ACCOUNT_EMAIL_KINDS,
    Email,
    EmailKind,
    InboundEmail,
    InboundStatus,
    MailboxEmail,
)
from messagecenter.delivery.rendering import ACCOUNT_SUBJECTS
from messagecenter.errors import NotFound
from messagecenter.safety import vocabulary_cache
from messagecenter.safety.detector import Sender, SenderRole, check
from messagecenter.safety.models import HeldMessage


@dataclass(frozen=True)
class CheckedReference:
    """What "Is this e-mail from us?" can say about a reference (docs/email.md#the-reference).

    origin: "marketplace" (vouched for), "person" (a buyer's or seller's message: never
    vouched for), "own" (the person's own message, whose reference the Message Center
    shows beside it: no e-mail of ours carries it to them), "shared" (an old reference of
    ours that other people were e-mailed too: not vouched for), "told" (a reference of
    ours to them that they wrote in a message to a buyer or a seller, who can print it
    under an e-mail of their own: not vouched for), or "unknown" (not a reference we sent
    this person)."""

    reference: str
    origin: str
    subject: str = ""
    # Where the person's own copy is; empty when there is none to open (deleted, or hidden).
    url: str = ""
    # A promotion with no copy to open because the person switched promotions off in the
    # Message Center: they did not delete it, and the page must not say they did.
    is_hidden_promotion: bool = False
    sender_name: str = ""
    sender_role: str = ""
    warnings: tuple[str, ...] = ()
    # "told": who read the person's message with the reference in it, when, and where it is.
    told_to: str = ""
    told_at: datetime | None = None
    told_url: str = ""
    # A forwarded e-mail carrying it (support/forwarded_email_actions.py): what in it is not
    # in the e-mail we sent — a link leading elsewhere, another subject; "" when nothing.
    altered: str = ""
    # The marketplace's text as sent, when known: the sites its e-mail linked to besides
    # ours (a notice's link to the terms, an agent's to a carrier).
    sent_text: str = ""
    # An e-mail about the person's account (a password reset link…): its kind and when it
    # was sent. Kept in no Message Center, so `url` is always empty.
    account_email: str = ""
    sent_at: datetime | None = None

    @property
    def about(self) -> str:
        """What an account e-mail was, for the person: "" for any other."""
        return ACCOUNT_EMAIL_ABOUT.get(self.account_email, "")


# An account e-mail whose outbox row is gone (EMAIL_RETENTION_DAYS): which kind is unknown.
ANY_ACCOUNT_EMAIL = "account"

# What each account e-mail was, as the checker tells it (and what to do if it was not them).
ACCOUNT_EMAIL_ABOUT: dict[str, str] = {
    ANY_ACCOUNT_EMAIL: (
        "a password reset link, an address to confirm, a notice that an address is in use "
        "or was changed, or a data export ready. We keep the record of these e-mails for "
        f"{settings.EMAIL_RETENTION_DAYS} days, so we cannot say which one it was."
    ),
    EmailKind.PASSWORD_RESET: (
        "a link to choose a new password, sent because someone asked to reset your "
        "account's password. If it was not you, ignore it: your password stays as it is."
    ),
    EmailKind.DATA_EXPORT: (
        "a link to the page where the copy of your data you asked for is downloaded, "
        "signed in. If you did not ask for it, change your password: someone who knows it "
        "asked for your data."
    ),
    EmailKind.EMAIL_CHANGE: (
        "a link to confirm a new e-mail address for your account. If you did not ask for "
        "it, ignore it: nothing changes."
    ),
    EmailKind.EMAIL_IN_USE: (
        "that someone asked to use your e-mail address for another account, which it "
        "cannot be. Nothing changed."
    ),
    EmailKind.EMAIL_CHANGED: (
        "that your account's e-mail address was changed, with a link that puts the old "
        "address back if it was not you."
    ),
}


def find_reference(user: User, text: str) -> CheckedReference:
    parsed = references.parse(text, user.pk)
    if parsed is None:
        return CheckedReference(text.strip()[:40], "unknown")
    # As the e-mail printed it, whichever way it was typed.
    cleaned = references.spelled(parsed, user.pk)
    unknown = CheckedReference(cleaned, "unknown")
    if parsed.kind == references.BROADCAST:
        return _broadcast_reference(user, cleaned, parsed)
    if parsed.kind == references.ACCOUNT:
        return _account_email_reference(user, cleaned, parsed)
    # The reference's signature is bound to this person: it names a message they were sent,
    # so reading that message by id shows nothing they were not shown already.
    message = (
        Message.objects.select_related("sender__storefront", "conversation")
        .filter(pk=parsed.object_id)
        .first()
    )
    copy_url = _own_copy_url(user, parsed.object_id)
    if parsed.is_legacy and copy_url == "":
        # An old reference proves only that we made it: without the person's copy it
        # could be someone else's.
        return unknown
    if message is None:
        if parsed.kind == references.OFFICIAL:
            return _unless_told(user, parsed, CheckedReference(cleaned, "marketplace"))
        return CheckedReference(cleaned, "person")
    # The reference beside a message the person wrote themselves (an agent's answer too):
    # "from Alice Martin, a buyer — not from the marketplace" told alice about alice.
    is_own = message.sender_id == user.pk
    if message.is_official:
        if parsed.kind == references.PERSON:
            return unknown
        if is_own:
            return CheckedReference(cleaned, "own", message.conversation.subject, copy_url)
        if parsed.is_legacy and _others_were_emailed(user, message):
            return CheckedReference(cleaned, "shared", message.conversation.subject, copy_url)
        return _unless_told(
            user,
            parsed,
            CheckedReference(
                cleaned,
                "marketplace",
                message.conversation.subject,
                copy_url,
                is_hidden_promotion=not copy_url
                and message.conversation.kind == Kind.PROMOTION
                and not user.shows_promotions,
                sent_text=message.body,
            ),
            since=message.created_at,
        )
    if parsed.kind == references.OFFICIAL:
        return unknown
    if is_own:
        return CheckedReference(cleaned, "own", message.conversation.subject, copy_url)
    assert message.sender is not None
    return CheckedReference(
        cleaned,
        "person",
        message.conversation.subject,
        copy_url,
        sender_name=message.sender.public_name,
        sender_role=message.sender.get_role_display().lower(),
        warnings=tuple(_warnings(message)),
    )


def _others_were_emailed(user: User, message: Message) -> bool:
    """Whether a buyer or a seller other than the person was in the message's conversation,
    and so may hold the same old reference: one named the message, not its recipient, so a
    seller e-mailed the marketplace's notice in a conversation with a buyer could print it
    under a phishing e-mail to that buyer."""
    return _other_buyers_and_sellers(user, message.conversation_id).exists()


def _other_buyers_and_sellers(user: User, conversation_id: Any) -> QuerySet[Participant]:
    """The conversation's buyers and sellers but the person: who else reads it (customer
    service's agents are the marketplace's own)."""
    return Participant.objects.filter(
        conversation_id=conversation_id, user__role__in=(Role.BUYER, Role.SELLER)
    ).exclude(user_id=user.pk)


def _own_copy_url(user: User, message_id: int) -> str:
    """The message in the person's Message Center, or "" when they deleted it (someone
    else's message, or one from before they deleted the conversation, is not theirs)."""
    try:
        message = access_message(user, message_id)
    except NotFound:
        return ""
    return message_url(message.conversation_id, message_id)


def _broadcast_reference(
    user: User, cleaned: str, parsed: references.Reference
) -> CheckedReference:
    found = broadcasts().referenced(user, parsed.object_id)
    if found is None or not found.url:
        if parsed.is_legacy:
            return CheckedReference(cleaned, "unknown")
        return CheckedReference(
            cleaned,
            "marketplace",
            found.subject if found else "",
            is_hidden_promotion=found is not None
            and found.is_promotion
            and not user.shows_promotions,
            sent_text=found.body if found else "",
        )
    if parsed.is_legacy:
        # An old broadcast reference was the same in every e-mail of the broadcast: anyone
        # of its audience could print it under an e-mail of their own.
        return CheckedReference(cleaned, "shared", found.subject, found.url)
    return _unless_told(
        user,
        parsed,
        CheckedReference(cleaned, "marketplace", found.subject, found.url, sent_text=found.body),
    )


def _account_email_reference(
    user: User, cleaned: str, parsed: references.Reference
) -> CheckedReference:
    """An e-mail about the person's account: its outbox row says what it was and when it
    went. The signature, bound to the person, says we made it for them; a row that is gone
    (the outbox's retention) leaves it ours, without the details."""
    email = (
        Email.objects.filter(pk=parsed.object_id, kind__in=ACCOUNT_EMAIL_KINDS)
        .only("kind", "created_at", "sent_at")
        .first()
    )
    if email is None:
        # Its record is gone (the outbox's retention): ours, about the account, but which
        # one cannot be said — never "no longer in your Message Center", where it never was.
        return _unless_told(
            user, parsed, CheckedReference(cleaned, "marketplace", account_email=ANY_ACCOUNT_EMAIL)
        )
    return _unless_told(
        user,
        parsed,
        CheckedReference(
            cleaned,
            "marketplace",
            ACCOUNT_SUBJECTS[email.kind],
            account_email=email.kind,
            sent_at=email.sent_at or email.created_at,
        ),
        since=email.created_at,
    )


def _unless_told(
    user: User,
    parsed: references.Reference,
    vouched: CheckedReference,
    *,
    since: datetime | None = None,
) -> CheckedReference:
    """A reference of ours to the person, unless they wrote it in a message to a buyer or a
    seller ("I got e-mail MC-O… about my refund"): that reader can print it under an
    e-mail of their own to them, which the signature, bound to the person, would then
    vouch for. The first such message of theirs (since the e-mail's message was written,
    when known: a reference cannot be pasted before it exists) makes it "told"."""
    told = _message_telling(user, parsed, since)
    if told is None:
        return vouched
    return replace(
        vouched,
        origin="told",
        told_to=", ".join(_other_readers(user, told.conversation_id)) or "someone else",
        told_at=told.created_at,
        told_url=message_url(told.conversation_id, told.pk),
    )


def _message_telling(
    user: User, parsed: references.Reference, since: datetime | None
) -> Message | None:
    # Only messages with an M before a C in them are read (anything but letters and digits
    # between: "M C", "M\u200bC", a line break; or a full-width M), and only the person's
    # own, in conversations a buyer or a seller other than them can read (customer
    # service's agents are ours).
    others = _other_buyers_and_sellers(user, OuterRef("conversation_id"))
    written = Message.objects.filter(Exists(others), sender_id=user.pk).filter(
        Q(body__iregex=r"m[^a-z0-9]{0,4}c") | Q(body__contains="Ｍ") | Q(body__contains="ｍ")
    )
    # However it was written — spaced out, cut by a line break or an invisible character,
    # in full-width letters, with underscores: a review wrote each to a seller and the
    # checker still vouched for the e-mail the seller could then print it under.
    target = references.folded(references.spelled(parsed, user.pk))
    if since is not None:
        written = written.filter(created_at__gte=since)
    # Streamed: a seller's messages since an old e-mail can be many, few with "MC" in them.
    for message in (
        written.only("pk", "conversation_id", "body", "created_at")
        .order_by("created_at", "pk")
        .iterator(chunk_size=200)
    ):
        if target in references.folded(message.body):
            return message
        for text in references.WRITTEN.findall(message.body):
            found = references.parse(text, user.pk)
            if found is not None and (found.kind, found.object_id) == (
                parsed.kind,
                parsed.object_id,
            ):
                return message
    return None


def _other_readers(user: User, conversation_id: int) -> list[str]:
    return [
        participant.user.public_name
        for participant in _other_buyers_and_sellers(user, conversation_id)
        .select_related("user__storefront")
        .order_by("pk")
    ]


def _warnings(message: Message) -> list[str]:
    """Why a buyer's or seller's message deserves care: the safety check's reasons."""
    assert message.sender is not None
    role: SenderRole = "seller" if message.sender.role == Role.SELLER else "buyer"
    verdict = check(
        message.body, Sender(message.sender.public_name, role), vocabulary_cache.current()
    )
    return [reason.text for reason in verdict.reasons]


def mailbox_page(limit: int = 200) -> list[MailboxEmail]:
    return list(MailboxEmail.objects.defer("raw").order_by("-received_at", "-pk")[:limit])


EMAIL_REPLIES_SHOWN = 50


def email_replies(user: User) -> list[InboundEmail]:
    """The e-mails to the person's relay addresses, newest first: posted, refused or held,
    with the reason — the only place someone learns why their e-mail did not appear. Only
    the rows of their own relay addresses; the original bytes are not read. One not from
    their account's address (`from_account_holder`) is shown without its sender's details."""
    replies: list[InboundEmail] = list(
        InboundEmail.objects.filter(user=user)
        .select_related("conversation")
        # Deleted for ever, or no longer theirs: named, not linked (it would not open).
        .annotate(conversation_opens=opens_conversation(user, OuterRef("conversation_id")))
        .defer("raw")
        .order_by("-received_at", "-pk")[:EMAIL_REPLIES_SHOWN]
    )
    _with_reviews(user, replies)
    return replies


def _with_reviews(user: User, replies: list[InboundEmail]) -> None:
    """A reply the safety check held is reviewed by an agent later (safety.actions): shown
    as it ended — posted, with its message, or not delivered — instead of held for ever.
    One query, only when a held reply is listed; the rows are not written."""
    held = {
        reply_idempotency_key(reply.message_key): reply
        for reply in replies
        if reply.status == InboundStatus.QUARANTINED and reply.reason_code == "message_held"
    }
    if not held:
        return
    for key, status, message_id in HeldMessage.objects.filter(
        sender=user, idempotency_key__in=held
    ).values_list("idempotency_key", "status", "message_id"):
        reply = held[str(key)]
        if status == HeldMessage.Status.RELEASED:
            reply.status, reply.message_id = InboundStatus.POSTED, message_id
            reply.reason_code, reply.reason = "released", "Posted after our team reviewed it."
        elif status == HeldMessage.Status.REJECTED:
            reply.status, reply.reason_code = InboundStatus.REFUSED, "rejected"
            reply.reason = "Our team reviewed it and did not deliver it."
