"""Background jobs of the conversations app, run by `messagecenter worker`."""

from django.tasks import task

from messagecenter.conversations import actions


@task()
def purge_expired_trash() -> int:
    """Scheduled by the worker (messagecenter/server/scheduler.py); safe to run twice."""
    return actions.purge_expired_trash()
