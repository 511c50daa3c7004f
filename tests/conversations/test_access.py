"""No action reaches a conversation through someone else: a buyer who is not in a
conversation gets the same "not found" as for one that does not exist, and nothing changes."""

from collections.abc import Callable
from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from messagecenter.accounts.models import User
from messagecenter.conversations import actions, queries
from messagecenter.conversations.models import Attachment
from messagecenter.errors import NotFound
from messagecenter.marketplace.models import Product
from tests.conversations.helpers import snapshot
from tests.web.helpers import PNG_BYTES

pytestmark = pytest.mark.django_db

MISSING = 987_654

ATTEMPTS: dict[str, Callable[[User, int], Any]] = {
    "read it": lambda user, cid: queries.access_conversation(user, cid),
    "reply": lambda user, cid: actions.send_message(user, cid, "Let me in"),
    "reply with a key": lambda user, cid: actions.send_message(
        user, cid, "Let me in", idempotency_key="k"
    ),
    "mark read": lambda user, cid: actions.mark_read(user, [cid]),
    "mark unread": lambda user, cid: actions.mark_unread(user, [cid]),
    "archive": lambda user, cid: actions.archive_conversations(user, [cid]),
    "move to inbox": lambda user, cid: actions.move_to_inbox(user, [cid]),
    "trash": lambda user, cid: actions.trash_conversations(user, [cid]),
    "restore": lambda user, cid: actions.restore_conversations(user, [cid]),
    "delete for ever": lambda user, cid: actions.delete_conversations(user, [cid]),
    "mute": lambda user, cid: actions.mute_conversations(user, [cid]),
    "unmute": lambda user, cid: actions.unmute_conversations(user, [cid]),
}


@pytest.fixture
def alices_conversation(buyer: User, seller: User, product: Product) -> int:
    question = actions.ask_seller_about_product(
        buyer,
        product.pk,
        "Here is my address and a photo",
        attachments=[SimpleUploadedFile("photo.png", PNG_BYTES)],
    )
    actions.send_message(seller, question.conversation_id, "Thanks!")
    # Trashed by one side so restore/delete have something to act on for the owner.
    actions.trash_conversations(seller, [question.conversation_id])
    return question.conversation_id


@pytest.mark.parametrize("attempt", ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_another_buyer_cannot_reach_a_conversation_through_any_action(
    other_buyer: User, alices_conversation: int, attempt: Callable[[User, int], Any]
) -> None:
    before = snapshot()

    with pytest.raises(NotFound) as foreign:
        attempt(other_buyer, alices_conversation)
    with pytest.raises(NotFound) as missing:
        attempt(other_buyer, MISSING)

    assert (foreign.value.code, foreign.value.message) == (
        missing.value.code,
        missing.value.message,
    )
    assert snapshot() == before


@pytest.mark.parametrize("attempt", ATTEMPTS.values(), ids=ATTEMPTS.keys())
def test_another_seller_cannot_reach_a_conversation_through_any_action(
    other_seller: User, alices_conversation: int, attempt: Callable[[User, int], Any]
) -> None:
    before = snapshot()
    with pytest.raises(NotFound):
        attempt(other_seller, alices_conversation)
    assert snapshot() == before


def test_another_buyer_cannot_download_an_attachment(
    other_buyer: User, buyer: User, alices_conversation: int
) -> None:
    attachment = Attachment.objects.get(message__conversation_id=alices_conversation)
    assert queries.access_attachment(buyer, attachment.pk) == attachment
    with pytest.raises(NotFound) as error:
        queries.access_attachment(other_buyer, attachment.pk)
    assert error.value.code == "attachment_not_found"


@pytest.mark.parametrize("bad_id", ["abc", "", None, "1 OR 1=1", -1, 0])
def test_malformed_ids_are_not_found(buyer: User, bad_id: object) -> None:
    with pytest.raises(NotFound):
        queries.access_conversation(buyer, bad_id)
    with pytest.raises(NotFound):
        actions.mark_read(buyer, [bad_id])
