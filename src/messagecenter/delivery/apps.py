from django.apps import AppConfig


class DeliveryConfig(AppConfig):
    name = "messagecenter.delivery"
    label = "delivery"
    verbose_name = "E-mail delivery and preferences"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Providers report bounces and complaints through anymail's tracking webhooks.
        from messagecenter.delivery import tracking  # noqa: F401

        # Replies by e-mail through providers' inbound webhooks.
        from messagecenter.delivery.inbound import webhooks  # noqa: F401
