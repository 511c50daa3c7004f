from django.apps import AppConfig


class DemoConfig(AppConfig):
    name = "messagecenter.demo"
    label = "demo"
    verbose_name = "Demo marketplace"

    def ready(self) -> None:
        from messagecenter.accounts.sign_in_hints import register_sign_in_hints
        from messagecenter.demo.story import loaded_sign_in_hints

        register_sign_in_hints(loaded_sign_in_hints)
