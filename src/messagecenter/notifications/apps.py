from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "messagecenter.notifications"
    label = "notifications"
    verbose_name = "Notifications"
