from django.apps import AppConfig


class SupportConfig(AppConfig):
    name = "messagecenter.support"
    label = "support"
    verbose_name = "Customer service"

    def ready(self) -> None:
        # The conversations app learns about cases through its hook registry, never by
        # importing this app (docs/support.md, "How a message moves a case").
        from messagecenter.accounts import suspensions
        from messagecenter.realtime.audiences import register_nudge_audience
        from messagecenter.support import claim_actions, hooks, queries

        hooks.register()
        # A seller suspended while claims wait for their response (customer service's
        # decision or the admin's "active" box): the claims go to an agent at once.
        suspensions.register_consequence(claim_actions.hand_claims_to_customer_service)
        # Open queue pages learn that their team's cases changed (docs/support.md).
        register_nudge_audience(
            queries.QUEUE_CHANGED,
            lambda payload, user_ids: queries.queue_watchers_among(payload["team_id"], user_ids),
        )
