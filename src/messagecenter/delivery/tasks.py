"""Background jobs of the delivery app, run by `messagecenter worker`."""

from django.tasks import task

from messagecenter.delivery import actions


@task()
def purge_old_emails() -> int:
    """Scheduled by the worker (messagecenter/server/scheduler.py); safe to run twice."""
    return actions.purge_old_emails()
