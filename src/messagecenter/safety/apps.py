from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "messagecenter.safety"
    label = "safety"
    verbose_name = "Trust and safety"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from messagecenter.conversations import send_checks
        from messagecenter.safety import checks

        send_checks.register(
            checks.check_before_sending, checks.record_held, checks.check_recipients
        )
