"""Deleting a conversation for ever takes what was written out of the person's event log
too: the events keep their places, not the previews
(realtime.actions.forget_conversation_content)."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Participant
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import UserEvent

pytestmark = pytest.mark.django_db

SECRET = "my new address is 12 Hidden Lane"


def log_text(user: User) -> str:
    return json.dumps(list(UserEvent.objects.filter(user=user).values_list("payload", flat=True)))


def test_delete_for_ever_removes_previews_from_the_log_and_keeps_positions(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, f"Hi, {SECRET}")
    actions.send_message(seller, question.conversation_id, f"Noted: {SECRET}")
    other = actions.contact_customer_service(buyer, "Help", "Keep this one")
    # In sequence order: PostgreSQL returns rows in no set order, and the rewritten
    # previews move theirs.
    sequences = list(
        UserEvent.objects.filter(user=buyer).order_by("sequence").values_list("sequence", flat=True)
    )
    actions.trash_conversations(buyer, [question.conversation_id])

    actions.delete_conversations(buyer, [question.conversation_id])

    assert SECRET not in log_text(buyer)
    assert "Keep this one" in log_text(buyer)
    # The seller did not delete it: their log is theirs.
    assert SECRET in log_text(seller)
    assert (
        list(
            UserEvent.objects.filter(user=buyer, sequence__lte=sequences[-1])
            .order_by("sequence")
            .values_list("sequence", flat=True)
        )
        == sequences
    )
    removed = UserEvent.objects.filter(user=buyer, kind="message.created").exclude(
        payload__conversation_id=other.conversation_id
    )
    assert {tuple(sorted(event.payload)) for event in removed} == {
        (
            "box",
            "content_removed",
            "conversation_id",
            "created_at",
            "folder",
            "is_muted",
            "message_id",
            "unread_count",
        )
    }


def test_the_trash_purge_removes_previews_from_the_log(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, f"Hi, {SECRET}")
    actions.trash_conversations(buyer, [question.conversation_id])
    Participant.objects.filter(user=buyer).update(trashed_at=timezone.now() - timedelta(days=31))

    actions.purge_expired_trash()

    assert SECRET not in log_text(buyer)
