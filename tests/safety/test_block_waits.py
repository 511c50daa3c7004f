"""A block between the two sides of a buyer–seller conversation sets the seller's wait
aside, as a suspension does (docs/safety.md#blocking, docs/escalation.md): out of Response
needed, no deadline shown to either side, no "No answer yet" from the sweep nor a late
response; the unblock brings it back with a new deadline — unless a suspension (or a block
the other way) still sets it aside. And the side whose reply a block refuses is not
offered one."""

import importlib
from datetime import timedelta

import pytest
from django.apps import apps as django_apps
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions, queries
from messagecenter.conversations.models import Message, Participant
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import UserEvent
from messagecenter.safety.actions import block, reinstate, suspend, unblock
from messagecenter.safety.models import Block
from tests import factories
from tests.api.helpers import with_token

pytestmark = pytest.mark.django_db


@pytest.fixture
def question(buyer: User, product: Product) -> int:
    """The buyer's question about a product (no order), waiting for the seller's answer."""
    return actions.ask_seller_about_product(buyer, product.pk, "Is it loud?").conversation_id


def response_needed(seller: User) -> list[int]:
    return [p.conversation_id for p in queries.response_needed_page(seller).participants]


def page_of(user: User, conversation_id: int) -> str:
    client = Client()
    client.force_login(user)
    response = client.get(reverse("conversation", args=[conversation_id]))
    assert response.status_code == 200
    return response.content.decode()


def shows_a_wait(page: str) -> bool:
    return (
        ">Buyer waiting" in page
        or 'data-testid="response-window"' in page
        or 'value="no_response_needed"' in page
    )


def the_wait(conversation_id: int, seller: User) -> Participant:
    return Participant.objects.get(conversation_id=conversation_id, user=seller)


@pytest.mark.parametrize("blocker", ["buyer", "seller"])
def test_a_block_sets_the_wait_aside_and_the_sweep_leaves_it(
    buyer: User, seller: User, question: int, blocker: str
) -> None:
    """Alice blocked the shop while her question waited: the seller's list still showed it
    with a deadline, her page counted down to "ask us to step in", and the sweep would post
    "No answer yet" and count a late answer against a seller whose every reply was refused.
    The same when the seller blocks the buyer."""
    waiting = the_wait(question, seller)
    assert waiting.response_due_at is not None
    later = waiting.response_due_at + timedelta(days=3)
    one, other = (buyer, seller) if blocker == "buyer" else (seller, buyer)

    block(one, other)

    # Both sides' devices are told: the list drops it, an open page shows it as it stands.
    for person in (buyer, seller):
        told = UserEvent.objects.filter(user=person).latest("sequence")
        assert told.kind == "conversation.no_response_needed"
        assert told.payload["conversation_id"] == question
    waiting.refresh_from_db()
    assert (waiting.response_due_at, waiting.is_response_overdue) == (None, False)
    assert waiting.awaiting_response_since is not None
    assert response_needed(seller) == []
    assert not shows_a_wait(page_of(seller, question))
    assert not shows_a_wait(page_of(buyer, question))
    for person in (buyer, seller):
        shown = with_token(person).get(f"/conversations/{question}").json()
        assert (shown["response_due_at"], shown["response_window"]) == (None, None)
    assert actions.pass_response_deadlines(now=later) == 0
    assert Message.objects.filter(conversation_id=question).count() == 1
    assert queries.late_responses(seller, now=later) == []
    assert all(f.late == 0 and f.overdue == 0 for f in queries.response_figures(seller, now=later))


@pytest.mark.parametrize("blocker", ["buyer", "seller"])
def test_the_unblock_brings_the_wait_back_with_a_new_deadline(
    buyer: User, seller: User, question: int, blocker: str
) -> None:
    one, other = (buyer, seller) if blocker == "buyer" else (seller, buyer)
    made = block(one, other)
    before = the_wait(question, seller)

    unblock(one, made.pk)

    waiting = the_wait(question, seller)
    assert waiting.response_due_at is not None
    assert waiting.awaiting_response_since is not None
    assert waiting.awaiting_response_since > before.awaiting_response_since
    for person in (buyer, seller):
        told = UserEvent.objects.filter(user=person).latest("sequence")
        assert told.kind == "conversation.response_needed"
        assert told.payload["response_due_at"] == waiting.response_due_at.isoformat()
    assert response_needed(seller) == [question]
    assert shows_a_wait(page_of(seller, question))
    assert 'data-testid="response-window"' in page_of(buyer, question)


def test_a_block_while_suspended_keeps_the_wait_aside_until_the_unblock(
    buyer: User, seller: User, question: int
) -> None:
    suspend(buyer)
    made = block(seller, buyer)

    reinstate(buyer)

    assert the_wait(question, seller).response_due_at is None
    assert response_needed(seller) == []

    unblock(seller, made.pk)

    assert the_wait(question, seller).response_due_at is not None
    assert response_needed(seller) == [question]


def test_an_unblock_while_suspended_leaves_the_wait_to_the_suspension(
    buyer: User, seller: User, question: int
) -> None:
    made = block(buyer, seller)
    suspend(buyer)

    unblock(buyer, made.pk)

    assert the_wait(question, seller).response_due_at is None
    assert response_needed(seller) == []
    reinstate(buyer)
    assert response_needed(seller) == [question]


def test_a_block_each_way_keeps_the_wait_aside_until_both_are_lifted(
    buyer: User, seller: User, question: int
) -> None:
    by_buyer = block(buyer, seller)
    by_seller = block(seller, buyer)

    unblock(buyer, by_buyer.pk)
    assert response_needed(seller) == []

    unblock(seller, by_seller.pk)
    assert response_needed(seller) == [question]


def test_the_blocked_seller_is_not_offered_a_reply(
    buyer: User, seller: User, question: int
) -> None:
    """The API said `can_reply: true` and the page showed the reply box, yet every reply
    was refused with `403 blocked`."""
    block(buyer, seller)

    shown = with_token(seller).get(f"/conversations/{question}").json()
    assert shown["can_reply"] is False
    assert "does not accept messages from you" in shown["cannot_reply_reason"]
    page = page_of(seller, question)
    assert 'name="body"' not in page
    assert 'data-testid="blocked-by-counterpart"' in page
    # The blocker still writes, but gives the set-aside wait no deadline.
    actions.send_message(buyer, question, "Hello?")
    assert the_wait(question, seller).response_due_at is None
    assert response_needed(seller) == []


def test_the_blocked_buyer_is_not_offered_a_reply(buyer: User, seller: User, question: int) -> None:
    block(seller, buyer)

    shown = with_token(buyer).get(f"/conversations/{question}").json()
    assert shown["can_reply"] is False
    assert 'name="body"' not in page_of(buyer, question)
    # The blocker still replies.
    assert with_token(seller).get(f"/conversations/{question}").json()["can_reply"] is True


def test_a_seller_still_replies_about_the_buyers_order(
    buyer: User, seller: User, asked: Message
) -> None:
    """A seller's message about the buyer's own order reaches them, marked, despite the
    block: the reply stays offered, though the wait is set aside."""
    block(buyer, seller)

    shown = with_token(seller).get(f"/conversations/{asked.conversation_id}").json()
    assert shown["can_reply"] is True
    assert response_needed(seller) == []
    actions.send_message(seller, asked.conversation_id, "It shipped yesterday.")


def test_another_buyers_question_keeps_its_deadline(
    buyer: User, other_buyer: User, seller: User, product: Product, question: int
) -> None:
    other = actions.ask_seller_about_product(other_buyer, product.pk, "Which colour?")

    block(buyer, seller)

    assert response_needed(seller) == [other.conversation_id]
    assert the_wait(other.conversation_id, seller).response_due_at is not None


def test_a_new_question_from_the_buyer_who_blocked_the_shop_gets_no_deadline(
    buyer: User, seller: User, product: Product, question: int
) -> None:
    """The block was written on the conversations that existed: a question the blocker
    asked afterwards, in a new conversation, started a wait with a deadline the shop could
    never meet, and offered it a reply that was refused."""
    block(buyer, seller)
    other = factories.ProductFactory(storefront=seller.storefront, title="Desk lamp")

    asked = actions.ask_seller_about_product(buyer, other.pk, "Is it bright?").conversation_id

    assert the_wait(asked, seller).response_due_at is None
    assert response_needed(seller) == []
    assert with_token(seller).get(f"/conversations/{asked}").json()["can_reply"] is False
    assert with_token(buyer).get(f"/conversations/{asked}").json()["can_reply"] is True


def test_the_buyer_a_seller_blocked_is_offered_no_reply_in_a_new_conversation(
    buyer: User, seller: User, product: Product, question: int
) -> None:
    block(seller, buyer)
    order = factories.order_with_item(buyer, product, status="shipped")

    message = actions.contact_buyer_about_order(seller, order.pk, "Your parcel left today.")

    shown = with_token(buyer).get(f"/conversations/{message.conversation_id}").json()
    assert shown["can_reply"] is False


def test_a_block_made_before_sets_its_waits_aside_once_migrated(
    buyer: User, seller: User, question: int, other_buyer: User, product: Product
) -> None:
    """The blocks that stood before this rule: their waits are set aside by the migration,
    as the block now does; another buyer's question keeps its deadline."""
    other = actions.ask_seller_about_product(other_buyer, product.pk, "Which colour?")
    Block.objects.create(blocker=buyer, blocked=seller, created_at=timezone.now())
    migration = importlib.import_module(
        "messagecenter.safety.migrations.0005_blocks_on_conversation_rows"
    )

    migration.write_blocks(django_apps, None)

    assert the_wait(question, seller).response_due_at is None
    assert response_needed(seller) == [other.conversation_id]
    shown = with_token(seller).get(f"/conversations/{question}").json()
    assert shown["can_reply"] is False


@pytest.mark.parametrize("way", ["one", "selected"])
def test_a_block_removed_in_the_admin_brings_the_wait_back(
    buyer: User, seller: User, question: int, way: str
) -> None:
    """Deleted as a bare row, the block left the wait set aside for good."""
    made = block(buyer, seller)
    admin_user = User.objects.create_superuser("blockadmin", "blockadmin@example.com", "pw-12345")
    client = Client()
    client.force_login(admin_user)
    if way == "one":
        answer = client.post(reverse("admin:safety_block_delete", args=[made.pk]), {"post": "yes"})
    else:
        answer = client.post(
            reverse("admin:safety_block_changelist"),
            {"action": "delete_selected", "_selected_action": [made.pk], "post": "yes"},
        )
    assert answer.status_code == 302

    assert not Block.objects.filter(pk=made.pk).exists()
    assert response_needed(seller) == [question]
    assert with_token(seller).get(f"/conversations/{question}").json()["can_reply"] is True


def test_the_admin_adds_and_changes_no_block(seller: User) -> None:
    admin_user = User.objects.create_superuser("blockadmin", "blockadmin@example.com", "pw-12345")
    client = Client()
    client.force_login(admin_user)
    assert client.get(reverse("admin:safety_block_add")).status_code == 403


@pytest.mark.parametrize("blocker", ["buyer", "seller"])
def test_an_open_page_is_told_live_though_nobody_waits(
    buyer: User, seller: User, question: int, blocker: str
) -> None:
    """The blocked one's open page kept its reply box until reloaded: only a conversation
    with a wait was told. Both sides are told of every conversation between the two."""
    actions.send_message(seller, question, "Yes, quiet.")
    one, other = (buyer, seller) if blocker == "buyer" else (seller, buyer)

    made = block(one, other)

    for person in (buyer, seller):
        told = UserEvent.objects.filter(user=person).latest("sequence")
        assert (told.kind, told.payload["conversation_id"]) == (
            "conversation.no_response_needed",
            question,
        )
        assert told.payload["blocked"] is True

    unblock(one, made.pk)

    for person in (buyer, seller):
        told = UserEvent.objects.filter(user=person).latest("sequence")
        assert (told.kind, told.payload["conversation_id"]) == (
            "conversation.response_needed",
            question,
        )
        assert told.payload["response_due_at"] is None
