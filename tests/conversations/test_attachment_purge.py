"""Attachment files are content-addressed, so a purge can delete a file that a message
being sent at that moment shares. No acknowledged attachment may lose its file: a purge
and a send hold the content's lock in turn, and a send that finds its file gone stores it
again (conversations.actions.attachments.keep_files, purge._delete_unused_files)."""

from typing import Any

import pytest
from django.core.files.storage import default_storage

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.actions import sending
from messagecenter.conversations.models import Attachment
from messagecenter.marketplace.models import Product
from tests import factories
from tests.api.helpers import with_token
from tests.web.helpers import PNG_BYTES, png

pytestmark = pytest.mark.django_db


def test_a_purge_between_storing_and_sending_the_same_bytes_never_loses_the_file(
    buyer: User,
    seller: User,
    product: Product,
    monkeypatch: pytest.MonkeyPatch,
    django_capture_on_commit_callbacks: Any,
) -> None:
    # An old conversation with the picture, which both people delete for ever...
    old = actions.ask_seller_about_product(buyer, product.pk, "Old", attachments=[png()])
    for person in (buyer, seller):
        actions.trash_conversations(person, [old.conversation_id])
    actions.delete_conversations(buyer, [old.conversation_id])
    other_product = factories.ProductFactory(storefront=product.storefront)
    store = sending.store_attachments

    # ...the last of them exactly when a new message with the same picture has found the
    # file on disk and not yet committed.
    def store_then_purge(uploads: Any) -> Any:
        stored = store(uploads)
        with django_capture_on_commit_callbacks(execute=True):
            actions.delete_conversations(seller, [old.conversation_id])
        return stored

    monkeypatch.setattr(sending, "store_attachments", store_then_purge)
    new = actions.ask_seller_about_product(
        buyer, other_product.pk, "New", attachments=[png("again.png")]
    )

    attachment = Attachment.objects.get(message=new)
    assert not Attachment.objects.filter(message=old).exists()
    assert default_storage.exists(attachment.file.name)
    download = with_token(buyer).get(f"/attachments/{attachment.pk}")
    assert download.status_code == 200
    assert b"".join(download.streaming_content) == PNG_BYTES  # type: ignore[attr-defined]
