from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "messagecenter.support"
    label = "support"
    verbose_name = "Customer service"

    def ready(self) -> None:
        # The conversations app learns about cases through its hook registry, never by
        # importing this app (docs/support.md, "How a message moves a case").
        from messagecenter.realtime.audiences import register_nudge_audience
        from messagecenter.support import hooks, queries

        hooks.register()
        # Open queue pages learn that their team's cases changed (docs/support.md).
        register_nudge_audience(
            queries.QUEUE_CHANGED,
            lambda payload, user_ids: queries.queue_watchers_among(payload["team_id"], user_ids),
        )
