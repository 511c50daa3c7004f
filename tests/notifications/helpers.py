"""Broadcasts for tests, scheduled through the staff action like the admin does."""

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.delivery import actions as delivery_actions
from messagecenter.delivery.models import Category, Channel
from messagecenter.notifications import actions
from messagecenter.notifications.models import Audience, Broadcast, BroadcastKind
from tests import factories


def staff() -> User:
    user: User = factories.UserFactory(role=Role.ADMIN, is_staff=True)
    return user


def broadcast(
    *,
    kind: str = BroadcastKind.NOTICE,
    audience: str = Audience.EVERYONE,
    send_at: datetime | None = None,
    subject: str = "New terms of service",
    body: str = "Our terms change on 1 January.\n\nRead them at https://example.test/terms.",
    by: User | None = None,
    **fields: Any,
) -> Broadcast:
    return actions.schedule_broadcast(
        by or staff(),
        kind=kind,
        subject=subject,
        body=body,
        send_at=send_at or timezone.now() - timedelta(minutes=1),
        audience=audience,
        **fields,
    )


def switch_off_promotions(user: User) -> None:
    delivery_actions.set_preferences(user, {(Category.PROMOTIONS, Channel.MESSAGE_CENTER): False})
