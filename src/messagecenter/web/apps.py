from django.apps import AppConfig


class WebConfig(AppConfig):
    name = "messagecenter.web"
    label = "web"
    verbose_name = "Web layout"
