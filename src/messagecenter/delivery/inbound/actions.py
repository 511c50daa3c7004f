"""The one write path for mail that reaches a relay address, from either route (the SMTP
listener or a provider's webhook): `receive_email` (docs/email.md#reply-by-e-mail).

Every e-mail ends as exactly one InboundEmail row, written in the same transaction as the
message it posts (if it posts one): posted, refused or quarantined, with a reason the
person the relay address belongs to can read. A second delivery of the same e-mail (same
Message-ID) finds that row and changes nothing.
"""

import hashlib
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from email.message import Message as EmailMessage

from django.conf import settings
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations import topics
from messagecenter.conversations.models import Message, Participant
from messagecenter.delivery import relay
from messagecenter.delivery.inbound import (
    authentication,
    automation,
    forwards,
    mailboxes,
    parsing,
)
from messagecenter.delivery.models import Email, InboundEmail, InboundStatus
from messagecenter.errors import MessageCenterError
from messagecenter.hub.boxes import Box

logger = logging.getLogger(__name__)

ROUTE_SMTP = "smtp"
# A mailbox's refusal of a sender without an account: the SMTP listener says so at once.
UNKNOWN_SENDER = "unknown_sender"
# A reply to a conversation the person deleted for ever (from Trash, or Trash's purge).
CONVERSATION_DELETED = "conversation_deleted"
# An e-mail to the report address with no e-mail forwarded in it.
NOTHING_FORWARDED = "nothing_forwarded"
# The appeal action's refusal of an inactive account with no suspension to appeal.
NO_SUSPENSION = "no_suspension"
# What replaces an e-mail address in a posted reply: the other party must never see one.
ADDRESS_REMOVED = "[e-mail address removed]"
_ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+", re.UNICODE)


class Refusal(Exception):
    def __init__(self, status: str, code: str, reason: str) -> None:
        super().__init__(reason)
        self.status, self.code, self.reason = status, code, reason


@dataclass(frozen=True)
class Seat:
    """Whom a relay address belongs to, once its token held."""

    user: User
    conversation_id: int | None
    participant: Participant | None


def receive_email(
    raw: bytes,
    *,
    route: str,
    recipients: Sequence[str],
    envelope_from: str | None = None,
    peer_ip: str | None = None,
    helo: str | None = None,
) -> InboundEmail:
    """Take one e-mail to a relay address: post it in its conversation, or record why
    not. Returns the row for this e-mail (an earlier one for a repeat delivery)."""
    message = parsing.parse_message(raw)
    key = parsing.message_key(message, raw)
    existing = InboundEmail.objects.filter(message_key=key).first()
    if existing is not None:
        return existing
    from_addresses = parsing.addresses(message, "From")
    row = InboundEmail(
        message_key=key,
        route=route[:40],
        envelope_from=(envelope_from or "")[:320],
        from_address=(from_addresses[0] if from_addresses else "")[:320],
        subject=parsing.header_text(message, "Subject")[:255],
        raw=raw,
        size=len(raw),
        received_at=timezone.now(),
    )
    recipient = _relay_recipient(message, recipients)
    mailbox_address, mailbox = (
        (None, None) if recipient else _mailbox_recipient(message, recipients)
    )
    row.recipient = (recipient or mailbox_address or (recipients[0] if recipients else ""))[:320]
    try:
        with transaction.atomic():
            try:
                if mailbox is not None:
                    _post_to_mailbox(
                        row, message, raw, mailbox, from_addresses, envelope_from, peer_ip, helo
                    )
                else:
                    seat = _seat(recipient)
                    if seat is not None:
                        row.user, row.conversation_id = seat.user, seat.conversation_id
                    _post(row, message, raw, seat, from_addresses, envelope_from, peer_ip, helo)
            except Refusal as refusal:
                row.status, row.reason_code = refusal.status, refusal.code
                row.reason = refusal.reason
            row.from_account_holder = (
                row.user is not None
                and from_addresses == [row.user.email.strip().lower()]
                and _sender_confirmed(row)
            )
            row.save(force_insert=True)
    except IntegrityError:
        # The same e-mail, delivered twice at the same moment: the other delivery won.
        existing = InboundEmail.objects.filter(message_key=key).first()
        if existing is None:
            raise
        return existing
    return row


def _post(
    row: InboundEmail,
    message: EmailMessage,
    raw: bytes,
    seat: Seat | None,
    from_addresses: list[str],
    envelope_from: str | None,
    peer_ip: str | None,
    helo: str | None,
) -> None:
    """Decide, and post if all is well; raises Refusal otherwise. Runs inside the
    transaction that saves the row."""
    automatic = automation.automatic_reason(message, envelope_from=envelope_from)
    if automatic is not None:
        raise Refusal(InboundStatus.REFUSED, automatic.code, automatic.reason)
    if seat is None:
        raise Refusal(
            InboundStatus.REFUSED,
            "unknown_address",
            "This reply address does not belong to any conversation.",
        )
    if seat.participant is None:
        raise Refusal(
            InboundStatus.REFUSED,
            "digest_address",
            "This e-mail gathered several conversations, so a reply to it cannot tell which "
            "one you meant. Use the “Reply by e-mail” link under the conversation, or "
            "reply in the Message Center.",
        )
    user = seat.user
    if len(from_addresses) != 1 or from_addresses[0] != user.email.strip().lower():
        raise Refusal(
            InboundStatus.REFUSED,
            "sender_mismatch",
            "This e-mail was not sent from the e-mail address of your account, so it was "
            "not posted and nobody saw it. If it was you, reply from the address our "
            "e-mail was sent to.",
        )
    _confirm_sender(row, message, raw, from_addresses[0], envelope_from, peer_ip, helo)
    _check_rate(from_addresses[0])
    content = parsing.read_content(message, _names(user), _business_names(user))
    hidden = {from_addresses[0], user.email.strip().lower()}
    if envelope_from:
        hidden.add(envelope_from.strip("<> ").lower())
    body = _without_addresses(content.new_text, hidden)
    uploads, notes = _attachments(content.attachments, hidden)
    row.notes = "\n".join(notes)[:4000]
    if not body and not uploads:
        raise Refusal(
            InboundStatus.REFUSED,
            "empty",
            "We found no new text in this e-mail (only quoted text or a signature).",
        )
    if seat.participant.box == Box.DELETED:
        # send_message's own refusal ("No such conversation.") told them nothing: they
        # deleted it themselves, and a reply cannot bring it back.
        raise Refusal(
            InboundStatus.REFUSED,
            CONVERSATION_DELETED,
            "You deleted this conversation for ever from your Message Center, so this "
            "e-mail was not posted and nobody saw it. To write to them again, start a new "
            "conversation: “Contact seller” or “Contact buyer” on the order, “Ask a "
            "question” on the product, or “Contact customer service”.",
        )
    if not user.is_active:
        # The seat is the person's suspension conversation (_seat): a reply to the notice
        # is their appeal (docs/safety.md#appeals).
        subject = _without_addresses(parsing.header_text(message, "Subject"), hidden)
        row.message = _appeal(_delivery(row, user, subject, body or "(attachments only)", uploads))
        row.status = InboundStatus.POSTED
        return
    try:
        # Not in a savepoint of its own: a held reply's HeldMessage, written when the send
        # is refused, must commit with this e-mail's row (a savepoint rolled it back, and
        # agents had nothing to release). The send rolls its own writes back.
        posted = conversation_actions.send_message(
            user,
            seat.conversation_id,
            body or "(attachments only)",
            idempotency_key=reply_idempotency_key(row.message_key),
            attachments=uploads,
            # Written with the message (never shown without its mark), and kept by a held
            # reply for its release.
            sent_by_email=True,
        )
    except MessageCenterError as error:
        # The web's safety check held it for review (docs/safety.md#hold): held here too,
        # not refused — agents may still release it.
        status = (
            InboundStatus.QUARANTINED if error.code == "message_held" else InboundStatus.REFUSED
        )
        raise Refusal(status, error.code, str(error)) from error
    row.message = posted
    row.status = InboundStatus.POSTED


def _post_to_mailbox(
    row: InboundEmail,
    message: EmailMessage,
    raw: bytes,
    mailbox: mailboxes.Mailbox,
    from_addresses: list[str],
    envelope_from: str | None,
    peer_ip: str | None,
    helo: str | None,
) -> None:
    """An e-mail to a mailbox (customer service's address): only from the one account
    of the From address, confirmed as for a reply, then the mailbox's own action. Raises
    Refusal otherwise; nothing is opened for a sender we do not know or cannot confirm."""
    automatic = automation.automatic_reason(message, envelope_from=envelope_from)
    if automatic is not None:
        raise Refusal(InboundStatus.REFUSED, automatic.code, automatic.reason)
    if len(from_addresses) != 1:
        raise Refusal(
            InboundStatus.REFUSED,
            "sender_mismatch",
            "This e-mail names more than one sender, or none, so we cannot tell whose it is.",
        )
    accounts = list(User.objects.filter(email__iexact=from_addresses[0], is_active=True)[:2])
    if not accounts and mailbox.takes_appeals and mailboxes.appeal() is not None:
        # A suspended account may still write here, to appeal (docs/safety.md#appeals).
        accounts = list(User.objects.filter(email__iexact=from_addresses[0], is_active=False)[:2])
    if len(accounts) == 1:
        row.user = accounts[0]
    # Confirmed before anything is said about the account: the mailbox's address is public,
    # and the unknown sender's refusal (an SMTP 550 at once) told anyone who wrote "From"
    # an address, without being able to send from it, whether it has an account.
    _confirm_sender(row, message, raw, from_addresses[0], envelope_from, peer_ip, helo)
    if len(accounts) != 1:
        raise Refusal(InboundStatus.REFUSED, UNKNOWN_SENDER, mailbox.unknown_sender_reason)
    user = accounts[0]
    _check_rate(from_addresses[0])
    if mailbox.reads_forwards:
        _forward_to_mailbox(row, message, mailbox, user)
        return
    content = parsing.read_content(message, _names(user), _business_names(user))
    hidden = {from_addresses[0], user.email.strip().lower()}
    if envelope_from:
        hidden.add(envelope_from.strip("<> ").lower())
    body = _without_addresses(content.new_text, hidden)
    uploads, notes = _attachments(content.attachments, hidden)
    row.notes = "\n".join(notes)[:4000]
    if not body:
        raise Refusal(
            InboundStatus.REFUSED,
            "empty",
            "We found no text in this e-mail: write what you need in it.",
        )
    subject = _without_addresses(parsing.header_text(message, "Subject"), hidden)
    delivery = _delivery(row, user, subject, body, uploads)
    if not user.is_active:
        try:
            row.message = _appeal(delivery)
        except Refusal as refusal:
            if refusal.code != NO_SUSPENSION:
                raise
            # Inactive for another reason (nothing to appeal): answered as any unknown
            # sender, so the e-mail tells nobody the account exists.
            raise Refusal(
                InboundStatus.REFUSED, UNKNOWN_SENDER, mailbox.unknown_sender_reason
            ) from refusal
        row.conversation_id = row.message.conversation_id
        row.status = InboundStatus.POSTED
        return
    try:
        with transaction.atomic():
            posted = mailbox.receive(delivery)
            Message.objects.filter(pk=posted.pk).update(sent_by_email=True)
            posted.sent_by_email = True
    except MessageCenterError as error:
        raise Refusal(InboundStatus.REFUSED, error.code, str(error)) from error
    row.message = posted
    row.conversation_id = posted.conversation_id
    row.status = InboundStatus.POSTED


def _forward_to_mailbox(
    row: InboundEmail, message: EmailMessage, mailbox: mailboxes.Mailbox, user: User
) -> None:
    """A confirmed account's forward of a suspicious e-mail (the report address): the
    forwarded e-mail handed to the mailbox's action, which answers the person in their
    Message Center. Its files are never taken (a phisher's attachment is no upload of
    ours); their names are part of the evidence."""
    if not user.is_active:
        raise Refusal(InboundStatus.REFUSED, UNKNOWN_SENDER, mailbox.unknown_sender_reason)
    forwarded = forwards.read_forwarded(message)
    if forwarded is None:
        raise Refusal(
            InboundStatus.REFUSED,
            NOTHING_FORWARDED,
            "We found no forwarded e-mail in this one. Forward the suspicious e-mail "
            "itself — as an attachment, or with your mail app's Forward — to this address.",
        )
    delivery = mailboxes.Delivery(
        sender=user,
        subject=parsing.header_text(message, "Subject"),
        body=forwarded.note,
        attachments=[],
        idempotency_key=reply_idempotency_key(row.message_key),
        forwarded=forwarded,
    )
    try:
        with transaction.atomic():
            answer = mailbox.receive(delivery)
    except MessageCenterError as error:
        raise Refusal(InboundStatus.REFUSED, error.code, str(error)) from error
    row.message = answer
    row.conversation_id = answer.conversation_id
    row.status = InboundStatus.POSTED


def _delivery(
    row: InboundEmail, user: User, subject: str, body: str, uploads: list[ContentFile[bytes]]
) -> mailboxes.Delivery:
    """A confirmed e-mail as a mailbox or the appeal action takes it: its first line as the
    subject when it has none, and the e-mail's key, so the same e-mail posts once."""
    return mailboxes.Delivery(
        sender=user,
        subject=subject or body.splitlines()[0][:80],
        body=body,
        attachments=uploads,
        idempotency_key=reply_idempotency_key(row.message_key),
    )


def _appeal(delivery: mailboxes.Delivery) -> Message:
    """A suspended person's confirmed e-mail, handed to the appeal action (support,
    through mailboxes.register_appeal): their message in their suspension conversation,
    and the appeal case it opens or joins. Raises Refusal when it cannot be taken."""
    receive = mailboxes.appeal()
    if receive is None:
        raise Refusal(InboundStatus.REFUSED, NO_SUSPENSION, "Nothing takes appeals here.")
    try:
        with transaction.atomic():
            posted = receive(delivery)
    except MessageCenterError as error:
        raise Refusal(InboundStatus.REFUSED, error.code, str(error)) from error
    return posted


def _confirm_sender(
    row: InboundEmail,
    message: EmailMessage,
    raw: bytes,
    from_address: str,
    envelope_from: str | None,
    peer_ip: str | None,
    helo: str | None,
) -> None:
    """SPF/DKIM/DMARC for the From address (unless switched off): quarantined, or refused
    by the domain's policy, when it cannot be confirmed."""
    if not settings.INBOUND_REQUIRE_AUTHENTICATION:
        row.authentication = "not checked (INBOUND_REQUIRE_AUTHENTICATION=0)"
        return
    verdict = _authenticate(row, message, raw, from_address, envelope_from, peer_ip, helo)
    row.authentication = verdict.header[:4000]
    if not verdict.is_confirmed:
        raise Refusal(
            InboundStatus.REFUSED if verdict.is_rejected_by_policy else InboundStatus.QUARANTINED,
            "not_confirmed",
            verdict.explanation,
        )


def _sender_confirmed(row: InboundEmail) -> bool:
    """Whether _confirm_sender let the e-mail's From pass (its verdict, or "not checked"
    when the operator switched the check off, is then recorded and the refusal, if any, is
    a later one). A From naming the account proves nothing by itself: customer service's
    address is public, and a forger who wrote "From" someone's address had their subject
    listed in that person's Replies by e-mail as the person's own."""
    return bool(row.authentication) and row.reason_code != "not_confirmed"


def reply_idempotency_key(message_key: str) -> str:
    """The send's key for an e-mail: the same e-mail never posts twice, and a held one is
    found again by it (queries.email_replies)."""
    return f"email:{hashlib.sha256(message_key.encode()).hexdigest()[:64]}"


def _authenticate(
    row: InboundEmail,
    message: EmailMessage,
    raw: bytes,
    from_address: str,
    envelope_from: str | None,
    peer_ip: str | None,
    helo: str | None,
) -> authentication.Verdict:
    from_domain = from_address.rpartition("@")[2]
    if row.route != ROUTE_SMTP:
        # A provider received it: its own topmost header, when trusted, is its verdict.
        verdict = authentication.provider_verdict(
            parsing.header_values(message, "Authentication-Results"), from_domain=from_domain
        )
        if verdict is not None:
            return verdict
    return authentication.authenticate(
        raw,
        from_domain=from_domain,
        ip=peer_ip if row.route == ROUTE_SMTP else None,
        helo=helo,
        mail_from=(envelope_from or "").strip("<> ") or None,
    )


def _check_rate(from_address: str) -> None:
    """INBOUND_EMAILS_PER_HOUR per sending address. Only mail that got this far counts
    (confirmed as theirs), so nobody can use up someone else's allowance by forging it."""
    since = timezone.now() - timedelta(hours=1)
    recent = InboundEmail.objects.filter(
        from_address=from_address,
        received_at__gte=since,
        reason_code__in=["", "rate_limited"],
    ).count()
    if recent >= settings.INBOUND_EMAILS_PER_HOUR:
        raise Refusal(
            InboundStatus.REFUSED,
            "rate_limited",
            f"More than {settings.INBOUND_EMAILS_PER_HOUR} e-mails from your address in an "
            "hour: this one was not posted. Write in the Message Center, or try again later.",
        )


def _attachments(
    attachments: list[parsing.InboundAttachment], hidden: set[str]
) -> tuple[list[ContentFile[bytes]], list[str]]:
    """The attached files the web would take (same types, sizes and count); the rest are
    left out with a note the person sees."""
    uploads: list[ContentFile[bytes]] = []
    notes: list[str] = []
    for attachment in attachments:
        attachment.filename = _without_addresses(attachment.filename, hidden) or "attachment"
        problem = parsing.attachment_problem(attachment)
        if problem is None and len(uploads) >= settings.ATTACHMENTS_PER_MESSAGE:
            problem = (
                f"{attachment.filename}: at most {settings.ATTACHMENTS_PER_MESSAGE} "
                "attachments per message."
            )
        if problem is not None:
            notes.append(f"Left out: {problem}")
            continue
        uploads.append(ContentFile(attachment.content, name=attachment.filename))
    return uploads, notes


def _names(user: User) -> list[str]:
    """The replier's names as their account has them, for a name they sign with a dash
    under their reply ("- Anna"), which is cut from it as a signature (parsing.read_content):
    their first and last name, and their display name when it is a person's, not their
    shop's or a team's ("Sam from Customer Service": parsing.is_personal_name)."""
    display_names = (
        [user.display_name]
        if parsing.is_personal_name(user.display_name, _business_names(user))
        else []
    )
    return [user.first_name, user.last_name, *display_names]


def _business_names(user: User) -> list[str]:
    """The names the replier writes under that are not theirs: their shop's, and customer
    service's as customers see it (a From header's "Trailhead Outfitters" is no one's name)."""
    names = []
    if user.is_seller:
        storefront = getattr(user, "storefront", None)
        if storefront is not None:
            names.append(str(storefront.name))
    if user.answers_as_customer_service:
        names.append(str(settings.SUPPORT_AGENT_PUBLIC_NAME))
    return names


def _without_addresses(text: str, hidden: set[str]) -> str:
    """Every e-mail address out of the text, except relay addresses: the sender's own (a
    signature, an "On … <address> wrote:" line the parser kept) must never reach the
    other party, and nor may anyone else's the mail app quoted."""

    def replace(match: re.Match[str]) -> str:
        address = match.group(0)
        return address if relay.is_relay_domain(address) else ADDRESS_REMOVED

    text = _ADDRESS.sub(replace, text)
    for address in hidden:
        if address:
            text = re.sub(re.escape(address), ADDRESS_REMOVED, text, flags=re.IGNORECASE)
    return text.strip()


def _relay_recipient(message: EmailMessage, recipients: Sequence[str]) -> str | None:
    """The first relay address the e-mail was delivered to: the envelope's, else (for a
    provider that does not say) the address headers'."""
    candidates = list(recipients)
    if not any(relay.parse(address) for address in candidates):
        for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
            candidates.extend(parsing.addresses(message, name))
    for address in candidates:
        if relay.parse(address) is not None:
            return address.strip("<> ").lower()
    return None


def _mailbox_recipient(
    message: EmailMessage, recipients: Sequence[str]
) -> tuple[str | None, mailboxes.Mailbox | None]:
    """The first mailbox address the e-mail was delivered to (envelope first, then the
    address headers, as for relay addresses)."""
    candidates = list(recipients)
    if not any(mailboxes.find(address) for address in candidates):
        for name in ("Delivered-To", "X-Original-To", "To", "Cc"):
            candidates.extend(parsing.addresses(message, name))
    for address in candidates:
        mailbox = mailboxes.find(address)
        if mailbox is not None:
            return address.strip("<> ").lower(), mailbox
    return None, None


def _seat(recipient: str | None) -> Seat | None:
    """Whom the relay address belongs to, if its token holds: the participant it names,
    in the conversation its HMAC was made for, or the person a digest address was made
    for."""
    token = relay.parse(recipient) if recipient else None
    if token is None:
        return None
    if token.kind == relay.DIGEST:
        email = Email.objects.select_related("user").filter(pk=token.object_id).first()
        if email is None or not relay.digest_mac_matches(token, user_id=email.user_id):
            return None
        return Seat(email.user, None, None)
    participant = (
        Participant.objects.select_related("user", "conversation")
        .filter(pk=token.object_id)
        .first()
    )
    if participant is None or not relay.participant_mac_matches(
        token, conversation_id=participant.conversation_id, user_id=participant.user_id
    ):
        return None
    if not participant.user.is_active and (
        participant.conversation.topic_key != topics.account_suspension(participant.user_id)
    ):
        # A suspended account answers only its suspension notice (its appeal); an erased
        # or otherwise inactive one nothing.
        return None
    return Seat(participant.user, participant.conversation_id, participant)
