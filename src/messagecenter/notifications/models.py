"""Broadcasts: important notices and promotions from the marketplace to many people.

A broadcast is one row plus its audience rule; nothing is written per person when it is
sent. Each person's Message Center finds the broadcasts that apply to them when it is read
(fan-out on read), and a BroadcastState row appears only when a person acts on one (reads,
archives, trashes, deletes). See docs/notifications.md.
"""

from datetime import datetime
from typing import ClassVar

from django.conf import settings
from django.db import models
from django.db.models import Q

from messagecenter.hub.boxes import Box


class BroadcastKind(models.TextChoices):
    # Cannot be switched off: terms of service, privacy policy, account security.
    NOTICE = "notice", "Important notice"
    # Offers and news; people can switch them off, in the Message Center too.
    PROMOTION = "promotion", "Promotion"


class Audience(models.TextChoices):
    EVERYONE = "everyone", "Everyone"
    BUYERS = "buyers", "All buyers"
    SELLERS = "sellers", "All sellers"
    MEMBERS = "members", "Members"
    COUNTRY = "country", "People in one country"
    LIST = "list", "A list of user ids"


class Broadcast(models.Model):
    kind = models.CharField(max_length=10, choices=BroadcastKind.choices)
    subject = models.CharField(max_length=200)
    # Plain text: paragraphs are separated by blank lines, links are made clickable when
    # shown (never HTML from staff, so a mistake cannot break or spoof the page).
    body = models.TextField()
    # When it appears in inboxes: visibility is decided by this time on every read, so a
    # broadcast is visible the instant it is due, whatever the worker is doing.
    send_at = models.DateTimeField()
    expires_at = models.DateTimeField(null=True, blank=True)
    audience = models.CharField(max_length=10, choices=Audience.choices)
    # ISO 3166-1 alpha-2, for the country audience only.
    country = models.CharField(max_length=2, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField()
    # Withdrawn: before it is due, it never appears; after, it disappears from every inbox.
    cancelled_at = models.DateTimeField(null=True, blank=True)
    # When the worker told open streams (and the e-mail fan-out) about it; NULL until due.
    announced_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints: ClassVar = [
            models.CheckConstraint(
                condition=Q(expires_at__isnull=True) | Q(expires_at__gt=models.F("send_at")),
                name="broadcast_expires_after_send",
            ),
            models.CheckConstraint(
                condition=(Q(audience="country") & ~Q(country=""))
                | (~Q(audience="country") & Q(country="")),
                name="broadcast_country_only_for_country_audience",
            ),
        ]
        indexes: ClassVar = [
            # "What applies now", newest first: All, and the counts (a backward range scan
            # from now over broadcasts that were not cancelled).
            models.Index(
                fields=["-send_at", "-id"],
                condition=Q(cancelled_at__isnull=True),
                name="broadcast_live_recent",
            ),
            # The Notices or Promotions folder alone.
            models.Index(
                fields=["kind", "-send_at", "-id"],
                condition=Q(cancelled_at__isnull=True),
                name="broadcast_kind_live_recent",
            ),
            # The worker's "due and not yet announced".
            models.Index(
                fields=["send_at"],
                condition=Q(announced_at__isnull=True, cancelled_at__isnull=True),
                name="broadcast_due",
            ),
        ]

    def __str__(self) -> str:
        return self.subject

    def is_live(self, now: datetime) -> bool:
        return (
            self.cancelled_at is None
            and self.send_at <= now
            and (self.expires_at is None or self.expires_at > now)
        )

    @property
    def audience_label(self) -> str:
        if self.audience == Audience.COUNTRY:
            return f"People in {self.country}"
        return str(Audience(self.audience).label)


class BroadcastRecipient(models.Model):
    """For a list audience only: the list itself (uploaded by staff), one row per person."""

    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="recipients")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")

    class Meta:
        constraints: ClassVar = [
            # Also the index of "is this person on the list" and of the list in id order.
            models.UniqueConstraint(fields=["broadcast", "user"], name="broadcast_recipient_once")
        ]

    def __str__(self) -> str:
        return f"{self.user_id} in {self.broadcast_id}"


class BroadcastState(models.Model):
    """What one person did with one broadcast. No row: unread, in the inbox."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    broadcast = models.ForeignKey(Broadcast, on_delete=models.CASCADE, related_name="states")
    box = models.CharField(max_length=10, choices=Box.choices, default=Box.INBOX)
    is_read = models.BooleanField(default=False)
    trashed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["user", "broadcast"], name="broadcast_state_once")
        ]
        indexes: ClassVar = [
            # A person's Archive and Trash.
            models.Index(fields=["user", "box"], name="broadcast_state_box"),
        ]

    def __str__(self) -> str:
        return f"{self.user_id} {self.broadcast_id}: {self.box}"


class BroadcastsSeen(models.Model):
    """Up to when a person has seen broadcasts (opened the Message Center): the header
    badge counts broadcasts sent after this time, so seeing is one row per person, never
    one per broadcast."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    seen_until = models.DateTimeField()

    def __str__(self) -> str:
        return f"{self.user_id} until {self.seen_until}"
