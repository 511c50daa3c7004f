"""The Message Center through the API: folders, lists, a conversation and its messages,
replies with attachments and Idempotency-Key, actions; and that nobody reaches what is
not theirs."""

import hashlib
import secrets
from datetime import datetime, timedelta
from typing import Any

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import (
    MUTED_INDEFINITELY,
    Attachment,
    Kind,
    Message,
    Participant,
)
from messagecenter.errors import InvalidInput
from messagecenter.hub.boxes import Box
from messagecenter.marketplace.models import Product
from tests import factories
from tests.api.conftest import SignIn
from tests.api.helpers import Caller, anonymous, error_of, with_session, with_token
from tests.conversations.helpers import snapshot
from tests.databases import PLANNER_SETTINGS
from tests.web.helpers import PNG_BYTES, png, text_named_png, unique_png

pytestmark = pytest.mark.django_db

MISSING = 987_654


@pytest.fixture
def question(buyer: User, seller: User, product: Product) -> Message:
    """Alice asked Acme Kitchen about the espresso machine; the seller answered with a
    photo."""
    asked = actions.ask_seller_about_product(buyer, product.pk, "Does it fit a 30 cm shelf?")
    actions.send_message(
        seller, asked.conversation_id, "Yes, here it is on one.", attachments=[png("shelf.png")]
    )
    return asked


def attachment_of(question: Message) -> Attachment:
    return Attachment.objects.get(message__conversation_id=question.conversation_id)


# --- folders and lists ------------------------------------------------------------------------


def test_folders_give_every_list_with_its_unread_count(
    sign_in: SignIn, buyer: User, question: Message
) -> None:
    response = sign_in(buyer).get("/folders")

    assert response.status_code == 200
    body = response.json()
    assert [(f["key"], f["box"], f["folder"], f["unread_count"]) for f in body["folders"]] == [
        ("all", "inbox", None, 1),
        ("buyer_seller", "inbox", "buyer_seller", 1),
        ("orders", "inbox", "orders", 0),
        ("returns", "inbox", "returns", 0),
        ("customer_service", "inbox", "customer_service", 0),
        ("claims", "inbox", "claims", 0),
        ("promotions", "inbox", "promotions", 0),
        ("notices", "inbox", "notices", 0),
        ("archive", "archive", None, 0),
        ("trash", "trash", None, 0),
    ]
    assert body["folders"][1]["label"] == "Buyer/Seller messages"
    assert body["unseen_count"] == 1


def test_marking_seen_clears_the_badge_but_not_the_unread_count(
    sign_in: SignIn, buyer: User, question: Message
) -> None:
    caller = sign_in(buyer)

    assert caller.post("/seen").json() == {"changed": 1}
    assert caller.post("/seen").json() == {"changed": 0}
    folders = caller.get("/folders").json()
    assert folders["unseen_count"] == 0
    assert folders["folders"][0]["unread_count"] == 1


def test_the_list_shows_what_a_row_of_the_message_center_shows(
    sign_in: SignIn, buyer: User, seller: User, question: Message
) -> None:
    response = sign_in(buyer).get("/conversations")

    assert response.status_code == 200
    body = response.json()
    assert body["next_cursor"] is None
    [item] = body["items"]
    last = Message.objects.filter(conversation_id=question.conversation_id).latest("id")
    assert item == {
        "id": question.conversation_id,
        "kind": "buyer_seller",
        "folder": "buyer_seller",
        "box": "inbox",
        "subject": "Question about Espresso machine",
        "counterpart": "Acme Kitchen",
        "last_message": {
            "id": last.pk,
            "sender_name": "Acme Kitchen",
            "is_official": False,
            "safety_verdict": "ok",
            "preview": "Yes, here it is on one.",
            "created_at": item["last_message"]["created_at"],
        },
        "last_activity_at": item["last_activity_at"],
        "unread_count": 1,
        "is_seen": False,
        "is_muted": False,
        "muted_until": None,
        "order_number": None,
        "product_sku": question.conversation.product.sku,  # type: ignore[union-attr]
        # The seller has not answered yet; the deadline is on the seller's row, not the buyer's.
        "response_due_at": None,
    }
    seller_view = sign_in(seller).get("/conversations").json()["items"][0]
    assert (seller_view["counterpart"], seller_view["unread_count"]) == ("Alice Buyer", 0)


def test_an_order_update_is_official_and_names_its_order(sign_in: SignIn, buyer: User) -> None:
    order = factories.OrderFactory(buyer=buyer)
    actions.send_marketplace_message(
        buyer,
        kind=Kind.ORDER_UPDATES,
        subject=f"Your order {order.number} has shipped",
        body="It is on its way.",
        topic_key=f"order:{order.pk}:updates",
        order=order,
    )

    [item] = sign_in(buyer).get("/conversations", {"folder": "orders"}).json()["items"]

    assert item["counterpart"] == "Marketplace"
    assert item["last_message"]["is_official"] is True
    assert item["last_message"]["sender_name"] == "Marketplace"
    assert item["order_number"] == order.number
    assert item["product_sku"] is None


def test_pages_continue_from_the_cursor_until_the_last(sign_in: SignIn, buyer: User) -> None:
    for _ in range(3):
        actions.ask_seller_about_product(buyer, factories.ProductFactory().pk, "Hello?")
    newest_first = list(
        Participant.objects.filter(user=buyer)
        .order_by("-last_activity_at", "-id")
        .values_list("conversation_id", flat=True)
    )
    caller = sign_in(buyer)

    first = caller.get("/conversations", {"limit": 2}).json()
    second = caller.get("/conversations", {"limit": 2, "cursor": first["next_cursor"]}).json()

    assert [item["id"] for item in first["items"]] == newest_first[:2]
    assert [item["id"] for item in second["items"]] == newest_first[2:]
    assert second["next_cursor"] is None
    # Nothing in it needs escaping: pasted into a URL as it is, it works ("+00:00" became a
    # space for a client that did not encode it).
    assert all(character.isalnum() or character in "-:.~Z" for character in first["next_cursor"])
    pasted = caller.get(f"/conversations?limit=2&cursor={first['next_cursor']}").json()
    assert [item["id"] for item in pasted["items"]] == newest_first[2:]


def test_archive_and_trash_are_lists_of_their_own(
    sign_in: SignIn, buyer: User, question: Message
) -> None:
    actions.archive_conversations(buyer, [question.conversation_id])
    caller = sign_in(buyer)

    archived = caller.get("/conversations", {"box": "archive"}).json()["items"]
    inbox = caller.get("/conversations").json()["items"]
    trash = caller.get("/conversations", {"box": "trash"}).json()["items"]

    assert [(item["id"], item["box"]) for item in archived] == [
        (question.conversation_id, "archive")
    ]
    assert inbox == []
    assert trash == []


def test_a_muted_conversation_says_until_when(
    sign_in: SignIn, buyer: User, question: Message
) -> None:
    until = timezone.now() + timedelta(days=1)
    actions.mute_conversations(buyer, [question.conversation_id], until=until)

    [item] = sign_in(buyer).get("/conversations").json()["items"]

    assert item["is_muted"] is True
    # JSON times are to the millisecond.
    assert datetime.fromisoformat(item["muted_until"]) == until.replace(
        microsecond=until.microsecond // 1000 * 1000
    )


def test_muted_until_unmuted_has_no_end_date(
    sign_in: SignIn, buyer: User, question: Message
) -> None:
    actions.mute_conversations(buyer, [question.conversation_id])

    [item] = sign_in(buyer).get("/conversations").json()["items"]

    assert (item["is_muted"], item["muted_until"]) == (True, None)


# --- one conversation and its messages ---------------------------------------------------


def test_a_conversation_comes_with_the_product_it_is_about(
    sign_in: SignIn, buyer: User, seller: User, question: Message
) -> None:
    response = sign_in(buyer).get(f"/conversations/{question.conversation_id}")

    assert response.status_code == 200
    body = response.json()
    assert body["id"] == question.conversation_id
    assert body["can_reply"] is True
    assert body["product"] == {
        "sku": question.conversation.product.sku,  # type: ignore[union-attr]
        "title": "Espresso machine",
    }
    assert body["storefront"] == {"id": seller.storefront.pk, "name": "Acme Kitchen"}  # type: ignore[attr-defined]
    assert body["order"] is None
    # Reading through the API is safe: it does not mark the conversation read.
    assert Participant.objects.get(user=buyer).unread_count == 1


def test_an_order_conversation_shows_the_order_as_the_buyers_own_only(
    sign_in: SignIn, buyer: User, seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product, status="shipped")
    message = actions.contact_seller_about_order(
        buyer,
        order.pk,
        seller.storefront.pk,
        "Where is it?",  # type: ignore[attr-defined]
    )
    path = f"/conversations/{message.conversation_id}"

    as_buyer = sign_in(buyer).get(path).json()["order"]
    as_seller = sign_in(seller).get(path).json()["order"]

    assert as_buyer == {
        "number": order.number,
        "status": "shipped",
        "status_label": "Shipped",
        "is_yours": True,
    }
    assert as_seller == {**as_buyer, "is_yours": False}


def test_marketplace_messages_cannot_be_replied_to(sign_in: SignIn, buyer: User) -> None:
    notice = actions.send_marketplace_message(
        buyer, kind=Kind.NOTICE, subject="New terms", body="Our terms change on May 1."
    )
    caller = sign_in(buyer)
    before = snapshot()

    detail = caller.get(f"/conversations/{notice.conversation_id}").json()
    reply = caller.post(f"/conversations/{notice.conversation_id}/messages", {"body": "Why?"})

    assert detail["can_reply"] is False
    assert error_of(reply) == (403, "cannot_reply")
    assert snapshot() == before


def test_messages_come_oldest_first_with_attachments(
    sign_in: SignIn, buyer: User, question: Message
) -> None:
    attachment = attachment_of(question)

    response = sign_in(buyer).get(f"/conversations/{question.conversation_id}/messages")

    assert response.status_code == 200
    body = response.json()
    assert body["has_more"] is False
    first, second = body["items"]
    assert (first["id"], first["body"], first["is_mine"], first["sender_name"]) == (
        question.pk,
        "Does it fit a 30 cm shelf?",
        True,
        "Alice Buyer",
    )
    assert first["attachments"] == []
    assert (second["body"], second["is_mine"], second["is_official"]) == (
        "Yes, here it is on one.",
        False,
        False,
    )
    assert second["attachments"] == [
        {
            "id": attachment.pk,
            "filename": "shelf.png",
            "content_type": "image/png",
            "size": len(PNG_BYTES),
            "download_url": f"/api/v1/attachments/{attachment.pk}",
        }
    ]


def test_messages_page_backwards_and_forwards_by_message_id(
    sign_in: SignIn, buyer: User, seller: User, question: Message
) -> None:
    for number in range(4):
        actions.send_message(seller, question.conversation_id, f"Note {number}")
    ids = list(
        Message.objects.filter(conversation_id=question.conversation_id)
        .order_by("id")
        .values_list("id", flat=True)
    )
    path = f"/conversations/{question.conversation_id}/messages"
    caller = sign_in(buyer)

    latest = caller.get(path, {"limit": 2}).json()
    older = caller.get(path, {"limit": 2, "before": latest["items"][0]["id"]}).json()
    oldest = caller.get(path, {"limit": 2, "before": older["items"][0]["id"]}).json()
    newer = caller.get(path, {"limit": 4, "after": ids[0]}).json()
    newest = caller.get(path, {"limit": 4, "after": ids[4]}).json()

    assert ([m["id"] for m in latest["items"]], latest["has_more"]) == (ids[4:], True)
    assert ([m["id"] for m in older["items"]], older["has_more"]) == (ids[2:4], True)
    assert ([m["id"] for m in oldest["items"]], oldest["has_more"]) == (ids[:2], False)
    assert ([m["id"] for m in newer["items"]], newer["has_more"]) == (ids[1:5], True)
    assert ([m["id"] for m in newest["items"]], newest["has_more"]) == (ids[5:], False)


def test_after_and_before_together_are_refused(buyer: User, question: Message) -> None:
    response = with_token(buyer).get(
        f"/conversations/{question.conversation_id}/messages", {"after": 1, "before": 9}
    )

    assert error_of(response) == (400, "invalid_cursor")


def test_what_a_person_deleted_stays_hidden_when_the_conversation_comes_back(
    sign_in: SignIn, buyer: User, seller: User, question: Message
) -> None:
    old_attachment = attachment_of(question)
    actions.trash_conversations(buyer, [question.conversation_id])
    actions.delete_conversations(buyer, [question.conversation_id])
    later = actions.send_message(seller, question.conversation_id, "Still interested?")
    caller = sign_in(buyer)

    messages = caller.get(f"/conversations/{question.conversation_id}/messages").json()
    download = caller.get(f"/attachments/{old_attachment.pk}")

    assert [m["id"] for m in messages["items"]] == [later.pk]
    assert error_of(download) == (404, "attachment_not_found")


def test_an_attachment_downloads_as_a_file_for_both_people(
    sign_in: SignIn, buyer: User, seller: User, question: Message
) -> None:
    attachment = attachment_of(question)

    for person in (buyer, seller):
        response = sign_in(person).get(f"/attachments/{attachment.pk}")
        assert response.status_code == 200
        assert b"".join(response.streaming_content) == PNG_BYTES  # type: ignore[attr-defined]
        assert response["Content-Type"] == "image/png"
        assert response["Content-Disposition"] == 'attachment; filename="shelf.png"'
        assert response["X-Content-Type-Options"] == "nosniff"
        # The view says private, no-store; the middleware adds the rest for a signed-in answer.
        assert (
            response["Cache-Control"] == "private, no-store, max-age=0, no-cache, must-revalidate"
        )


# --- sending ------------------------------------------------------------------------------------


def test_a_reply_as_json_is_created(sign_in: SignIn, buyer: User, question: Message) -> None:
    response = sign_in(buyer).post(
        f"/conversations/{question.conversation_id}/messages", {"body": "  Great, thanks!  "}
    )

    assert response.status_code == 201
    body = response.json()
    message = Message.objects.get(pk=body["id"])
    assert message.body == "Great, thanks!"
    assert message.sender == buyer
    assert body == {
        "id": message.pk,
        "conversation_id": question.conversation_id,
        "sender_name": "Alice Buyer",
        "is_official": False,
        "is_mine": True,
        "sent_by_email": False,
        "is_automatic_reply": False,
        "body": "Great, thanks!",
        "created_at": body["created_at"],
        "removed_at": None,
        "attachments": [],
        "safety": {"verdict": "ok", "reasons": [], "is_masked": False},
    }


def test_a_reply_as_a_multipart_form_carries_attachments(
    sign_in: SignIn, buyer: User, seller: User, question: Message
) -> None:
    response = sign_in(buyer).post_form(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Here is my shelf", "attachments": [png("mine.png"), png("also.png")]},
    )

    assert response.status_code == 201
    body = response.json()
    assert [a["filename"] for a in body["attachments"]] == ["mine.png", "also.png"]
    assert [a["content_type"] for a in body["attachments"]] == ["image/png", "image/png"]
    first = body["attachments"][0]
    download = sign_in(seller).get(first["download_url"].removeprefix("/api/v1"))
    assert download.status_code == 200


def test_a_retry_with_the_same_idempotency_key_returns_the_first_message(
    sign_in: SignIn, buyer: User, seller: User, question: Message
) -> None:
    caller = sign_in(buyer)
    path = f"/conversations/{question.conversation_id}/messages"
    key = {"Idempotency-Key": "phone-7f3a"}

    first = caller.post(path, {"body": "Ordering now"}, headers=key)
    events_after_first = snapshot()["events"]
    retry = caller.post(path, {"body": "Ordering now"}, headers=key)

    assert (first.status_code, retry.status_code) == (201, 200)
    assert retry.json() == first.json()
    assert Message.objects.filter(body="Ordering now").count() == 1
    assert snapshot()["events"] == events_after_first
    assert Participant.objects.get(user=seller).unread_count == 1


def test_a_reused_idempotency_key_with_another_body_is_a_conflict(
    buyer: User, question: Message
) -> None:
    caller = with_token(buyer)
    path = f"/conversations/{question.conversation_id}/messages"
    caller.post(path, {"body": "First"}, headers={"Idempotency-Key": "k-1"})
    before = snapshot()

    response = caller.post(path, {"body": "Second"}, headers={"Idempotency-Key": "k-1"})

    assert error_of(response) == (409, "idempotency_key_reused")
    assert snapshot() == before


def test_an_idempotency_key_over_100_characters_is_refused(buyer: User, question: Message) -> None:
    before = snapshot()

    response = with_token(buyer).post(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Hi"},
        headers={"Idempotency-Key": "k" * 101},
    )

    assert error_of(response) == (400, "invalid_idempotency_key")
    assert snapshot() == before


# HTTP headers are ASCII: "café" was taken, and kept as "cafÃ©" (its UTF-8 bytes read as
# Latin-1), though the refusal says ASCII only.
NOT_ASCII_KEYS = ["café", "ключ-1", "k\u00a01", "reply-①"]


@pytest.mark.parametrize("key", NOT_ASCII_KEYS)
def test_an_idempotency_key_that_is_not_ascii_is_refused(
    buyer: User, question: Message, key: str
) -> None:
    before = snapshot()

    response = with_token(buyer).post(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Hi"},
        headers={"Idempotency-Key": key},
    )

    assert error_of(response) == (400, "invalid_idempotency_key")
    assert "ASCII" in response.json()["error"]["message"]
    assert snapshot() == before


@pytest.mark.parametrize("key", NOT_ASCII_KEYS)
@pytest.mark.parametrize(
    "send",
    [
        lambda user, message, key: actions.send_message(
            user, message.conversation_id, "Hi", idempotency_key=key
        ),
        lambda user, message, key: actions.ask_seller_about_product(
            user, message.conversation.product_id, "Hi", idempotency_key=key
        ),
    ],
    ids=["reply", "question"],
)
def test_every_send_refuses_a_key_that_is_not_ascii(
    buyer: User, question: Message, key: str, send: Any
) -> None:
    with pytest.raises(InvalidInput) as refused:
        send(buyer, question, key)

    assert refused.value.code == "invalid_idempotency_key"


def test_a_printable_ascii_key_is_kept_as_sent(buyer: User, question: Message) -> None:
    key = "Order 112 / reply #1 ~ {ok}"

    response = with_token(buyer).post(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Hi"},
        headers={"Idempotency-Key": key},
    )

    assert response.status_code == 201
    assert Message.objects.get(pk=response.json()["id"]).idempotency_key == key


@pytest.mark.parametrize(
    ("form", "code"),
    [
        ({"body": "   "}, "empty_message"),
        ({"body": "\u202e\u202e"}, "empty_message"),  # direction overrides only
        ({"body": "\u200b\u200b"}, "empty_message"),  # zero-width spaces only
        ({"body": "x" * 10_001}, "message_too_long"),
        ({"body": "Look", "attachments": [text_named_png()]}, "attachment_type_not_allowed"),
        (
            {"body": "Look", "attachments": [png(f"{n}.png") for n in range(6)]},
            "too_many_attachments",
        ),
        (
            {"body": "Look", "attachments": [SimpleUploadedFile("empty.png", b"")]},
            "attachment_empty",
        ),
    ],
)
def test_a_refused_reply_says_why_and_changes_nothing(
    buyer: User, question: Message, form: dict[str, Any], code: str
) -> None:
    before = snapshot()

    response = with_token(buyer).post_form(
        f"/conversations/{question.conversation_id}/messages", form
    )

    assert error_of(response) == (400, code)
    assert snapshot() == before


def test_writing_to_customer_service_starts_a_conversation_about_an_order(
    sign_in: SignIn, buyer: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)

    response = sign_in(buyer).post(
        "/customer-service",
        {
            "subject": "Late parcel",
            "body": "The seller does not answer.",
            "order_number": order.number,
        },
        headers={"Idempotency-Key": "cs-1"},
    )

    assert response.status_code == 201
    participant = Participant.objects.get(user=buyer)
    assert participant.conversation.kind == Kind.CUSTOMER_SERVICE
    assert participant.conversation.order == order
    assert participant.conversation.subject == "Late parcel"
    assert response.json()["conversation_id"] == participant.conversation_id


def test_customer_service_about_someone_elses_order_is_not_found(
    buyer: User, other_buyer: User, product: Product
) -> None:
    bobs_order = factories.order_with_item(other_buyer, product)
    before = snapshot()

    response = with_token(buyer).post(
        "/customer-service",
        {"subject": "Hi", "body": "About this order", "order_number": bobs_order.number},
    )

    assert error_of(response) == (404, "order_not_found")
    assert snapshot() == before


# --- actions --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "box", "unread_count"),
    [
        ("read", Box.INBOX, 0),
        ("archive", Box.ARCHIVE, 1),
        ("trash", Box.TRASH, 1),
    ],
)
def test_an_action_changes_the_persons_own_view(
    sign_in: SignIn,
    buyer: User,
    seller: User,
    question: Message,
    action: str,
    box: str,
    unread_count: int,
) -> None:
    response = sign_in(buyer).post(
        "/conversations/actions", {"action": action, "conversation_ids": [question.conversation_id]}
    )

    assert response.json() == {"changed": 1}
    mine = Participant.objects.get(user=buyer)
    assert (mine.box, mine.unread_count) == (box, unread_count)
    assert Participant.objects.get(user=seller).box == Box.INBOX


def test_each_action_undoes_the_last(sign_in: SignIn, buyer: User, question: Message) -> None:
    caller = sign_in(buyer)
    ids = [question.conversation_id]

    def act(action: str) -> int:
        response = caller.post(
            "/conversations/actions", {"action": action, "conversation_ids": ids}
        )
        assert response.status_code == 200
        changed: int = response.json()["changed"]
        return changed

    assert [
        act(a) for a in ("read", "unread", "unread", "archive", "inbox", "trash", "restore")
    ] == [
        1,
        1,
        0,
        1,
        1,
        1,
        1,
    ]
    assert (act("trash"), act("delete")) == (1, 1)
    assert Participant.objects.get(user=buyer).box == Box.DELETED
    assert error_of(caller.get(f"/conversations/{question.conversation_id}")) == (
        404,
        "conversation_not_found",
    )


def test_delete_for_ever_only_from_trash(buyer: User, question: Message) -> None:
    before = snapshot()

    response = with_token(buyer).post(
        "/conversations/actions",
        {"action": "delete", "conversation_ids": [question.conversation_id]},
    )

    assert error_of(response) == (400, "not_in_trash")
    assert snapshot() == before


@pytest.mark.parametrize(("mute", "days"), [({"mute_for": "1d"}, 1), ({"mute_for": "7d"}, 7)])
def test_mute_for_a_day_or_a_week(
    sign_in: SignIn, buyer: User, question: Message, mute: dict[str, str], days: int
) -> None:
    started = timezone.now()

    response = sign_in(buyer).post(
        "/conversations/actions",
        {"action": "mute", "conversation_ids": [question.conversation_id], **mute},
    )

    assert response.json() == {"changed": 1}
    muted_until = Participant.objects.get(user=buyer).muted_until
    assert muted_until is not None
    assert started + timedelta(days=days) <= muted_until <= timezone.now() + timedelta(days=days)


@pytest.mark.parametrize("mute", [{}, {"mute_for": "forever"}])
def test_mute_until_unmuted(buyer: User, question: Message, mute: dict[str, str]) -> None:
    caller = with_token(buyer)
    ids = [question.conversation_id]

    caller.post("/conversations/actions", {"action": "mute", "conversation_ids": ids, **mute})
    assert Participant.objects.get(user=buyer).muted_until == MUTED_INDEFINITELY

    caller.post("/conversations/actions", {"action": "unmute", "conversation_ids": ids})
    assert Participant.objects.get(user=buyer).muted_until is None


def test_mute_until_a_given_time(buyer: User, question: Message) -> None:
    response = with_token(buyer).post(
        "/conversations/actions",
        {
            "action": "mute",
            "conversation_ids": [question.conversation_id],
            "mute_until": "2199-01-02T03:04:05+02:00",
        },
    )

    assert response.json() == {"changed": 1}
    muted_until = Participant.objects.get(user=buyer).muted_until
    assert muted_until is not None
    assert muted_until.isoformat() == "2199-01-02T01:04:05+00:00"


@pytest.mark.parametrize(
    ("extra", "status", "code"),
    [
        ({"action": "mute", "mute_until": "2001-01-01T00:00:00Z"}, 400, "invalid_mute_until"),
        (
            {"action": "mute", "mute_until": "2100-01-01T00:00:00Z", "mute_for": "1d"},
            400,
            "invalid_mute_options",
        ),
        ({"action": "archive", "mute_for": "1d"}, 400, "invalid_mute_options"),
        ({"action": "mute", "mute_until": "2999-01-01T00:00:00"}, 422, "invalid_input"),
        ({"action": "mute", "mute_for": "1y"}, 422, "invalid_input"),
        ({"action": "shred"}, 422, "invalid_input"),
    ],
)
def test_a_refused_action_says_why_and_changes_nothing(
    buyer: User, question: Message, extra: dict[str, str], status: int, code: str
) -> None:
    before = snapshot()

    response = with_token(buyer).post(
        "/conversations/actions", {"conversation_ids": [question.conversation_id], **extra}
    )

    assert error_of(response) == (status, code)
    assert snapshot() == before


@pytest.mark.parametrize(
    ("conversation_ids", "code"),
    [([], "no_conversations"), (list(range(1, 502)), "too_many_conversations")],
)
def test_bulk_actions_take_1_to_500_conversations(
    buyer: User, question: Message, conversation_ids: list[int], code: str
) -> None:
    response = with_token(buyer).post(
        "/conversations/actions", {"action": "read", "conversation_ids": conversation_ids}
    )

    assert error_of(response) == (400, code)


def test_one_foreign_id_fails_the_whole_bulk_action(
    buyer: User, other_buyer: User, question: Message, product: Product
) -> None:
    bobs = actions.ask_seller_about_product(other_buyer, product.pk, "Mine")
    before = snapshot()

    response = with_token(buyer).post(
        "/conversations/actions",
        {"action": "trash", "conversation_ids": [question.conversation_id, bobs.conversation_id]},
    )

    assert error_of(response) == (404, "conversation_not_found")
    assert snapshot() == before


# --- CSRF -----------------------------------------------------------------------------------


def test_session_writes_need_the_csrf_token_and_change_nothing_without_it(
    buyer: User, question: Message
) -> None:
    browser = with_session(buyer, csrf=False)
    before = snapshot()

    action = browser.post(
        "/conversations/actions", {"action": "read", "conversation_ids": [question.conversation_id]}
    )
    reply = browser.post(f"/conversations/{question.conversation_id}/messages", {"body": "Hi"})
    seen = browser.post("/seen")

    assert error_of(action) == (403, "csrf_failed")
    assert error_of(reply) == (403, "csrf_failed")
    assert error_of(seen) == (403, "csrf_failed")
    assert snapshot() == before
    assert browser.get("/folders").status_code == 200


def test_a_token_needs_no_csrf_token(buyer: User, question: Message) -> None:
    device = with_token(buyer)
    assert "X-CSRFToken" not in device.headers

    response = device.post(
        "/conversations/actions", {"action": "read", "conversation_ids": [question.conversation_id]}
    )

    assert response.json() == {"changed": 1}


# --- nobody reaches what is not theirs --------------------------------------------------------

ROUTES: dict[str, tuple[str, str, dict[str, Any] | None]] = {
    "read the conversation": ("GET", "/conversations/{id}", None),
    "read its messages": ("GET", "/conversations/{id}/messages", None),
    "reply": ("POST", "/conversations/{id}/messages", {"body": "Let me in"}),
    **{
        f"action {action}": (
            "POST",
            "/conversations/actions",
            {"action": action, "conversation_ids": ["{id}"]},
        )
        for action in (
            "read",
            "unread",
            "archive",
            "inbox",
            "trash",
            "restore",
            "delete",
            "mute",
            "unmute",
        )
    },
    "download its attachment": ("GET", "/attachments/{attachment}", None),
}


def call(caller: Caller, route: tuple[str, str, dict[str, Any] | None], ids: dict[str, int]) -> Any:
    method, path, data = route
    path = path.format(**ids)
    if method == "GET":
        return caller.get(path)
    filled = {
        key: [ids["id"]] if value == ["{id}"] else value for key, value in (data or {}).items()
    }
    return caller.post(path, filled)


@pytest.fixture(params=["other_buyer", "other_seller", "agent"])
def intruder(request: pytest.FixtureRequest) -> User:
    user: User = request.getfixturevalue(request.param)
    return user


@pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES.keys())
def test_nobody_else_reaches_a_conversation_and_it_looks_missing(
    sign_in: SignIn,
    intruder: User,
    question: Message,
    route: tuple[str, str, dict[str, Any] | None],
) -> None:
    caller = sign_in(intruder)
    before = snapshot()

    foreign = call(
        caller, route, {"id": question.conversation_id, "attachment": attachment_of(question).pk}
    )
    missing = call(caller, route, {"id": MISSING, "attachment": MISSING})

    assert foreign.status_code == 404
    assert foreign.json() == missing.json()
    assert snapshot() == before


@pytest.mark.parametrize("route", ROUTES.values(), ids=ROUTES.keys())
def test_anonymous_requests_are_refused_and_change_nothing(
    question: Message, route: tuple[str, str, dict[str, Any] | None]
) -> None:
    before = snapshot()

    response = call(
        anonymous(),
        route,
        {"id": question.conversation_id, "attachment": attachment_of(question).pk},
    )

    assert error_of(response) == (401, "not_authenticated")
    assert snapshot() == before


# --- exact query counts ------------------------------------------------------------------


def busy_seller(seller: User, conversations: int) -> None:
    for _ in range(conversations):
        product = factories.ProductFactory(storefront=seller.storefront)  # type: ignore[attr-defined]
        actions.ask_seller_about_product(factories.BuyerFactory(), product.pk, "In stock?")


def warmed_device(user: User) -> Caller:
    """A device that has just made a request, so its token's last use is not rewritten."""
    device = with_token(user)
    device.get("/me")
    return device


@pytest.mark.parametrize("conversations", [3, 60])
def test_a_page_of_conversations_costs_the_same_whatever_the_inbox(
    seller: User, conversations: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    busy_seller(seller, conversations)
    device = warmed_device(seller)

    # The token (with its person), the page (with the planner's settings around it on
    # PostgreSQL: db/plans.py).
    with django_assert_num_queries(2 + PLANNER_SETTINGS):
        response = device.get("/conversations", {"limit": 25})

    assert len(response.json()["items"]) == min(conversations, 25)


@pytest.mark.parametrize("conversations", [3, 60])
def test_a_page_of_conversations_with_a_session_costs_the_same_whatever_the_inbox(
    seller: User, conversations: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    busy_seller(seller, conversations)
    browser = with_session(seller)

    # The session, the person, the page (and the planner's settings on PostgreSQL).
    with django_assert_num_queries(3 + PLANNER_SETTINGS):
        response = browser.get("/conversations", {"limit": 25})

    assert len(response.json()["items"]) == min(conversations, 25)


@pytest.mark.parametrize("conversations", [3, 60])
def test_folder_counts_are_one_query(
    seller: User, conversations: int, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    busy_seller(seller, conversations)
    device = warmed_device(seller)

    # The token, the counters.
    with django_assert_num_queries(2):
        response = device.get("/folders")

    assert response.json()["folders"][1]["unread_count"] == conversations


def test_a_tokens_first_use_in_a_minute_costs_one_write(
    seller: User, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    token, secret = account_actions.create_api_token(seller, "Phone")
    device = Caller(with_token(seller).client, {"Authorization": f"Bearer {secret}"})
    assert token.last_used_at is None

    # The token, its last use, the counters.
    with django_assert_num_queries(3):
        device.get("/folders")

    # The one write is the last use, recorded.
    token.refresh_from_db()
    assert token.last_used_at is not None


def test_a_reply_through_the_api_costs_the_token_the_action_and_its_attachments(
    buyer: User, seller: User, question: Message, django_assert_num_queries: DjangoAssertNumQueries
) -> None:
    device = warmed_device(seller)
    path = f"/conversations/{question.conversation_id}/messages"
    # The token (with its person); savepoint, the idempotency key's lookup, the reply's 13
    # statements when the buyer is unread already and waits for nothing (12, and the upsert
    # of the sending limits' counts: tests/conversations/test_query_counts.py), release.
    # Not the answer's attachments: the send has them at hand (a retry reads them). No
    # access check before the action (it finds the person among the locked participants)
    # and no second key lookup to tell a retry (the action marks what it found).
    with django_assert_num_queries(16):
        sent = device.post(path, {"body": "Yes, 28 cm."}, headers={"Idempotency-Key": "r-1"})
    with django_assert_num_queries(5):
        retry = device.post(path, {"body": "Yes, 28 cm."}, headers={"Idempotency-Key": "r-1"})

    assert (sent.status_code, retry.status_code) == (201, 200)
    assert retry.json() == sent.json()


def test_a_reply_to_a_conversation_not_yours_stores_nothing(buyer: User, question: Message) -> None:
    stranger = factories.BuyerFactory()
    before = snapshot()

    as_json = with_token(stranger).post(
        f"/conversations/{question.conversation_id}/messages", {"body": "Hi"}
    )
    # Bytes no other test uploads: the file must not be in storage afterwards.
    upload = SimpleUploadedFile("mine.png", unique_png(secrets.token_hex(8)), "image/png")
    with_files = with_token(stranger).post_form(
        f"/conversations/{question.conversation_id}/messages",
        {"body": "Hi", "attachments": [upload]},
    )

    assert error_of(as_json) == (404, "conversation_not_found")
    assert error_of(with_files) == (404, "conversation_not_found")
    assert snapshot() == before
    upload.seek(0)
    sha256 = hashlib.sha256(upload.read()).hexdigest()
    assert not default_storage.exists(f"attachments/{sha256[:2]}/{sha256}")
