from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import timedelta

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.actions import checks
from messagecenter.conversations.models import (
    MUTED_INDEFINITELY,
    Attachment,
    Conversation,
    Kind,
    Message,
    Participant,
)
from messagecenter.conversations.queries import conversation_messages
from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.hub.boxes import Box, Folder
from messagecenter.hub.queries import unread_counts
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import EventKind, UserEvent
from tests import factories
from tests.conversations.helpers import (
    event_kinds,
    event_sequences,
    maintained_unread,
    recounted_unread,
    snapshot,
)
from tests.web.helpers import PNG_BYTES, pdf_bytes

pytestmark = pytest.mark.django_db

PNG = PNG_BYTES
PDF = pdf_bytes()


def participant(user: User, conversation_id: int) -> Participant:
    return Participant.objects.get(user=user, conversation_id=conversation_id)


def ask(buyer: User, product: Product, body: str = "Does it come with a milk frother?") -> Message:
    return actions.ask_seller_about_product(buyer, product.pk, body)


# --- starting conversations ---------------------------------------------------------------


def test_asking_a_seller_starts_a_conversation_for_buyer_and_seller(
    buyer: User, seller: User, product: Product
) -> None:
    message = ask(buyer, product)

    conversation = message.conversation
    assert conversation.kind == Kind.BUYER_SELLER
    assert conversation.subject == "Question about Espresso machine"
    assert conversation.product_id == product.pk
    assert conversation.storefront_id == seller.storefront.pk
    assert conversation.last_message_id == message.pk
    assert conversation.message_count == 1
    rows = Participant.objects.filter(conversation=conversation).order_by("role")
    assert [(p.user_id, p.role, p.folder, p.box, p.unread_count) for p in rows] == [
        (buyer.pk, "buyer", Folder.BUYER_SELLER, Box.INBOX, 0),
        (seller.pk, "seller", Folder.BUYER_SELLER, Box.INBOX, 1),
    ]
    assert participant(buyer, conversation.pk).last_read_message_id == message.pk
    assert unread_counts(seller)["buyer_seller"] == 1
    assert unread_counts(seller)["all"] == 1
    assert unread_counts(buyer)["all"] == 0
    assert event_kinds(buyer) == [EventKind.MESSAGE_CREATED]
    assert event_kinds(seller) == [EventKind.MESSAGE_CREATED]
    seller_event = UserEvent.objects.get(user=seller)
    assert seller_event.payload["conversation_id"] == conversation.pk
    assert seller_event.payload["message_id"] == message.pk
    assert seller_event.payload["sender_name"] == "Alice Buyer"
    assert seller_event.payload["unread_count"] == 1


def test_a_buyers_questions_about_one_product_share_one_conversation(
    buyer: User, seller: User, product: Product
) -> None:
    first = ask(buyer, product)
    second = ask(buyer, product, "And is the water tank removable?")

    assert second.conversation_id == first.conversation_id
    assert participant(seller, first.conversation_id).unread_count == 2
    assert unread_counts(seller)["buyer_seller"] == 1


def test_two_buyers_asking_about_one_product_get_separate_conversations(
    buyer: User, other_buyer: User, product: Product
) -> None:
    assert ask(buyer, product).conversation_id != ask(other_buyer, product).conversation_id


def test_a_seller_cannot_ask_a_seller(seller: User, other_seller: User) -> None:
    product = factories.ProductFactory(storefront=other_seller.storefront)
    with pytest.raises(NotAllowed) as error:
        ask(seller, product)
    assert error.value.code == "buyers_only"
    assert Conversation.objects.count() == 0


def test_asking_about_a_missing_product_is_not_found(buyer: User) -> None:
    with pytest.raises(NotFound) as error:
        actions.ask_seller_about_product(buyer, 999_999, "Hello?")
    assert error.value.code == "product_not_found"


def test_buyer_contacts_the_seller_of_their_order(
    buyer: User, seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)

    message = actions.contact_seller_about_order(
        buyer, order.pk, seller.storefront.pk, "My order has not arrived yet."
    )

    assert message.conversation.order_id == order.pk
    assert message.conversation.subject == f"Order {order.number}"
    assert participant(seller, message.conversation_id).unread_count == 1


def test_only_the_orders_buyer_can_contact_its_seller(
    buyer: User, other_buyer: User, seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)
    before = snapshot()

    with pytest.raises(NotFound) as error:
        actions.contact_seller_about_order(other_buyer, order.pk, seller.storefront.pk, "Hi")

    assert error.value.code == "order_not_found"
    assert snapshot() == before
    assert Conversation.objects.count() == 0


def test_contacting_a_seller_who_sold_nothing_on_the_order_is_refused(
    buyer: User, product: Product, other_seller: User
) -> None:
    order = factories.order_with_item(buyer, product)
    with pytest.raises(InvalidInput) as error:
        actions.contact_seller_about_order(buyer, order.pk, other_seller.storefront.pk, "Hi")
    assert error.value.code == "seller_not_on_order"
    assert Conversation.objects.count() == 0


def test_a_seller_writes_to_the_buyer_of_its_order_in_the_orders_conversation(
    buyer: User, seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)

    first = actions.contact_buyer_about_order(seller, order.pk, "Which colour would you like?")
    answer = actions.contact_seller_about_order(buyer, order.pk, seller.storefront.pk, "Blue")

    assert answer.conversation_id == first.conversation_id
    assert first.conversation.subject == f"Order {order.number}"
    assert participant(seller, first.conversation_id).unread_count == 1
    assert participant(buyer, first.conversation_id).role == "buyer"


def test_a_seller_cannot_write_to_buyers_of_other_sellers_orders(
    buyer: User, other_seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)
    before = snapshot()
    with pytest.raises(NotFound) as error:
        actions.contact_buyer_about_order(other_seller, order.pk, "Hello from a stranger")
    assert error.value.code == "order_not_found"
    assert snapshot() == before


def test_a_buyer_cannot_use_the_sellers_way_in(buyer: User, product: Product) -> None:
    order = factories.order_with_item(buyer, product)
    with pytest.raises(NotFound):
        actions.contact_buyer_about_order(buyer, order.pk, "Hi")


def test_marketplace_messages_are_official_and_grouped_by_topic(buyer: User) -> None:
    order = factories.OrderFactory(buyer=buyer)
    topic = f"order:{order.pk}:updates"

    placed = actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Your order", body="Placed.", topic_key=topic
    )
    shipped = actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Your order", body="Shipped.", topic_key=topic
    )

    assert shipped.conversation_id == placed.conversation_id
    assert shipped.is_official
    assert shipped.sender_name == "Marketplace"
    updates = participant(buyer, placed.conversation_id)
    assert (updates.folder, updates.role, updates.unread_count) == ("orders", "recipient", 2)
    assert unread_counts(buyer)["orders"] == 1


def test_the_marketplace_cannot_send_as_a_seller(buyer: User) -> None:
    with pytest.raises(InvalidInput) as error:
        actions.send_marketplace_message(
            buyer, kind=Kind.BUYER_SELLER, subject="Hello", body="Hello"
        )
    assert error.value.code == "invalid_kind"


def test_a_sellers_message_is_never_official_whatever_its_name(
    buyer: User, seller: User, product: Product
) -> None:
    seller.storefront.name = "Marketplace Account Team"
    seller.storefront.save(update_fields=["name"])
    question = ask(buyer, product)
    reply = actions.send_message(seller, question.conversation_id, "Verify your password here")
    assert not reply.is_official


def test_agent_messages_are_official(buyer: User, agent: User) -> None:
    opened = actions.contact_customer_service(buyer, "Refund", "Where is my refund?", agent=agent)
    answer = actions.send_message(agent, opened.conversation_id, "It was issued today.")
    assert answer.is_official
    assert not opened.is_official
    assert participant(buyer, opened.conversation_id).folder == Folder.CUSTOMER_SERVICE


# --- sending ------------------------------------------------------------------------------


def test_a_reply_updates_both_sides(buyer: User, seller: User, product: Product) -> None:
    question = ask(buyer, product)
    actions.mark_read(seller, [question.conversation_id])

    reply = actions.send_message(seller, question.conversation_id, "Yes, it does.")

    buyer_view = participant(buyer, question.conversation_id)
    seller_view = participant(seller, question.conversation_id)
    assert (buyer_view.unread_count, seller_view.unread_count) == (1, 0)
    assert seller_view.last_read_message_id == reply.pk
    assert buyer_view.last_activity_at == reply.created_at
    assert seller_view.last_activity_at == reply.created_at
    assert unread_counts(buyer)["buyer_seller"] == 1
    assert unread_counts(seller)["buyer_seller"] == 0
    conversation = Conversation.objects.get(pk=question.conversation_id)
    assert (conversation.last_message_id, conversation.message_count) == (reply.pk, 2)


def test_someone_outside_a_conversation_cannot_send_to_it(
    buyer: User, other_buyer: User, product: Product
) -> None:
    question = ask(buyer, product)
    before = snapshot()

    with pytest.raises(NotFound) as error:
        actions.send_message(other_buyer, question.conversation_id, "Let me in")

    assert error.value.code == "conversation_not_found"
    assert snapshot() == before


def test_sending_to_a_conversation_that_does_not_exist_looks_the_same(buyer: User) -> None:
    with pytest.raises(NotFound) as error:
        actions.send_message(buyer, 424_242, "Anyone?")
    assert error.value.code == "conversation_not_found"


def test_sending_again_with_the_same_key_returns_the_first_message(
    buyer: User, seller: User, product: Product
) -> None:
    question = ask(buyer, product)
    first = actions.send_message(seller, question.conversation_id, "Yes.", idempotency_key="k-1")
    again = actions.send_message(seller, question.conversation_id, "Yes.", idempotency_key="k-1")

    assert again.pk == first.pk
    assert Message.objects.filter(conversation_id=question.conversation_id).count() == 2
    assert participant(buyer, question.conversation_id).unread_count == 1
    assert event_kinds(buyer) == [EventKind.MESSAGE_CREATED, EventKind.MESSAGE_CREATED]


def test_asking_again_with_the_same_key_returns_the_first_question(
    buyer: User, product: Product
) -> None:
    first = actions.ask_seller_about_product(buyer, product.pk, "Hi?", idempotency_key="ask-1")
    again = actions.ask_seller_about_product(buyer, product.pk, "Hi?", idempotency_key="ask-1")
    assert again.pk == first.pk
    assert Message.objects.count() == 1


def test_reusing_a_key_for_a_different_message_is_a_conflict(
    buyer: User, seller: User, product: Product
) -> None:
    question = ask(buyer, product)
    actions.send_message(seller, question.conversation_id, "Yes.", idempotency_key="k-1")
    before = snapshot()

    with pytest.raises(Conflict) as error:
        actions.send_message(seller, question.conversation_id, "No.", idempotency_key="k-1")

    assert error.value.code == "idempotency_key_reused"
    assert snapshot() == before


# Bodies with nothing visible: direction overrides (removed where text is shown), zero-width
# spaces, a byte-order mark and a word joiner between spaces, the blank braille pattern, the
# Hangul filler, a variation selector alone.
INVISIBLE_BODIES = [
    "\u202e\u202e",
    "\u200b\u200b",
    " \ufeff \u2060\n",
    "\u2800",
    "\u3164\u3164",
    "\ufe0f",
]


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("", "empty_message"),
        ("   \n ", "empty_message"),
        *[(body, "empty_message") for body in INVISIBLE_BODIES],
        ("x" * 10_001, "message_too_long"),
    ],
)
def test_a_bad_body_is_refused_and_changes_nothing(
    buyer: User, product: Product, body: str, code: str
) -> None:
    question = ask(buyer, product)
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        actions.send_message(buyer, question.conversation_id, body)
    assert error.value.code == code
    assert snapshot() == before


@pytest.mark.parametrize(
    "body",
    [
        "\U0001f468\u200d\U0001f469\u200d\U0001f467 all three of us",  # a family emoji: ZWJs
        "\u0915\u094d\u200d\u0937",  # Devanagari with a zero-width joiner
        "\u0645\u06cc\u200c\u062e\u0648\u0627\u0647\u0645",  # Persian with a zero-width non-joiner
        "\u200bIs it new?\u200b",
        "\u2067\u0634\u0643\u0631\u0627\u2069 thanks",
    ],
)
def test_a_body_with_visible_text_keeps_its_invisible_characters(
    buyer: User, product: Product, body: str
) -> None:
    question = ask(buyer, product)

    message = actions.send_message(buyer, question.conversation_id, body)

    assert Message.objects.get(pk=message.pk).body == body


@pytest.mark.parametrize("subject", [" ", "\u200b\u200d", "\u202e"])
def test_a_customer_service_subject_with_nothing_visible_is_required(
    buyer: User, subject: str
) -> None:
    before = snapshot()

    with pytest.raises(InvalidInput) as error:
        actions.contact_customer_service(buyer, subject, "Where is my parcel?")

    assert error.value.code == "subject_required"
    assert snapshot() == before


def test_images_and_pdfs_are_attached_by_content(
    buyer: User, seller: User, product: Product
) -> None:
    question = ask(buyer, product)
    files = [
        SimpleUploadedFile("photo-of-damage.png", PNG, content_type="text/plain"),
        SimpleUploadedFile("receipt.pdf", PDF, content_type="application/octet-stream"),
    ]

    message = actions.send_message(
        buyer, question.conversation_id, "See attached", attachments=files
    )

    attached = list(Attachment.objects.filter(message=message).order_by("id"))
    assert [(a.filename, a.content_type, a.size) for a in attached] == [
        ("photo-of-damage.png", "image/png", len(PNG)),
        ("receipt.pdf", "application/pdf", len(PDF)),
    ]
    assert attached[0].file.read() == PNG


@pytest.mark.parametrize(
    ("upload", "code"),
    [
        (
            SimpleUploadedFile("invoice.png", b"<script>alert(1)</script>"),
            "attachment_type_not_allowed",
        ),
        (SimpleUploadedFile("empty.pdf", b""), "attachment_empty"),
        (SimpleUploadedFile("huge.png", PNG + b"\x00" * (10 * 2**20)), "attachment_too_large"),
    ],
)
def test_a_refused_attachment_sends_nothing(
    buyer: User, product: Product, upload: SimpleUploadedFile, code: str
) -> None:
    question = ask(buyer, product)
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        actions.send_message(buyer, question.conversation_id, "See attached", attachments=[upload])
    assert error.value.code == code
    assert snapshot() == before


def test_more_than_five_attachments_are_refused(buyer: User, product: Product) -> None:
    question = ask(buyer, product)
    uploads = [SimpleUploadedFile(f"p{n}.png", PNG) for n in range(6)]
    with pytest.raises(InvalidInput) as error:
        actions.send_message(buyer, question.conversation_id, "Photos", attachments=uploads)
    assert error.value.code == "too_many_attachments"


# --- read state ---------------------------------------------------------------------------


def test_mark_read_and_unread_move_the_badge(buyer: User, seller: User, product: Product) -> None:
    question = ask(buyer, product)
    conversation_id = question.conversation_id

    assert actions.mark_read(seller, [conversation_id]) == 1
    read = participant(seller, conversation_id)
    assert (read.unread_count, read.last_read_message_id) == (0, question.pk)
    assert unread_counts(seller)["all"] == 0

    assert actions.mark_unread(seller, [conversation_id]) == 1
    assert participant(seller, conversation_id).unread_count == 1
    assert unread_counts(seller)["all"] == 1

    assert actions.mark_unread(seller, [conversation_id]) == 0
    assert event_kinds(seller) == [
        EventKind.MESSAGE_CREATED,
        EventKind.CONVERSATION_READ,
        EventKind.CONVERSATION_UNREAD,
    ]


def test_marking_read_twice_changes_nothing_the_second_time(
    buyer: User, seller: User, product: Product
) -> None:
    question = ask(buyer, product)
    actions.mark_read(seller, [question.conversation_id])
    before = snapshot()
    assert actions.mark_read(seller, [question.conversation_id]) == 0
    assert snapshot() == before


def test_one_foreign_id_in_a_bulk_action_fails_the_whole_action(
    buyer: User, other_buyer: User, seller: User, product: Product
) -> None:
    own = ask(buyer, product)
    foreign = ask(other_buyer, factories.ProductFactory(storefront=seller.storefront))
    actions.send_message(seller, own.conversation_id, "Reply")
    before = snapshot()

    with pytest.raises(NotFound):
        actions.mark_read(buyer, [own.conversation_id, foreign.conversation_id])
    with pytest.raises(NotFound):
        actions.trash_conversations(buyer, [own.conversation_id, foreign.conversation_id])

    assert snapshot() == before


def test_a_bulk_action_needs_ids(buyer: User) -> None:
    with pytest.raises(InvalidInput) as error:
        actions.archive_conversations(buyer, [])
    assert error.value.code == "no_conversations"


# --- archive, trash, restore, purge -------------------------------------------------------


def test_archive_and_move_back_carry_the_unread_count(
    buyer: User, seller: User, product: Product
) -> None:
    conversation_id = ask(buyer, product).conversation_id

    assert actions.archive_conversations(seller, [conversation_id]) == 1
    assert participant(seller, conversation_id).box == Box.ARCHIVE
    assert maintained_unread(seller) == {"archive": 1}

    assert actions.move_to_inbox(seller, [conversation_id]) == 1
    assert participant(seller, conversation_id).box == Box.INBOX
    assert maintained_unread(seller) == {"buyer_seller": 1}


def test_a_new_message_brings_an_archived_conversation_back(
    buyer: User, seller: User, product: Product
) -> None:
    conversation_id = ask(buyer, product).conversation_id
    actions.archive_conversations(buyer, [conversation_id])

    actions.send_message(seller, conversation_id, "Any other questions?")

    assert participant(buyer, conversation_id).box == Box.INBOX
    assert maintained_unread(buyer) == {"buyer_seller": 1, "unseen": 1}


def test_a_muted_conversation_stays_archived_but_counts_unread(
    buyer: User, seller: User, product: Product
) -> None:
    conversation_id = ask(buyer, product).conversation_id
    actions.archive_conversations(buyer, [conversation_id])
    actions.mute_conversations(buyer, [conversation_id], until=timezone.now() + timedelta(days=1))

    actions.send_message(seller, conversation_id, "Any other questions?")

    muted = participant(buyer, conversation_id)
    assert (muted.box, muted.unread_count) == (Box.ARCHIVE, 1)
    assert maintained_unread(buyer) == {"archive": 1}
    assert UserEvent.objects.filter(user=buyer).last().payload["is_muted"] is True  # type: ignore[union-attr]


def test_mute_until_unmuted_and_unmute(buyer: User, product: Product) -> None:
    conversation_id = ask(buyer, product).conversation_id
    actions.mute_conversations(buyer, [conversation_id])
    assert participant(buyer, conversation_id).muted_until == MUTED_INDEFINITELY
    assert actions.unmute_conversations(buyer, [conversation_id]) == 1
    assert participant(buyer, conversation_id).muted_until is None


def test_muting_until_a_past_time_is_refused(buyer: User, product: Product) -> None:
    conversation_id = ask(buyer, product).conversation_id
    with pytest.raises(InvalidInput) as error:
        actions.mute_conversations(
            buyer, [conversation_id], until=timezone.now() - timedelta(minutes=1)
        )
    assert error.value.code == "invalid_mute_until"


def test_trash_and_restore(buyer: User, seller: User, product: Product) -> None:
    conversation_id = ask(buyer, product).conversation_id

    assert actions.trash_conversations(seller, [conversation_id]) == 1
    trashed = participant(seller, conversation_id)
    assert (trashed.box, trashed.trashed_at is not None) == (Box.TRASH, True)
    assert maintained_unread(seller) == {"trash": 1}

    assert actions.restore_conversations(seller, [conversation_id]) == 1
    restored = participant(seller, conversation_id)
    assert (restored.box, restored.trashed_at) == (Box.INBOX, None)
    assert maintained_unread(seller) == {"buyer_seller": 1}
    assert event_kinds(seller)[-2:] == [
        EventKind.CONVERSATION_TRASHED,
        EventKind.CONVERSATION_RESTORED,
    ]


def test_only_trash_can_be_deleted_for_ever(buyer: User, product: Product) -> None:
    conversation_id = ask(buyer, product).conversation_id
    with pytest.raises(InvalidInput) as error:
        actions.delete_conversations(buyer, [conversation_id])
    assert error.value.code == "not_in_trash"


def trash_days_ago(user: User, conversation_id: int, days: int) -> None:
    actions.trash_conversations(user, [conversation_id])
    Participant.objects.filter(user=user, conversation_id=conversation_id).update(
        trashed_at=timezone.now() - timedelta(days=days)
    )


def test_trash_older_than_30_days_is_purged_and_younger_trash_is_kept(
    buyer: User, seller: User, product: Product
) -> None:
    old = ask(buyer, product).conversation_id
    young = ask(buyer, factories.ProductFactory(storefront=seller.storefront)).conversation_id
    trash_days_ago(seller, old, 31)
    trash_days_ago(seller, young, 29)

    assert actions.purge_expired_trash() == 1

    assert participant(seller, old).box == Box.DELETED
    assert participant(seller, young).box == Box.TRASH
    assert maintained_unread(seller) == {"trash": 1}
    assert maintained_unread(seller) == recounted_unread(seller)
    # The buyer still has the conversation: nothing is removed for them.
    assert participant(buyer, old).box == Box.INBOX
    assert actions.purge_expired_trash() == 0


def test_a_conversation_nobody_keeps_is_removed_with_its_files(
    buyer: User,
    seller: User,
    product: Product,
    django_capture_on_commit_callbacks: Callable[..., AbstractContextManager[list[object]]],
) -> None:
    question = actions.ask_seller_about_product(
        buyer, product.pk, "Photo", attachments=[SimpleUploadedFile("a.png", PNG)]
    )
    stored_name = Attachment.objects.get(message=question).file.name
    trash_days_ago(buyer, question.conversation_id, 40)
    trash_days_ago(seller, question.conversation_id, 40)
    assert default_storage.exists(stored_name)

    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        assert actions.purge_expired_trash() == 2

    # One removes the files; the other wakes the two people's event streams.
    assert len(callbacks) == 2
    assert not Conversation.objects.filter(pk=question.conversation_id).exists()
    assert (Message.objects.count(), Attachment.objects.count()) == (0, 0)
    assert not default_storage.exists(stored_name)


def test_order_conversations_are_never_removed(buyer: User, seller: User, product: Product) -> None:
    order = factories.order_with_item(buyer, product)
    message = actions.contact_seller_about_order(buyer, order.pk, seller.storefront.pk, "Hi")
    trash_days_ago(buyer, message.conversation_id, 40)
    trash_days_ago(seller, message.conversation_id, 40)

    assert actions.purge_expired_trash() == 2

    assert Message.objects.filter(pk=message.pk).exists()
    assert Participant.objects.filter(box=Box.DELETED).count() == 2


def test_after_a_purge_a_new_message_brings_back_only_what_is_new(
    buyer: User, seller: User, product: Product
) -> None:
    question = ask(buyer, product)
    trash_days_ago(buyer, question.conversation_id, 31)
    actions.purge_expired_trash()

    reply = actions.send_message(seller, question.conversation_id, "Sorry for the delay!")

    back = participant(buyer, question.conversation_id)
    assert (back.box, back.unread_count) == (Box.INBOX, 1)
    assert [m.pk for m in conversation_messages(back)] == [reply.pk]
    assert maintained_unread(buyer) == {"buyer_seller": 1, "unseen": 1}


def test_asking_again_about_a_deleted_conversation_reopens_it(
    buyer: User, product: Product
) -> None:
    question = ask(buyer, product)
    actions.trash_conversations(buyer, [question.conversation_id])
    actions.delete_conversations(buyer, [question.conversation_id])

    again = ask(buyer, product, "Me again: is it in stock?")

    reopened = participant(buyer, question.conversation_id)
    assert (again.conversation_id, reopened.box) == (question.conversation_id, Box.INBOX)
    assert [m.pk for m in conversation_messages(reopened)] == [again.pk]


def test_a_deleted_conversation_cannot_be_replied_to(buyer: User, product: Product) -> None:
    question = ask(buyer, product)
    actions.trash_conversations(buyer, [question.conversation_id])
    actions.delete_conversations(buyer, [question.conversation_id])
    with pytest.raises(NotFound):
        actions.send_message(buyer, question.conversation_id, "Hello again")


# --- the event log ------------------------------------------------------------------------


def test_every_change_is_logged_in_order_without_gaps(
    buyer: User, seller: User, product: Product
) -> None:
    conversation_id = ask(buyer, product).conversation_id
    actions.send_message(seller, conversation_id, "Yes.")
    actions.mark_read(buyer, [conversation_id])
    actions.archive_conversations(buyer, [conversation_id])
    actions.trash_conversations(buyer, [conversation_id])
    actions.restore_conversations(buyer, [conversation_id])

    assert event_sequences(buyer) == [1, 2, 3, 4, 5, 6]
    assert event_kinds(buyer) == [
        EventKind.MESSAGE_CREATED,
        EventKind.MESSAGE_CREATED,
        EventKind.CONVERSATION_READ,
        EventKind.CONVERSATION_ARCHIVED,
        EventKind.CONVERSATION_TRASHED,
        EventKind.CONVERSATION_RESTORED,
    ]
    assert event_sequences(seller) == [1, 2]


def test_a_key_with_spaces_is_the_same_key_on_retry(
    buyer: User, seller: User, product: Product
) -> None:
    question = ask(buyer, product)
    first = actions.send_message(seller, question.conversation_id, "Yes.", idempotency_key=" k ")
    again = actions.send_message(seller, question.conversation_id, "Yes.", idempotency_key="k")
    assert (again.pk, first.idempotency_key) == (first.pk, "k")


@pytest.mark.parametrize("body", ["nul \x00 inside", "bell \x07", "escape \x1b[31m"])
def test_control_characters_are_refused(buyer: User, product: Product, body: str) -> None:
    question = ask(buyer, product)
    before = snapshot()
    with pytest.raises(InvalidInput) as error:
        actions.send_message(buyer, question.conversation_id, body)
    assert error.value.code == "invalid_characters"
    assert snapshot() == before


def test_every_control_character_but_line_breaks_and_tabs_is_refused() -> None:
    """clean_text's one search refuses exactly the C0 controls other than \\n, \\r, \\t
    (DEL and the C1 controls stay: they are stored, and shown as nothing)."""
    for code in [*range(0x00, 0x100), 0x2028, 0xFEFF]:
        text = f"a{chr(code)}b"
        refused = code < 32 and chr(code) not in "\n\r\t"
        if refused:
            with pytest.raises(InvalidInput):
                checks.clean_text(text)
        else:
            assert checks.clean_text(text) == text.strip(), hex(code)


def test_line_breaks_and_tabs_are_kept(buyer: User, product: Product) -> None:
    message = ask(buyer, product, "Line one\n\tLine two\r\nLine three")
    assert message.body == "Line one\n\tLine two\r\nLine three"


@pytest.mark.parametrize("huge", [2**63, 10**30])
def test_ids_beyond_the_database_range_are_not_found(buyer: User, huge: int) -> None:
    with pytest.raises(NotFound):
        actions.send_message(buyer, huge, "Hello")
    with pytest.raises(NotFound):
        actions.ask_seller_about_product(buyer, huge, "Hello")


def test_marketplace_messages_cannot_be_answered(buyer: User) -> None:
    update = actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Shipped", body="On its way."
    )
    before = snapshot()
    with pytest.raises(NotAllowed) as error:
        actions.send_message(buyer, update.conversation_id, "Thanks!")
    assert error.value.code == "cannot_reply"
    assert snapshot() == before
