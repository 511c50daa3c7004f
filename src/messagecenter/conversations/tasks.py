"""Background jobs of the conversations app, run by `messagecenter worker`."""

from django.tasks import task

from messagecenter.conversations import actions


@task()
def purge_expired_trash() -> int:
    """Scheduled by the worker (messagecenter/server/scheduler.py); safe to run twice."""
    return actions.purge_expired_trash()


@task()
def pass_response_deadlines() -> int:
    """Scheduled every minute (messagecenter/server/scheduler.py): sellers' response
    deadlines that passed without an answer (docs/escalation.md); safe to run twice."""
    return actions.pass_response_deadlines()


@task()
def tell_the_other_sides(person_id: int, side: str = "buyer", after: int = 0) -> int:
    """Enqueued by a suspension, an erasure or a lifting in its own transaction, and by each
    chunk for the next one (actions.tell_the_other_sides); safe to run twice."""
    return actions.tell_the_other_sides(person_id, side=side, after=after)
