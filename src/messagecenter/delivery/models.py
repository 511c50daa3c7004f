"""E-mail out of the Message Center: preferences, the outbox, suppressions and the
development mailbox (docs/email.md).

An e-mail to send is an `Email` row written in the same transaction as the message it
tells about; the sender (delivery/sender.py) claims due rows after commit, sends them and
records the outcome. The row's id fixes its Message-ID, so a retry after a crash sends the
same Message-ID again and a receiving system can recognise the duplicate.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from messagecenter.accounts.models import User


class Category(models.TextChoices):
    """What a message is about, in the words of the preferences page."""

    ORDER_UPDATES = "order_updates", "Order and shipping updates"
    BUYER_SELLER = "buyer_seller", "Messages from buyers and sellers"
    CUSTOMER_SERVICE = "customer_service", "Customer service and claims"
    RETURNS = "returns", "Returns and refunds"
    MEMBERSHIP = "membership", "Membership"
    PROMOTIONS = "promotions", "Promotions and offers"
    NOTICES = "notices", "Important notices about your account"


class Channel(models.TextChoices):
    MESSAGE_CENTER = "message_center", "Message Center"
    EMAIL = "email", "E-mail"


class Preference(models.Model):
    """A person's choice that differs from the default; most people have none (see
    delivery/preferences.py for the defaults and what cannot be switched off)."""

    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="preferences"
    )
    category = models.CharField(max_length=20, choices=Category.choices)
    channel = models.CharField(max_length=20, choices=Channel.choices)
    is_enabled = models.BooleanField()
    updated_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["user", "category", "channel"], name="preference_one_per_choice"
            )
        ]

    def __str__(self) -> str:
        state = "on" if self.is_enabled else "off"
        return f"{self.user_id}: {self.category} by {self.channel} {state}"


class EmailKind(models.TextChoices):
    MESSAGE = "message", "A message"
    DIGEST = "digest", "New buyer–seller messages (digest)"
    BROADCAST = "broadcast", "A notice or promotion"
    # Built when sent, so its link is made then and stored nowhere (accounts' reset).
    PASSWORD_RESET = "password_reset", "A password reset link"
    # The person's data export is ready (privacy): a link to the page it is downloaded from.
    DATA_EXPORT = "data_export", "Your data export is ready"
    # A new e-mail address (accounts): to it, the link that confirms it (built when sent);
    # or, when another account uses it, that it cannot be used; to the old address, once
    # changed, that it was.
    EMAIL_CHANGE = "email_change", "A link to confirm a new e-mail address"
    EMAIL_IN_USE = "email_in_use", "A new e-mail address another account uses"
    EMAIL_CHANGED = "email_changed", "The e-mail address was changed"


# E-mails about the person's own account, asked for by them: no preference turns them off.
ACCOUNT_EMAIL_KINDS = frozenset(
    {
        EmailKind.PASSWORD_RESET,
        EmailKind.DATA_EXPORT,
        EmailKind.EMAIL_CHANGE,
        EmailKind.EMAIL_IN_USE,
        EmailKind.EMAIL_CHANGED,
    }
)
# E-mails that go to the address written on their row when queued (`to_address`), not to
# the account's address of the moment.
ADDRESSED_EMAIL_KINDS = frozenset(
    {EmailKind.EMAIL_CHANGE, EmailKind.EMAIL_IN_USE, EmailKind.EMAIL_CHANGED}
)
# E-mails to an address the person only asked to change to: they went to whoever reads that
# mailbox, not to the person, and which of the two went says whether another account uses
# the address. The asker is never shown which (docs/accounts.md#e-mail-address).
NEW_ADDRESS_EMAIL_KINDS = frozenset({EmailKind.EMAIL_CHANGE, EmailKind.EMAIL_IN_USE})
# Kinds that share one "at most one within" limit.
SHARED_EMAIL_LIMITS: dict[str, frozenset[str]] = {
    EmailKind.EMAIL_CHANGE: NEW_ADDRESS_EMAIL_KINDS,
    EmailKind.EMAIL_IN_USE: NEW_ADDRESS_EMAIL_KINDS,
}


class EmailStatus(models.TextChoices):
    # Waiting to be sent (a digest waits here for its quiet period to end).
    QUEUED = "queued", "Queued"
    SENT = "sent", "Sent"
    # The receiving server refused the address for good (5xx), or the provider said so.
    BOUNCED = "bounced", "Bounced"
    # Every attempt failed; `last_error` says why.
    FAILED = "failed", "Failed"
    # Not sent, on purpose: unsubscribed, suppressed, or already read in the Message Center.
    CANCELLED = "cancelled", "Not sent"


class Email(models.Model):
    """One e-mail to one person: the outbox row, kept as its delivery record."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    kind = models.CharField(max_length=20, choices=EmailKind.choices)
    category = models.CharField(max_length=20, choices=Category.choices)
    # What it tells about: a message, or a broadcast (notifications app). A digest covers
    # the person's unread buyer–seller messages from `covers_from` on.
    message = models.ForeignKey(
        "conversations.Message", null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    broadcast_id = models.BigIntegerField(null=True, blank=True)
    covers_from = models.DateTimeField(null=True, blank=True)
    # Where it went (the address at the time it was sent) and as what.
    to_address = models.EmailField(blank=True)
    # Who reads an e-mail to an address another account holds ("this address already has
    # an account"): that account, as it was when queued — its reference is signed for it,
    # not for the person who asked (rendering.account_email_reader). Null for the rest.
    reader_id = models.BigIntegerField(null=True, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    status = models.CharField(
        max_length=10, choices=EmailStatus.choices, default=EmailStatus.QUEUED
    )
    attempts = models.PositiveSmallIntegerField(default=0)
    # Due time: now for a message, the end of the quiet period for a digest, the backoff
    # after a failed attempt.
    next_attempt_at = models.DateTimeField()
    # A sender that claimed the row owns it until then; a sender that died gives it up.
    claimed_until = models.DateTimeField(null=True, blank=True)
    last_error = models.TextField(blank=True)
    # The provider's own id, for matching its bounce and complaint reports.
    provider_message_id = models.CharField(max_length=255, blank=True)
    created_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            # The sender's claim: due rows, oldest first; only queued rows are indexed.
            models.Index(
                fields=["next_attempt_at"],
                name="email_queued_due",
                condition=Q(status="queued"),
            ),
            models.Index(fields=["user", "-created_at"], name="email_user_recent"),
            models.Index(fields=["provider_message_id"], name="email_provider_id"),
        ]
        constraints = [
            # One digest gathers while it waits: new messages push it, never add another.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(kind="digest", status="queued"),
                name="email_one_waiting_digest",
            ),
            # A broadcast's fan-out may run again after a crash: it never adds a second.
            models.UniqueConstraint(
                fields=["broadcast_id", "user"],
                condition=Q(kind="broadcast"),
                name="email_one_per_broadcast_recipient",
            ),
            models.UniqueConstraint(
                fields=["message", "user"],
                condition=Q(kind="message"),
                name="email_one_per_message_recipient",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.kind} e-mail {self.pk} to user {self.user_id} ({self.status})"

    def recipient_address(self, user: User) -> str:
        """Where it goes: the address written on it for an addressed kind, else the
        person's address now (a changed address gets the e-mails still queued)."""
        if self.kind in ADDRESSED_EMAIL_KINDS:
            return self.to_address
        return user.email


class SuppressionReason(models.TextChoices):
    HARD_BOUNCE = "hard_bounce", "The address does not exist (hard bounce)"
    COMPLAINT = "complaint", "The person marked an e-mail as spam"
    MANUAL = "manual", "Added by staff"


class Suppression(models.Model):
    """An address that gets no more e-mail that people can switch off (promotions,
    digests): after a hard bounce or a spam complaint. Stored lower-cased."""

    address = models.EmailField(unique=True)
    reason = models.CharField(max_length=20, choices=SuppressionReason.choices)
    detail = models.TextField(blank=True)
    created_at = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.address} ({self.reason})"


class BroadcastEmailRun(models.Model):
    """The e-mail fan-out of one broadcast, done by the sender in batches of recipients
    ordered by user id; `cursor` is the last user id handled, so a restarted sender goes
    on where the last one stopped."""

    broadcast_id = models.BigIntegerField(unique=True)
    cursor = models.BigIntegerField(default=0)
    queued = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField()
    finished_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"broadcast {self.broadcast_id} e-mails ({self.queued} queued)"


class MailboxEmail(models.Model):
    """An e-mail as the development mailbox received it (EMAIL_URL=mailbox:, the default
    for `make run`): the page at /mailbox/ shows these instead of sending anything."""

    to_addresses = models.TextField()
    subject = models.CharField(max_length=255)
    message_id = models.CharField(max_length=255)
    raw = models.BinaryField()
    received_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["-received_at"], name="mailbox_recent")]

    def __str__(self) -> str:
        return f"{self.subject} → {self.to_addresses}"


class InboundStatus(models.TextChoices):
    POSTED = "posted", "Posted in the conversation"
    # Not posted, and never will be: automatic mail, a bounce, a loop, a wrong sender.
    REFUSED = "refused", "Not posted"
    # Not posted: the sender could not be confirmed (SPF, DKIM, DMARC), or the safety check
    # held the message for an agent's review; kept for agents to look at, the reason says
    # which.
    QUARANTINED = "quarantined", "Held for review"


class InboundEmail(models.Model):
    """One e-mail that reached a relay address, whatever became of it: posted (with the
    message it became), refused or quarantined (with the reason the person is shown).
    The original bytes are kept for agents. One row per Message-ID: the same e-mail
    delivered twice is recognised and posts once (docs/email.md#reply-by-e-mail)."""

    # The Message-ID as sent (or a hash of the bytes when there is none), normalised.
    message_key = models.CharField(max_length=255, unique=True)
    # "smtp" for the built-in listener, else the provider whose webhook delivered it.
    route = models.CharField(max_length=40)
    recipient = models.CharField(max_length=320, blank=True)
    envelope_from = models.CharField(max_length=320, blank=True)
    from_address = models.CharField(max_length=320, blank=True)
    subject = models.CharField(max_length=255, blank=True)
    # Whether its one From was the address of the account it reached (`user`) when it
    # arrived. When not — a forger, or the person writing from another address of theirs —
    # the person is shown that it was refused, never its addresses, subject or notes: they
    # may be a third party's (docs/email.md#reply-by-e-mail). Staff keep them all.
    from_account_holder = models.BooleanField(default=False)
    # Whose relay address it was sent to (the seat the reply claims), when the token held.
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.CASCADE, related_name="+"
    )
    conversation = models.ForeignKey(
        "conversations.Conversation",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    message = models.ForeignKey(
        "conversations.Message",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(max_length=12, choices=InboundStatus.choices)
    reason_code = models.CharField(max_length=40, blank=True)
    reason = models.TextField(blank=True)
    # Our own verdict (SPF, DKIM, DMARC) as an Authentication-Results header value.
    authentication = models.TextField(blank=True)
    # Attachments left out under the attachment policy, and why.
    notes = models.TextField(blank=True)
    raw = models.BinaryField()
    size = models.PositiveIntegerField()
    received_at = models.DateTimeField()

    class Meta:
        indexes = [
            # The per-address rate limit counts the last hour's mail from one sender.
            models.Index(fields=["from_address", "received_at"], name="inbound_from_recent"),
            models.Index(fields=["user", "-received_at"], name="inbound_user_recent"),
            models.Index(fields=["message"], name="inbound_message"),
        ]

    def __str__(self) -> str:
        return f"inbound e-mail {self.pk} ({self.status})"
