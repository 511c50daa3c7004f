"""Retention per message kind (docs/privacy.md#how-long-we-keep-messages): the worker's
purge deletes each kind at its age and not a minute before — messages, attachments and
their files, search entries, mailbox rows, people's copies — keeps the counters equal to
a recount, and leaves what the operator must keep."""

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from pytest_django.fixtures import DjangoCaptureOnCommitCallbacks, Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import (
    Attachment,
    Conversation,
    Kind,
    Message,
    Participant,
    UnreadCounter,
)
from messagecenter.marketplace.models import Order, Product
from messagecenter.notifications.models import Broadcast, BroadcastKind, BroadcastState
from messagecenter.privacy.retention_actions import purge_past_retention
from messagecenter.search.models import BroadcastDocument, MailboxMessage, SearchDocument
from messagecenter.server.scheduler import PERIODIC
from messagecenter.support import actions as support_actions
from messagecenter.support.models import Case, CaseStatus
from tests import factories
from tests.conversations.helpers import recounted_unread
from tests.web.helpers import unique_png

pytestmark = pytest.mark.django_db

PNG = unique_png("milk")
DAY = timedelta(days=1)
MINUTE = timedelta(minutes=1)


START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class Clock:
    def __init__(self) -> None:
        self.now = START

    def __call__(self) -> datetime:
        return self.now


@pytest.fixture(autouse=True)
def clock() -> Iterator[Clock]:
    """Every timezone.now() of the code under test reads this frozen time."""
    frozen = Clock()
    with mock.patch("django.utils.timezone.now", frozen):
        yield frozen


def stored_counters(user: User) -> dict[str, int]:
    """The unread counters as the actions maintain them (without broadcasts, which the
    Message Center counts when it reads them)."""
    return dict(
        UnreadCounter.objects.filter(user=user)
        .exclude(conversations=0)
        .values_list("key", "conversations")
    )


def last_message_at(conversation_id: int) -> datetime:
    found = Conversation.objects.get(pk=conversation_id).last_message_at
    assert found is not None
    return found


def purge_at(moment: datetime, captured: DjangoCaptureOnCommitCallbacks) -> dict[str, int]:
    with captured(execute=True):
        return purge_past_retention(now=moment)


def assert_gone(conversation_id: int, message_ids: list[int]) -> None:
    assert not Message.objects.filter(conversation_id=conversation_id).exists()
    assert not SearchDocument.objects.filter(message_id__in=message_ids).exists()
    assert not MailboxMessage.objects.filter(message_id__in=message_ids).exists()
    assert not Participant.objects.filter(
        conversation_id=conversation_id, box__in=("inbox", "archive", "trash")
    ).exists()


def test_buyer_seller_conversation_is_deleted_at_its_age_and_not_before(
    buyer: User,
    seller: User,
    product: Product,
    clock: Clock,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    question = conversation_actions.ask_seller_about_product(
        buyer,
        product.pk,
        "Does it froth milk?",
        attachments=[SimpleUploadedFile("milk.png", PNG, content_type="image/png")],
    )
    clock.now = START + 3 * DAY
    answer = conversation_actions.send_message(seller, question.conversation_id, "Yes, it does.")
    conversation_id = question.conversation_id
    stored = Path(settings.MEDIA_ROOT) / Attachment.objects.get().file.name
    assert stored.exists()
    assert stored_counters(buyer) == {"buyer_seller": 1, "unseen": 1}
    # Counted from the conversation's last message, the answer.
    deadline = START + 3 * DAY + settings.RETENTION_BUYER_SELLER_DAYS * DAY

    assert purge_at(deadline - MINUTE, django_capture_on_commit_callbacks)["buyer_seller"] == 0
    assert Message.objects.filter(conversation_id=conversation_id).count() == 2
    assert stored.exists()

    assert purge_at(deadline + MINUTE, django_capture_on_commit_callbacks)["buyer_seller"] == 1
    assert_gone(conversation_id, [question.pk, answer.pk])
    assert not Conversation.objects.filter(pk=conversation_id).exists()
    assert not Attachment.objects.exists()
    assert not stored.exists()
    for person in (buyer, seller):
        assert stored_counters(person) == recounted_unread(person) == {}


def test_a_message_sent_later_keeps_the_conversation(
    buyer: User,
    seller: User,
    product: Product,
    clock: Clock,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    first_deadline = START + settings.RETENTION_BUYER_SELLER_DAYS * DAY
    clock.now = START + 100 * DAY
    conversation_actions.send_message(seller, question.conversation_id, "Yes.")
    # The purge chose it by the old last message; the action looks again under the locks.
    assert (
        conversation_actions.delete_conversations_for_everyone(
            [question.conversation_id],
            last_message_before=last_message_at(question.conversation_id),
            keep_rows=set(),
        )
        == 0
    )
    assert purge_at(first_deadline + MINUTE, django_capture_on_commit_callbacks) == {
        "promotions": 0,
        "notices": 0,
        "buyer_seller": 0,
        "customer_service": 0,
    }
    assert Message.objects.filter(conversation_id=question.conversation_id).count() == 2
    clock.now = first_deadline + 100 * DAY + MINUTE
    assert purge_at(clock.now, django_capture_on_commit_callbacks)["buyer_seller"] == 1


def test_customer_service_waits_for_the_case_and_keeps_it(
    buyer: User, django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks
) -> None:
    case = support_actions.open_request(buyer, "Where is my parcel", "It has not come.")
    assert case.conversation_id is not None
    message_ids = list(
        Message.objects.filter(conversation_id=case.conversation_id).values_list("pk", flat=True)
    )
    deadline = (
        last_message_at(case.conversation_id) + settings.RETENTION_CUSTOMER_SERVICE_DAYS * DAY
    )
    # Still open: kept, whatever its age.
    assert purge_at(deadline + DAY, django_capture_on_commit_callbacks)["customer_service"] == 0

    agent = factories.agent_in_team("customer-service")
    support_actions.set_case_status(agent, case.pk, CaseStatus.SOLVED)
    deadline = (
        last_message_at(case.conversation_id) + settings.RETENTION_CUSTOMER_SERVICE_DAYS * DAY
    )
    assert purge_at(deadline - MINUTE, django_capture_on_commit_callbacks)["customer_service"] == 0
    assert Message.objects.filter(conversation_id=case.conversation_id).exists()

    assert purge_at(deadline + MINUTE, django_capture_on_commit_callbacks)["customer_service"] == 1
    assert_gone(case.conversation_id, message_ids)
    # The case is the operator's record: it stays, with its (now empty) conversation.
    kept = Case.objects.get(pk=case.pk)
    assert (kept.status, kept.conversation_id) == (CaseStatus.SOLVED, case.conversation_id)
    for person in (buyer, agent):
        assert stored_counters(person) == recounted_unread(person)
    # Nothing left to purge: a second run changes nothing.
    assert purge_at(deadline + DAY, django_capture_on_commit_callbacks)["customer_service"] == 0


@pytest.mark.parametrize(
    ("rule", "setting", "kind", "broadcast_kind"),
    [
        ("notices", "RETENTION_NOTICES_DAYS", Kind.NOTICE, BroadcastKind.NOTICE),
        ("notices", "RETENTION_NOTICES_DAYS", Kind.MEMBERSHIP, BroadcastKind.NOTICE),
        ("promotions", "RETENTION_PROMOTIONS_DAYS", Kind.PROMOTION, BroadcastKind.PROMOTION),
    ],
)
def test_notices_and_promotions_are_deleted_at_their_age_and_not_before(
    buyer: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
    rule: str,
    setting: str,
    kind: str,
    broadcast_kind: str,
) -> None:
    message = conversation_actions.send_marketplace_message(
        buyer, kind=kind, subject="Your account", body="Something about your account."
    )
    broadcast: Broadcast = factories.BroadcastFactory(
        kind=broadcast_kind, send_at=message.created_at
    )
    BroadcastDocument.objects.create(broadcast=broadcast, tokens="offer", subject_tokens="offer")
    BroadcastState.objects.create(user=buyer, broadcast=broadcast, updated_at=message.created_at)
    # One that ends a week after it was sent counts from its end.
    ending: Broadcast = factories.BroadcastFactory(
        kind=broadcast_kind, send_at=message.created_at, expires_at=message.created_at + 7 * DAY
    )
    days = getattr(settings, setting) * DAY
    deadline = last_message_at(message.conversation_id) + days

    assert purge_at(deadline - MINUTE, django_capture_on_commit_callbacks)[rule] == 0
    assert Broadcast.objects.count() == 2
    assert Message.objects.filter(pk=message.pk).exists()

    assert purge_at(deadline + MINUTE, django_capture_on_commit_callbacks)[rule] == 2
    assert_gone(message.conversation_id, [message.pk])
    assert list(Broadcast.objects.values_list("pk", flat=True)) == [ending.pk]
    assert not BroadcastState.objects.exists()
    assert not BroadcastDocument.objects.exists()
    assert stored_counters(buyer) == recounted_unread(buyer) == {}

    assert purge_at(deadline + 7 * DAY + MINUTE, django_capture_on_commit_callbacks)[rule] == 1
    assert not Broadcast.objects.exists()


def test_order_updates_and_claims_have_no_rule_and_forever_keeps(
    buyer: User,
    seller: User,
    product: Product,
    settings: Settings,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    order = factories.order_with_item(buyer, product)
    update = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Shipped", body="On its way.", order=order
    )
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Colour?")
    settings.RETENTION_BUYER_SELLER_DAYS = None

    assert purge_at(update.created_at + 100 * 365 * DAY, django_capture_on_commit_callbacks) == {
        "promotions": 0,
        "notices": 0,
        "customer_service": 0,
    }
    assert Message.objects.filter(pk__in=[update.pk, question.pk]).count() == 2
    assert Order.objects.filter(pk=order.pk).exists()


def test_an_order_conversation_keeps_its_row_and_the_order(
    buyer: User,
    seller: User,
    product: Product,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    order = factories.order_with_item(buyer, product)
    message = conversation_actions.contact_seller_about_order(
        buyer, order.pk, seller.storefront.pk, "Gift wrap?"
    )
    deadline = last_message_at(message.conversation_id) + settings.RETENTION_BUYER_SELLER_DAYS * DAY

    assert purge_at(deadline + MINUTE, django_capture_on_commit_callbacks)["buyer_seller"] == 1
    assert_gone(message.conversation_id, [message.pk])
    assert Conversation.objects.filter(pk=message.conversation_id, order=order).exists()
    for person in (buyer, seller):
        assert stored_counters(person) == recounted_unread(person) == {}


def test_the_purge_goes_in_batches_until_nothing_is_left(
    buyer: User,
    seller: User,
    django_capture_on_commit_callbacks: DjangoCaptureOnCommitCallbacks,
) -> None:
    products = [factories.ProductFactory(storefront=seller.storefront) for _ in range(5)]
    for product in products:
        conversation_actions.ask_seller_about_product(buyer, product.pk, "Still sold?")
    newest = Conversation.objects.order_by("-last_message_at").values_list(
        "last_message_at", flat=True
    )[0]
    assert newest is not None
    moment = newest + settings.RETENTION_BUYER_SELLER_DAYS * DAY + MINUTE

    with django_capture_on_commit_callbacks(execute=True):
        assert purge_past_retention(now=moment, batch_size=2)["buyer_seller"] == 5
    assert not Conversation.objects.exists()
    for person in (buyer, seller):
        assert stored_counters(person) == recounted_unread(person) == {}


def test_the_worker_runs_the_purge_every_hour() -> None:
    scheduled = {periodic.task.name: periodic.every for periodic in PERIODIC}
    assert scheduled["purge_past_retention"] == timedelta(hours=1)


def test_the_rules_page_and_api_tell_the_settings(settings: Settings, buyer: User) -> None:
    settings.RETENTION_PROMOTIONS_DAYS = 90
    settings.RETENTION_CUSTOMER_SERVICE_DAYS = None
    page = Client().get("/privacy/retention/")
    assert page.status_code == 200
    text = page.content.decode()
    assert "90 days" in text
    assert "Until you delete them" in text

    client = Client()
    client.force_login(buyer)
    assert 'href="/privacy/retention/"' in client.get("/account/").content.decode()
    rules = client.get("/api/v1/retention-rules")
    assert rules.status_code == 200
    assert [(rule["kind"], rule["days"]) for rule in rules.json()] == [
        ("promotions", 90),
        ("notices", 1095),
        ("buyer_seller", 730),
        ("customer_service", None),
    ]
