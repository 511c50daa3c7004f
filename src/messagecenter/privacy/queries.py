"""Reads of the privacy app, starting from the person asking."""

from typing import Any

from django.db.models.fields.files import FieldFile
from django.http import FileResponse
from django.utils import timezone

from messagecenter.accounts import time_zones
from messagecenter.accounts.models import User
from messagecenter.errors import NotFound
from messagecenter.privacy.models import DataExport, ExportStatus
from messagecenter.rows import MAX_ID

# The page and the API list the latest few: older ones have expired long ago.
LISTED_EXPORTS = 5


def data_exports(user: User) -> list[DataExport]:
    return list(
        DataExport.objects.filter(user=user).order_by("-created_at", "-id")[:LISTED_EXPORTS]
    )


def access_data_export(user: User, export_id: Any) -> DataExport:
    """The person's own export; anyone else's is not found."""
    try:
        number = int(export_id)
    except (TypeError, ValueError):
        number = 0
    found = (
        DataExport.objects.filter(pk=number, user=user).first() if 0 < number <= MAX_ID else None
    )
    if found is None:
        raise NotFound("No such data export.", code="data_export_not_found")
    return found


def download(user: User, export_id: Any) -> FileResponse:
    """The zip, for its owner, while it is ready and not past its time (the purge may not
    have run yet: the time decides, not the purge)."""
    found = access_data_export(user, export_id)
    if (
        found.status != ExportStatus.READY
        or found.expires_at is None
        or found.expires_at <= timezone.now()
    ):
        raise NotFound(
            "This data export cannot be downloaded: it is not ready, or it has expired.",
            code="data_export_not_available",
        )
    stored: FieldFile = found.file
    try:
        handle = stored.open("rb")
    except FileNotFoundError:
        raise NotFound("No such data export.", code="data_export_not_found") from None
    response = FileResponse(
        handle,
        as_attachment=True,
        filename=found.download_name_in(time_zones.zone_of(user)),
        content_type="application/zip",
    )
    response["X-Content-Type-Options"] = "nosniff"
    response["Cache-Control"] = "private, no-store"
    return response
