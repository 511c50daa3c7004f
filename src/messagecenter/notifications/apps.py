from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "messagecenter.notifications"
    label = "notifications"
    verbose_name = "Notifications"

    def ready(self) -> None:
        from messagecenter.delivery.broadcasts import Broadcasts, register_broadcasts
        from messagecenter.hub.feeds import register_feed
        from messagecenter.notifications import emails, queries
        from messagecenter.notifications.feed import BROADCASTS
        from messagecenter.realtime.audiences import (
            BroadcastAudiences,
            register_broadcast_audiences,
        )
        from messagecenter.search.broadcasts import BroadcastSource, register_broadcast_source

        register_feed(BROADCASTS)
        register_broadcasts(
            Broadcasts(
                # Through the module, read at each call (tests replace them).
                queue_next_batches=lambda: emails.advance_broadcast_runs(),
                for_email=lambda broadcast_id: emails.broadcast_for_email(broadcast_id),
                referenced=lambda user, broadcast_id: emails.referenced_broadcast(
                    user, broadcast_id
                ),
            )
        )
        register_broadcast_audiences(
            BroadcastAudiences(
                # Through the module, read at each call (tests replace them).
                announced_since=lambda moment: queries.announced_since(moment),
                recipients_among=lambda broadcast_id, user_ids: queries.broadcast_recipients_among(
                    broadcast_id, user_ids
                ),
            )
        )
        # Notices and promotions are searchable within each person's audience.
        register_broadcast_source(
            BroadcastSource(
                visible_sql=lambda user, now, folder: queries.searchable_sql(user, now, folder),
                texts_after=lambda last_id, limit: queries.broadcast_texts_after(last_id, limit),
            )
        )
