"""Sending limits (docs/safety.md#sending-limits): per minute, hour and day, stricter for
new accounts and for first contacts; 429 with Retry-After in the API, the reason on the
page; a refused message changes nothing and is not counted."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.urls import reverse
from django.utils import timezone
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message
from messagecenter.errors import TooManyRequests
from messagecenter.marketplace.models import Product
from messagecenter.safety import limits
from messagecenter.safety.models import SendingCount
from tests import factories
from tests.api.helpers import error_of, with_token

pytestmark = pytest.mark.django_db

# 10:00:30 UTC on a day: 30 s left in the minute, 59 min 30 s in the hour.
START = 1_796_205_630.0


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [START]
    monkeypatch.setattr(limits, "_now", lambda: now[0])
    return now


@pytest.fixture
def strict(settings: Settings) -> None:
    settings.SAFETY_SEND_LIMITS = ["minute=3", "hour=5", "day=8"]
    settings.SAFETY_NEW_ACCOUNT_SEND_LIMITS = ["minute=2", "hour=4", "day=6"]
    settings.SAFETY_FIRST_CONTACT_LIMITS = ["hour=2"]
    settings.SAFETY_NEW_ACCOUNT_FIRST_CONTACT_LIMITS = ["hour=1"]


def established_buyer() -> User:
    return factories.BuyerFactory(date_joined=timezone.now() - timedelta(days=30))


def answered_question(buyer: User, product: Product) -> int:
    question = actions.ask_seller_about_product(buyer, product.pk, "Is it in stock?")
    actions.send_message(product.storefront.seller, question.conversation_id, "Yes, it is.")
    return question.conversation_id


def messages_in(conversation_id: int) -> int:
    return Message.objects.filter(conversation_id=conversation_id).count()


@pytest.mark.usefixtures("strict")
def test_an_established_buyer_may_send_three_a_minute_and_is_told_when_to_try_again(
    product: Product, clock: list[float]
) -> None:
    buyer = established_buyer()
    conversation_id = answered_question(buyer, product)
    for number in (2, 3):
        actions.send_message(buyer, conversation_id, f"Question {number}")

    with pytest.raises(TooManyRequests) as refused:
        actions.send_message(buyer, conversation_id, "Question 4")

    assert refused.value.code == "too_many_messages"
    assert refused.value.status == 429
    assert refused.value.retry_after == 31
    assert refused.value.message == (
        "You have reached the limit of 3 messages per minute, so this message was not sent. "
        "You can send again in 31 seconds."
    )
    assert messages_in(conversation_id) == 4
    # The refused message was not counted.
    assert SendingCount.objects.get(user=buyer).minute_sends == 3
    clock[0] += 31
    actions.send_message(buyer, conversation_id, "Question 4")
    assert messages_in(conversation_id) == 5


@pytest.mark.usefixtures("strict")
def test_a_new_account_has_the_stricter_limit(product: Product, clock: list[float]) -> None:
    buyer = factories.BuyerFactory()  # joined just now
    conversation_id = answered_question(buyer, product)
    actions.send_message(buyer, conversation_id, "Question 2")

    with pytest.raises(TooManyRequests) as refused:
        actions.send_message(buyer, conversation_id, "Question 3")

    assert "2 messages per minute while your account is new" in refused.value.message


@pytest.mark.usefixtures("strict")
def test_the_hour_and_the_day_are_limits_of_their_own(product: Product, clock: list[float]) -> None:
    buyer = established_buyer()
    conversation_id = answered_question(buyer, product)
    for number in range(2, 6):
        clock[0] += 60
        actions.send_message(buyer, conversation_id, f"Question {number}")
    clock[0] += 60

    with pytest.raises(TooManyRequests) as hourly:
        actions.send_message(buyer, conversation_id, "Question 6")

    # 10:05:30: the hour ends in 54 min 30 s.
    assert hourly.value.retry_after == 3271
    assert "5 messages per hour" in hourly.value.message
    assert "You can send again in 55 minutes." in hourly.value.message
    clock[0] += 3600
    for number in range(6, 9):
        clock[0] += 60
        actions.send_message(buyer, conversation_id, f"Question {number}")
    clock[0] += 60
    with pytest.raises(TooManyRequests) as daily:
        actions.send_message(buyer, conversation_id, "Question 9")
    assert "8 messages per day" in daily.value.message
    assert "hours" in daily.value.message
    clock[0] += 86400
    actions.send_message(buyer, conversation_id, "Question 9")


@pytest.mark.usefixtures("strict")
def test_first_contacts_are_limited_apart_and_answered_conversations_are_not_first_contacts(
    product: Product, clock: list[float]
) -> None:
    buyer = established_buyer()
    conversation_id = answered_question(buyer, product)
    other_products = [factories.ProductFactory() for _ in range(2)]
    actions.ask_seller_about_product(buyer, other_products[0].pk, "Do you ship abroad?")

    with pytest.raises(TooManyRequests) as refused:
        actions.ask_seller_about_product(buyer, other_products[1].pk, "Do you ship abroad?")

    assert refused.value.code == "first_contact_limit"
    assert "2 messages per hour to people who have not written to you yet" in refused.value.message
    assert not Message.objects.filter(conversation__product=other_products[1]).exists()
    # The seller who answered is no first contact.
    clock[0] += 60
    actions.send_message(buyer, conversation_id, "Then I will order today.")


def test_the_marketplace_s_agents_are_not_limited(
    settings: Settings, buyer: User, agent: User
) -> None:
    settings.SAFETY_SEND_LIMITS = ["minute=1"]
    settings.SAFETY_NEW_ACCOUNT_SEND_LIMITS = ["minute=1"]
    request = actions.contact_customer_service(buyer, "Help", "Where is my parcel?", agent=agent)
    for number in range(3):
        actions.send_message(agent, request.conversation_id, f"Answer {number}")
    assert not SendingCount.objects.filter(user=agent).exists()


@pytest.mark.usefixtures("strict")
def test_the_api_answers_429_with_retry_after(product: Product, clock: list[float]) -> None:
    buyer = established_buyer()
    conversation_id = answered_question(buyer, product)
    device = with_token(buyer)
    path = f"/conversations/{conversation_id}/messages"
    for number in (2, 3):
        assert device.post(path, {"body": f"Question {number}"}).status_code == 201

    response = device.post(path, {"body": "Question 4"})

    assert error_of(response) == (429, "too_many_messages")
    assert response["Retry-After"] == "31"
    assert messages_in(conversation_id) == 4


@pytest.mark.usefixtures("strict")
def test_the_page_says_why_and_keeps_what_was_written(product: Product, clock: list[float]) -> None:
    buyer = established_buyer()
    conversation_id = answered_question(buyer, product)
    client = Client()
    client.force_login(buyer)
    url = reverse("conversation", args=[conversation_id])
    for number in (2, 3):
        assert client.post(url, {"body": f"Question {number}"}).status_code == 302

    page = client.post(url, {"body": "My fourth question"})

    assert page.status_code == 429
    content = page.content.decode()
    assert "You have reached the limit of 3 messages per minute" in content
    assert "You can send again in 31 seconds." in content
    assert "My fourth question" in content


def test_a_mistyped_limit_is_refused_with_its_setting() -> None:
    with pytest.raises(ValueError, match="SAFETY_SEND_LIMITS: 'week=3'"):
        limits.Limits.parse(["week=3"], setting="SAFETY_SEND_LIMITS")


def test_the_openapi_document_gives_the_sends_429_with_retry_after(client: Client) -> None:
    document = client.get("/api/v1/openapi.json").json()
    reply = document["paths"]["/api/v1/conversations/{conversation_id}/messages"]["post"]
    assert "Retry-After" in reply["responses"]["429"]["headers"]
    assert "429" not in document["paths"]["/api/v1/blocks"]["get"]["responses"]


@pytest.mark.parametrize("first", [0, 1])
@pytest.mark.parametrize(
    "windows",
    [(100, 10, 1), (101, 10, 1), (160, 11, 1), (1500, 30, 2)],
    ids=["same minute", "next minute", "next hour", "next day"],
)
def test_a_batch_counts_in_what_it_read_as_the_upsert_counts(
    windows: tuple[int, int, int], first: int
) -> None:
    """A batch of sends counts in the rows it read (limits._Counts.count) by the rules of
    the upsert a send alone runs: the same row after each, whichever windows moved."""
    buyer = factories.BuyerFactory()
    state = {
        "minute": 100,
        "minute_sends": 2,
        "hour": 10,
        "hour_sends": 5,
        "first_contact_hour_sends": 1,
        "day": 1,
        "day_sends": 9,
        "first_contact_day_sends": 3,
    }
    SendingCount.objects.create(user=buyer, **state)
    counts = limits._Counts(buyer.pk, *state.values(), None)
    minute, hour, day = windows

    counts.count(minute, hour, day, first)
    with connection.cursor() as cursor:
        cursor.execute(limits._UPSERT, [buyer.pk, minute, hour, first, day, first])

    stored = SendingCount.objects.filter(user=buyer).values(*state).get()
    assert {name: getattr(counts, name) for name in state} == stored
