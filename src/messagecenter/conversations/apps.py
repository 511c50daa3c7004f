from django.apps import AppConfig


class ConversationsConfig(AppConfig):
    name = "messagecenter.conversations"
    label = "conversations"
    verbose_name = "Conversations"

    def ready(self) -> None:
        from messagecenter.conversations.feed import CONVERSATIONS
        from messagecenter.hub.feeds import register_feed

        register_feed(CONVERSATIONS)
