"""The block as the conversation page shows it (docs/safety.md#blocking): after "Block shop"
or "Block buyer" the page kept offering "Block …" and no way back, the one-time notice the
only trace; now it says the other side is blocked and offers Unblock, right there."""

import pytest
from django.test import Client
from django.urls import reverse

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.marketplace.models import Product
from messagecenter.safety.models import Block
from tests.factories import order_with_item

pytestmark = pytest.mark.django_db


def page_of(client: Client, conversation_id: int) -> str:
    return client.get(reverse("conversation", args=[conversation_id])).content.decode()


@pytest.mark.parametrize("side", ["buyer", "seller"])
def test_a_block_shows_on_the_conversation_page_with_unblock(
    client: Client, buyer: User, seller: User, product: Product, side: str
) -> None:
    order = order_with_item(buyer, product)
    question = conversation_actions.contact_seller_about_order(
        buyer, order.pk, seller.storefront.pk, "Where is my parcel?"
    )
    conversation_id = question.conversation_id
    person, other, button = (
        (buyer, seller, "Block shop") if side == "buyer" else (seller, buyer, "Block buyer")
    )
    client.force_login(person)

    before = page_of(client, conversation_id)
    blocked = client.post(
        reverse("block-in-conversation", args=[conversation_id]), follow=True
    ).content.decode()
    later = page_of(client, conversation_id)
    unblocked = client.post(
        reverse("unblock-in-conversation", args=[conversation_id]), follow=True
    ).content.decode()

    assert f"{button}</button>" in before
    assert 'data-testid="blocked"' not in before
    for page in (blocked, later):
        assert f"{button}</button>" not in page
        assert 'data-testid="blocked"' in page
        assert "Unblock</button>" in page
    assert "Unblocked: they can message you again." in unblocked
    assert f"{button}</button>" in unblocked
    assert not Block.objects.filter(blocker=person, blocked=other).exists()


def test_unblock_on_a_page_only_lifts_the_persons_own_block_of_that_side(
    client: Client, buyer: User, other_buyer: User, seller: User, product: Product
) -> None:
    """Nobody else's block, and nothing for a conversation that is not theirs."""
    order = order_with_item(buyer, product)
    question = conversation_actions.contact_seller_about_order(
        buyer, order.pk, seller.storefront.pk, "Where is my parcel?"
    )
    Block.objects.create(blocker=seller, blocked=buyer, created_at=question.created_at)
    client.force_login(other_buyer)

    response = client.post(reverse("unblock-in-conversation", args=[question.conversation_id]))

    assert response.status_code == 404
    assert Block.objects.filter(blocker=seller, blocked=buyer).exists()
