"""A buyer–seller conversation whose other side's account is closed — erased at their
request — or suspended by customer service (docs/conversations.md#a-closed-account): nobody
reads a reply, so the page and the API say so and a send is refused, writing nothing. The
words follow how: closed for good, or suspended for now. Both directions: the buyer writing
to a shop, the seller writing to a buyer (the conversation and the order's "Contact
buyer"); customer service still writes to either."""

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest
from django.db import connection
from django.db.models import F
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions, queries
from messagecenter.conversations.actions import response_deadlines
from messagecenter.conversations.models import (
    Conversation,
    HiddenMessage,
    Message,
    Participant,
    ResponseTime,
)
from messagecenter.delivery.models import Email
from messagecenter.errors import Conflict
from messagecenter.marketplace.models import OrderItem, Product
from messagecenter.privacy.erasure import erase_person
from messagecenter.realtime.models import UserEvent
from messagecenter.safety.actions import block, reinstate, suspend
from messagecenter.safety.models import Block
from messagecenter.support.models import Case, Report, ReportFiling
from tests import factories
from tests.api.helpers import error_of, with_token
from tests.conversations.helpers import (
    maintained_unread,
    recounted_unread,
    run_other_sides_jobs,
    snapshot,
)

pytestmark = pytest.mark.django_db

CLOSED_SHOP = "This shop's account is closed: they can no longer read or answer messages."
CLOSED_BUYER = "This buyer's account is closed: they can no longer read or answer messages."
SUSPENDED_SHOP = (
    "This shop's account is suspended: your messages cannot be delivered to them for now."
)
SUSPENDED_BUYER = (
    "This buyer's account is suspended: your messages cannot be delivered to them for now."
)
# The Message Center's bulk bar, and the conversation page's "No response needed" button.
ACTIONS = "/message-center/actions/"


def shown(words: str) -> str:
    """The words as a page writes them (Django escapes the apostrophe)."""
    return words.replace("'", "&#x27;")


@pytest.fixture
def admin_user(db: None) -> User:
    user: User = factories.UserFactory(
        username="opsadmin", role=Role.ADMIN, is_staff=True, is_superuser=True
    )
    return user


def page_of(user: User, conversation_id: int) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("conversation", args=[conversation_id]))
    assert response.status_code == 200
    return response.content.decode()


def test_the_buyer_is_told_the_erased_shop_is_closed_and_cannot_reply(
    buyer: User, seller: User, asked: Message, admin_user: User
) -> None:
    erase_person(admin_user, seller)

    page = page_of(buyer, asked.conversation_id)

    assert shown(CLOSED_SHOP) in page
    assert 'data-testid="closed-counterpart"' in page
    assert 'name="body"' not in page
    assert "Block shop" not in page
    assert "Report shop" not in page
    assert reverse("contact-customer-service") + "?order=" in page
    # The messages stay readable.
    assert "Where is my parcel?" in page


def test_the_api_says_why_and_refuses_a_send_writing_nothing(
    buyer: User, seller: User, asked: Message, admin_user: User
) -> None:
    erase_person(admin_user, seller)
    caller = with_token(buyer)
    path = f"/conversations/{asked.conversation_id}"

    detail = caller.get(path).json()
    before = snapshot()
    emails = Email.objects.count()
    response = caller.post(f"{path}/messages", {"body": "Hello? Anyone?"})

    assert detail["can_reply"] is False
    assert detail["cannot_reply_reason"] == CLOSED_SHOP
    assert error_of(response) == (409, "recipient_closed")
    assert snapshot() == before
    assert Email.objects.count() == emails


def test_a_web_reply_to_an_erased_shop_is_refused(
    buyer: User, seller: User, asked: Message, admin_user: User
) -> None:
    erase_person(admin_user, seller)
    client = Client()
    client.force_login(buyer)
    before = snapshot()

    response = client.post(
        reverse("conversation", args=[asked.conversation_id]), {"body": "Hello? Anyone?"}
    )

    assert response.status_code == 409
    assert shown(CLOSED_SHOP) in response.content.decode()
    assert snapshot() == before


def test_a_suspended_shop_is_suspended_for_now_not_closed(
    buyer: User, seller: User, asked: Message
) -> None:
    # A suspension may be lifted on appeal: "closed" would tell the buyer the shop is gone.
    suspend(seller)

    detail = with_token(buyer).get(f"/conversations/{asked.conversation_id}").json()
    page = page_of(buyer, asked.conversation_id)
    with pytest.raises(Conflict) as refused:
        actions.send_message(buyer, asked.conversation_id, "Hello?")

    assert (detail["can_reply"], detail["cannot_reply_reason"]) == (False, SUSPENDED_SHOP)
    assert shown(SUSPENDED_SHOP) in page
    assert "closed" not in page.split('data-testid="closed-counterpart">')[1].split("</p>")[0]
    assert 'name="body"' not in page
    # The same stable code as for an erased shop, with the suspension's words.
    assert (refused.value.code, refused.value.message) == ("recipient_closed", SUSPENDED_SHOP)


def test_a_reinstated_shop_takes_replies_again(buyer: User, seller: User, asked: Message) -> None:
    suspend(seller)
    reinstate(seller)

    detail = with_token(buyer).get(f"/conversations/{asked.conversation_id}").json()
    reply = actions.send_message(buyer, asked.conversation_id, "Any news?")

    assert (detail["can_reply"], detail["cannot_reply_reason"]) == (True, None)
    assert reply.pk


def test_the_seller_cannot_write_to_an_erased_buyer(
    buyer: User, seller: User, asked: Message, admin_user: User
) -> None:
    erase_person(admin_user, buyer)

    page = page_of(seller, asked.conversation_id)
    detail = with_token(seller).get(f"/conversations/{asked.conversation_id}").json()
    with pytest.raises(Conflict) as refused:
        actions.send_message(seller, asked.conversation_id, "It shipped yesterday.")

    assert shown(CLOSED_BUYER) in page
    assert 'name="body"' not in page
    assert "Block buyer" not in page
    assert (detail["can_reply"], detail["cannot_reply_reason"]) == (False, CLOSED_BUYER)
    assert (refused.value.code, refused.value.message) == ("recipient_closed", CLOSED_BUYER)


def test_the_seller_is_told_a_suspended_buyer_cannot_be_written_to_for_now(
    buyer: User, seller: User, asked: Message
) -> None:
    suspend(buyer)

    page = page_of(seller, asked.conversation_id)
    detail = with_token(seller).get(f"/conversations/{asked.conversation_id}").json()
    with pytest.raises(Conflict) as refused:
        actions.send_message(seller, asked.conversation_id, "It shipped yesterday.")

    assert shown(SUSPENDED_BUYER) in page
    assert 'name="body"' not in page
    assert "Insert saved reply" not in page
    assert (detail["can_reply"], detail["cannot_reply_reason"]) == (False, SUSPENDED_BUYER)
    assert (refused.value.code, refused.value.message) == ("recipient_closed", SUSPENDED_BUYER)


def order_page_of(user: User, number: str) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("order", args=[number]))
    assert response.status_code == 200
    return response.content.decode()


@pytest.mark.parametrize(
    ("close", "words"),
    [("erase", CLOSED_BUYER), ("suspend", SUSPENDED_BUYER)],
)
def test_the_sellers_order_page_says_why_instead_of_contact_buyer(
    buyer: User, seller: User, product: Product, admin_user: User, close: str, words: str
) -> None:
    # An order the seller has not written about yet: "Contact buyer" would start the
    # conversation, and its send would be refused.
    order = factories.order_with_item(buyer, product, status="shipped")
    before = order_page_of(seller, order.number)
    if close == "erase":
        erase_person(admin_user, buyer)
    else:
        suspend(buyer)

    page = order_page_of(seller, order.number)
    snapshot_before = snapshot()
    response = with_token(seller).post(
        f"/orders/{order.number}/buyer-messages", {"body": "Which colour would you like?"}
    )

    assert "Send to buyer" in before
    assert "Send to buyer" not in page
    assert 'name="body"' not in page
    assert shown(words) in page
    assert error_of(response) == (409, "recipient_closed")
    assert response.json()["error"]["message"] == words
    assert snapshot() == snapshot_before


@pytest.mark.parametrize(
    ("close", "words"),
    [("erase", CLOSED_SHOP), ("suspend", SUSPENDED_SHOP)],
)
def test_the_buyers_order_page_says_why_instead_of_contact_seller(
    buyer: User, seller: User, product: Product, admin_user: User, close: str, words: str
) -> None:
    order = factories.order_with_item(buyer, product, status="shipped")
    if close == "erase":
        erase_person(admin_user, seller)
    else:
        suspend(seller)

    page = order_page_of(buyer, order.number)

    assert "Send to seller" not in page
    assert shown(words) in page
    assert reverse("contact-customer-service") + f"?order={order.number}" in page


@pytest.mark.parametrize(
    ("close", "words"),
    [("erase", CLOSED_SHOP), ("suspend", SUSPENDED_SHOP)],
)
def test_the_api_order_says_whether_each_seller_can_be_contacted(
    buyer: User, seller: User, product: Product, admin_user: User, close: str, words: str
) -> None:
    """As the order page shows the sentence instead of "Contact seller" for that shop."""
    other_product = factories.ProductFactory()
    other_shop = other_product.storefront
    order = factories.order_with_item(buyer, product, status="shipped")
    OrderItem.objects.create(
        order=order,
        product=other_product,
        storefront=other_shop,
        title=other_product.title,
        quantity=1,
        unit_price_cents=other_product.price_cents,
    )
    device = with_token(buyer)

    def sellers() -> dict[int, tuple[bool, str | None]]:
        answer = device.get(f"/orders/{order.number}").json()
        return {s["id"]: (s["can_contact"], s["cannot_contact_reason"]) for s in answer["sellers"]}

    shop = seller.storefront.pk  # type: ignore[attr-defined]
    before = sellers()
    if close == "erase":
        erase_person(admin_user, seller)
    else:
        suspend(seller)
    after = sellers()

    assert before == {shop: (True, None), other_shop.pk: (True, None)}
    assert after == {shop: (False, words), other_shop.pk: (True, None)}
    if close == "suspend":
        reinstate(seller)
        assert sellers() == before


def test_customer_service_still_writes_to_a_suspended_buyer(
    buyer: User, seller: User, agent: User, asked: Message
) -> None:
    # docs/support.md: agents answer a suspended person (their appeal, their requests) —
    # only buyer–seller messages are refused.
    request = actions.contact_customer_service(
        buyer, "My order", "Where is my parcel?", agent=agent
    )
    suspend(buyer)

    answer = actions.send_message(agent, request.conversation_id, "We are looking into it.")

    assert answer.sender_id == agent.pk


def test_an_open_conversation_still_takes_replies(
    buyer: User, seller: User, asked: Message
) -> None:
    detail = with_token(buyer).get(f"/conversations/{asked.conversation_id}").json()
    page = page_of(buyer, asked.conversation_id)

    answer = actions.send_message(seller, asked.conversation_id, "It shipped yesterday.")

    assert (detail["can_reply"], detail["cannot_reply_reason"]) == (True, None)
    assert 'name="body"' in page
    assert "Block shop" in page
    assert answer.pk


def test_the_marketplace_and_search_still_work_for_an_erased_shops_buyer(
    buyer: User, seller: User, asked: Message, admin_user: User
) -> None:
    erase_person(admin_user, seller)

    # The marketplace's systems still post into it (an order event about the shop's order).
    posted = actions.post_marketplace_message(asked.conversation_id, "Your parcel was delivered.")
    found = with_token(buyer).get("/search", {"q": "parcel"})

    assert posted.sender_id is None
    assert found.status_code == 200


# --- Response needed: a buyer nobody can answer ------------------------------------------------


def response_needed(seller: User) -> list[int]:
    return [p.conversation_id for p in queries.response_needed_page(seller).participants]


def late_and_overdue(seller: User, now: datetime) -> list[tuple[int, int, int]]:
    return [(f.late, f.with_deadline, f.overdue) for f in queries.response_figures(seller, now=now)]


@pytest.mark.parametrize("close", ["erase", "suspend"])
def test_a_closed_buyers_question_leaves_response_needed_and_its_deadline_stops(
    buyer: User, seller: User, asked: Message, admin_user: User, close: str
) -> None:
    """The seller cannot answer (recipient_closed): the wait stayed in Response needed, the
    sweep told them the answer was late, and it counted as a late response."""
    conversation = asked.conversation_id
    waiting = Participant.objects.get(conversation_id=conversation, user=seller)
    assert waiting.response_due_at is not None
    later = waiting.response_due_at + timedelta(days=3)
    assert response_needed(seller) == [conversation]
    events = UserEvent.objects.filter(user=seller).count()

    if close == "erase":
        erase_person(admin_user, buyer)
    else:
        suspend(buyer)

    waiting.refresh_from_db()
    assert response_needed(seller) == []
    assert (waiting.response_due_at, waiting.is_response_overdue) == (None, False)
    assert actions.pass_response_deadlines(now=later) == 0
    assert Message.objects.filter(conversation_id=conversation).count() == 1
    assert late_and_overdue(seller, later) == [(0, 0, 0)] * 3
    assert queries.late_responses(seller, now=later) == []
    # The seller's devices learn it left Response needed.
    assert UserEvent.objects.filter(user=seller).count() == events + 1
    assert maintained_unread(seller) == recounted_unread(seller)


def test_an_overdue_wait_of_a_suspended_buyer_stops_counting_as_late(
    buyer: User, seller: User, asked: Message
) -> None:
    waiting = Participant.objects.get(conversation_id=asked.conversation_id, user=seller)
    assert waiting.response_due_at is not None
    past = waiting.response_due_at + timedelta(minutes=1)
    assert actions.pass_response_deadlines(now=past) == 1
    assert late_and_overdue(seller, past)[0][:2] == (1, 1)

    suspend(buyer)

    assert late_and_overdue(seller, past + timedelta(days=1)) == [(0, 0, 0)] * 3
    waiting.refresh_from_db()
    assert waiting.is_response_overdue is False


def test_a_lifted_suspension_brings_the_question_back_with_a_fresh_deadline(
    buyer: User, seller: User, asked: Message
) -> None:
    conversation = asked.conversation_id
    suspend(buyer)
    before_lifting = timezone.now()

    reinstate(buyer)

    waiting = Participant.objects.get(conversation_id=conversation, user=seller)
    assert response_needed(seller) == [conversation]
    assert waiting.awaiting_response_since is not None
    assert waiting.awaiting_response_since >= before_lifting
    assert waiting.response_due_at is not None
    assert waiting.response_due_at > before_lifting + timedelta(days=1)
    assert waiting.is_response_overdue is False
    # The seller answers, and the wait ends on time.
    actions.send_message(seller, conversation, "It shipped yesterday.")
    answer = ResponseTime.objects.get(conversation_id=conversation)
    assert answer.answered_at <= answer.due_at
    assert response_needed(seller) == []
    assert maintained_unread(seller) == recounted_unread(seller)


def shows_a_wait(page: str) -> bool:
    """Whether a conversation page shows the seller's wait in any of its forms: the
    "Buyer waiting …" line under the title, the deadline block, "No response needed"."""
    return (
        ">Buyer waiting" in page
        or 'data-testid="response-window"' in page
        or 'value="no_response_needed"' in page
    )


@pytest.mark.parametrize("way", ["page", "api"])
def test_no_response_needed_leaves_a_wait_set_aside_for_a_suspended_buyer(
    buyer: User, seller: User, asked: Message, other_buyer: User, product: Product, way: str
) -> None:
    """The page no longer offered "No response needed" on a suspended buyer's question,
    but the bulk bar and the API still ended the wait, which then never came back when the
    suspension was lifted: the seller ended a wait they were not shown. A wait set aside is
    no wait, as a conversation nobody waits in: left as it is, and not counted — beside
    one that is a wait, only that one changes."""
    order = factories.order_with_item(other_buyer, product, status="shipped")
    other = actions.contact_seller_about_order(
        other_buyer,
        order.pk,
        seller.storefront.pk,  # type: ignore[attr-defined]
        "Is it gift-wrapped?",
    )
    suspend(buyer)
    set_aside = Participant.objects.get(conversation_id=asked.conversation_id, user=seller)
    before = snapshot()
    selection = [asked.conversation_id, other.conversation_id]

    if way == "page":
        client = Client()
        client.force_login(seller)
        alone = client.post(
            ACTIONS, {"action": "no_response_needed", "conversation_ids": [asked.conversation_id]}
        )
        assert alone.status_code == 302
        assert snapshot() == before
        # (Showing the page marks the Message Center seen: after the snapshot.)
        told = client.get(alone["Location"]).content.decode()
        assert "No conversations needed to be marked" in told
        both = client.post(
            ACTIONS, {"action": "no_response_needed", "conversation_ids": selection}, follow=True
        )
        assert "1 conversation marked" in both.content.decode()
    else:
        caller = with_token(seller)
        action = {"action": "no_response_needed"}
        alone = caller.post(
            "/conversations/actions", {**action, "conversation_ids": [asked.conversation_id]}
        )
        assert (alone.status_code, alone.json()) == (200, {"changed": 0})
        assert snapshot() == before
        both = caller.post("/conversations/actions", {**action, "conversation_ids": selection})
        assert (both.status_code, both.json()) == (200, {"changed": 1})

    still = Participant.objects.get(pk=set_aside.pk)
    assert still.awaiting_response_since == set_aside.awaiting_response_since
    reinstate(buyer)
    assert response_needed(seller) == [asked.conversation_id]


def test_the_sellers_page_shows_no_wait_for_a_suspended_buyer(
    buyer: User, seller: User, asked: Message
) -> None:
    """The question left the seller's Response needed when the buyer was suspended, but the
    conversation's page still said "Buyer waiting 0 minutes" under its title and offered
    "No response needed" for a wait nobody counts."""
    conversation = asked.conversation_id
    assert shows_a_wait(page_of(seller, conversation))

    suspend(buyer)

    assert response_needed(seller) == []
    page = page_of(seller, conversation)
    assert not shows_a_wait(page)
    assert shown(SUSPENDED_BUYER) in page
    shown_by_api = with_token(seller).get(f"/conversations/{conversation}").json()
    assert (shown_by_api["response_due_at"], shown_by_api["response_window"]) == (None, None)


@pytest.mark.parametrize("lifted_first", ["buyer", "seller"])
def test_a_wait_set_aside_for_both_sides_comes_back_only_when_both_can_answer(
    buyer: User, seller: User, asked: Message, lifted_first: str
) -> None:
    """Both accounts suspended, one lifted: the wait came back with a deadline though the
    other side still could not sign in — the buyer read a countdown to "ask us to step in"
    beside the notice that the shop is suspended (and, once passed, "Ask customer service to
    help" for a wait the sweep never escalates), or the seller "Answer by …" for a buyer no
    message reaches, while their Response needed left it out. It stays set aside until the
    other side's suspension is lifted too."""
    conversation = asked.conversation_id
    suspend(seller)
    suspend(buyer)
    first, other = (buyer, seller) if lifted_first == "buyer" else (seller, buyer)

    reinstate(first)

    waiting = Participant.objects.get(conversation_id=conversation, user=seller)
    assert waiting.awaiting_response_since is not None
    assert waiting.response_due_at is None
    page = page_of(first, conversation)
    assert not shows_a_wait(page)
    assert "customer service" in page.lower()
    shown_by_api = with_token(first).get(f"/conversations/{conversation}").json()
    assert (shown_by_api["response_due_at"], shown_by_api["response_window"]) == (None, None)
    if first == seller:
        assert response_needed(seller) == []

    before_lifting = timezone.now()
    reinstate(other)

    waiting.refresh_from_db()
    assert waiting.response_due_at is not None
    assert waiting.awaiting_response_since is not None
    assert waiting.awaiting_response_since >= before_lifting
    assert response_needed(seller) == [conversation]
    assert shows_a_wait(page_of(seller, conversation))
    assert 'data-testid="response-window"' in page_of(buyer, conversation)


def test_an_erased_buyers_question_never_comes_back(
    buyer: User, seller: User, asked: Message, admin_user: User
) -> None:
    erase_person(admin_user, buyer)

    waiting = Participant.objects.get(conversation_id=asked.conversation_id, user=seller)
    assert response_needed(seller) == []
    # The wait's start is kept as it was (the seller never answered it), set aside.
    assert waiting.awaiting_response_since is not None
    assert waiting.response_due_at is None


def test_another_buyers_question_stays_in_response_needed(
    buyer: User, other_buyer: User, seller: User, product: Product, asked: Message
) -> None:
    other = actions.ask_seller_about_product(other_buyer, product.pk, "Is it loud?")

    suspend(buyer)

    assert response_needed(seller) == [other.conversation_id]
    waiting = Participant.objects.get(conversation_id=other.conversation_id, user=seller)
    assert waiting.response_due_at is not None


# --- Response needed: a seller who cannot answer ------------------------------------------------


def test_a_suspended_sellers_waits_are_set_aside_not_escalated(
    buyer: User, seller: User, asked: Message
) -> None:
    """A suspended seller cannot sign in to answer: the sweep told them, and the buyer,
    that the answer was late ("Customer service can now step in"), and the wait counted as
    a late response. The buyer's way is customer service at once: the page offers it
    beside the suspension's words, and a claim waives "contact the seller first"."""
    conversation = asked.conversation_id
    waiting = Participant.objects.get(conversation_id=conversation, user=seller)
    assert waiting.response_due_at is not None
    later = waiting.response_due_at + timedelta(days=3)
    events = UserEvent.objects.filter(user=seller).count()

    suspend(seller)

    waiting.refresh_from_db()
    assert (waiting.response_due_at, waiting.is_response_overdue) == (None, False)
    assert waiting.awaiting_response_since is not None
    assert actions.pass_response_deadlines(now=later) == 0
    assert Message.objects.filter(conversation_id=conversation).count() == 1
    assert [(late, deadlines) for late, deadlines, _ in late_and_overdue(seller, later)] == [
        (0, 0)
    ] * 3
    assert queries.late_responses(seller, now=later) == []
    page = page_of(buyer, conversation)
    assert 'data-testid="response-window"' not in page
    assert "Ask customer service to help" not in page
    assert reverse("contact-customer-service") + "?order=" in page
    assert UserEvent.objects.filter(user=seller).count() == events + 1


@pytest.mark.parametrize("answered", [False, True], ids=["waiting", "answered"])
@pytest.mark.parametrize("suspended", ["seller", "buyer"])
def test_the_other_sides_open_page_is_told_live_of_the_suspension(
    buyer: User, seller: User, asked: Message, answered: bool, suspended: str
) -> None:
    """A reload showed the "suspended" notice and the way to customer service instead of the
    reply box, but an open page was told nothing — the buyer's kept offering a reply the
    shop could never read (only the suspended seller's own devices, signed out by then, got
    an event). The other side's devices get the event of a wait set aside, which an open
    conversation page follows (site.js): whether or not anyone was waiting there."""
    conversation = asked.conversation_id
    if answered:
        actions.send_message(seller, conversation, "It shipped yesterday.")
    person, other = (seller, buyer) if suspended == "seller" else (buyer, seller)
    row = Participant.objects.get(conversation_id=conversation, user=other)
    already = set(UserEvent.objects.filter(user=other).values_list("pk", flat=True))

    suspend(person)
    run_other_sides_jobs()

    [told] = UserEvent.objects.filter(user=other).exclude(pk__in=already)
    assert told.kind == "conversation.no_response_needed"
    assert told.payload == {
        "conversation_id": conversation,
        "folder": row.folder,
        "box": row.box,
        "unread_count": row.unread_count,
        f"{suspended}_closed": True,
    }
    page = page_of(other, conversation)
    assert shown(SUSPENDED_SHOP if suspended == "seller" else SUSPENDED_BUYER) in page
    assert 'name="body"' not in page


def buyers_of(seller: User, product: Product, count: int, *, first: int = 0) -> list[User]:
    """`count` buyers, each with an answered question to the seller (nobody waiting)."""
    buyers = []
    for number in range(first, first + count):
        buyer: User = factories.BuyerFactory(username=f"many-buyer-{number}")
        order = factories.order_with_item(buyer, product, status="shipped")
        message = actions.contact_seller_about_order(
            buyer,
            order.pk,
            seller.storefront.pk,  # type: ignore[attr-defined]
            "Where is my parcel?",
        )
        actions.send_message(seller, message.conversation_id, "On its way.")
        buyers.append(buyer)
    return buyers


def test_a_shops_suspension_does_not_write_to_each_of_its_buyers_in_its_transaction(
    seller: User, product: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A marketplace's biggest shop has a quarter of a million conversations: the
    suspension wrote an event for each buyer inside its own transaction, holding its locks
    the while. Now it enqueues one job, whatever the number of conversations, and the
    worker tells the buyers after commit, a chunk per transaction."""

    def queries_of(change: Callable[[User], None]) -> int:
        with CaptureQueriesContext(connection) as done:
            change(seller)
        return len(done)

    few = buyers_of(seller, product, 2)
    with_few = queries_of(suspend)
    reinstate(seller)
    run_other_sides_jobs()
    many = few + buyers_of(seller, product, 23, first=2)
    before = UserEvent.objects.filter(user__in=many).count()

    assert queries_of(suspend) == with_few
    # Not one row for the buyers in the suspension's transaction.
    assert UserEvent.objects.filter(user__in=many).count() == before

    monkeypatch.setattr(response_deadlines, "OTHER_SIDES_CHUNK", 10)
    # Their conversations as a buyer (none), then the shop's: 10, 10, 5.
    assert run_other_sides_jobs() == 4
    for buyer in many:
        [told] = UserEvent.objects.filter(user=buyer, sequence__gt=0).order_by("-sequence")[:1]
        assert told.kind == "conversation.no_response_needed"
        assert told.payload["seller_closed"] is True


def test_only_conversations_written_in_lately_are_told_live(
    buyer: User, seller: User, asked: Message
) -> None:
    """An open page is one on a conversation someone wrote in lately: one quiet for longer
    than CLOSED_ACCOUNT_LIVE_NOTICE_DAYS gets no event and shows the notice on its next
    load, as every page does."""
    Conversation.objects.filter(pk=asked.conversation_id).update(
        last_message_at=timezone.now() - timedelta(days=31)
    )
    events = UserEvent.objects.filter(user=buyer).count()

    suspend(seller)
    run_other_sides_jobs()

    assert UserEvent.objects.filter(user=buyer).count() == events
    assert shown(SUSPENDED_SHOP) in page_of(buyer, asked.conversation_id)


@pytest.mark.parametrize("erased", ["seller", "buyer"])
def test_the_other_side_of_an_erased_person_is_told_live(
    buyer: User, seller: User, asked: Message, admin_user: User, erased: str
) -> None:
    """The erasure deletes the person's own rows before their waits are set aside, so the
    conversations are found by their buyer and shop: the other side's open page shows the
    account closed, as for a suspension."""
    actions.send_message(seller, asked.conversation_id, "It shipped yesterday.")
    person, other = (seller, buyer) if erased == "seller" else (buyer, seller)
    last = UserEvent.objects.filter(user=other).latest("sequence").sequence

    erase_person(admin_user, person)
    run_other_sides_jobs()

    [told] = UserEvent.objects.filter(user=other, sequence__gt=last)
    assert told.kind == "conversation.no_response_needed"
    assert told.payload[f"{erased}_closed"] is True
    assert shown(CLOSED_SHOP if erased == "seller" else CLOSED_BUYER) in page_of(
        other, asked.conversation_id
    )


def test_a_lifted_suspension_does_not_write_to_each_of_the_shops_buyers_in_its_transaction(
    seller: User, product: Product, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The lifting tells the buyers the same way as the suspension: one job enqueued in its
    transaction whatever the shop's size, the buyers told after commit, a chunk at a time."""

    def lifting_queries() -> int:
        suspend(seller)
        run_other_sides_jobs()
        with CaptureQueriesContext(connection) as done:
            reinstate(seller)
        return len(done)

    few = buyers_of(seller, product, 2)
    with_few = lifting_queries()
    run_other_sides_jobs()
    many = few + buyers_of(seller, product, 23, first=2)
    lifted = UserEvent.objects.filter(user__in=many, kind="conversation.response_needed")
    before = lifted.count()
    with_many = lifting_queries()

    assert with_many == with_few
    # Not one row for the buyers in the lifting's transaction.
    assert lifted.count() == before

    monkeypatch.setattr(response_deadlines, "OTHER_SIDES_CHUNK", 10)
    assert run_other_sides_jobs() == 4
    for buyer in many:
        [told] = UserEvent.objects.filter(user=buyer, sequence__gt=0).order_by("-sequence")[:1]
        assert told.kind == "conversation.response_needed"
        assert told.payload["seller_reinstated"] is True


@pytest.mark.parametrize("answered", [False, True], ids=["waiting", "answered"])
@pytest.mark.parametrize("suspended", ["seller", "buyer"])
def test_the_other_sides_open_page_is_told_live_that_the_suspension_is_lifted(
    buyer: User, seller: User, asked: Message, answered: bool, suspended: str
) -> None:
    """The other side's open page showed the "suspended" notice until a reload after the
    suspension was lifted: nothing told it. It gets the event of a wait back, as the
    seller whose wait comes back does, and the page shows the reply box again."""
    conversation = asked.conversation_id
    if answered:
        actions.send_message(seller, conversation, "It shipped yesterday.")
    person, other = (seller, buyer) if suspended == "seller" else (buyer, seller)
    suspend(person)
    run_other_sides_jobs()
    already = set(UserEvent.objects.filter(user=other).values_list("pk", flat=True))

    reinstate(person)
    run_other_sides_jobs()

    [told] = UserEvent.objects.filter(user=other).exclude(pk__in=already)
    assert told.kind == "conversation.response_needed"
    row = Participant.objects.get(conversation_id=conversation, user=other)
    seller_row = Participant.objects.get(conversation_id=conversation, user=seller)
    due = seller_row.response_due_at
    assert told.payload == {
        "conversation_id": conversation,
        "folder": row.folder,
        "box": row.box,
        "unread_count": row.unread_count,
        "response_due_at": due.isoformat() if due is not None else None,
        f"{suspended}_reinstated": True,
    }
    assert (due is None) == answered
    page = page_of(other, conversation)
    assert shown(SUSPENDED_SHOP if suspended == "seller" else SUSPENDED_BUYER) not in page
    assert 'name="body"' in page


def test_a_suspension_lifted_before_the_job_ran_tells_what_holds_now(
    buyer: User, seller: User, asked: Message
) -> None:
    """The job says the account's state when it runs: a suspension lifted before the worker
    got to it does not leave the buyer's page showing "suspended"."""
    actions.send_message(seller, asked.conversation_id, "It shipped yesterday.")
    last = UserEvent.objects.filter(user=buyer).latest("sequence").sequence

    suspend(seller)
    reinstate(seller)
    run_other_sides_jobs()

    told = UserEvent.objects.filter(user=buyer, sequence__gt=last)
    assert [event.kind for event in told] == ["conversation.response_needed"] * 2


@pytest.mark.parametrize("lifted", ["seller", "buyer"])
def test_the_other_side_suspended_too_is_told_nothing_live(
    buyer: User, seller: User, asked: Message, lifted: str
) -> None:
    """A suspended person has no page open and no device that reads their events (their
    browsers and tokens are refused, and signed out when the suspension is lifted): the
    job told them of the other side's suspension and of its lifting all the same, an event
    in their log for every recent conversation of a shop."""
    actions.send_message(seller, asked.conversation_id, "It shipped yesterday.")
    person, other = (seller, buyer) if lifted == "seller" else (buyer, seller)
    suspend(other)
    run_other_sides_jobs()
    last = UserEvent.objects.filter(user=other).latest("sequence").sequence

    suspend(person)
    run_other_sides_jobs()
    reinstate(person)
    run_other_sides_jobs()

    assert not UserEvent.objects.filter(user=other, sequence__gt=last).exists()


@pytest.mark.parametrize("change", [suspend, reinstate], ids=["suspended", "lifted"])
def test_a_person_without_a_shop_has_no_pass_over_a_shops_conversations(
    buyer: User, asked: Message, change: Callable[[User], None]
) -> None:
    """The job went on to the person's conversations as a shop, one more job that found no
    shop, for every buyer suspended or lifted: only a person with a shop has that pass."""
    if change is reinstate:
        suspend(buyer)
        run_other_sides_jobs()

    change(buyer)

    assert run_other_sides_jobs() == 1


def test_a_reinstated_sellers_waits_come_back_with_a_deadline_from_the_lifting(
    buyer: User, seller: User, asked: Message
) -> None:
    """The old deadline passed while the seller was suspended: kept, the sweep escalated
    the moment the suspension was lifted, to a seller who had had no chance to answer."""
    conversation = asked.conversation_id
    suspend(seller)
    # Five days of suspension: the wait's start and (had it been kept) its deadline are
    # five days older than the lifting.
    Participant.objects.filter(conversation_id=conversation, user=seller).update(
        awaiting_response_since=F("awaiting_response_since") - timedelta(days=5),
        response_due_at=F("response_due_at") - timedelta(days=5),
    )
    before_lifting = timezone.now()

    reinstate(seller)

    waiting = Participant.objects.get(conversation_id=conversation, user=seller)
    assert waiting.awaiting_response_since is not None
    assert waiting.awaiting_response_since >= before_lifting
    assert waiting.response_due_at is not None
    assert waiting.response_due_at > before_lifting + timedelta(days=1)
    assert actions.pass_response_deadlines(now=timezone.now()) == 0
    assert response_needed(seller) == [conversation]
    assert 'data-testid="response-window"' in page_of(buyer, conversation)


def test_a_seller_made_inactive_in_the_admin_is_not_told_their_answer_is_late(
    buyer: User, seller: User, asked: Message
) -> None:
    """Unticking "active" in the admin suspends without safety's action (nothing set
    aside): the sweep leaves the wait alone while the seller cannot sign in, as it does a
    wait of an inactive buyer."""
    waiting = Participant.objects.get(conversation_id=asked.conversation_id, user=seller)
    assert waiting.response_due_at is not None
    User.objects.filter(pk=seller.pk).update(is_active=False)

    assert actions.pass_response_deadlines(now=waiting.response_due_at + timedelta(days=1)) == 0


def test_a_lifted_suspension_tells_the_sellers_devices_the_question_is_back(
    buyer: User, seller: User, asked: Message
) -> None:
    """As the suspension told them it left Response needed (no_response_needed,
    buyer_closed): their lists and open pages showed it gone until a reload."""
    suspend(buyer)
    last = UserEvent.objects.filter(user=seller).latest("sequence")

    reinstate(buyer)

    event = UserEvent.objects.get(user=seller, sequence=last.sequence + 1)
    waiting = Participant.objects.get(conversation_id=asked.conversation_id, user=seller)
    assert waiting.response_due_at is not None
    assert event.kind == "conversation.response_needed"
    assert event.payload == {
        "conversation_id": asked.conversation_id,
        "folder": waiting.folder,
        "box": waiting.box,
        "unread_count": waiting.unread_count,
        "response_due_at": waiting.response_due_at.isoformat(),
        "buyer_reinstated": True,
    }
    assert maintained_unread(seller) == recounted_unread(seller)


# --- reporting an erased person's removed messages --------------------------------------------
# Erasure replaces their messages with "[removed at the person's request]": nothing is left
# for customer service to review, and the account is closed for good, so nothing offers a
# report of them and a report is refused (docs/safety.md#reports).

REMOVED = "[removed at the person&#x27;s request]"


@pytest.fixture
def answered(buyer: User, seller: User, asked: Message) -> Message:
    """The seller's answer to the buyer's question."""
    return actions.send_message(seller, asked.conversation_id, "It left on Monday.")


def unchanged() -> dict[str, object]:
    return {
        "snapshot": snapshot(),
        "reports": Report.objects.count(),
        "filings": ReportFiling.objects.count(),
        "cases": Case.objects.count(),
        "hidden": HiddenMessage.objects.count(),
    }


def test_an_erased_shops_removed_messages_offer_no_report(
    buyer: User, seller: User, answered: Message, admin_user: User
) -> None:
    assert 'data-testid="report-message"' in page_of(buyer, answered.conversation_id)
    erase_person(admin_user, seller)

    page = page_of(buyer, answered.conversation_id)

    assert REMOVED in page
    assert 'data-testid="report-message"' not in page
    assert reverse("report-message", args=[answered.pk]) not in page


def test_a_suspended_shops_messages_can_still_be_reported(
    buyer: User, seller: User, answered: Message
) -> None:
    """A suspension keeps the messages: a report of them still has something to review."""
    suspend(seller)

    page = page_of(buyer, answered.conversation_id)

    assert reverse("report-message", args=[answered.pk]) in page


def test_the_api_refuses_to_report_an_erased_persons_message_changing_nothing(
    buyer: User, seller: User, answered: Message, admin_user: User
) -> None:
    erase_person(admin_user, seller)
    before = unchanged()

    response = with_token(buyer).post(f"/messages/{answered.pk}/report", {"category": "scam"})

    assert error_of(response) == (409, "sender_erased")
    assert unchanged() == before


def test_the_web_form_refuses_to_report_an_erased_persons_message_changing_nothing(
    buyer: User, seller: User, answered: Message, admin_user: User
) -> None:
    erase_person(admin_user, seller)
    client = Client()
    client.force_login(buyer)
    before = unchanged()

    response = client.post(reverse("report-message", args=[answered.pk]), {"category": "scam"})

    assert unchanged() == before
    # Back to the conversation, which says why.
    assert response.url == reverse("conversation", args=[answered.conversation_id])
    page = client.get(response.url).content.decode()
    assert "was erased at their request" in page
    assert "Report sent" not in page


@pytest.mark.parametrize("erased", ["seller", "buyer"])
def test_the_api_refuses_to_report_a_conversation_with_an_erased_person_changing_nothing(
    buyer: User, seller: User, answered: Message, admin_user: User, erased: str
) -> None:
    """Their copy of the conversation went with their data: the report said the other side
    was the marketplace (`400 cannot_report_marketplace`)."""
    reporter, gone = (buyer, seller) if erased == "seller" else (seller, buyer)
    erase_person(admin_user, gone)
    before = unchanged()

    response = with_token(reporter).post(
        f"/conversations/{answered.conversation_id}/report", {"category": "scam"}
    )

    assert error_of(response) == (409, "sender_erased")
    assert unchanged() == before


def test_the_web_form_refuses_to_report_a_conversation_with_an_erased_shop_changing_nothing(
    buyer: User, seller: User, answered: Message, admin_user: User
) -> None:
    erase_person(admin_user, seller)
    client = Client()
    client.force_login(buyer)
    before = unchanged()

    response = client.post(
        reverse("report-conversation", args=[answered.conversation_id]), {"category": "scam"}
    )

    assert unchanged() == before
    assert response.url == reverse("conversation", args=[answered.conversation_id])
    page = client.get(response.url).content.decode()
    assert "was erased at their request" in page
    assert "marketplace or customer service" not in page
    assert "Report sent" not in page


def test_a_suspended_shops_conversation_can_still_be_reported(
    buyer: User, seller: User, answered: Message
) -> None:
    suspend(seller)

    response = with_token(buyer).post(
        f"/conversations/{answered.conversation_id}/report", {"category": "scam"}
    )

    assert response.status_code == 201
    assert ReportFiling.objects.get().report.sender == seller


# --- blocking an erased or a suspended person (docs/safety.md#blocking) -----------------------
# An erased account is closed for good and can never write again: a block of it would be a
# row that protects from nothing (erasure itself removed the blocks of them), so it is
# refused and says why. A suspension may be lifted on appeal, so blocking a suspended
# person stays allowed — on the page as in the API.

ERASED_SHOP_NOT_BLOCKED = (
    "This shop's account was erased at their request: it is closed for good and can never "
    "message you again, so there is nothing to block."
)


@pytest.mark.parametrize("erased", ["seller", "buyer"])
def test_the_api_refuses_to_block_an_erased_person_changing_nothing(
    buyer: User, seller: User, answered: Message, admin_user: User, erased: str
) -> None:
    """It answered `404 conversation_not_found` for a conversation the person still reads."""
    blocker, gone = (buyer, seller) if erased == "seller" else (seller, buyer)
    erase_person(admin_user, gone)
    before = (snapshot(), Block.objects.count())

    response = with_token(blocker).post(f"/conversations/{answered.conversation_id}/block")

    assert error_of(response) == (409, "account_erased")
    assert (snapshot(), Block.objects.count()) == before


def test_the_web_form_refuses_to_block_an_erased_shop_and_says_why(
    buyer: User, seller: User, answered: Message, admin_user: User
) -> None:
    erase_person(admin_user, seller)
    client = Client()
    client.force_login(buyer)

    response = client.post(reverse("block-in-conversation", args=[answered.conversation_id]))

    assert not Block.objects.exists()
    assert response.url == reverse("conversation", args=[answered.conversation_id])
    page = client.get(response.url).content.decode()
    assert shown(ERASED_SHOP_NOT_BLOCKED) in page
    assert "No such conversation" not in page


def test_an_erased_person_cannot_be_blocked_whatever_the_way(
    buyer: User, seller: User, admin_user: User
) -> None:
    erase_person(admin_user, seller)
    seller.refresh_from_db()

    with pytest.raises(Conflict) as refused:
        block(buyer, seller)

    assert refused.value.code == "account_erased"
    assert not Block.objects.exists()


def test_a_suspended_shop_can_be_blocked_on_the_page_as_in_the_api(
    buyer: User, seller: User, answered: Message
) -> None:
    """The page left out "Block shop" and "Report shop" for a suspended shop, which the API
    and the report of each of its messages allowed: a suspension may be lifted."""
    suspend(seller)
    page = page_of(buyer, answered.conversation_id)
    client = Client()
    client.force_login(buyer)

    response = client.post(reverse("block-in-conversation", args=[answered.conversation_id]))

    assert "Block shop" in page
    assert reverse("block-in-conversation", args=[answered.conversation_id]) in page
    assert reverse("report-conversation", args=[answered.conversation_id]) in page
    assert response.status_code == 302
    assert list(Block.objects.values_list("blocker", "blocked")) == [(buyer.pk, seller.pk)]
    api = with_token(buyer).post(f"/conversations/{answered.conversation_id}/block")
    assert api.status_code == 201


# --- asking customer service to step in with a closed shop (docs/escalation.md) --------------
# The shop can never answer: "the seller has answered … reply to them here" told the buyer
# the opposite. The refusal is the reply box's (409 recipient_closed, the same words), with
# the way that works: customer service about the order. Nothing is opened.


@pytest.fixture
def overdue(buyer: User, seller: User, asked: Message) -> Message:
    """The buyer's question, its answer overdue: the buyer may ask customer service to help."""
    Participant.objects.filter(conversation_id=asked.conversation_id, user=seller).update(
        awaiting_response_since=F("awaiting_response_since") - timedelta(days=10),
        response_due_at=timezone.now() - timedelta(days=5),
    )
    return asked


@pytest.mark.parametrize(("close", "words"), [("erase", CLOSED_SHOP), ("suspend", SUSPENDED_SHOP)])
def test_the_api_refuses_to_ask_for_help_with_a_closed_shop_changing_nothing(
    buyer: User, seller: User, overdue: Message, admin_user: User, close: str, words: str
) -> None:
    if close == "erase":
        erase_person(admin_user, seller)
    else:
        suspend(seller)
    before = unchanged()

    response = with_token(buyer).post(f"/conversations/{overdue.conversation_id}/ask-for-help")

    assert error_of(response) == (409, "recipient_closed")
    message = response.json()["error"]["message"]
    assert message.startswith(words)
    assert "contact customer service" in message
    assert "reply to them here" not in message
    assert unchanged() == before


def test_the_web_button_refuses_to_ask_for_help_with_an_erased_shop_and_says_why(
    buyer: User, seller: User, overdue: Message, admin_user: User
) -> None:
    erase_person(admin_user, seller)
    client = Client()
    client.force_login(buyer)
    before = unchanged()

    response = client.post(reverse("ask-for-help", args=[overdue.conversation_id]))

    assert unchanged() == before
    assert response.url.startswith(reverse("conversation", args=[overdue.conversation_id]))
    page = client.get(response.url).content.decode()
    assert page.count(shown(CLOSED_SHOP)) == 2  # the refusal, and where the reply box was
    assert "reply to them here" not in page


# --- typing to a closed account (docs/conversations.md#typing) --------------------------------
# "… is typing" announces a reply, and a reply to them is refused: the API said 204 as if
# someone were told. It is the reply's refusal, with its words; nobody is nudged.


@pytest.mark.parametrize(
    ("close", "erased", "words"),
    [
        ("erase", "seller", CLOSED_SHOP),
        ("erase", "buyer", CLOSED_BUYER),
        ("suspend", "seller", SUSPENDED_SHOP),
    ],
)
def test_typing_to_a_closed_account_is_refused_as_a_reply_is(
    buyer: User,
    seller: User,
    asked: Message,
    admin_user: User,
    close: str,
    erased: str,
    words: str,
) -> None:
    typist, gone = (buyer, seller) if erased == "seller" else (seller, buyer)
    if close == "erase":
        erase_person(admin_user, gone)
    else:
        suspend(gone)
    events = UserEvent.objects.count()

    response = with_token(typist).post(f"/conversations/{asked.conversation_id}/typing")

    assert error_of(response) == (409, "recipient_closed")
    assert response.json()["error"]["message"] == words
    assert UserEvent.objects.count() == events


def test_typing_in_an_open_conversation_is_still_taken(
    buyer: User, seller: User, asked: Message
) -> None:
    response = with_token(seller).post(f"/conversations/{asked.conversation_id}/typing")

    assert response.status_code == 204


# --- the seller's page of a question nobody can be answered -----------------------------------
# The question left Response needed (above), but the conversation's own page still said
# "Buyer waiting 3 hours" and offered "No response needed", as if the buyer were waiting
# for an answer the seller cannot send. The bulk action stays the seller's housekeeping.

NO_RESPONSE_NEEDED = 'value="no_response_needed"'


@pytest.mark.parametrize("close", ["erase", "suspend"])
def test_the_sellers_page_no_longer_says_a_closed_buyer_waits(
    buyer: User, seller: User, asked: Message, admin_user: User, close: str
) -> None:
    before = page_of(seller, asked.conversation_id)
    if close == "erase":
        erase_person(admin_user, buyer)
    else:
        suspend(buyer)

    page = page_of(seller, asked.conversation_id)
    done = with_token(seller).post(
        "/conversations/actions",
        {"action": "no_response_needed", "conversation_ids": [asked.conversation_id]},
    )

    assert "Buyer waiting" in before
    assert NO_RESPONSE_NEEDED in before
    assert "Buyer waiting" not in page
    assert NO_RESPONSE_NEEDED not in page
    assert done.status_code == 200
