from django.apps import AppConfig


class SafetyConfig(AppConfig):
    name = "messagecenter.safety"
    label = "safety"
    verbose_name = "Trust and safety"
