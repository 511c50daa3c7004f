"""One rule for every promotion, whichever way it was sent: "Promotions in the Message
Center: Off" hides promotion conversations (a promotion sent as a message) like promotion
broadcasts — not listed, not counted, not found, their page a 404 — and On shows them
again (docs/notifications.md#promotions-can-be-switched-off-notices-cannot)."""

from datetime import timedelta

import pytest
from django.test import Client
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions, queries
from messagecenter.conversations.models import Kind, Participant
from messagecenter.delivery import actions as delivery_actions
from messagecenter.delivery.models import Category, Channel
from messagecenter.delivery.preferences import enabled_user_ids, is_enabled
from messagecenter.errors import NotFound
from messagecenter.hub.boxes import UNSEEN, Box, Folder
from messagecenter.hub.queries import message_center_page, unread_counts
from messagecenter.notifications.models import BroadcastKind
from messagecenter.realtime.models import EventKind
from messagecenter.realtime.queries import events_after, newest_sequences
from messagecenter.search.queries import SearchFilters, search_messages
from tests.api.helpers import error_of, with_token
from tests.notifications.helpers import broadcast

SWITCH = (Category.PROMOTIONS, Channel.MESSAGE_CENTER)


def switch(user: User, on: bool) -> User:
    delivery_actions.set_preferences(user, {SWITCH: on})
    # As the next request reads it.
    return User.objects.get(pk=user.pk)


@pytest.fixture
def promotions(buyer: User) -> dict[str, int]:
    """A promotion sent as a conversation (unread, in the inbox), another one in Archive
    and one in Trash (both unread), a promotion broadcast and an order update."""
    sent = {
        name: actions.send_marketplace_message(
            buyer, kind=Kind.PROMOTION, subject=subject, body=f"{subject}: 25% off tents."
        ).conversation_id
        for name, subject in [
            ("inbox", "Trail-ready deals"),
            ("archived", "Camping week"),
            ("trashed", "Winter sale"),
        ]
    }
    actions.archive_conversations(buyer, [sent["archived"]])
    actions.trash_conversations(buyer, [sent["trashed"]])
    sent["update"] = actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Your tent has shipped", body="Tent on its way."
    ).conversation_id
    sent["broadcast"] = broadcast(
        kind=BroadcastKind.PROMOTION,
        subject="Tent deals for everyone",
        body="Tents, 25% off.",
        send_at=timezone.now() - timedelta(minutes=5),
    ).pk
    return sent


def listed(user: User, box: str = Box.INBOX, folder: str | None = None) -> set[str]:
    return {
        entry.conversation.subject if hasattr(entry, "conversation") else entry.broadcast.subject
        for entry in message_center_page(user, box=box, folder=folder).entries
    }


def test_switched_off_promotion_conversations_are_hidden_like_promotion_broadcasts(
    buyer: User, promotions: dict[str, int]
) -> None:
    assert listed(buyer) == {
        "Trail-ready deals",
        "Your tent has shipped",
        "Tent deals for everyone",
    }
    before = unread_counts(buyer)
    assert (before[Folder.PROMOTIONS], before[Box.ARCHIVE], before[Box.TRASH]) == (2, 1, 1)

    buyer = switch(buyer, on=False)

    assert listed(buyer) == {"Your tent has shipped"}
    assert listed(buyer, folder=Folder.PROMOTIONS) == set()
    assert listed(buyer, box=Box.ARCHIVE) == set()
    assert listed(buyer, box=Box.TRASH) == set()
    counts = unread_counts(buyer)
    assert (counts[Folder.PROMOTIONS], counts[Box.ARCHIVE], counts[Box.TRASH]) == (0, 0, 0)
    # The badge: only the order update is news.
    assert (counts["all"], counts[UNSEEN]) == (1, 1)
    with pytest.raises(NotFound):
        queries.access_conversation(buyer, promotions["inbox"])
    assert search_messages(buyer, SearchFilters(text="tents")).results == []
    assert [
        r.conversation_id for r in search_messages(buyer, SearchFilters(text="tent")).results
    ] == [promotions["update"]]

    buyer = switch(buyer, on=True)

    assert listed(buyer) == {
        "Trail-ready deals",
        "Your tent has shipped",
        "Tent deals for everyone",
    }
    assert unread_counts(buyer) == before
    assert queries.access_conversation(buyer, promotions["inbox"]).folder == Folder.PROMOTIONS
    assert len(search_messages(buyer, SearchFilters(text="tents")).results) == 4


def test_the_page_and_the_api_follow_the_switch(
    client: Client, buyer: User, promotions: dict[str, int]
) -> None:
    switch(buyer, on=False)
    client.force_login(buyer)

    html = client.get("/message-center/").content.decode()
    api = with_token(buyer)

    assert "Trail-ready deals" not in html
    assert "Your tent has shipped" in html
    assert client.get(f"/message-center/conversations/{promotions['inbox']}/").status_code == 404
    assert error_of(api.get(f"/conversations/{promotions['inbox']}")) == (
        404,
        "conversation_not_found",
    )
    assert [row["subject"] for row in api.get("/conversations").json()["items"]] == [
        "Your tent has shipped"
    ]
    # Acting on it by id is acting on a conversation that is not there: nothing changes.
    events = newest_sequences([buyer.pk])
    for action in ("archive", "trash", "read"):
        assert error_of(
            api.post(
                "/conversations/actions",
                {"action": action, "conversation_ids": [promotions["inbox"]]},
            )
        ) == (404, "conversation_not_found")
    assert newest_sequences([buyer.pk]) == events
    row = Participant.objects.get(user=buyer, conversation_id=promotions["inbox"])
    assert (row.box, row.unread_count) == (Box.INBOX, 1)


def test_the_switch_is_kept_on_the_user_row_and_read_without_a_query(
    buyer: User, other_buyer: User, django_assert_num_queries: object
) -> None:
    buyer = switch(buyer, on=False)

    assert buyer.shows_promotions is False
    assert enabled_user_ids([buyer.pk, other_buyer.pk], *SWITCH) == {other_buyer.pk}
    with django_assert_num_queries(0):  # type: ignore[operator]
        assert is_enabled(buyer, *SWITCH) is False
    # Setting it again changes nothing.
    assert delivery_actions.set_preferences(buyer, {SWITCH: False}) == 0


def test_switched_off_promotion_conversations_send_no_events_to_devices(
    buyer: User, other_buyer: User
) -> None:
    """A new message in a hidden promotion conversation is not news on the person's stream
    (no message.created, so no badge refresh or "1 new message" either); the log stays
    gap-free, and someone with promotions shown still hears of theirs."""
    buyer = switch(buyer, on=False)
    before = newest_sequences([buyer.pk]).get(buyer.pk, 0)

    promotion = actions.send_marketplace_message(
        buyer,
        kind=Kind.PROMOTION,
        subject="Trail-ready deals",
        body="25% off tents.",
        topic_key="p",
    )
    actions.post_marketplace_message(promotion.conversation_id, "Last day: 25% off tents.")
    shown = actions.send_marketplace_message(
        other_buyer, kind=Kind.PROMOTION, subject="Trail-ready deals", body="25% off tents."
    )
    update = actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Your tent has shipped", body="On its way."
    )

    events = events_after(buyer, before, 10).events
    assert [(e.sequence, e.kind, e.payload["conversation_id"]) for e in events] == [
        (before + 1, EventKind.MESSAGE_CREATED, update.conversation_id)
    ]
    assert [
        (e.kind, e.payload["conversation_id"]) for e in events_after(other_buyer, 0, 10).events
    ] == [(EventKind.MESSAGE_CREATED, shown.conversation_id)]

    buyer = switch(buyer, on=True)
    actions.post_marketplace_message(promotion.conversation_id, "Back in stock: tents.")

    assert [
        (e.kind, e.payload["conversation_id"]) for e in events_after(buyer, before + 1, 10).events
    ] == [(EventKind.MESSAGE_CREATED, promotion.conversation_id)]
