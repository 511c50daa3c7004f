"""The worker's part in broadcasts: announcing each one when it becomes due.

Visibility never waits for this: a broadcast is in every inbox from its send_at, decided
on read. Announcing only nudges open streams and starts the e-mail fan-out, so it runs in
its own loop rather than as a periodic job (the scheduler's 5 s tick plus a job pickup
would be several seconds late)."""

import logging
import threading
from datetime import timedelta

from django.db import close_old_connections, connection
from django.tasks import task
from django.utils import timezone

from messagecenter.notifications import actions, queries

logger = logging.getLogger(__name__)


class BroadcastAnnouncer(threading.Thread):
    """Sleeps until the next broadcast is due, but never longer than `poll` seconds, so
    one scheduled meanwhile (or by another process) is announced at most `poll` late. Safe
    with several workers: each broadcast is claimed by one conditional UPDATE."""

    def __init__(self, poll: float = 0.25) -> None:
        super().__init__(name="broadcast-announcer", daemon=True)
        self.poll = poll
        self.stopping = threading.Event()

    def run(self) -> None:
        try:
            self._loop()
        finally:
            # This thread's own connection, so a stopped announcer holds none.
            connection.close()

    def _loop(self) -> None:
        while not self.stopping.is_set():
            wait = self.poll
            try:
                actions.announce_due_broadcasts()
                next_at = queries.next_send_at()
                if next_at is not None:
                    until_due = (next_at - timezone.now()) / timedelta(seconds=1)
                    wait = min(self.poll, max(until_due, 0.0))
            except Exception:
                # A database hiccup must not end the loop; it tries again shortly.
                logger.exception("could not announce due broadcasts")
            finally:
                close_old_connections()
            self.stopping.wait(wait)


@task()
def purge_trashed_broadcasts() -> int:
    """Scheduled by the worker (messagecenter/server/scheduler.py); safe to run twice."""
    return actions.purge_trashed_broadcasts()
