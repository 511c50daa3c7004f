"""Rows of the safety app (docs/safety.md): messages held for review, blocks between
people, sending counts, and the detector's vocabulary with its revisions."""

from typing import ClassVar

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from messagecenter.safety.vocabulary import KINDS, normalise


class HeldMessage(models.Model):
    """A message the safety check held: never delivered until an agent releases it."""

    class Status(models.TextChoices):
        HELD = "held", "Waiting for review"
        RELEASED = "released", "Released"
        REJECTED = "rejected", "Not delivered"

    sender = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    # How to send it once released: {"send": "reply", "conversation_id": …},
    # {"send": "product", "product_id": …} or {"send": "order", "order_id": …, "storefront_id": …}.
    held_as = models.JSONField()
    body = models.TextField()
    reasons = models.JSONField(default=list)
    safety_version = models.CharField(max_length=24)
    idempotency_key = models.CharField(max_length=100, null=True, blank=True)  # noqa: DJ001 (NULL: no key)
    created_at = models.DateTimeField()
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.HELD)
    reviewed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    reviewed_at = models.DateTimeField(null=True, blank=True)
    # The message that was delivered when it was released.
    message = models.ForeignKey(
        "conversations.Message", on_delete=models.SET_NULL, null=True, blank=True, related_name="+"
    )

    class Meta:
        constraints: ClassVar = [
            # A retry of a held send (same key) is the same held message.
            models.UniqueConstraint(
                fields=["sender", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="held_message_sender_idempotency_key",
            )
        ]
        indexes: ClassVar = [models.Index(fields=["status", "created_at"], name="held_queue")]

    def __str__(self) -> str:
        return f"Held message {self.pk} from {self.sender_id}"


class Block(models.Model):
    """`blocker` no longer receives messages from `blocked` (a person, or a shop's seller),
    except order-critical messages about the blocker's own orders, which arrive marked."""

    blocker = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    blocked = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+"
    )
    created_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["blocker", "blocked"], name="block_once")
        ]

    def __str__(self) -> str:
        return f"{self.blocker_id} blocks {self.blocked_id}"


class SendingCount(models.Model):
    """One person's sending state: their messages in the current minute, hour and day (UTC
    windows), how many of them were first contacts, and a restriction after a confirmed
    report: one row per sender, moved by one upsert per send (safety/limits.py). A
    window's count starts again when its number changes."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, primary_key=True, related_name="+"
    )
    # Minutes, hours and days since the epoch: the windows the counts below belong to.
    minute = models.BigIntegerField(default=0)
    minute_sends = models.PositiveIntegerField(default=0)
    hour = models.BigIntegerField(default=0)
    hour_sends = models.PositiveIntegerField(default=0)
    first_contact_hour_sends = models.PositiveIntegerField(default=0)
    day = models.BigIntegerField(default=0)
    day_sends = models.PositiveIntegerField(default=0)
    first_contact_day_sends = models.PositiveIntegerField(default=0)
    # Restricted after a confirmed report (docs/safety.md#reports): the person may answer
    # whoever writes to them, never write first. Kept here so the send's one upsert returns it.
    restricted_at = models.DateTimeField(null=True, blank=True)

    def __str__(self) -> str:
        return f"Sends of {self.user_id}"


VALUE_MAX_CHARS = 200


class VocabularyEntry(models.Model):
    """One word of the detector's vocabulary (docs/safety.md#vocabulary): a name or domain
    of the operator, a staff title, a trusted site, a link shortener, a payment or
    messenger host, an e-mail provider. Edited in the admin; every change is published as
    a VocabularyRevision, which is what the detector reads."""

    kind = models.CharField(
        max_length=24, choices=[(kind, spec.label) for kind, spec in KINDS.items()]
    )
    value = models.CharField(
        max_length=VALUE_MAX_CHARS,
        help_text="Saved as the detector compares it: domains in lower case and ASCII "
        "(xn--…), phrases with lookalike letters folded.",
    )
    # Off: kept for the record, not used (a default the operator does not want).
    active = models.BooleanField(default=True)
    updated_at = models.DateTimeField()

    class Meta:
        constraints: ClassVar = [
            models.UniqueConstraint(fields=["kind", "value"], name="vocabulary_entry_once")
        ]
        ordering: ClassVar = ["kind", "id"]
        verbose_name_plural = "vocabulary entries"

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.value}"

    def clean(self) -> None:
        if self.kind not in KINDS:
            return  # the field's own choices check says so
        try:
            self.value = normalise(self.kind, self.value)
        except ValueError as error:
            raise ValidationError({"value": str(error)}) from None
        # Normalising can lengthen it (NFKC unfolds "ﷺ" into 18 letters, IDNA's xn--),
        # after the field's own length check: the save's second check failed with a 500.
        limit = VALUE_MAX_CHARS
        if len(self.value) > limit:
            raise ValidationError(
                {"value": f"Saved as the detector compares it, this is over {limit} characters."}
            )


class VocabularyRevision(models.Model):
    """The vocabulary as published after one change: every active entry by kind. The
    detector reads only the newest (one row, cached per process), and its number is part
    of every verdict's version, so a message's stored version names the revision that
    judged it — read here what the vocabulary was then."""

    number = models.BigAutoField(primary_key=True)
    created_at = models.DateTimeField()
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
    )
    change = models.CharField(max_length=300)
    # {kind: [value, …]}: the active entries, in the order the detector tries them.
    lists = models.JSONField()

    class Meta:
        ordering: ClassVar = ["-number"]

    def __str__(self) -> str:
        return f"Vocabulary revision {self.number}: {self.change}"
