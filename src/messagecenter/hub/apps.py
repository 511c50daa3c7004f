from django.apps import AppConfig


class HubConfig(AppConfig):
    name = "messagecenter.hub"
    label = "hub"
    verbose_name = "Message Center"
