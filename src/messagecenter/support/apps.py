from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "messagecenter.support"
    label = "support"
    verbose_name = "Customer service"

    def ready(self) -> None:
        # The conversations app learns about cases through its hook registry, never by
        # importing this app (docs/support.md, "How a message moves a case").
        from messagecenter.support import hooks

        hooks.register()
