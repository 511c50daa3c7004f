import re
from typing import Any

from django.apps import AppConfig
from django.core import checks as system_checks


def detector_off_warning(**kwargs: Any) -> list[system_checks.CheckMessage]:
    from django.conf import settings

    if settings.SAFETY_DETECTOR != "off":
        return []
    return [
        system_checks.Warning(
            "The scam check of messages people send is off (SAFETY_DETECTOR=off): messages "
            "are delivered without a verdict, warnings or holds.",
            hint="SAFETY_DETECTOR=off is for measuring the check's cost in a benchmark; "
            "unset it anywhere people send messages.",
            id="safety.W001",
        )
    ]


class SafetyConfig(AppConfig):
    name = "messagecenter.safety"
    label = "safety"
    verbose_name = "Trust and safety"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from messagecenter.accounts import suspensions
        from messagecenter.conversations import send_checks, upload_checks
        from messagecenter.safety import actions, attachments, checks, limits

        # The admin's "active" box suspends and lifts a suspension as customer service's
        # decisions do (accounts/suspensions.py).
        suspensions.register(suspend=actions.suspend, reinstate=actions.reinstate)

        send_checks.register(
            checks.check_before_sending,
            checks.record_held,
            checks.check_recipients,
            checks.blocks_among,
            kinds=checks.CHECKED_KINDS,
        )
        send_checks.register_block_read(checks.blocks_among)
        # A mistyped limit stops the start-up rather than the first send.
        limits.configured_limits()
        send_checks.register_limit(limits.count_send, limits.counts_for_batch)
        upload_checks.register(attachments.clean)
        if settings.SAFETY_DETECTOR not in ("on", "off"):
            raise ImproperlyConfigured(
                f"SAFETY_DETECTOR={settings.SAFETY_DETECTOR!r}: write on (the default) or off "
                "(benchmarks only)."
            )
        system_checks.register(detector_off_warning)
        clamd = settings.SAFETY_CLAMD
        if clamd and not re.fullmatch(r"unix:/.+|tcp:[^:]+:\d+|tcp:\[[0-9a-fA-F:]+\]:\d+", clamd):
            raise ImproperlyConfigured(
                f"SAFETY_CLAMD={clamd!r}: write unix:/path/to/clamd.socket or tcp:host:port."
            )
