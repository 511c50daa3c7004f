from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "messagecenter.delivery"
    label = "delivery"
    verbose_name = "E-mail delivery and preferences"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Providers report bounces and complaints through anymail's tracking webhooks.
        # Password reset links and other e-mails about an account go out through the outbox.
        from messagecenter.accounts import account_emails
        from messagecenter.delivery import tracking  # noqa: F401
        from messagecenter.delivery.actions import record_account_email

        # Replies by e-mail through providers' inbound webhooks.
        from messagecenter.delivery.inbound import webhooks  # noqa: F401

        account_emails.register(record_account_email)
