from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "messagecenter.safety"
    label = "safety"
    verbose_name = "Trust and safety"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from messagecenter.conversations import send_checks
        from messagecenter.safety import checks, limits

        send_checks.register(
            checks.check_before_sending, checks.record_held, checks.check_recipients
        )
        # A mistyped limit stops the start-up rather than the first send.
        limits.configured_limits()
        send_checks.register_limit(limits.count_send, limits.lock_counts)
