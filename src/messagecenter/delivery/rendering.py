"""Building the e-mail for an outbox row: templates (HTML and plain text) in
templates/delivery/email/, the stable Message-ID, the reference that is also shown in the
Message Center, and the RFC 8058 unsubscribe pair on promotions only (docs/email.md)."""

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from email.utils import formataddr, formatdate, parseaddr
from functools import cache
from html import escape
from typing import Any

from django.conf import settings
from django.contrib.auth.tokens import default_token_generator
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from messagecenter.accounts import email_changes
from messagecenter.accounts.actions import holders_of_address
from messagecenter.accounts.models import User
from messagecenter.accounts.time_zones import zone_of
from messagecenter.bidi import neutralise
from messagecenter.conversations import hooks
from messagecenter.conversations.models import (
    Conversation,
    Kind,
    Message,
    Participant,
    ParticipantRole,
)
from messagecenter.conversations.presentation import counterpart
from messagecenter.conversations.queries import (
    OutOfSight,
    out_of_sight,
    reported_by,
    with_reported_by_some,
)
from messagecenter.delivery import dkim_signing, mime, references, relay
from messagecenter.delivery.broadcasts import broadcasts as registered_broadcasts
from messagecenter.delivery.links import absolute, preferences_url, unsubscribe_url
from messagecenter.delivery.models import Category, Email, EmailKind
from messagecenter.hub.boxes import Box


class NothingToSend(Exception):
    """The e-mail has no reason to exist any more (the messages were read, the broadcast
    was cancelled); the row is closed as not sent, with this reason."""


class SignedEmail(EmailMultiAlternatives):
    """Adds the DKIM signature as the last step of building the message."""

    def message(self, *args: Any, **kwargs: Any) -> Any:
        message = super().message(*args, **kwargs)
        if dkim_signing.is_configured():
            dkim_signing.sign(message)
        return message


def message_id_header(email: Email) -> str:
    """Fixed by the row: a retry sends the same Message-ID, never a new one."""
    return f"<mc.{email.kind}.{email.pk}@{settings.EMAIL_MESSAGE_ID_DOMAIN}>"


# Where each person's own values go in a broadcast rendered once for everyone.
NAME_MARK, PREFERENCES_MARK, UNSUBSCRIBE_MARK = "\x1bname\x1b", "\x1bprefs\x1b", "\x1bunsub\x1b"
REFERENCE_MARK = "\x1bref\x1b"


@dataclass
class BroadcastContent:
    """A broadcast rendered once for all its recipients, with markers for each person's
    name and links (see mime.py)."""

    kind: str
    is_active: bool
    is_promotion: bool = False
    reference: str = ""
    subject_header: str = ""
    text: str = ""
    html: str = ""
    subject: str = ""


@dataclass
class Loaded:
    """What a batch of e-mails is about, read for the whole batch in a constant number of
    queries (load): the messages of message e-mails and their recipients' participant
    rows, for digests the people's unread buyer–seller conversations and messages, and
    which of those messages their recipients reported (hidden for them)."""

    messages: dict[int, Message] = field(default_factory=dict)
    # By (conversation id, user id).
    recipients: dict[tuple[int, int], Participant] = field(default_factory=dict)
    digest_participants: dict[int, dict[int, Participant]] = field(default_factory=dict)
    digest_messages: dict[int, list[Message]] = field(default_factory=dict)
    # (user id, message id): a message of this batch the person reported.
    hidden: set[tuple[int, int]] = field(default_factory=set)


# A conversation with the names of its two sides (who reads a reply: _who_reads_a_reply),
# joined in the statement that reads it.
CONVERSATION_NAMES = ("conversation__buyer__storefront", "conversation__storefront")


def load(emails: Iterable[Email]) -> Loaded:
    """Four queries at most for any batch (none for broadcasts alone), and a fifth only when
    one of its messages was reported by someone the batch writes to: the sender reads a
    chunk of e-mails together instead of two queries per e-mail."""
    loaded = Loaded()
    message_emails = [
        email
        for email in emails
        if email.kind == EmailKind.MESSAGE and email.message_id is not None
    ]
    if message_emails:
        user_ids = {email.user_id for email in message_emails}
        loaded.messages = (
            with_reported_by_some(Message.objects.all(), user_ids)
            .select_related(*CONVERSATION_NAMES, "sender__storefront")
            .in_bulk({email.message_id for email in message_emails})
        )
        conversation_ids = {message.conversation_id for message in loaded.messages.values()}
        loaded.recipients = {
            (participant.conversation_id, participant.user_id): participant
            for participant in Participant.objects.filter(
                conversation_id__in=conversation_ids, user_id__in=user_ids
            )
        }
    digests = [email for email in emails if email.kind == EmailKind.DIGEST]
    if digests:
        _load_digests(digests, loaded)
    _load_hidden(emails, loaded)
    return loaded


# Why an e-mail of a message is not sent once the recipient no longer sees it
# (conversations.queries.out_of_sight, docs/safety.md#reports).
NOT_SENT_OUT_OF_SIGHT = {
    OutOfSight.REMOVED: "Removed by customer service before the e-mail was due.",
    OutOfSight.REPORTED: "Reported by the recipient before the e-mail was due.",
}


def _load_hidden(emails: Iterable[Email], loaded: Loaded) -> None:
    """Who of the batch's recipients reported which of its messages: one query, and none
    when nobody did."""
    loaded.hidden = reported_by(
        (
            *loaded.messages.values(),
            *(message for messages in loaded.digest_messages.values() for message in messages),
        ),
        {email.user_id for email in emails},
    )


def _out_of_sight(message: Message, user_id: int, loaded: Loaded) -> str | None:
    """Why the person no longer sees this message, as the reason an e-mail of it is not
    sent, or None."""
    reason = out_of_sight(message, user_id, loaded.hidden)
    return None if reason is None else NOT_SENT_OUT_OF_SIGHT[reason]


def _load_digests(digests: list[Email], loaded: Loaded) -> None:
    """Everyone's candidates at once, from the earliest start among them; each digest
    keeps its own (_digest_parts filters by the digest's start and person)."""
    earliest = min(email.covers_from or timezone.now() for email in digests)
    participants = (
        Participant.objects.filter(
            user_id__in={email.user_id for email in digests},
            conversation__kind=Kind.BUYER_SELLER,
            # Not only those still unread: a message reported or removed meanwhile is no
            # longer unread either, and the digest then says so (_digest_parts), not
            # "read"; what the person read is left out by their last read message.
            last_activity_at__gte=earliest,
        )
        .exclude(box=Box.DELETED)
        .exclude(muted_until__gt=timezone.now())
        .select_related(*CONVERSATION_NAMES)
    )
    conversation_ids = set()
    for participant in participants:
        loaded.digest_participants.setdefault(participant.user_id, {})[
            participant.conversation_id
        ] = participant
        conversation_ids.add(participant.conversation_id)
    if not conversation_ids:
        return
    for message in (
        with_reported_by_some(
            Message.objects.filter(conversation_id__in=conversation_ids, created_at__gte=earliest),
            {email.user_id for email in digests},
        )
        .select_related("sender__storefront")
        .order_by("created_at", "pk")
    ):
        loaded.digest_messages.setdefault(message.conversation_id, []).append(message)


def build(
    email: Email,
    user: User,
    broadcasts: dict[int, BroadcastContent],
    loaded: Loaded | None = None,
) -> EmailMultiAlternatives:
    """The e-mail for one outbox row; `loaded` is what load() read for its batch (read
    now for this row alone when not given)."""
    if email.kind == EmailKind.BROADCAST:
        return _broadcast_email(email, user, broadcasts)
    if email.kind == EmailKind.PASSWORD_RESET:
        return _password_reset_email(email, user)
    if email.kind == EmailKind.DATA_EXPORT:
        return _data_export_email(email, user)
    if email.kind in ACCOUNT_ADDRESS_EMAILS:
        return ACCOUNT_ADDRESS_EMAILS[email.kind](email, user)
    if loaded is None:
        loaded = load([email])
    if email.kind == EmailKind.MESSAGE:
        subject, context, template = _message_parts(email, user, loaded)
    else:
        subject, context, template = _digest_parts(email, user, loaded)
    context |= _common_context(user) | {"preferences_url": preferences_url(user)}
    # Only the messages of its own suspension conversation reach an inactive account
    # (sender.about_own_suspension). Its person cannot sign in: links to the Message
    # Center, the reference checker or the preferences page (which refuses an inactive
    # account's link) would all fail them, so those e-mails offer the reply instead.
    context["is_suspended"] = not user.is_active
    # A promotion sent as a message (to one person) is a promotion all the same: it gets
    # the one-click unsubscribe pair too.
    unsubscribe = None
    if email.category == Category.PROMOTIONS:
        unsubscribe = unsubscribe_url(user, Category.PROMOTIONS)
        context |= {"is_promotion": True, "unsubscribe_url": unsubscribe}
    headers = _headers(email, context["reference"], unsubscribe)
    if context.get("reply_address"):
        # Replies go to the recipient's own relay address, never to a person's real one
        # (relay.py, docs/email.md#reply-by-e-mail).
        headers["Reply-To"] = context["reply_address"]
    # Subjects, names and bodies come from people: shown without bidirectional overrides.
    subject = neutralise(subject)
    # Dates in the recipient's own time zone, as on their pages.
    with timezone.override(zone_of(user)):
        text = neutralise(render_to_string(f"delivery/email/{template}.txt", context))
        html = neutralise(render_to_string(f"delivery/email/{template}.html", context))
    return _email(
        user,
        _from_on_behalf(context.get("from_name")),
        subject,
        mime.fold("Subject", subject),
        text,
        html,
        headers,
    )


def _from_on_behalf(name: str | None) -> str:
    """ "Shop Number 1 via Message Center <no-reply@…>": who wrote, with the site's own
    address — a person's real address is never in From."""
    if not name:
        return str(settings.DEFAULT_FROM_EMAIL)
    site_name, address = parseaddr(settings.DEFAULT_FROM_EMAIL)
    return formataddr((f"{neutralise(name)} via {site_name or 'Message Center'}", address))


def safe_name(name: str) -> str:
    """A person's public name as the other party may see it: a name that is an e-mail
    address (a username chosen as one) shows only its local part."""
    return name.partition("@")[0] if "@" in name else name


def reply_address(participant: Participant) -> str | None:
    """The participant's relay address, or None where a reply cannot be posted (the
    marketplace's own messages)."""
    if participant.role == ParticipantRole.RECIPIENT:
        return None
    return relay.participant_address(
        participant_id=participant.pk,
        conversation_id=participant.conversation_id,
        user_id=participant.user_id,
    )


@dataclass(frozen=True)
class WhoReads:
    """Whom a reply by e-mail answers: the other party's name ("" for customer service
    alone) and whether customer service reads it too. The plain text says it as one phrase
    (str); the HTML gives the name a direction of its own (delivery/email/_who_reads.html),
    as every name and subject there, so an Arabic shop's name does not take the words
    around it into its run."""

    name: str
    with_customer_service: bool = False

    def __str__(self) -> str:
        if not self.name:
            return "customer service"
        if self.with_customer_service:
            return f"{self.name} and customer service"
        return self.name


def _who_reads_a_reply(participant: Participant) -> WhoReads:
    """Whom a reply by e-mail answers: it is posted in the conversation as the person
    (docs/email.md#reply-by-e-mail), so whoever reads the conversation from the other side —
    customer service in a customer-service conversation (its case's agents; a suspension's,
    as an appeal), the other party and customer service in a claim, the other party in a
    buyer–seller conversation. An Official message's e-mail names them: "Reply to this
    e-mail to answer" alone did not say who would read it."""
    conversation = participant.conversation
    if conversation.kind == Kind.CUSTOMER_SERVICE:
        return WhoReads("")
    other = safe_name(counterpart(participant))
    return WhoReads(other, with_customer_service=conversation.kind == Kind.CLAIM)


def _password_reset_email(email: Email, user: User) -> EmailMultiAlternatives:
    """The link is made now, from the person's current password hash and last sign-in:
    it stops working once the password changes or PASSWORD_RESET_TIMEOUT passes."""
    link = absolute(
        reverse(
            "password-reset-confirm",
            args=[
                urlsafe_base64_encode(force_bytes(user.pk)),
                default_token_generator.make_token(user),
            ],
        )
    )
    context = {
        "greeting_name": _greeting_name(user),
        "username": user.get_username(),
        "reset_url": link,
        "valid_minutes": settings.PASSWORD_RESET_TIMEOUT // 60,
    }
    return _account_email(email, user, "password_reset", context)


def _data_export_email(email: Email, user: User) -> EmailMultiAlternatives:
    """A link to the page the export is downloaded from, never to the file: it is served to
    its owner signed in, so a forwarded e-mail gives nobody else the data."""
    context = {
        "greeting_name": _greeting_name(user),
        "export_url": absolute(reverse("data-export")),
        "hours": settings.DATA_EXPORT_DOWNLOAD_HOURS,
    }
    return _account_email(email, user, "data_export", context)


def _email_change_email(email: Email, user: User) -> EmailMultiAlternatives:
    """To the new address: the link that confirms it, made now (email_changes.py)."""
    link = absolute(
        reverse(
            "email-change-confirm",
            args=[email_changes.make_link_token(user, email.to_address)],
        )
    )
    context = {
        "greeting_name": _greeting_name(user),
        "username": user.get_username(),
        "new_address": email.to_address,
        "confirm_url": link,
        "valid_hours": settings.EMAIL_CHANGE_LINK_HOURS,
    }
    return _account_email(email, user, "email_change", context)


def _email_in_use_email(email: Email, user: User) -> EmailMultiAlternatives:
    """To a new address another account uses: no link, no name of either account — only
    whoever reads this mailbox learns that it already has an account."""
    context = {
        "new_address": email.to_address,
        "password_reset_url": absolute(reverse("password-reset")),
    }
    return _account_email(email, user, "email_in_use", context)


def _email_changed_email(email: Email, user: User) -> EmailMultiAlternatives:
    """To the old address, once the change is confirmed: if it was not them, the link that
    puts the old address back and signs everyone out, made now (email_changes.py). It
    names no new address: that may be the attacker's. The notice was queued with the change
    itself, so its row's time is the change's: what was added to the account since goes
    with an undo."""
    change = email_changes.EmailChange(
        user.pk,
        email.to_address,
        _address_changed_to(email, user),
        changed_at=email.created_at,
    )
    link = absolute(reverse("email-change-undo", args=[email_changes.make_undo_token(change)]))
    context = {
        "greeting_name": _greeting_name(user),
        "username": user.get_username(),
        "old_address": email.to_address,
        "undo_url": link,
        "undo_days": settings.EMAIL_CHANGE_UNDO_DAYS,
    }
    return _account_email(email, user, "email_changed", context)


def _address_changed_to(email: Email, user: User) -> str:
    """The address this notice's change moved to: the account's own — unless the address
    changed again before the notice was sent (a retried send, say), when it is the address
    the next notice was sent to. A link for this change must not undo the later one."""
    later = (
        Email.objects.filter(user=user, kind=EmailKind.EMAIL_CHANGED, pk__gt=email.pk)
        .order_by("pk")
        .values_list("to_address", flat=True)
        .first()
    )
    return user.email if later is None else later


ACCOUNT_ADDRESS_EMAILS: dict[str, Callable[[Email, User], EmailMultiAlternatives]] = {
    EmailKind.EMAIL_CHANGE: _email_change_email,
    EmailKind.EMAIL_IN_USE: _email_in_use_email,
    EmailKind.EMAIL_CHANGED: _email_changed_email,
}


# The account e-mails' subjects, by kind: also what "Is this e-mail from us?" names, and
# what a forwarded copy's subject is compared with (delivery/queries.py).
ACCOUNT_SUBJECTS: dict[str, str] = {
    EmailKind.PASSWORD_RESET: "Reset your Marketplace password",
    EmailKind.DATA_EXPORT: "Your Message Center data is ready to download",
    EmailKind.EMAIL_CHANGE: "Confirm your new Marketplace e-mail address",
    EmailKind.EMAIL_IN_USE: "This e-mail address already has a Marketplace account",
    EmailKind.EMAIL_CHANGED: "Your Marketplace e-mail address was changed",
}


def account_email_reader(email: Email, user: User) -> User | None:
    """Whose account reads an account e-mail, whom its reference is signed for: the
    person's own — but "this address already has an account" goes to that other account's
    address, and is read by its holder as recorded when it was queued (the one who asked
    learns nothing of it). None when that account is gone: signed for nobody, never for
    the asker."""
    if email.kind != EmailKind.EMAIL_IN_USE:
        return user
    if email.reader_id is not None:
        return User.objects.exclude(pk=user.pk).filter(pk=email.reader_id).first()
    # Queued before the reader was recorded.
    return holders_of_address(email.to_address, other_than=user).first()


def _account_email(
    email: Email, user: User, template: str, context: dict[str, Any]
) -> EmailMultiAlternatives:
    """An e-mail about the person's account (nobody can switch these off): text and HTML
    from delivery/email/<template>.txt|.html, marked automatic so no one auto-replies.
    It is kept in no Message Center (a reset or confirmation link is a secret no copy
    should hold), so its reference names its outbox row: "Is this e-mail from us?" vouches
    for it from there (docs/email.md#the-reference)."""
    reader = account_email_reader(email, user)
    reference = references.for_account_email(email.pk, reader.pk if reader is not None else 0)
    context = context | {
        "reference": reference,
        # The checker needs a sign-in, which a suspended account cannot do.
        "check_url": absolute(reverse("check-email"))
        if reader is not None and reader.is_active
        else "",
    }
    message = SignedEmail(
        subject=ACCOUNT_SUBJECTS[email.kind],
        body=render_to_string(f"delivery/email/{template}.txt", context),
        from_email=settings.DEFAULT_FROM_EMAIL,
        to=[email.recipient_address(user)],
        headers={
            "Message-ID": message_id_header(email),
            "Date": formatdate(localtime=False),
            "X-Message-Center-Reference": reference,
            "Auto-Submitted": "auto-generated",
        },
    )
    message.attach_alternative(
        render_to_string(f"delivery/email/{template}.html", context), "text/html"
    )
    return message


def _common_context(user: User) -> dict[str, Any]:
    return {"greeting_name": _greeting_name(user), **_site_links()}


def _greeting_name(user: User) -> str:
    return neutralise(str(user.display_name or user.first_name or user.username))


def _site_links() -> dict[str, str]:
    """The footer's links, the same in every e-mail."""
    return {
        "message_center_url": absolute(reverse("message-center")),
        "check_url": absolute(reverse("check-email")),
    }


def _headers(email: Email, reference: str, unsubscribe: str | None = None) -> dict[str, str]:
    headers = {
        "Message-ID": message_id_header(email),
        "Date": formatdate(localtime=False),
        "X-Message-Center-Reference": reference,
        # Out-of-office replies and mail loops stay away from automated mail (RFC 3834).
        "Auto-Submitted": "auto-generated",
    }
    if unsubscribe is not None:
        # RFC 8058 one-click unsubscribe: promotions only, never transactional mail.
        headers["List-Unsubscribe"] = f"<{unsubscribe}>"
        headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
        headers["Precedence"] = "bulk"
    return headers


def _message_parts(email: Email, user: User, loaded: Loaded) -> tuple[str, dict[str, Any], str]:
    message = loaded.messages.get(email.message_id) if email.message_id is not None else None
    if message is None:
        raise NothingToSend("The message no longer exists.")
    # Removed or reported while queued: its words must not arrive by e-mail after all.
    reason = _out_of_sight(message, user.pk, loaded)
    if reason is not None:
        raise NothingToSend(reason)
    conversation = message.conversation
    sender_name = (
        safe_name(message.sender.public_name) if message.sender is not None else "Marketplace"
    )
    participant = loaded.recipients.get((conversation.pk, user.pk))
    address = reply_address(participant) if participant is not None else None
    is_official = message.sender is None or message.is_official
    answered_by = WhoReads(sender_name)
    # An Official message names who reads a reply; so does a party's message in a claim,
    # where customer service reads the answer beside the other party.
    if address is not None and (is_official or conversation.kind == Kind.CLAIM):
        assert participant is not None
        participant.conversation = conversation
        answered_by = _who_reads_a_reply(participant)
    if message.sender is None:
        subject = conversation.subject
    else:
        subject = f"{sender_name}: {conversation.subject}"
    respond = _respond_first(user, conversation, participant)
    context = {
        "message": message,
        "conversation": conversation,
        "sender_name": sender_name,
        "is_official": is_official,
        "reference": references.for_message(message.pk, user.pk, is_official=message.is_official),
        "conversation_url": _conversation_url(conversation.pk),
        "reply_address": address,
        "answered_by": answered_by,
        "from_name": sender_name if message.sender is not None else None,
        "respond_notice": respond.notice if respond is not None else "",
        "respond_url": absolute(respond.link_url) if respond is not None else "",
    }
    return subject, context, "message"


def _respond_first(
    user: User, conversation: Conversation, participant: Participant | None
) -> hooks.StatusLine | None:
    """For the seller of a guarantee claim whose formal response is still due: what a
    reply to the e-mail does not do, and where to respond (support's status line,
    conversations/hooks.py), read when the e-mail is sent — so it is true then. Only a
    seller still waited on is asked (their participant row says so)."""
    if (
        conversation.kind != Kind.CLAIM
        or participant is None
        or participant.role != ParticipantRole.SELLER
        or participant.awaiting_response_since is None
    ):
        return None
    # Its deadline in the seller's own time zone, as the rest of the e-mail.
    with timezone.override(zone_of(user)):
        line = hooks.status_line(user, conversation.kind, conversation.pk)
    if line is None or not line.notice or not line.link_url:
        return None
    return line


def _digest_parts(email: Email, user: User, loaded: Loaded) -> tuple[str, dict[str, Any], str]:
    """The person's buyer–seller messages that are still unread, from when the digest
    started gathering, but for those customer service removed or the person reported
    meanwhile: if they read everything, or nothing is left, there is nothing to send."""
    assert email.covers_from is not None
    covers_from = email.covers_from
    participants = {
        conversation_id: participant
        for conversation_id, participant in loaded.digest_participants.get(user.pk, {}).items()
        if participant.last_activity_at >= covers_from
    }
    messages = sorted(
        (
            message
            for conversation_id, participant in participants.items()
            for message in loaded.digest_messages.get(conversation_id, ())
            if message.created_at >= covers_from
            and message.sender_id != user.pk
            and message.pk > (participant.last_read_message_id or 0)
        ),
        key=lambda message: (message.created_at, message.pk),
    )
    if not messages:
        raise NothingToSend("Read in the Message Center before the e-mail was due.")
    messages = [message for message in messages if _out_of_sight(message, user.pk, loaded) is None]
    if not messages:
        raise NothingToSend(
            "Every new message was removed by customer service or reported by the recipient "
            "before the e-mail was due."
        )
    conversations: dict[int, dict[str, Any]] = {}
    for message in messages:
        entry = conversations.setdefault(
            message.conversation_id,
            {
                "conversation": participants[message.conversation_id].conversation,
                "url": _conversation_url(message.conversation_id),
                "reply_address": reply_address(participants[message.conversation_id]),
                "answered_by": _who_reads_a_reply(participants[message.conversation_id]),
                "messages": [],
            },
        )
        entry["messages"].append(
            {
                "message": message,
                "sender_name": safe_name(message.sender.public_name)
                if message.sender
                else "Marketplace",
                "reference": references.for_message(
                    message.pk, user.pk, is_official=message.is_official
                ),
            }
        )
    count = len(messages)
    senders = sorted(
        {item["sender_name"] for entry in conversations.values() for item in entry["messages"]}
    )
    if count == 1:
        subject = f"New message from {senders[0]}"
    else:
        others = " and others" if len(senders) > 3 else ""
        subject = f"{count} new messages from {', '.join(senders[:3])}{others}"
    if len(conversations) == 1:
        [only] = conversations.values()
        address = only["reply_address"]
        answered_by = only["answered_by"]
    else:
        # Several conversations: each has its own "Reply by e-mail" link; a plain reply
        # is refused with that explanation (docs/decisions/0007-digest-reply-routes.md).
        address = relay.digest_address(email_id=email.pk, user_id=user.pk)
        answered_by = None
    context = {
        "conversations": list(conversations.values()),
        "count": count,
        "reply_address": address,
        "answered_by": answered_by,
        "has_several_conversations": len(conversations) > 1,
        # The e-mail's own reference is its newest message's.
        "reference": references.for_message(
            messages[-1].pk, user.pk, is_official=messages[-1].is_official
        ),
    }
    writers = {message.sender_id for message in messages}
    if len(conversations) == 1 and len(writers) == 1 and None not in writers:
        # One person's messages in one conversation, answered by replying: From "<who
        # wrote> via Message Center", as a single message's e-mail (docs/email.md).
        # Several people's come From the Message Center itself.
        context["from_name"] = senders[0]
    return subject, context, "digest"


def load_broadcast(broadcast_id: int) -> BroadcastContent:
    broadcast = registered_broadcasts().for_email(broadcast_id)
    if broadcast is None:
        return BroadcastContent("", is_active=False)
    is_promotion = broadcast.is_promotion
    # Bound to each recipient: filled in per e-mail (_broadcast_email).
    reference = REFERENCE_MARK
    context = {
        "subject": broadcast.subject,
        "body": broadcast.body,
        "broadcast_kind": broadcast.kind,
        "reference": reference,
        "broadcast_url": absolute(reverse("broadcast", args=[broadcast_id])),
        **_site_links(),
        "is_promotion": is_promotion,
        "greeting_name": NAME_MARK,
        "preferences_url": PREFERENCES_MARK,
        "unsubscribe_url": UNSUBSCRIBE_MARK,
    }
    return BroadcastContent(
        kind=broadcast.kind,
        is_active=broadcast.is_active,
        is_promotion=is_promotion,
        reference=reference,
        subject=neutralise(broadcast.subject),
        subject_header=mime.fold("Subject", neutralise(broadcast.subject)),
        text=neutralise(render_to_string("delivery/email/broadcast.txt", context)),
        html=neutralise(render_to_string("delivery/email/broadcast.html", context)),
    )


class PrebuiltEmail(EmailMultiAlternatives):
    """An e-mail whose wire form is already assembled (mime.assemble). SMTP and the
    mailbox send those bytes; a provider backend (anymail) reads the usual attributes,
    which are set as for any other e-mail."""

    def __init__(self, raw: bytes, headers: dict[str, str], **kwargs: Any) -> None:
        super().__init__(headers=headers, **kwargs)
        self.raw = raw
        self.envelope_from = _envelope_from()

    # Returns a stand-in with what the backends use (as_bytes, header lookup), not a
    # full email.message.EmailMessage: that is the point.
    def message(self, *args: Any, **kwargs: Any) -> "AssembledMessage":  # type: ignore[override]
        return AssembledMessage(self.raw, self.extra_headers)


class AssembledMessage:
    """What a mail backend asks of a built message: its bytes and its headers."""

    def __init__(self, raw: bytes, headers: dict[str, str]) -> None:
        self.raw = raw
        self.headers = headers

    def as_bytes(self, *args: Any, **kwargs: Any) -> bytes:
        return self.raw

    def get(self, name: str, default: str | None = None) -> str | None:
        return self.headers.get(name, default)

    def __getitem__(self, name: str) -> str | None:
        return self.headers.get(name)


def _broadcast_email(
    email: Email, user: User, broadcasts: dict[int, BroadcastContent]
) -> EmailMultiAlternatives:
    assert email.broadcast_id is not None
    content = broadcasts.get(email.broadcast_id)
    if content is None:
        content = broadcasts[email.broadcast_id] = load_broadcast(email.broadcast_id)
    if not content.is_active:
        raise NothingToSend("The broadcast was cancelled or has expired.")
    name = _greeting_name(user)
    preferences = preferences_url(user)
    unsubscribe = unsubscribe_url(user, Category.PROMOTIONS) if content.is_promotion else None
    reference = references.for_broadcast(email.broadcast_id, user.pk)
    text = (
        content.text.replace(NAME_MARK, name)
        .replace(PREFERENCES_MARK, preferences)
        .replace(UNSUBSCRIBE_MARK, unsubscribe or "")
        .replace(REFERENCE_MARK, reference)
    )
    html = (
        content.html.replace(NAME_MARK, escape(name))
        .replace(PREFERENCES_MARK, escape(preferences))
        .replace(UNSUBSCRIBE_MARK, escape(unsubscribe or ""))
        .replace(REFERENCE_MARK, reference)
    )
    return _email(
        user,
        settings.DEFAULT_FROM_EMAIL,
        content.subject,
        content.subject_header,
        text,
        html,
        _headers(email, reference, unsubscribe),
    )


def _email(
    user: User,
    from_email: str,
    subject: str,
    subject_header: str,
    text: str,
    html: str,
    headers: dict[str, str],
) -> EmailMultiAlternatives:
    """The message to hand over: assembled directly (mime.py) for a plain address without
    DKIM, through the email package otherwise."""
    message: EmailMultiAlternatives
    if not mime.is_plain_address(user.email) or dkim_signing.is_configured():
        # The general path: international addresses, and DKIM (which signs what the
        # email package builds).
        message = SignedEmail(
            subject=subject,
            body=text,
            from_email=from_email,
            to=[user.email],
            headers=headers,
        )
        message.attach_alternative(html, "text/html")
        return message
    raw = mime.assemble(
        [
            _from_header(from_email),
            f"To: {user.email}\r\n",
            subject_header,
            *(f"{name}: {value}\r\n" for name, value in headers.items()),
        ],
        text,
        html,
    )
    message = PrebuiltEmail(
        raw,
        headers,
        subject=subject,
        body=text,
        from_email=from_email,
        to=[user.email],
    )
    message.attach_alternative(html, "text/html")
    return message


def _conversation_url(conversation_id: int) -> str:
    return absolute(reverse("conversation", args=[conversation_id]))


@cache
def _envelope_from() -> str:
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1]


def _from_header(from_email: str) -> str:
    if from_email == settings.DEFAULT_FROM_EMAIL:
        return _site_from_header()
    # "<shop> via Message Center": a name people choose, folded and encoded as needed.
    return mime.fold("From", from_email)


@cache
def _site_from_header() -> str:
    return mime.fold("From", settings.DEFAULT_FROM_EMAIL)
