"""Background jobs of the privacy app, run by `messagecenter worker`."""

from django.tasks import task

from messagecenter.privacy import export_actions, retention_actions


@task()
def build_data_export(export_id: int) -> bool:
    """Enqueued with the export's row (actions.request_data_export); safe to run twice."""
    return export_actions.build_data_export(export_id)


@task()
def purge_expired_exports() -> int:
    """Scheduled by the worker every hour (messagecenter/server/scheduler.py)."""
    return export_actions.purge_expired_exports()


@task()
def purge_past_retention() -> dict[str, int]:
    """Scheduled by the worker every hour (messagecenter/server/scheduler.py): what is past
    its kind's retention rule (docs/privacy.md#how-long-we-keep-messages)."""
    return retention_actions.purge_past_retention()
