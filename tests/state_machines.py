"""What the hypothesis state machines share (docs/testing.md, "State machines")."""

from unittest import mock

from django.db import transaction
from django.utils import timezone
from hypothesis.stateful import RuleBasedStateMachine


class InOneSavepoint(RuleBasedStateMachine):
    """Each example in a savepoint rolled back at its end, so every example starts from the
    same database; with `frozen_clock`, on a clock only the machine moves (`self.now`,
    from the example's start)."""

    frozen_clock = False

    def __init__(self) -> None:
        super().__init__()
        self.atomic = transaction.atomic()
        self.atomic.__enter__()
        self.now = timezone.now().replace(microsecond=0)
        self.clock = (
            mock.patch.object(timezone, "now", side_effect=lambda: self.now)
            if self.frozen_clock
            else None
        )
        if self.clock is not None:
            self.clock.start()

    def teardown(self) -> None:
        if self.clock is not None:
            self.clock.stop()
        transaction.set_rollback(True)
        self.atomic.__exit__(None, None, None)
