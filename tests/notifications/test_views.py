"""Notices and promotions on the Message Center pages: in the lists, on their own page, in
the bulk bar, in the badges."""

from typing import Any

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Kind, Participant
from messagecenter.hub import queries as hub_queries
from messagecenter.hub.boxes import Box
from messagecenter.notifications import queries
from messagecenter.notifications.models import Audience, BroadcastKind, BroadcastState
from tests.databases import PLANNER_SETTINGS
from tests.notifications.helpers import broadcast

pytestmark = pytest.mark.django_db

MESSAGE_CENTER = "/message-center/"
ACTIONS = "/message-center/actions/"
HEADER_BADGE = 'data-testid="header-unread">'


def page(response: Any) -> str:
    assert response.status_code == 200, response.status_code
    return str(response.content.decode())


def url(broadcast_id: int) -> str:
    return f"/message-center/announcements/{broadcast_id}/"


def test_a_notice_is_in_all_and_notices_with_the_official_badge(
    client: Client, buyer: User
) -> None:
    notice = broadcast(subject="New terms of service")
    broadcast(kind=BroadcastKind.PROMOTION, subject="Garden sale")
    client.force_login(buyer)

    everything = page(client.get(MESSAGE_CENTER))
    notices = page(client.get(MESSAGE_CENTER, {"folder": "notices"}))
    promotions = page(client.get(MESSAGE_CENTER, {"folder": "promotions"}))

    assert everything.count('name="broadcast_ids"') == 2
    assert f'href="{url(notice.pk)}"' in notices
    assert "Garden sale" not in notices
    assert "Garden sale" in promotions
    assert 'class="badge badge--official">Official<' in notices


def test_opening_the_message_center_sees_broadcasts_and_clears_the_badge(
    client: Client, buyer: User
) -> None:
    broadcast()
    client.force_login(buyer)

    other_page = page(client.get("/account/"))
    page(client.get(MESSAGE_CENTER))
    after = page(client.get("/account/"))

    assert f"{HEADER_BADGE}1<" in other_page
    assert HEADER_BADGE not in after
    assert hub_queries.unread_counts(buyer)["notices"] == 1


def test_the_message_center_with_an_unseen_broadcast_costs_a_constant(
    client: Client, buyer: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    for n in range(3):
        broadcast(subject=f"Notice {n}")
    client.force_login(buyer)

    # session, user, where the page's event stream starts (realtime/pages.py),
    # participants, broadcasts, counters + broadcasts' counts, then seeing
    # the broadcasts: savepoint, move "seen until", insert it (the first time), allocate an
    # event number (this person's first event: make the stream, allocate again), insert
    # the event, release. As many for 3 broadcasts as for 300. On PostgreSQL, the
    # planner's settings around the participants (db/plans.py).
    with django_assert_num_queries(14 + PLANNER_SETTINGS):
        page(client.get(MESSAGE_CENTER))
    with django_assert_num_queries(6 + PLANNER_SETTINGS):
        page(client.get(MESSAGE_CENTER))


def test_reading_a_broadcast_marks_it_read_for_that_person_only(
    client: Client, buyer: User, other_buyer: User
) -> None:
    notice = broadcast(body="Line one.\n\nSee https://example.test/terms <b>now</b>.")
    client.force_login(buyer)

    text = page(client.get(url(notice.pk)))

    assert (
        '<a href="https://example.test/terms" rel="nofollow">https://example.test/terms</a>' in text
    )
    assert "&lt;b&gt;now&lt;/b&gt;" in text
    assert "<p>Line one.</p>" in text
    assert queries.access_broadcast(buyer, notice.pk).is_read is True
    assert queries.access_broadcast(other_buyer, notice.pk).is_read is False
    assert hub_queries.unread_counts(buyer)["notices"] == 0


def test_a_broadcast_for_someone_else_is_a_404_like_a_missing_one(
    client: Client, buyer: User
) -> None:
    for_sellers = broadcast(audience=Audience.SELLERS)
    client.force_login(buyer)

    assert client.get(url(for_sellers.pk)).status_code == 404
    assert client.get(url(for_sellers.pk + 100)).status_code == 404
    assert not BroadcastState.objects.exists()


def test_the_bulk_bar_acts_on_broadcasts_and_conversations_together(
    client: Client, buyer: User
) -> None:
    first, second = broadcast(subject="First"), broadcast(subject="Second")
    client.force_login(buyer)

    response = client.post(
        ACTIONS,
        {"action": "archive", "broadcast_ids": [first.pk, second.pk], "next": MESSAGE_CENTER},
        follow=True,
    )

    assert "2 announcements archived." in page(response)
    archive = page(client.get(MESSAGE_CENTER, {"box": "archive"}))
    assert "First" in archive
    assert "Second" in archive
    client.post(ACTIONS, {"action": "trash", "broadcast_ids": [first.pk], "box": "archive"})
    client.post(ACTIONS, {"action": "delete", "broadcast_ids": [first.pk], "box": "trash"})
    assert [
        item.broadcast.subject for item in queries.broadcast_rows(buyer, box=Box.ARCHIVE, limit=5)
    ] == ["Second"]
    assert queries.visible_broadcasts(buyer, [first.pk]) == []


def test_a_bulk_action_with_a_broadcast_not_yours_is_a_404_and_changes_nothing(
    client: Client, buyer: User
) -> None:
    mine, not_mine = broadcast(), broadcast(audience=Audience.SELLERS)
    client.force_login(buyer)

    response = client.post(ACTIONS, {"action": "trash", "broadcast_ids": [mine.pk, not_mine.pk]})

    assert response.status_code == 404
    assert not BroadcastState.objects.exists()


def test_a_conversation_and_a_broadcast_not_yours_change_nothing_together(
    client: Client, buyer: User
) -> None:
    message = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Shipped", body="On its way."
    )
    not_mine = broadcast(audience=Audience.SELLERS)
    client.force_login(buyer)

    response = client.post(
        ACTIONS,
        {
            "action": "archive",
            "conversation_ids": [message.conversation_id],
            "broadcast_ids": [not_mine.pk],
        },
    )

    assert response.status_code == 404
    participant = Participant.objects.get(user=buyer, conversation_id=message.conversation_id)
    assert participant.box == Box.INBOX
