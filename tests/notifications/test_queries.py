"""Which broadcasts a person finds, in which box, counted how: fan-out on read."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations.models import Kind, Participant
from messagecenter.errors import InvalidInput, NotFound
from messagecenter.hub import queries as hub_queries
from messagecenter.hub.boxes import Box, Folder
from messagecenter.notifications import actions, queries
from messagecenter.notifications.models import Audience, BroadcastKind
from tests import factories
from tests.databases import PLANNER_SETTINGS
from tests.notifications.helpers import broadcast, switch_off_promotions

pytestmark = pytest.mark.django_db


def subjects(user: User, **options: object) -> list[str]:
    rows = queries.broadcast_rows(user, limit=100, **options)  # type: ignore[arg-type]
    return [item.broadcast.subject for item in rows]


def test_each_audience_reaches_exactly_its_people(buyer: User, seller: User, agent: User) -> None:
    member = factories.BuyerFactory(member_until=timezone.now() + timedelta(days=30))
    lapsed = factories.BuyerFactory(member_until=timezone.now() - timedelta(days=1))
    german = factories.BuyerFactory(country="DE")
    broadcast(subject="to everyone")
    broadcast(subject="to buyers", audience=Audience.BUYERS)
    broadcast(subject="to sellers", audience=Audience.SELLERS)
    broadcast(subject="to members", audience=Audience.MEMBERS)
    broadcast(subject="to Germany", audience=Audience.COUNTRY, country="de")
    broadcast(subject="to a list", audience=Audience.LIST, user_ids=[seller.pk, german.pk])

    assert sorted(subjects(buyer)) == ["to buyers", "to everyone"]
    assert sorted(subjects(seller)) == ["to a list", "to everyone", "to sellers"]
    assert sorted(subjects(agent)) == ["to everyone"]
    assert sorted(subjects(member)) == ["to buyers", "to everyone", "to members"]
    assert sorted(subjects(lapsed)) == ["to buyers", "to everyone"]
    assert sorted(subjects(german)) == ["to Germany", "to a list", "to buyers", "to everyone"]


def test_people_who_join_later_see_notices_that_still_apply() -> None:
    broadcast(subject="Privacy policy", send_at=timezone.now() - timedelta(days=30))
    broadcast(
        subject="Old sale",
        send_at=timezone.now() - timedelta(days=30),
        expires_at=timezone.now() - timedelta(days=1),
    )

    newcomer = factories.BuyerFactory()

    assert subjects(newcomer) == ["Privacy policy"]
    assert hub_queries.unread_counts(newcomer)["notices"] == 1


def test_scheduled_expired_and_cancelled_broadcasts_are_nowhere(buyer: User) -> None:
    scheduled = broadcast(subject="Later", send_at=timezone.now() + timedelta(minutes=5))
    broadcast(
        subject="Expired",
        send_at=timezone.now() - timedelta(days=2),
        expires_at=timezone.now() - timedelta(seconds=1),
    )
    cancelled = broadcast(subject="Cancelled")
    actions.cancel_broadcast(cancelled.created_by, cancelled.pk)

    assert subjects(buyer) == []
    assert hub_queries.unread_counts(buyer)["all"] == 0
    for hidden in (scheduled, cancelled):
        with pytest.raises(NotFound) as error:
            queries.access_broadcast(buyer, hidden.pk)
        assert error.value.code == "broadcast_not_found"


def test_a_scheduled_broadcast_appears_at_its_send_time(buyer: User) -> None:
    send_at = timezone.now() + timedelta(minutes=5)
    broadcast(subject="At five", send_at=send_at)

    assert subjects(buyer, now=send_at - timedelta(microseconds=1)) == []
    assert subjects(buyer, now=send_at) == ["At five"]


def test_not_in_the_audience_and_missing_are_the_same_not_found(buyer: User, seller: User) -> None:
    for_sellers = broadcast(audience=Audience.SELLERS)

    errors = []
    for broadcast_id in (for_sellers.pk, for_sellers.pk + 1000, "x", 2**64):
        with pytest.raises(NotFound) as error:
            queries.access_broadcast(buyer, broadcast_id)
        errors.append((error.value.code, error.value.message))

    assert set(errors) == {("broadcast_not_found", "No such message.")}
    assert queries.access_broadcast(seller, for_sellers.pk).broadcast == for_sellers


def test_each_person_keeps_their_own_state(buyer: User, other_buyer: User) -> None:
    notice = broadcast()

    assert actions.mark_broadcasts_read(buyer, [notice.pk]) == 1
    assert actions.mark_broadcasts_read(buyer, [notice.pk]) == 0
    assert actions.archive_broadcasts(buyer, [notice.pk]) == 1

    assert subjects(buyer) == []
    assert subjects(buyer, box=Box.ARCHIVE) == [notice.subject]
    assert subjects(other_buyer) == [notice.subject]
    assert queries.access_broadcast(buyer, notice.pk).is_read is True
    assert queries.access_broadcast(other_buyer, notice.pk).is_read is False

    assert actions.move_broadcasts_to_inbox(buyer, [notice.pk]) == 1
    assert actions.mark_broadcasts_unread(buyer, [notice.pk]) == 1
    assert actions.trash_broadcasts(buyer, [notice.pk]) == 1
    item = queries.access_broadcast(buyer, notice.pk)
    assert (item.box, item.is_read, item.trashed_at is not None) == (Box.TRASH, False, True)
    assert hub_queries.unread_counts(buyer)["trash"] == 1
    assert actions.restore_broadcasts(buyer, [notice.pk]) == 1
    assert subjects(buyer) == [notice.subject]


def test_deleting_for_ever_is_from_trash_only_and_final(buyer: User) -> None:
    notice = broadcast()

    with pytest.raises(InvalidInput) as refused:
        actions.delete_broadcasts(buyer, [notice.pk])
    assert refused.value.code == "not_in_trash"

    actions.trash_broadcasts(buyer, [notice.pk])
    assert actions.delete_broadcasts(buyer, [notice.pk]) == 1

    assert [subjects(buyer, box=box) for box in (Box.INBOX, Box.ARCHIVE, Box.TRASH)] == [[], [], []]
    with pytest.raises(NotFound):
        queries.access_broadcast(buyer, notice.pk)
    with pytest.raises(NotFound):
        actions.restore_broadcasts(buyer, [notice.pk])


def test_an_action_on_one_broadcast_not_yours_changes_nothing(buyer: User) -> None:
    mine = broadcast()
    not_mine = broadcast(audience=Audience.SELLERS)

    with pytest.raises(NotFound):
        actions.archive_broadcasts(buyer, [mine.pk, not_mine.pk])

    assert subjects(buyer) == [mine.subject]


def test_counts_per_folder_archive_trash_and_unseen(buyer: User) -> None:
    notices = [broadcast(subject=f"Notice {n}") for n in range(3)]
    promotion = broadcast(kind=BroadcastKind.PROMOTION, subject="Sale")
    actions.mark_broadcasts_read(buyer, [notices[0].pk])
    actions.archive_broadcasts(buyer, [notices[1].pk])

    read = hub_queries.message_center_counts(buyer)
    counts, unseen_broadcasts = read.counts, read.unseen_by_feed["broadcast"]

    assert (counts["notices"], counts["promotions"], counts["all"]) == (1, 1, 2)
    assert (counts["archive"], counts["trash"]) == (1, 0)
    # Acting on a broadcast sees it; the other two are news.
    assert (counts["unseen"], unseen_broadcasts) == (2, 2)
    assert promotion.pk


def test_seeing_clears_the_badge_until_the_next_broadcast(buyer: User) -> None:
    broadcast(subject="Seen")
    actions.mark_broadcasts_seen(buyer)

    assert hub_queries.unread_counts(buyer)["unseen"] == 0
    assert hub_queries.unread_counts(buyer)["notices"] == 1

    broadcast(subject="New", send_at=timezone.now() + timedelta(seconds=1))
    later = timezone.now() + timedelta(seconds=2)

    assert hub_queries.unread_counts(buyer, now=later)["unseen"] == 1


def test_promotions_switched_off_are_not_listed_counted_or_found(buyer: User) -> None:
    sale = broadcast(kind=BroadcastKind.PROMOTION, subject="Sale")
    broadcast(subject="Terms")
    switch_off_promotions(buyer)
    buyer = User.objects.get(pk=buyer.pk)

    counts = hub_queries.unread_counts(buyer)
    assert (counts["promotions"], counts["notices"], counts["unseen"]) == (0, 1, 1)
    assert subjects(buyer) == ["Terms"]
    assert subjects(buyer, folder=Folder.PROMOTIONS) == []
    with pytest.raises(NotFound):
        queries.access_broadcast(buyer, sale.pk)


def test_important_notices_cannot_be_switched_off(buyer: User) -> None:
    switch_off_promotions(buyer)
    broadcast(subject="Security notice")

    assert subjects(User.objects.get(pk=buyer.pk), folder=Folder.NOTICES) == ["Security notice"]


# --- the merged list -------------------------------------------------------------------------


def test_pages_of_all_merge_conversations_and_broadcasts_by_time_without_gaps(
    buyer: User,
) -> None:
    now = timezone.now()
    expected = []
    for n in range(5):
        conversation_actions.send_marketplace_message(
            buyer, kind=Kind.ORDER_UPDATES, subject=f"Order update {n}", body="On its way."
        )
        expected.append(f"Order update {n}")
        broadcast(subject=f"Notice {n}", send_at=timezone.now())
        expected.append(f"Notice {n}")
    # Two more at exactly one time: conversations first, then broadcasts, newest id first.
    same = now - timedelta(hours=1)
    for n in range(2):
        broadcast(subject=f"Tied {n}", send_at=same)
    seen = []
    cursor = None
    pages = 0
    while True:
        page = hub_queries.message_center_page(buyer, cursor=cursor, limit=3)
        pages += 1
        seen += [
            row.broadcast.subject
            if isinstance(row, queries.BroadcastItem)
            else row.conversation.subject
            for row in page.entries
        ]
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == [*reversed(expected), "Tied 1", "Tied 0"]
    assert pages == 4


def test_the_notices_folder_merges_notice_conversations_and_notice_broadcasts(buyer: User) -> None:
    conversation_actions.send_marketplace_message(
        buyer, kind=Kind.NOTICE, subject="Your account", body="Verified."
    )
    broadcast(subject="Terms", send_at=timezone.now() + timedelta(seconds=1))
    broadcast(kind=BroadcastKind.PROMOTION, subject="Sale")
    later = timezone.now() + timedelta(seconds=2)

    page = hub_queries.message_center_page(buyer, folder=Folder.NOTICES)
    rows = queries.broadcast_rows(buyer, folder=Folder.NOTICES, limit=10, now=later)

    assert [row.broadcast.subject for row in rows] == ["Terms"]
    assert [row.conversation.subject for row in page.entries if isinstance(row, Participant)] == [
        "Your account"
    ]


def test_a_broadcast_cursor_is_refused_where_broadcasts_are_not_listed(buyer: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        conversation_queries.inbox_page(buyer, cursor="2026-01-01T00:00:00+00:00~b3")
    assert refused.value.code == "invalid_cursor"


# --- what reading costs ------------------------------------------------------------------------


@pytest.mark.parametrize("live_broadcasts", [0, 1, 40])
def test_the_inbox_page_and_badges_cost_the_same_for_any_number_of_broadcasts(
    buyer: User, live_broadcasts: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Shipped", body="On its way."
    )
    for n in range(live_broadcasts):
        broadcast(
            subject=f"Notice {n}",
            audience=Audience.LIST if n % 2 else Audience.EVERYONE,
            user_ids=[buyer.pk] if n % 2 else (),
        )
    factories.BuyerFactory.create_batch(5)

    # participants (with the settings around them on PostgreSQL: db/plans.py), broadcasts
    with django_assert_num_queries(2 + PLANNER_SETTINGS):
        page = hub_queries.message_center_page(buyer, limit=25)
    # the counters and the broadcasts' counts, one UNION ALL
    with django_assert_num_queries(1):
        counts = hub_queries.unread_counts(buyer)

    assert len(page.entries) == min(live_broadcasts + 1, 25)
    assert counts["all"] == live_broadcasts + 1


@pytest.mark.parametrize("shown", [True, False])
def test_a_live_promotion_costs_no_preference_read(
    buyer: User, shown: bool, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    broadcast(kind=BroadcastKind.PROMOTION, subject="Sale")
    if not shown:
        switch_off_promotions(buyer)
    buyer = User.objects.get(pk=buyer.pk)

    # counters + broadcasts: the promotions switch is on the user row, read with it
    # (it was a Preference read more before the switch moved there)
    with django_assert_num_queries(1):
        counts = hub_queries.unread_counts(buyer)
    # participants (with the settings around them on PostgreSQL: db/plans.py), broadcasts
    with django_assert_num_queries(2 + PLANNER_SETTINGS):
        page = hub_queries.message_center_page(buyer)

    assert counts["promotions"] == (1 if shown else 0)
    assert len(page.entries) == (1 if shown else 0)


@pytest.mark.parametrize("folder", [None, Folder.NOTICES])
def test_what_applies_now_walks_the_live_index_newest_first(
    buyer: User, folder: str | None
) -> None:
    factories.BroadcastFactory()
    with CaptureQueriesContext(connection) as captured:
        queries.broadcast_rows(buyer, folder=folder, limit=26)
    sql = captured.captured_queries[0]["sql"]
    index = "broadcast_kind_live_recent" if folder else "broadcast_live_recent"
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(f"EXPLAIN QUERY PLAN {sql}")
            plan = " ".join(str(row[-1]) for row in cursor.fetchall())
            assert index in plan
            assert "TEMP B-TREE" not in plan
        else:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(f"EXPLAIN {sql}")
            plan = " ".join(row[0] for row in cursor.fetchall())
            assert index in plan
            assert "Sort" not in plan


# --- for e-mail and realtime -------------------------------------------------------------------


def test_the_audience_for_e_mail_is_active_people_by_id(buyer: User, seller: User) -> None:
    gone = factories.BuyerFactory(is_active=False)
    member = factories.BuyerFactory(member_until=timezone.now() + timedelta(days=1))
    everyone = broadcast()
    buyers = broadcast(audience=Audience.BUYERS)
    members = broadcast(audience=Audience.MEMBERS)
    listed = broadcast(audience=Audience.LIST, user_ids=[seller.pk, gone.pk, buyer.pk])

    def ids(found: object) -> list[int]:
        return list(queries.broadcast_audience(found).values_list("pk", flat=True))  # type: ignore[arg-type]

    staff_ids = list(User.objects.filter(role=Role.ADMIN).values_list("pk", flat=True))
    assert ids(everyone) == sorted([buyer.pk, seller.pk, member.pk, *staff_ids])
    assert ids(buyers) == sorted([buyer.pk, member.pk])
    assert ids(members) == [member.pk]
    assert ids(listed) == sorted([buyer.pk, seller.pk])
    assert gone.pk not in ids(everyone)


def test_recipients_among_open_streams_is_one_query(
    buyer: User, seller: User, other_buyer: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    german = factories.BuyerFactory(country="DE")
    member = factories.SellerFactory(member_until=timezone.now() + timedelta(days=1))
    cases = {
        Audience.EVERYONE: {buyer.pk, seller.pk, other_buyer.pk, german.pk, member.pk},
        Audience.BUYERS: {buyer.pk, other_buyer.pk, german.pk},
        Audience.SELLERS: {seller.pk, member.pk},
        Audience.MEMBERS: {member.pk},
        Audience.COUNTRY: {german.pk},
        Audience.LIST: {other_buyer.pk},
    }
    candidates = [buyer.pk, seller.pk, other_buyer.pk, german.pk, member.pk, 10**9]
    for audience, expected in cases.items():
        found = broadcast(
            audience=audience,
            country="DE" if audience == Audience.COUNTRY else "",
            user_ids=[other_buyer.pk] if audience == Audience.LIST else (),
        )
        with django_assert_num_queries(1):
            among = queries.broadcast_recipients_among(found.pk, candidates)
        assert among == expected, audience

    scheduled = broadcast(send_at=timezone.now() + timedelta(hours=1))
    assert queries.broadcast_recipients_among(scheduled.pk, candidates) == set()
