"""Which messages a person may see is one rule (conversations.queries.visible_messages,
access_message): in a conversation they take part in and have not deleted, not from before
they deleted it, not a promotion while they switched promotions off, not one they reported
and not one customer service removed (unless they sent it). Every app that reads messages
for a person goes through it: these tests give each caller a message outside the person's
visible range and see it refused."""

from collections.abc import Callable

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Attachment, Kind, Message
from messagecenter.conversations.queries import (
    OutOfSight,
    access_attachment,
    access_message,
    in_sight,
    out_of_sight,
    reported_by,
    with_reported_by_some,
)
from messagecenter.delivery import references
from messagecenter.delivery.queries import find_reference
from messagecenter.errors import NotFound
from messagecenter.hub.boxes import Box, Folder
from messagecenter.marketplace.models import Order, Product
from messagecenter.marketplace.queries import order_details
from messagecenter.rows import MAX_ID
from messagecenter.search.actions import rebuild_search_index
from messagecenter.search.queries import SearchFilters, search_messages
from tests import factories
from tests.conversations.test_promotions_switch import switch
from tests.web.helpers import unique_png

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(buyer: User, product: Product) -> Order:
    return factories.order_with_item(buyer, product)


@pytest.fixture
def before_and_after(buyer: User, seller: User, order: Order) -> tuple[Message, Message]:
    """The buyer deleted their conversation with the seller about the order; the seller's
    next message brought it back. The message from before is no longer the buyer's."""
    question = actions.contact_seller_about_order(
        buyer, order.pk, order.items.get().storefront_id, "Where is my parcel?"
    )
    before = actions.send_message(seller, question.conversation_id, "Tracking: zebra 1Z999")
    actions.trash_conversations(buyer, [question.conversation_id])
    actions.delete_conversations(buyer, [question.conversation_id])
    after = actions.send_message(seller, question.conversation_id, "It arrives on Friday.")
    return before, after


def test_access_message_gives_a_message_the_person_may_see(
    buyer: User, before_and_after: tuple[Message, Message]
) -> None:
    _, after = before_and_after

    assert access_message(buyer, str(after.pk)) == after


@pytest.mark.parametrize("message_id", ["before", "nonsense", 0, -1, MAX_ID + 1, 987_654])
def test_access_message_refuses_what_the_person_may_not_see(
    buyer: User, before_and_after: tuple[Message, Message], message_id: object
) -> None:
    before, _ = before_and_after
    given = before.pk if message_id == "before" else message_id

    with pytest.raises(NotFound) as refused:
        access_message(buyer, given)

    assert (refused.value.code, refused.value.message) == ("message_not_found", "No such message.")


def test_access_message_refuses_someone_elses_message(
    other_buyer: User, before_and_after: tuple[Message, Message]
) -> None:
    _, after = before_and_after

    with pytest.raises(NotFound):
        access_message(other_buyer, after.pk)


def test_search_does_not_find_a_message_from_before_the_person_deleted_the_conversation(
    buyer: User, before_and_after: tuple[Message, Message]
) -> None:
    _, after = before_and_after

    assert search_messages(buyer, SearchFilters(text="zebra")).results == []
    assert [r.message_id for r in search_messages(buyer, SearchFilters(text="Friday")).results] == [
        after.pk
    ]


def test_an_email_reference_to_a_message_from_before_has_no_copy_to_open(
    buyer: User, before_and_after: tuple[Message, Message]
) -> None:
    before, after = before_and_after

    old = find_reference(buyer, references.for_message(before.pk, buyer.pk, is_official=False))
    new = find_reference(buyer, references.for_message(after.pk, buyer.pk, is_official=False))

    # The reference is still ours to explain, but the copy is gone.
    assert (old.origin, old.url) == ("person", "")
    assert (new.origin, new.url) == (
        "person",
        reverse("conversation", args=[after.conversation_id])
        + f"?message={after.pk}#message-{after.pk}",
    )


def test_the_order_page_does_not_list_a_conversation_the_person_deleted(
    buyer: User, seller: User, order: Order, client: Client
) -> None:
    question = actions.contact_seller_about_order(
        buyer, order.pk, order.items.get().storefront_id, "Where is my parcel?"
    )
    actions.trash_conversations(buyer, [question.conversation_id])
    actions.delete_conversations(buyer, [question.conversation_id])

    assert order_details(buyer, order).conversations == []
    assert [p.conversation_id for p in order_details(seller, order).conversations] == [
        question.conversation_id
    ]
    client.force_login(buyer)
    page = client.get(reverse("order", args=[order.number])).content.decode()
    assert reverse("conversation", args=[question.conversation_id]) not in page
    assert "No messages about this order yet." in page


# --- taken out of sight: reported, removed, promotions switched off -------------------------


@pytest.fixture
def scam(buyer: User, seller: User, product: Product) -> Message:
    """The seller's answer, with a photo, that the buyer will not see any more."""
    question = actions.ask_seller_about_product(buyer, product.pk, "Is the tent waterproof?")
    return actions.send_message(
        seller,
        question.conversation_id,
        "Pay by gift card: quokka deal",
        attachments=[SimpleUploadedFile("quokka.png", unique_png("quokka"))],
    )


def reported(buyer: User, seller: User, message: Message) -> None:
    actions.hide_messages_for(buyer.pk, [message.pk])


def removed(buyer: User, seller: User, message: Message) -> None:
    actions.remove_messages(seller.pk, [message.pk], now=timezone.now())


OUT_OF_SIGHT: dict[str, Callable[[User, User, Message], None]] = {
    "reported by the buyer": reported,
    "removed by customer service": removed,
}

# Every way search reads: the mailbox walk, from a box's Participant rows (PostgreSQL
# starts there with any filter but dates), from a folder's.
SEARCHES = [
    SearchFilters(text="quokka"),
    SearchFilters(text="quokka", box=Box.INBOX),
    SearchFilters(text="quokka", folder=Folder.BUYER_SELLER),
]


@pytest.mark.parametrize("taken_away", OUT_OF_SIGHT.values(), ids=OUT_OF_SIGHT.keys())
def test_a_message_taken_out_of_the_persons_sight_is_refused_by_every_caller(
    buyer: User, seller: User, scam: Message, taken_away: Callable[[User, User, Message], None]
) -> None:
    attachment = Attachment.objects.get(message=scam)
    taken_away(buyer, seller, scam)

    with pytest.raises(NotFound):
        access_message(buyer, scam.pk)
    with pytest.raises(NotFound):
        access_attachment(buyer, attachment.pk)
    for filters in SEARCHES:
        assert search_messages(buyer, filters).results == []
    reference = find_reference(buyer, references.for_message(scam.pk, buyer.pk, is_official=False))
    assert (reference.origin, reference.url) == ("person", "")
    # Its sender still sees and finds their own message.
    assert access_message(seller, scam.pk) == scam
    assert access_attachment(seller, attachment.pk) == attachment
    for filters in SEARCHES[:2]:
        assert [r.message_id for r in search_messages(seller, filters).results] == [scam.pk]


@pytest.mark.parametrize("taken_away", OUT_OF_SIGHT.values(), ids=OUT_OF_SIGHT.keys())
def test_rebuilding_the_search_index_does_not_bring_back_a_message_taken_out_of_sight(
    buyer: User, seller: User, scam: Message, taken_away: Callable[[User, User, Message], None]
) -> None:
    taken_away(buyer, seller, scam)

    rebuild_search_index()

    assert search_messages(buyer, SearchFilters(text="quokka")).results == []


@pytest.mark.parametrize("reported_by_buyer", [False, True], ids=["", "reported"])
@pytest.mark.parametrize("was_removed", [False, True], ids=["", "removed"])
def test_the_rule_for_many_viewers_agrees_with_the_rule_for_one(
    buyer: User, seller: User, scam: Message, reported_by_buyer: bool, was_removed: bool
) -> None:
    """The e-mail worker judges a batch's messages for many recipients at once
    (out_of_sight, on what with_reported_by_some and reported_by read); the pages and the
    API judge them for one viewer in SQL (in_sight). Whatever happened to the message, each
    viewer gets the same answer from both."""
    if reported_by_buyer:
        reported(buyer, seller, scam)
    if was_removed:
        removed(buyer, seller, scam)
    viewers = {buyer.pk, seller.pk}
    [read] = with_reported_by_some(Message.objects.filter(pk=scam.pk), viewers)
    reports = reported_by([read], viewers)

    for viewer in (buyer, seller):
        seen = Message.objects.filter(in_sight(viewer.pk), pk=scam.pk).exists()
        assert seen == (out_of_sight(read, viewer.pk, reports) is None)
    expected = OutOfSight.REMOVED if was_removed else OutOfSight.REPORTED
    assert out_of_sight(read, buyer.pk, reports) == (
        expected if was_removed or reported_by_buyer else None
    )
    # Its sender still sees their own message, removed or not.
    assert out_of_sight(read, seller.pk, reports) is None


def test_a_promotion_switched_off_is_refused_by_every_caller(buyer: User) -> None:
    promotion = actions.send_marketplace_message(
        buyer, kind=Kind.PROMOTION, subject="Tent week", body="Quokka tents, 25% off."
    )
    assert access_message(buyer, promotion.pk) == promotion

    buyer = switch(buyer, on=False)

    with pytest.raises(NotFound):
        access_message(buyer, promotion.pk)
    assert search_messages(buyer, SearchFilters(text="quokka")).results == []
    assert search_messages(buyer, SearchFilters(text="quokka", box=Box.INBOX)).results == []
