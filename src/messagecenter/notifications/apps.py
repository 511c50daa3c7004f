from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "messagecenter.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from messagecenter.hub.feeds import register_feed
        from messagecenter.notifications.feed import BROADCASTS

        register_feed(BROADCASTS)
