from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "messagecenter.support"
    label = "support"
    verbose_name = "Customer service"
