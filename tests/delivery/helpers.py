import html as html_module
import re
from datetime import timedelta

from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.notifications import actions as notification_actions
from messagecenter.notifications.emails import advance_broadcast_runs
from messagecenter.notifications.models import Audience, Broadcast, BroadcastKind
from tests import factories


def many_buyers(count: int, prefix: str = "shopper") -> list[User]:
    """People in bulk (no password hashing, one INSERT per thousand)."""
    User.objects.bulk_create(
        [
            User(
                username=f"{prefix}{number}",
                email=f"{prefix}{number}@example.test",
                role=Role.BUYER,
                country="US",
                password="!",
            )
            for number in range(count)
        ],
        batch_size=1000,
    )
    return list(User.objects.filter(username__startswith=prefix).order_by("pk"))


def send_broadcast(kind: str = BroadcastKind.PROMOTION, **fields: object) -> Broadcast:
    """A broadcast that is due now, announced as the worker does, with its recipients'
    e-mails queued."""
    staff = factories.UserFactory(role=Role.ADMIN, is_staff=True)
    broadcast = notification_actions.schedule_broadcast(
        staff,
        kind=kind,
        subject=fields.pop("subject", "Autumn sale: 20% off kitchen gear"),
        body=fields.pop("body", "This week only.\n\nSee the offers in the marketplace."),
        send_at=timezone.now() - timedelta(seconds=1),
        audience=fields.pop("audience", Audience.EVERYONE),
        **fields,
    )
    notification_actions.announce_due_broadcasts()
    while advance_broadcast_runs():
        pass
    return broadcast


# A two-level list, as people type one: the inner items indented under the outer ones.
NESTED_LIST = "Packing list:\n- Tent\n  - Poles\n  - Stakes\n- Stove\n    1. Fuel\n- Water"

# What keeps a line's leading spaces on screen; "normal" and "pre-line" collapse them.
KEEPS_SPACES = {"pre", "pre-wrap", "break-spaces"}


def nested_list_in_html(html: str) -> tuple[str, str]:
    """The white-space rule of the HTML element holding NESTED_LIST, and its text."""
    found = re.search(
        r"<div[^>]*style=\"[^\"]*white-space:\s*([a-z-]+)[^>]*>(Packing list:.*?)</div>",
        html,
        re.DOTALL,
    )
    assert found is not None, html
    return found.group(1), html_module.unescape(found.group(2)).replace("\r\n", "\n")
