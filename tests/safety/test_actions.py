import pytest
from django.test import Client
from django.urls import reverse

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message
from messagecenter.conversations.send_checks import MessageHeld
from messagecenter.errors import InvalidInput, NotAllowed, NotFound
from messagecenter.marketplace.models import Product
from messagecenter.safety import actions
from messagecenter.safety import queries as safety_queries
from messagecenter.safety.models import Block, HeldMessage
from messagecenter.support import claim_actions
from tests.api.helpers import error_of, with_token
from tests.factories import order_with_item
from tests.support.claims import Clock, claimable_order, clock

__all__ = ["clock"]

pytestmark = pytest.mark.django_db

PAYMENT = "Pay here instead: paypal.me/cheapdeals"


def held_reply(buyer: User, seller: User, product: Product) -> tuple[int, HeldMessage]:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Available?")
    with pytest.raises(MessageHeld):
        conversation_actions.send_message(seller, question.conversation_id, PAYMENT)
    return question.conversation_id, HeldMessage.objects.get()


def test_an_agent_releases_a_held_message_and_it_arrives_with_its_warning(
    buyer: User, seller: User, product: Product, agent: User
) -> None:
    conversation_id, held = held_reply(buyer, seller, product)

    message = actions.release_held_message(agent, held.pk)

    assert (message.conversation_id, message.sender, message.body) == (
        conversation_id,
        seller,
        PAYMENT,
    )
    assert message.safety_verdict == "warn"
    held.refresh_from_db()
    assert (held.status, held.message_id, held.reviewed_by) == ("released", message.pk, agent)
    with pytest.raises(NotFound):
        actions.release_held_message(agent, held.pk)


def test_a_rejected_message_never_arrives(
    buyer: User, seller: User, product: Product, agent: User
) -> None:
    _, held = held_reply(buyer, seller, product)
    before = Message.objects.count()

    actions.reject_held_message(agent, held.pk)

    held.refresh_from_db()
    assert (held.status, held.reviewed_by) == ("rejected", agent)
    assert Message.objects.count() == before
    with pytest.raises(NotFound):
        actions.release_held_message(agent, held.pk)


def test_only_agents_review_held_messages(buyer: User, seller: User, product: Product) -> None:
    _, held = held_reply(buyer, seller, product)

    for person in (buyer, seller):
        with pytest.raises(NotAllowed):
            actions.release_held_message(person, held.pk)
    assert HeldMessage.objects.get().status == "held"


def test_the_admins_release_and_reject_say_what_they_did(
    client: Client, buyer: User, seller: User, product: Product
) -> None:
    """The admin's actions on held messages used to say nothing when they worked: whoever
    reviewed the queue could not tell a release from a click that did nothing."""
    conversation_id, first = held_reply(buyer, seller, product)
    with pytest.raises(MessageHeld):
        conversation_actions.send_message(seller, conversation_id, PAYMENT + " or venmo")
    second = HeldMessage.objects.exclude(pk=first.pk).get()
    client.force_login(
        User.objects.create_user("reviewer", role="admin", is_staff=True, is_superuser=True)
    )
    changelist = reverse("admin:safety_heldmessage_changelist")

    def act(action: str, *held: HeldMessage) -> list[str]:
        response = client.post(
            changelist,
            {"action": action, "_selected_action": [each.pk for each in held]},
            follow=True,
        )
        return [str(notice) for notice in response.context["messages"]]

    assert act("release", first) == ["Released 1 held message: it is delivered, with its warnings."]
    assert act("reject", first, second) == [
        f"Held message {first.pk}: No such message waiting for review.",
        "Rejected 1 held message: it will never be delivered.",
    ]
    assert list(HeldMessage.objects.order_by("pk").values_list("status", flat=True)) == [
        "released",
        "rejected",
    ]


def test_blocking_twice_is_blocking_once_and_the_marketplace_cannot_be_blocked(
    buyer: User, seller: User, agent: User
) -> None:
    actions.block(buyer, seller)
    actions.block(buyer, seller)

    assert list(Block.objects.values_list("blocker", "blocked")) == [(buyer.pk, seller.pk)]
    with pytest.raises(InvalidInput, match="cannot be blocked"):
        actions.block(buyer, agent)
    with pytest.raises(InvalidInput, match="cannot block yourself"):
        actions.block(buyer, buyer)
    actions.unblock(buyer, Block.objects.get().pk)
    assert not Block.objects.exists()


def test_a_blocked_shop_cannot_write_except_about_the_buyers_own_order(
    buyer: User, seller: User, product: Product
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Available?")
    order = order_with_item(buyer, product)
    actions.block_counterpart(buyer, question.conversation_id)

    with pytest.raises(NotAllowed, match="This buyer does not accept messages from you"):
        conversation_actions.send_message(seller, question.conversation_id, "Still there?")
    about_order = conversation_actions.contact_buyer_about_order(
        seller, order.pk, "Your order ships tomorrow."
    )

    assert about_order.safety_reasons == [
        {
            "category": "blocked",
            "code": "from_blocked_sender",
            "text": f"You blocked {seller.public_name}. This message still reached you because "
            f"it is about your order {order.number}.",
        }
    ]
    # The buyer can still write to the shop they blocked.
    conversation_actions.send_message(buyer, question.conversation_id, "Never mind.")


def test_the_note_of_a_block_is_the_buyers_never_in_the_shops_own_copy(
    buyer: User, seller: User, product: Product
) -> None:
    """A review's shop read "You blocked Pixel & Pine Electronics" on its own message in
    the API (the page never showed it them)."""
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Available?")
    order = order_with_item(buyer, product)
    actions.block_counterpart(buyer, question.conversation_id)
    about_order = conversation_actions.contact_buyer_about_order(
        seller, order.pk, "Your order ships tomorrow."
    )
    path = f"/conversations/{about_order.conversation_id}/messages"

    [theirs] = with_token(buyer).get(path).json()["items"]
    [own] = with_token(seller).get(path).json()["items"]

    assert [reason["code"] for reason in theirs["safety"]["reasons"]] == ["from_blocked_sender"]
    assert own["is_mine"] is True
    assert own["safety"]["reasons"] == []


def test_a_claims_conversation_refuses_a_block_and_says_where_blocking_works(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The other side of a claim is a shop (or a buyer), not the marketplace: the refusal
    used to say "not the marketplace or customer service". A block would not stop them
    there, so say where it does; the page shows no Block in a claim, and its post says the
    same."""
    order = claimable_order(buyer, product, clock)
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    conversation_id = claim.case.conversation_id

    for person, words in ((buyer, "“Block shop”"), (seller, "“Block buyer”")):
        response = with_token(person).post(f"/conversations/{conversation_id}/block", {})
        assert error_of(response) == (400, "cannot_block_in_claim")
        message = response.json()["error"]["message"]
        assert "marketplace" not in message
        assert words in message
        assert "Buyer/Seller messages" in message

        client = Client()
        client.force_login(person)
        page = client.get(reverse("conversation", args=[conversation_id])).content.decode()
        assert reverse("block-in-conversation", args=[conversation_id]) not in page
        refused = client.post(
            reverse("block-in-conversation", args=[conversation_id]), follow=True
        ).content.decode()
        assert "not a guarantee claim" in refused
        assert "not the marketplace" not in refused
    assert not Block.objects.exists()


def test_a_refused_block_in_a_claim_links_to_the_orders_conversation_where_it_works(
    buyer: User, seller: User, product: Product, clock: Clock
) -> None:
    """The refusal said to block "in a conversation with them under Buyer/Seller
    messages", and left each side to find one. The page now links to their conversation
    about the claim's order, where the Block button is; not to one they deleted, and no
    link when there is none (the test above)."""
    order = claimable_order(buyer, product, clock)
    about_order = conversation_actions.contact_buyer_about_order(
        seller, order.pk, "Your parcel left today."
    )
    claim = claim_actions.file_claim(buyer, order.number, "not_received", "Nothing came.")
    claim_page = reverse("block-in-conversation", args=[claim.case.conversation_id])
    link = f'href="{reverse("conversation", args=[about_order.conversation_id])}"'

    for person in (buyer, seller):
        client = Client()
        client.force_login(person)
        refused = client.post(claim_page, follow=True).content.decode()
        assert "not a guarantee claim" in refused
        assert link in refused

    conversation_actions.trash_conversations(buyer, [about_order.conversation_id])
    conversation_actions.delete_conversations(buyer, [about_order.conversation_id])
    client = Client()
    client.force_login(buyer)
    refused = client.post(claim_page, follow=True).content.decode()
    assert "not a guarantee claim" in refused
    assert link not in refused
    assert not Block.objects.exists()


def test_the_block_page_and_api_list_and_unblock_only_ones_own_blocks(
    buyer: User, other_buyer: User, seller: User, product: Product
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Available?")
    response = with_token(buyer).post(f"/conversations/{question.conversation_id}/block", {})
    assert response.status_code == 201
    block_id = response.json()["id"]
    assert response.json()["name"] == seller.public_name

    assert [item["id"] for item in with_token(buyer).get("/blocks").json()] == [block_id]
    assert with_token(other_buyer).get("/blocks").json() == []
    assert error_of(with_token(other_buyer).delete(f"/blocks/{block_id}"))[0] == 404
    client = Client()
    client.force_login(buyer)
    page = client.get(reverse("blocked-list")).content.decode()
    assert seller.public_name in page
    assert with_token(buyer).delete(f"/blocks/{block_id}").status_code == 204
    assert not Block.objects.exists()


def test_the_senders_record_counts_held_messages_waiting_and_rejected_apart(
    buyer: User, seller: User, product: Product, agent: User
) -> None:
    """The report panel said "held: 3 (0 not delivered)" while all three still waited for
    review — none of them delivered."""
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Available?")
    for _ in range(3):
        with pytest.raises(MessageHeld):
            conversation_actions.send_message(seller, question.conversation_id, PAYMENT)
    first, second, _ = HeldMessage.objects.order_by("pk")
    actions.reject_held_message(agent, first.pk)
    actions.release_held_message(agent, second.pk)

    record = safety_queries.sender_record(seller)

    assert (record["held_messages"], record["waiting_messages"], record["rejected_messages"]) == (
        3,
        1,
        1,
    )


def test_why_a_reply_is_refused_is_not_shown_in_the_colour_of_success(
    buyer: User, seller: User, product: Product
) -> None:
    """A review's shop read "This buyer does not accept messages from you any more" in the
    green of "Your preferences are saved": the notices where a reply box would be are
    information."""
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Available?")
    actions.block_counterpart(buyer, question.conversation_id)
    client = Client()
    client.force_login(seller)

    page = client.get(reverse("conversation", args=[question.conversation_id])).content.decode()

    assert '<p class="notice notice--info" data-testid="blocked-by-counterpart">' in page
