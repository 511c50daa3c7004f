"""Notices and promotions (broadcasts) are searchable like messages, within each person's
audience (docs/search.md, "Broadcasts"). The suite runs these on SQLite and PostgreSQL.

Beside the mailbox of conftest.py (Alice's conversations, March 1–11), the marketplace
sent, all at noon UTC:

name       sent    kind       audience         subject
recall     Mar 8   notice     everyone         Kettle recall: check your thermostat
fees       Mar 6   notice     sellers          New seller fees for kettles
bobs       Mar 5   promotion  a list: Bob      Kettle deals for Bob
germany    Mar 4   notice     country DE       Kettle rules in Germany
deals      Mar 2   promotion  buyers           Spring kettle deals
"""

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.errors import InvalidInput
from messagecenter.notifications import actions as notification_actions
from messagecenter.notifications.models import Audience, BroadcastKind
from messagecenter.search.models import BroadcastDocument
from messagecenter.search.queries import SearchFilters, search_messages
from tests.api.helpers import error_of, with_token
from tests.notifications.helpers import broadcast, staff, switch_off_promotions
from tests.search.conftest import Mailbox

SEARCH = "/message-center/search/"


def noon(day: int) -> datetime:
    return datetime(2026, 3, day, 12, tzinfo=UTC)


@dataclass(frozen=True)
class Broadcasts:
    mailbox: Mailbox
    ids: dict[str, int]

    def names(self, results: list[Any]) -> list[str]:
        """Results as names: a broadcast's from the table above, a message's from
        conftest.py's."""
        broadcasts = {pk: name for name, pk in self.ids.items()}
        messages = {pk: name for name, pk in self.mailbox.ids.items()}
        return [
            broadcasts[result.broadcast_id]
            if result.broadcast_id is not None
            else messages[result.message_id]
            for result in results
        ]


@pytest.fixture
def broadcasts(mailbox: Mailbox) -> Broadcasts:
    by = staff()
    sent = {
        "recall": broadcast(
            by=by,
            send_at=noon(8),
            subject="Kettle recall: check your thermostat",
            body="Some electric kettles made in 2025 have a faulty thermostat. Check yours.",
        ),
        "fees": broadcast(
            by=by,
            send_at=noon(6),
            audience=Audience.SELLERS,
            subject="New seller fees for kettles",
            body="Listing fees for small appliances change in April.",
        ),
        "bobs": broadcast(
            by=by,
            send_at=noon(5),
            kind=BroadcastKind.PROMOTION,
            audience=Audience.LIST,
            user_ids=[mailbox.other_buyer.pk],
            subject="Kettle deals for Bob",
            body="Only for you, Bob: 30% off kettles.",
        ),
        "germany": broadcast(
            by=by,
            send_at=noon(4),
            audience=Audience.COUNTRY,
            country="DE",
            subject="Kettle rules in Germany",
            body="New labelling rules for kettles sold in Germany.",
        ),
        "deals": broadcast(
            by=by,
            send_at=noon(2),
            kind=BroadcastKind.PROMOTION,
            audience=Audience.BUYERS,
            subject="Spring kettle deals",
            body="Save on kettles and toasters this spring.",
        ),
    }
    return Broadcasts(mailbox, {name: item.pk for name, item in sent.items()})


def search(user: User, **filters: Any) -> list[Any]:
    cursor = filters.pop("cursor", None)
    limit = filters.pop("limit", 25)
    return search_messages(user, SearchFilters(**filters), cursor=cursor, limit=limit).results


def test_a_person_finds_the_broadcasts_of_their_audience_among_their_messages(
    broadcasts: Broadcasts,
) -> None:
    mailbox = broadcasts.mailbox

    # Alice (a buyer in the US): everyone's and the buyers', not the sellers', not Bob's
    # list, not Germany's. At one time a message comes before a broadcast (e1, recall).
    assert broadcasts.names(search(mailbox.buyer, text="kettle")) == [
        "a3",
        "e1",
        "recall",
        "a2",
        "deals",
        "a1",
    ]
    assert broadcasts.names(search(mailbox.other_buyer, text="kettle deals")) == [
        "bobs",
        "deals",
    ]
    assert "fees" in broadcasts.names(search(mailbox.seller, text="fees"))
    assert broadcasts.names(search(mailbox.seller, text="deals")) == []


def test_a_person_outside_the_audience_never_finds_it(broadcasts: Broadcasts) -> None:
    mailbox = broadcasts.mailbox

    for text in ("fees", "seller fees", '"seller fees"', "germany", "bob"):
        assert not [r for r in search(mailbox.buyer, text=text) if r.broadcast_id], text
    # Not even by misspelling a word only they have: the correction finds nothing of hers.
    page = search_messages(mailbox.buyer, SearchFilters(text="labeling"))
    assert page.results == []
    assert page.corrected_from is None


def test_a_broadcast_of_a_country_is_found_by_the_people_in_it(broadcasts: Broadcasts) -> None:
    mailbox = broadcasts.mailbox
    User.objects.filter(pk=mailbox.buyer.pk).update(country="DE")
    mailbox.buyer.refresh_from_db()

    assert broadcasts.names(search(mailbox.buyer, text="germany")) == ["germany"]


def test_where_the_broadcast_is_shows_and_a_deleted_one_is_not_found(
    broadcasts: Broadcasts,
) -> None:
    mailbox = broadcasts.mailbox
    buyer, recall, deals = mailbox.buyer, broadcasts.ids["recall"], broadcasts.ids["deals"]
    notification_actions.trash_broadcasts(buyer, [recall])
    notification_actions.archive_broadcasts(buyer, [deals])

    boxes = {r.broadcast_id: r.box for r in search(buyer, text="kettle") if r.broadcast_id}
    assert boxes == {recall: "trash", deals: "archive"}
    assert broadcasts.names(search(buyer, text="kettle", box="trash")) == ["e1", "recall"]
    assert broadcasts.names(search(buyer, text="kettle", box="inbox")) == ["a3", "a2", "a1"]

    notification_actions.delete_broadcasts(buyer, [recall])

    assert broadcasts.names(search(buyer, text="thermostat")) == []
    assert broadcasts.names(search(buyer, text="kettle", box="trash")) == ["e1"]
    # Only for her: the others still find it.
    assert broadcasts.names(search(mailbox.other_buyer, text="thermostat")) == ["recall"]


def test_cancelled_expired_and_scheduled_broadcasts_are_not_found(
    broadcasts: Broadcasts,
) -> None:
    mailbox = broadcasts.mailbox
    notification_actions.cancel_broadcast(staff(), broadcasts.ids["recall"])
    broadcast(
        send_at=timezone.now() + timedelta(days=1),
        subject="Thermostat week starts tomorrow",
        body="Soon.",
    )
    broadcast(
        send_at=noon(9),
        expires_at=noon(10),
        subject="Thermostat sale, ended",
        body="Over.",
    )

    assert search(mailbox.buyer, text="thermostat") == []


def test_promotions_switched_off_are_not_found(broadcasts: Broadcasts) -> None:
    buyer = broadcasts.mailbox.buyer
    switch_off_promotions(buyer)
    buyer = User.objects.get(pk=buyer.pk)

    assert broadcasts.names(search(buyer, text="spring")) == []
    assert broadcasts.names(search(buyer, text="thermostat")) == ["recall"]


def test_filters_apply_to_broadcasts(broadcasts: Broadcasts) -> None:
    buyer = broadcasts.mailbox.buyer

    assert broadcasts.names(search(buyer, sender="marketplace", text="kettle")) == [
        "e1",
        "recall",
        "deals",
    ]
    assert broadcasts.names(search(buyer, sender="acme", text="kettle")) == ["a3", "a2"]
    assert broadcasts.names(search(buyer, folder="notices")) == ["recall"]
    assert broadcasts.names(search(buyer, folder="promotions", text="kettle")) == ["e1", "deals"]
    assert broadcasts.names(search(buyer, text="kettle", has_attachment=True)) == ["a3"]
    assert broadcasts.names(
        search(buyer, text="kettle", date_from=noon(2).date(), date_to=noon(2).date())
    ) == ["a2", "deals"]
    assert "recall" in broadcasts.names(search(buyer, unread_only=True))

    notification_actions.mark_broadcasts_read(buyer, [broadcasts.ids["recall"]])

    assert "recall" not in broadcasts.names(search(buyer, unread_only=True))
    assert "deals" in broadcasts.names(search(buyer, unread_only=True))


def test_a_misspelt_word_finds_a_broadcast(broadcasts: Broadcasts) -> None:
    page = search_messages(broadcasts.mailbox.buyer, SearchFilters(text="thermostta"))

    assert broadcasts.names(page.results) == ["recall"]
    assert [str(term) for term in page.terms] == ["thermostat"]


def test_pages_of_messages_and_broadcasts_follow_each_other_without_gaps(
    broadcasts: Broadcasts,
) -> None:
    buyer = broadcasts.mailbox.buyer
    everything = broadcasts.names(search(buyer, text="kettle"))
    seen: list[str] = []
    cursor = None
    for _ in range(10):
        page = search_messages(buyer, SearchFilters(text="kettle"), cursor=cursor, limit=2)
        seen += broadcasts.names(page.results)
        cursor = page.next_cursor
        if cursor is None:
            break

    assert seen == everything


def test_a_broken_broadcast_cursor_is_refused(broadcasts: Broadcasts) -> None:
    for cursor in ("2026-03-08T12:00:00+00:00~0~bx", "2026-03-08T12:00:00+00:00~0~b0"):
        with pytest.raises(InvalidInput) as refused:
            search_messages(broadcasts.mailbox.buyer, SearchFilters(text="k"), cursor=cursor)
        assert refused.value.code == "invalid_cursor"


def test_the_search_page_links_a_broadcast_and_says_it_is_in_trash(
    client: Client, broadcasts: Broadcasts
) -> None:
    buyer, recall = broadcasts.mailbox.buyer, broadcasts.ids["recall"]
    notification_actions.trash_broadcasts(buyer, [recall])
    client.force_login(buyer)

    html = client.get(SEARCH, {"q": "thermostat"}).content.decode()

    assert f'class="search-result__link" href="/message-center/announcements/{recall}/"' in html
    assert '<span class="tag">In Trash</span>' in html
    assert "<mark>Kettle</mark>" not in html
    assert "faulty <mark>thermostat</mark>" in html


def test_the_api_returns_broadcasts_within_the_audience(broadcasts: Broadcasts) -> None:
    mailbox = broadcasts.mailbox

    alice = with_token(mailbox.buyer).get("/search", {"q": "thermostat"}).json()
    seller = with_token(mailbox.seller).get("/search", {"q": "seller fees"}).json()
    bob = with_token(mailbox.other_buyer).get("/search", {"q": "seller fees"}).json()

    assert alice["results"] == [
        {
            "kind": "broadcast",
            "message_id": None,
            "conversation_id": None,
            "broadcast_id": broadcasts.ids["recall"],
            "subject": "Kettle recall: check your thermostat",
            "subject_html": "Kettle recall: check your <mark>thermostat</mark>",
            "snippet": "Some electric kettles made in 2025 have a faulty "
            "<mark>thermostat</mark>. Check yours.",
            "sender_name": "Marketplace",
            "is_official": True,
            "is_from_you": False,
            "created_at": "2026-03-08T12:00:00Z",
            "box": "inbox",
        }
    ]
    assert [r["broadcast_id"] for r in seller["results"]] == [broadcasts.ids["fees"]]
    assert bob["results"] == []
    assert error_of(
        with_token(mailbox.buyer).get("/search", {"q": "kettle", "cursor": "x~1~b2"})
    ) == (400, "invalid_cursor")


def test_a_broadcast_is_indexed_once_and_rebuilt_with_the_messages(
    broadcasts: Broadcasts,
) -> None:
    assert BroadcastDocument.objects.count() == len(broadcasts.ids)
    BroadcastDocument.objects.all().delete()
    assert search(broadcasts.mailbox.buyer, text="thermostat") == []

    call_command("rebuild_search_index")

    assert BroadcastDocument.objects.count() == len(broadcasts.ids)
    assert broadcasts.names(search(broadcasts.mailbox.buyer, text="thermostat")) == ["recall"]
