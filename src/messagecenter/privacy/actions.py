"""A person's requests of the privacy app (docs/privacy.md): asking for a data export.
The worker's side (building it, deleting it once its download time is over) is in
export_actions.py, which the worker's jobs (tasks.py) call: this module enqueues them,
so neither imports the other back."""

from django.db import IntegrityError, transaction
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.errors import Conflict
from messagecenter.privacy.models import DataExport
from messagecenter.privacy.tasks import build_data_export


def request_data_export(user: User) -> DataExport:
    """ "Export my data": a row, and the worker's job in the same transaction (the job queue
    is in the same database), so a crash leaves both or neither. One at a time: while one
    is being prepared, asking again is refused and changes nothing."""
    now = timezone.now()
    try:
        with transaction.atomic():
            data_export = DataExport.objects.create(user=user, created_at=now)
            build_data_export.enqueue(data_export.pk)
    except IntegrityError:
        raise Conflict(
            "Your data is already being prepared: we e-mail you when it is ready.",
            code="data_export_in_progress",
        ) from None
    return data_export
