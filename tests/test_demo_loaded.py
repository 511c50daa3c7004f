"""The demo marketplace once loaded: what each of its people finds (its loading itself:
tests/test_demo.py). It is loaded once for the module (tests.conftest.built_once), and each
test runs in a savepoint of it."""

from collections import Counter
from collections.abc import Iterator
from datetime import timedelta

import pytest
from django.contrib.auth import authenticate
from django.db.models import Count, F
from django.test import Client, RequestFactory
from django.utils import timezone
from pytest_django import DjangoDbBlocker
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import Role, User
from messagecenter.accounts.sign_in_hints import SignInHint
from messagecenter.conversations import queries
from messagecenter.conversations.models import Conversation, Kind, Message, Participant
from messagecenter.delivery import actions as delivery_actions
from messagecenter.delivery.models import Category, Channel
from messagecenter.demo import story
from messagecenter.hub import queries as hub_queries
from messagecenter.hub.boxes import COUNTER_KEYS, Box, Folder
from messagecenter.marketplace.models import (
    Order,
    OrderStatus,
    Refund,
    RefundStatus,
    ReturnRequest,
    ReturnStatus,
)
from messagecenter.notifications import queries as broadcast_queries
from messagecenter.notifications.models import Broadcast, BroadcastKind
from messagecenter.realtime.models import UserEvent
from messagecenter.support import queries as support_queries
from messagecenter.support import report_actions
from messagecenter.support.actions import check_placeholders
from messagecenter.support.models import CannedResponse, Claim
from tests.conftest import built_once


@pytest.fixture(scope="module")
def demo_loaded(
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[str]:
    """Loading the demo took a second per test on PostgreSQL."""
    media_root = tmp_path_factory.mktemp("demo")
    with built_once("demo_loaded", django_db_blocker, media_root):
        story.load_demo()
        yield str(media_root)


@pytest.fixture
def _demo(demo_loaded: str, db: None, settings: Settings) -> None:
    settings.MEDIA_ROOT = demo_loaded


def recount_unread(user: User) -> dict[str, int]:
    """The badges counted the slow way, from the person's Participant rows."""
    counts = dict.fromkeys(COUNTER_KEYS, 0)
    for participant in Participant.objects.filter(
        user=user, unread_count__gt=0, box__in=[Box.INBOX, Box.ARCHIVE, Box.TRASH]
    ):
        key = participant.folder if participant.box == Box.INBOX else participant.box
        counts[key] += 1
    counts["unseen"] = Participant.objects.filter(
        user=user, is_seen=False, box__in=[Box.INBOX, Box.ARCHIVE, Box.TRASH]
    ).count()
    counts["all"] = sum(counts[folder] for folder in Folder.values)
    return counts


@pytest.mark.usefixtures("_demo")
@pytest.mark.parametrize("sign_in", story.SIGN_INS, ids=lambda sign_in: sign_in.username)
def test_every_listed_sign_in_works_with_the_demo_password(sign_in: SignInHint) -> None:
    user = authenticate(
        RequestFactory().post("/accounts/login/"),
        username=sign_in.username,
        password=story.DEMO_PASSWORD,
    )

    assert isinstance(user, User)
    assert user.role == sign_in.role


@pytest.mark.usefixtures("_demo")
def test_only_admin_is_staff_and_the_impostor_cannot_sign_in() -> None:
    assert list(User.objects.filter(is_staff=True).values_list("username", "is_superuser")) == [
        ("admin", True)
    ]
    assert (
        authenticate(
            RequestFactory().post("/accounts/login/"),
            username=story.IMPOSTOR_USERNAME,
            password=story.DEMO_PASSWORD,
        )
        is None
    )
    assert User.objects.get(username=story.IMPOSTOR_USERNAME).has_usable_password() is False


@pytest.mark.usefixtures("_demo")
def test_the_shops_have_distinct_names_and_described_products() -> None:
    assert sorted(
        User.objects.filter(role=Role.SELLER).values_list("username", "storefront__name")
    ) == [
        ("mkt-account-team", "Marketplace Account Team"),
        ("pixelpine", "Pixel & Pine Electronics"),
        ("seller", "Brightside Home & Kitchen"),
        ("trailhead", "Trailhead Outfitters"),
    ]
    assert sorted(
        User.objects.filter(role=Role.SELLER)
        .annotate(products=Count("storefront__products"))
        .values_list("username", "products")
    ) == [("mkt-account-team", 1), ("pixelpine", 3), ("seller", 4), ("trailhead", 3)]
    assert (
        User.objects.filter(storefront__products__description="").count(),
        User.objects.filter(storefront__products__price_cents=0).count(),
    ) == (0, 0)


@pytest.mark.usefixtures("_demo")
def test_alice_finds_her_conversations_newest_first() -> None:
    alice = User.objects.get(username="alice")

    inbox = queries.inbox_page(alice)

    assert [
        (participant.folder, participant.conversation.subject, participant.unread_count)
        for participant in inbox.participants
    ] == [
        (
            Folder.ORDERS,
            "Your order of Merino Wool Hiking Socks, Cushioned Crew, 3 Pairs and 1 more item",
            3,
        ),
        # Her return from the order page, approved three hours ago (docs/returns.md).
        (
            Folder.RETURNS,
            "Returns and refunds: Wireless Noise-Cancelling Headphones, 40-Hour Battery",
            2,
        ),
        (Folder.BUYER_SELLER, "Order 111-2486630-5574918", 1),
        (
            Folder.ORDERS,
            "Your order of 75% Mechanical Keyboard, Hot-Swappable, Brown Switches and 1 more item",
            0,
        ),
        (
            Folder.BUYER_SELLER,
            "Question about Variable-Temperature Electric Kettle, 1.7 L, Stainless Steel",
            0,
        ),
        (
            Folder.CUSTOMER_SERVICE,
            "Tent delivery failed: the address was missing my apartment number",
            1,
        ),
        (Folder.ORDERS, "Your order of Enameled Cast Iron Dutch Oven, 5.5 qt, Cerulean", 2),
        (Folder.ORDERS, "Your order of Ridgeline 2-Person Backpacking Tent, 3-Season", 3),
        (Folder.BUYER_SELLER, "Order 113-6624019-7781204", 1),
        (
            Folder.ORDERS,
            "Your order of 12-Cup Programmable Coffee Maker with Thermal Carafe",
            3,
        ),
        (Folder.NOTICES, "Your Marketplace Plus membership renews next week", 0),
        # Pixel & Pine never answered her question: past its deadline, the sweep's notice
        # unread (docs/escalation.md).
        (
            Folder.BUYER_SELLER,
            "Question about 75% Mechanical Keyboard, Hot-Swappable, Brown Switches",
            1,
        ),
        (Folder.RETURNS, "Return of Bamboo Cutting Board Set with Juice Grooves, 3 Pieces", 0),
        (
            Folder.ORDERS,
            "Your order of Bamboo Cutting Board Set with Juice Grooves, 3 Pieces",
            0,
        ),
    ]
    assert inbox.next_cursor is None
    assert [
        participant.conversation.subject
        for participant in queries.inbox_page(alice, box=Box.ARCHIVE).participants
    ] == ["Your order of Wireless Noise-Cancelling Headphones, 40-Hour Battery"]
    # Notices and promotions are broadcasts: alice's promotion is in her Trash.
    assert queries.inbox_page(alice, box=Box.TRASH).participants == []
    assert [
        item.broadcast.subject
        for item in broadcast_queries.broadcast_rows(alice, box=Box.TRASH, limit=5)
    ] == ["Spring Kitchen Event: up to 30% off cookware and small appliances"]


@pytest.mark.usefixtures("_demo")
@pytest.mark.parametrize(
    ("username", "badges"),
    [
        (
            "alice",
            {
                "orders": 4,
                "buyer_seller": 3,
                "customer_service": 1,
                "returns": 1,
                "notices": 1,
                "trash": 1,
                "unseen": 10,
                "all": 10,
            },
        ),
        (
            "bob",
            {
                "orders": 1,
                "buyer_seller": 1,
                # His open claim: the marketplace's "filed" message.
                "claims": 1,
                "notices": 1,
                "promotions": 1,
                "unseen": 5,
                "all": 5,
            },
        ),
        ("seller", {"buyer_seller": 1, "unseen": 1, "all": 1}),
        # Bob's claim waits for Trailhead's response.
        ("trailhead", {"claims": 1, "unseen": 1, "all": 1}),
        # Alice's return of the headphones waits for its parcel; her question about the
        # keyboard is past its deadline.
        ("pixelpine", {"buyer_seller": 2, "returns": 1, "unseen": 3, "all": 3}),
        # Agents work in the console; their Message Center has nothing new.
        ("agent", {}),
        ("admin", {}),
        ("mkt-account-team", {}),
    ],
)
def test_unread_badges_are_exact_and_match_a_recount(username: str, badges: dict[str, int]) -> None:
    user = User.objects.get(username=username)

    counts = hub_queries.unread_counts(user)

    # The recount knows conversations; the notice and the promotions are broadcasts.
    conversations_only = {key: count for key, count in recount_unread(user).items() if count}
    assert {key: count for key, count in counts.items() if count} == badges
    assert all(counts[key] >= count for key, count in conversations_only.items())


@pytest.mark.usefixtures("_demo")
def test_the_phishing_message_is_not_official_while_the_marketplaces_messages_are() -> None:
    phishing = Message.objects.select_related("sender__storefront", "conversation").get(
        body__contains="verify your identity"
    )

    assert phishing.is_official is False
    assert phishing.sender_name == "Marketplace Account Team"
    assert phishing.conversation.kind == Kind.BUYER_SELLER
    assert list(
        phishing.conversation.participants.order_by("id").values_list("user__username", "role")
    ) == [("alice", "buyer"), ("mkt-account-team", "seller")]
    assert Counter(
        (message.sender.role if message.sender else None, message.is_official)
        for message in Message.objects.select_related("sender")
    ) == {
        (None, True): 41,
        (Role.AGENT, True): 2,
        (Role.BUYER, False): 11,
        (Role.SELLER, False): 5,
    }
    assert Counter(
        Message.objects.filter(sender=None).values_list("conversation__kind", flat=True)
    ) == {
        Kind.ORDER_UPDATES: 25,
        # The refunded cutting boards (4); the headphones' request and approval, to alice
        # and to Pixel & Pine (4).
        Kind.RETURNS: 8,
        Kind.MEMBERSHIP: 2,
        # Customer service's "we have your request" (3) and "solved" (1).
        Kind.CUSTOMER_SERVICE: 4,
        # The sweep's "No answer yet from Pixel & Pine Electronics".
        Kind.BUYER_SELLER: 1,
        # "Claim CS-n is filed" on bob's water bottle.
        Kind.CLAIM: 1,
    }


@pytest.mark.usefixtures("_demo")
def test_the_orders_cover_every_status_and_a_refunded_return() -> None:
    assert set(Order.objects.values_list("status", flat=True)) == set(OrderStatus.values)
    assert set(Order.objects.filter(buyer__username="alice").values_list("status", flat=True)) == (
        set(OrderStatus.values) - {OrderStatus.CANCELLED}
    )
    assert sorted(
        Order.objects.filter(shipments__isnull=True).values_list("status", flat=True)
    ) == [OrderStatus.CANCELLED, OrderStatus.PLACED]
    returned = ReturnRequest.objects.select_related("order").get(status=ReturnStatus.REFUNDED)
    refund = Refund.objects.get()
    assert (returned.order.number, returned.status) == (
        "112-4839201-5521937",
        ReturnStatus.REFUNDED,
    )
    assert (refund.return_request_id, refund.status, refund.amount_cents) == (
        returned.pk,
        RefundStatus.ISSUED,
        returned.order.total_cents,
    )
    # Every order has its updates, one conversation per order, and the return its own.
    assert sorted(
        Conversation.objects.filter(kind=Kind.ORDER_UPDATES).values_list("order__number", flat=True)
    ) == sorted(Order.objects.values_list("number", flat=True))
    in_progress = ReturnRequest.objects.select_related("storefront").get(
        status=ReturnStatus.APPROVED
    )
    assert (in_progress.order.number, in_progress.storefront.name, in_progress.resolution) == (
        "114-7781230-0456682",
        "Pixel & Pine Electronics",
        "replacement",
    )
    headphones, shop = in_progress.order_id, in_progress.storefront.pk
    assert set(Conversation.objects.filter(kind=Kind.RETURNS).values_list("topic_key")) == {
        (f"order:{headphones}:returns",),
        (f"order:{headphones}:storefront:{shop}:returns",),
        (f"order:{returned.order_id}:returns",),
    }


@pytest.mark.usefixtures("_demo")
def test_the_refunded_cutting_boards_are_not_offered_again_and_both_sides_list_the_return() -> None:
    """QA found the refunded board offered for return "(up to 1)", auto-approved, and never
    refundable: its return recorded no items and no seller (docs/returns.md)."""
    boards = Order.objects.get(number="112-4839201-5521937")
    returned = ReturnRequest.objects.select_related("storefront").get(order=boards)
    client = Client()

    client.force_login(User.objects.get(username="alice"))
    buyer_page = client.get(f"/orders/{boards.number}/").content.decode()
    client.force_login(User.objects.get(username="seller"))
    seller_page = client.get(f"/orders/{boards.number}/").content.decode()

    assert returned.storefront is not None
    assert returned.storefront.name == "Brightside Home & Kitchen"
    assert [(line.order_item.title, line.quantity) for line in returned.items.all()] == [
        ("Bamboo Cutting Board Set with Juice Grooves, 3 Pieces", 1)
    ]
    assert "(up to 1)" not in buyer_page
    assert "Request return" not in buyer_page
    assert "This order was refunded in full." in buyer_page
    for page in (buyer_page, seller_page):
        assert f'id="return-{returned.pk}"' in page
        assert returned.reference in page
    assert "No returns of your items on this order." not in seller_page


@pytest.mark.usefixtures("_demo")
def test_conversations_and_event_logs_agree_with_the_messages() -> None:
    miscounted = Conversation.objects.annotate(actual=Count("messages")).exclude(
        message_count=F("actual")
    )
    assert miscounted.count() == 0
    alice = User.objects.get(username="alice")
    events = list(UserEvent.objects.filter(user=alice).order_by("sequence"))
    assert [event.sequence for event in events] == list(range(1, len(events) + 1))
    assert Counter(event.kind for event in events) == {
        # With customer service's "we have your request", read on the page it opened.
        # And her return of the headphones: requested, approved. And her question to
        # Pixel & Pine, with the sweep's notice.
        "message.created": 36,
        "conversation.read": 6,
        "conversation.archived": 1,
        # Her case: opened, taken by an agent, answered.
        "case.updated": 3,
        # The kitchen event's promotion she put in Trash (broadcasts' own stream events).
        "broadcast.trashed": 1,
    }


@pytest.mark.usefixtures("_demo")
def test_the_messages_carry_the_times_their_story_tells() -> None:
    """Spread over the past four weeks like a real inbox, not all dated when it loaded."""
    now = timezone.now()
    boards = Order.objects.get(number="112-4839201-5521937")
    [placed, *_] = Message.objects.filter(
        conversation__order=boards, conversation__kind=Kind.ORDER_UPDATES
    ).order_by("pk")
    assert abs(placed.created_at - boards.placed_at) < timedelta(minutes=1)
    dates = list(Message.objects.order_by("pk").values_list("conversation_id", "created_at"))
    assert now - min(created_at for _, created_at in dates) > timedelta(days=26)
    assert len({created_at.date() for _, created_at in dates}) >= 15
    assert sum(now - created_at < timedelta(hours=1) for _, created_at in dates) == 0
    # In each conversation, in the order they were written.
    for conversation_id in {conversation_id for conversation_id, _ in dates}:
        times = [created_at for found, created_at in dates if found == conversation_id]
        assert times == sorted(times)


@pytest.mark.usefixtures("_demo")
def test_switching_promotions_off_hides_every_promotion_of_the_demo() -> None:
    """The demo's promotions are broadcasts: "Promotions in the Message Center: Off" hides
    bob's "Trail-ready deals" from his list and his counts, like every promotion."""
    bob = User.objects.get(username="bob")
    listed = [item.broadcast.subject for item in broadcast_queries.broadcast_rows(bob, limit=10)]
    assert "Trail-ready deals: 25% off tents, packs and bottles" in listed

    delivery_actions.set_preferences(bob, {(Category.PROMOTIONS, Channel.MESSAGE_CENTER): False})
    bob = User.objects.get(username="bob")

    assert [item.broadcast.subject for item in broadcast_queries.broadcast_rows(bob, limit=10)] == [
        "We're updating our Conditions of Use and Privacy Notice"
    ]
    assert hub_queries.unread_counts(bob)[Folder.PROMOTIONS] == 0
    assert not Conversation.objects.filter(kind=Kind.PROMOTION).exists()


@pytest.mark.usefixtures("_demo")
def test_the_promotions_name_the_page_where_they_are_switched_off() -> None:
    """They said "your communication preferences", a page the site does not have: the
    page is "E-mail preferences", under Your Account."""
    promotions = Broadcast.objects.filter(kind=BroadcastKind.PROMOTION)

    assert promotions.count() >= 2
    for promotion in promotions:
        assert "communication preferences" not in promotion.body.lower()
        assert "Your Account → E-mail preferences" in promotion.body


@pytest.mark.usefixtures("_demo")
def test_a_seller_past_the_deadline_one_within_it_and_an_open_claim() -> None:
    """What issue #15 asks the demo to show (docs/escalation.md, docs/support.md)."""
    alice, agent = User.objects.get(username="alice"), User.objects.get(username="agent")
    silent = Participant.objects.select_related("conversation").get(
        user__username="pixelpine", conversation__subject__startswith="Question about 75%"
    )
    assert silent.is_response_overdue is True
    assert silent.response_due_at is not None
    assert silent.response_due_at < timezone.now()
    client = Client()
    client.force_login(alice)
    page = client.get(f"/message-center/conversations/{silent.conversation_id}/").content.decode()
    assert "Ask customer service to help" in page
    # Her kettle question waits for Brightside, within its deadline.
    waiting = Participant.objects.get(
        user__username="seller", conversation__subject__startswith="Question about Variable"
    )
    assert waiting.response_due_at is not None
    assert waiting.response_due_at > timezone.now()
    assert waiting.is_response_overdue is False

    claim = Claim.objects.select_related("case", "storefront", "order").get()
    assert (claim.stage, claim.reason, claim.case.status) == (
        "seller_response",
        "not_as_described",
        "pending",
    )
    assert (claim.case.customer.username, claim.storefront.name) == ("bob", "Trailhead Outfitters")
    assert claim.case.due_at is not None
    assert claim.case.due_at > timezone.now()
    # Priya (claims team too) finds it waiting on the seller, beside alice's tent case.
    waiting_cases = [case.pk for case in support_queries.queue_page(agent, "waiting").cases]
    assert claim.pk in waiting_cases


@pytest.mark.usefixtures("_demo")
def test_a_report_alice_files_reaches_the_agents_queue_and_can_be_assigned_to_her() -> None:
    """QA: the demo's Trust & safety team had no members, so alice's report of the
    phishing message was a 404 for `agent`, and on admin's page "Assign to" was empty."""
    alice, agent = User.objects.get(username="alice"), User.objects.get(username="agent")
    phishing = Message.objects.get(body__contains="verify your identity")

    case = report_actions.report_message(alice, phishing.pk, "scam").report.case
    client = Client()
    client.force_login(agent)
    page = client.get(f"/console/cases/{case.pk}/")

    assert case.team.name == "Trust & safety"
    assert page.status_code == 200
    assert case.pk in [row.pk for row in support_queries.queue_page(agent, "unassigned").cases]
    assert support_queries.team_agents(case) == [agent]
    taken = client.post(f"/console/cases/{case.pk}/actions/", {"action": "take"})
    assert taken.status_code == 302


@pytest.mark.usefixtures("_demo")
def test_the_demo_s_canned_responses_are_whole_sentences_with_known_placeholders() -> None:
    """ "Where is my order" ended mid-sentence ("I've checked with the carrier and ")."""
    bodies = list(CannedResponse.objects.values_list("body", flat=True))
    assert bodies
    for body in bodies:
        check_placeholders(body)
        assert body.rstrip()[-1] in ".?!", body
