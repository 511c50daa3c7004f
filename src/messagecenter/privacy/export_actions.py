"""The worker's writes for "Export my data" (docs/privacy.md#your-data): building an
export, and deleting it once its download time is over. Asked for in actions.py."""

import logging
import os
import tempfile
from datetime import datetime, timedelta
from functools import partial

from django.conf import settings
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from messagecenter.delivery.actions import record_account_email
from messagecenter.delivery.models import EmailKind
from messagecenter.privacy import export
from messagecenter.privacy.models import DataExport, ExportStatus

logger = logging.getLogger(__name__)

# A build that has not finished in this long belongs to a worker that died.
STALE_BUILD = timedelta(hours=1)


def build_data_export(export_id: int) -> bool:
    """The worker's job: claims the export (a second run finds it claimed and does
    nothing), writes the zip with progress on the row, stores it, marks it ready until
    DATA_EXPORT_DOWNLOAD_HOURS from now and queues the e-mail saying so — in one
    transaction. A failure is recorded on the row for the page to say."""
    now = timezone.now()
    claimed = DataExport.objects.filter(pk=export_id, status=ExportStatus.QUEUED).update(
        status=ExportStatus.BUILDING, started_at=now, progress=0, step="Starting"
    )
    if not claimed:
        return False
    data_export = DataExport.objects.select_related("user").get(pk=export_id)

    def on_progress(percent: int, step: str) -> None:
        DataExport.objects.filter(pk=export_id, status=ExportStatus.BUILDING).update(
            progress=percent, step=step[:100]
        )

    handle, path = tempfile.mkstemp(suffix=".zip")
    os.close(handle)
    try:
        export.write_zip(data_export.user, path, on_progress=on_progress)
        with open(path, "rb") as written:
            data_export.file.save(data_export.download_name, File(written), save=False)
        finished = timezone.now()
        with transaction.atomic():
            DataExport.objects.filter(pk=export_id).update(
                status=ExportStatus.READY,
                progress=100,
                step="",
                file=data_export.file.name,
                size=data_export.file.size,
                finished_at=finished,
                expires_at=finished + timedelta(hours=settings.DATA_EXPORT_DOWNLOAD_HOURS),
            )
            if data_export.user.email:
                record_account_email(data_export.user, EmailKind.DATA_EXPORT, timedelta(0))
    except Exception as error:
        logger.exception("data export %s failed", export_id)
        if data_export.file:
            data_export.file.delete(save=False)
        DataExport.objects.filter(pk=export_id).update(
            status=ExportStatus.FAILED,
            step="",
            error=f"{type(error).__name__}",
            finished_at=timezone.now(),
        )
        return False
    finally:
        os.unlink(path)
    return True


def purge_expired_exports(*, now: datetime | None = None) -> int:
    """The periodic job: a ready export past its download time loses its file (after the
    commit: a crash leaves an orphan file, never a row pointing at nothing) and says
    expired; a build whose worker died is marked failed so the person can ask again."""
    now = now or timezone.now()
    DataExport.objects.filter(
        status=ExportStatus.BUILDING, started_at__lt=now - STALE_BUILD
    ).update(status=ExportStatus.FAILED, error="The worker stopped", finished_at=now)
    expired = 0
    while True:
        with transaction.atomic():
            batch = list(
                DataExport.objects.select_for_update(skip_locked=True)
                .filter(status=ExportStatus.READY, expires_at__lte=now)
                .order_by("expires_at")[:100]
            )
            if not batch:
                break
            names = [str(found.file.name) for found in batch if found.file]
            DataExport.objects.filter(pk__in=[found.pk for found in batch]).update(
                status=ExportStatus.EXPIRED, file=""
            )
            transaction.on_commit(partial(_delete_files, names))
        expired += len(batch)
    return expired


def _delete_files(names: list[str]) -> None:
    for name in names:
        default_storage.delete(name)
