"""Background jobs of the realtime app, run by `messagecenter worker`."""

from django.tasks import task

from messagecenter.realtime import actions


@task()
def purge_old_events() -> int:
    """Scheduled by the worker (messagecenter/server/scheduler.py); safe to run twice."""
    return actions.purge_old_events()
