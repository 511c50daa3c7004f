"""A person's data exports (docs/privacy.md#your-data): asked for on Your Account, built by
the worker, downloadable until `expires_at`, then deleted by a periodic job."""

import secrets
from datetime import tzinfo

from django.conf import settings
from django.db import models
from django.db.models import Q


class ExportStatus(models.TextChoices):
    QUEUED = "queued", "Waiting for the worker"
    BUILDING = "building", "Being prepared"
    READY = "ready", "Ready to download"
    FAILED = "failed", "Could not be prepared"
    # Past its download time: the file is gone, the row says when it was made.
    EXPIRED = "expired", "Expired"


IN_PROGRESS = (ExportStatus.QUEUED, ExportStatus.BUILDING)


def export_path(instance: "DataExport", filename: str) -> str:
    # An unguessable name: the file is served only through its owner's download page, and a
    # name that cannot be guessed keeps it so if storage is ever exposed by mistake.
    return f"data-exports/{secrets.token_urlsafe(24)}.zip"


class DataExport(models.Model):
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="data_exports"
    )
    status = models.CharField(
        max_length=10, choices=ExportStatus.choices, default=ExportStatus.QUEUED
    )
    # 0–100, and what the worker is doing, for the page while it is prepared.
    progress = models.PositiveSmallIntegerField(default=0)
    step = models.CharField(max_length=100, blank=True)
    file = models.FileField(upload_to=export_path, max_length=255, blank=True)
    size = models.PositiveBigIntegerField(default=0)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField()
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    expires_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-created_at"], name="data_export_user_recent"),
            # The purge's scan: ready exports by expiry.
            models.Index(
                fields=["expires_at"], name="data_export_ready_expiry", condition=Q(status="ready")
            ),
        ]
        constraints = [
            # One export prepared at a time per person: a second click finds the first.
            models.UniqueConstraint(
                fields=["user"],
                condition=Q(status__in=["queued", "building"]),
                name="data_export_one_in_progress",
            )
        ]

    def __str__(self) -> str:
        return f"Data export {self.pk} of {self.user_id} ({self.status})"

    @property
    def download_name(self) -> str:
        return f"message-center-data-{self.created_at:%Y-%m-%d}.zip"

    def download_name_in(self, zone: tzinfo) -> str:
        """The name it is downloaded under: the day it was asked for where its owner lives,
        as the page says it ("Asked for Sun 6 Dec"), not the server's day."""
        return f"message-center-data-{self.created_at.astimezone(zone):%Y-%m-%d}.zip"


class Erasure(models.Model):
    """A person erased at their request (privacy/erasure.py): what was removed, what was
    kept and why — shown in the admin."""

    # The pseudonymised account that orders and conversations still point at.
    person = models.OneToOneField(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+"
    )
    pseudonym = models.CharField(max_length=150)
    erased_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    erased_at = models.DateTimeField()
    # {"attachments": 3, "message texts replaced": 12, …}
    removed = models.JSONField(default=dict)
    # [{"what": "orders", "count": 2, "why": "…"}, …]
    kept = models.JSONField(default=list)

    def __str__(self) -> str:
        return f"{self.pseudonym}, erased {self.erased_at:%Y-%m-%d}"
