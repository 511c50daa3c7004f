from django.apps import AppConfig


class RealtimeConfig(AppConfig):
    name = "messagecenter.realtime"
    label = "realtime"
    verbose_name = "Realtime event log"
