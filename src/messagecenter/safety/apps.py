import re

from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "messagecenter.safety"
    label = "safety"
    verbose_name = "Trust and safety"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from django.conf import settings
        from django.core.exceptions import ImproperlyConfigured

        from messagecenter.conversations import send_checks, upload_checks
        from messagecenter.safety import attachments, checks, limits

        send_checks.register(
            checks.check_before_sending, checks.record_held, checks.check_recipients
        )
        # A mistyped limit stops the start-up rather than the first send.
        limits.configured_limits()
        send_checks.register_limit(limits.count_send, limits.lock_counts)
        upload_checks.register(attachments.clean)
        clamd = settings.SAFETY_CLAMD
        if clamd and not re.fullmatch(r"unix:/.+|tcp:[^:]+:\d+|tcp:\[[0-9a-fA-F:]+\]:\d+", clamd):
            raise ImproperlyConfigured(
                f"SAFETY_CLAMD={clamd!r}: write unix:/path/to/clamd.socket or tcp:host:port."
            )
