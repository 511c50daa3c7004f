"""Background jobs of the support app, run by `messagecenter worker`."""

from django.tasks import task

from messagecenter.support import claim_actions


@task()
def sweep_claim_deadlines() -> int:
    """Scheduled by the worker every minute (messagecenter/server/scheduler.py): claims
    whose seller window or appeal window has ended move on. Safe to run twice, and a
    deadline missed while no worker ran is swept at the next run (it is a stored date)."""
    return claim_actions.sweep_claim_deadlines()
