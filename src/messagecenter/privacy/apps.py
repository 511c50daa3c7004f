from django.apps import AppConfig


class PrivacyConfig(AppConfig):
    name = "messagecenter.privacy"
    label = "privacy"
    verbose_name = "Privacy"
