"""Someone typing a reply (docs/conversations.md#typing): the others' open streams get
`event: conversation.typing` with the typer's name as the conversation shows it, at most
once every TYPING_INTERVAL_SECONDS per person and conversation, and nothing is stored —
no row, no event in anyone's log. Only for a conversation the person can see. Driven
through the stream's ASGI application in this process; the browser side is the live chat
test in tests/e2e/test_customer_service.py."""

import asyncio

import pytest
from django.core.cache import cache
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.errors import NotFound
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import UserEvent
from tests.asgi import run_in_own_loop
from tests.realtime.test_streams import InProcessStream, token_headers

pytestmark = pytest.mark.django_db(transaction=True)


def test_typing_reaches_the_other_side_once_every_few_seconds_and_stores_nothing(
    settings: Settings, buyer: User, seller: User, other_buyer: User, product: Product
) -> None:
    settings.REALTIME_AUTH_CHECK_SECONDS = 3600
    settings.REALTIME_HEARTBEAT_SECONDS = 3600
    cache.clear()
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Blue?").conversation_id
    headers = [token_headers(buyer), token_headers(seller), token_headers(other_buyer)]
    events = UserEvent.objects.count()

    async def scenario() -> tuple[list[bool], list[str]]:
        opened = [InProcessStream.open(each, "after=999999") for each in headers]
        for stream in opened:
            await stream.start()
            await stream.text()  # retry
            await stream.text()  # resync: the page starts from now
        told = [
            await asyncio.to_thread(actions.tell_typing, buyer, conversation_id),
            # A keystroke later: within the interval, nothing goes out.
            await asyncio.to_thread(actions.tell_typing, buyer, conversation_id),
        ]
        received = [await stream.everything_within(1.0) for stream in opened]
        for stream in opened:
            await stream.disconnect()
        return told, received

    told, received = run_in_own_loop(scenario)

    assert told == [True, False]
    assert received == [
        "",
        f'event: conversation.typing\ndata: {{"conversation_id":{conversation_id},'
        '"name":"Alice Buyer"}\n\n',
        "",
    ]
    assert UserEvent.objects.count() == events
    with pytest.raises(NotFound):
        actions.tell_typing(other_buyer, conversation_id)


def test_the_seller_is_named_as_the_conversation_shows_them(
    settings: Settings, buyer: User, seller: User, product: Product
) -> None:
    settings.REALTIME_AUTH_CHECK_SECONDS = 3600
    settings.REALTIME_HEARTBEAT_SECONDS = 3600
    cache.clear()
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Blue?").conversation_id
    headers = token_headers(buyer)

    async def scenario() -> str:
        stream = InProcessStream.open(headers, "after=999999")
        await stream.start()
        await stream.text()  # retry
        await stream.text()  # resync
        await asyncio.to_thread(actions.tell_typing, seller, conversation_id)
        text = await stream.text()
        await stream.disconnect()
        return text

    assert run_in_own_loop(scenario) == (
        f'event: conversation.typing\ndata: {{"conversation_id":{conversation_id},'
        '"name":"Acme Kitchen"}\n\n'
    )
