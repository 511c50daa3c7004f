from django.apps import AppConfig


class ServerConfig(AppConfig):
    name = "messagecenter.server"
    label = "server"
    verbose_name = "Server processes"
