"""Someone typing a reply (docs/conversations.md#typing): the others' open streams get
`event: conversation.typing` with the typer's name as the conversation shows it, at most
once every TYPING_INTERVAL_SECONDS per person and conversation, and nothing is stored —
no row, no event in anyone's log. Only for a conversation the person can see. Driven
through the stream's ASGI application in this process; the browser side is the live chat
test in tests/e2e/test_customer_service.py."""

import asyncio

import pytest
from django.core.cache import cache
from django.test import Client
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.actions import typing as typing_actions
from messagecenter.conversations.models import Kind, ParticipantRole
from messagecenter.errors import Conflict, NotAllowed, NotFound
from messagecenter.marketplace.models import Product
from messagecenter.realtime.models import UserEvent
from messagecenter.safety.actions import block_counterpart, suspend
from tests import factories
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


@pytest.fixture
def nudges(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[str, object], list[int]]]:
    """The typing nudges that went out, instead of sending them."""
    sent: list[tuple[str, dict[str, object], list[int]]] = []
    monkeypatch.setattr(
        typing_actions, "nudge_now", lambda kind, data, to: sent.append((kind, data, list(to)))
    )
    cache.clear()
    return sent


def test_an_agent_in_a_buyer_seller_conversation_is_refused_typing_there(
    buyer: User, seller: User, product: Product, nudges: list[object]
) -> None:
    """An agent writes in a buyer–seller conversation from the request about it, never by
    the ordinary reply; yet a typing sign from them there went out, and the buyer and the
    seller read "Customer Service is typing…" for a reply that could not come. Refused as
    that reply is, on the page's API as in the action, and nothing sent."""
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Blue?").conversation_id
    agent = factories.agent_in_team()
    actions.add_participants(conversation_id, [(agent, ParticipantRole.AGENT)])

    with pytest.raises(NotAllowed) as refused:
        actions.tell_typing(agent, conversation_id)
    client = Client()
    client.force_login(agent)
    answer = client.post(f"/api/v1/conversations/{conversation_id}/typing")

    assert refused.value.code == "write_from_the_request"
    assert answer.status_code == 403
    assert answer.json()["error"]["code"] == "write_from_the_request"
    assert nudges == []
    # The buyer and the seller still tell each other.
    assert actions.tell_typing(buyer, conversation_id) is True
    assert [data["name"] for _, data, _ in nudges] == ["Alice Buyer"]


def test_typing_under_an_order_update_is_refused(buyer: User, nudges: list[object]) -> None:
    """Nobody reads a reply to the marketplace's systems: no typing sign either."""
    message = actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001", body="Shipped.", topic_key="o:1"
    )

    with pytest.raises(NotAllowed) as refused:
        actions.tell_typing(buyer, message.conversation_id)

    assert refused.value.code == "cannot_reply"
    assert nudges == []


def test_typing_to_a_suspended_shop_is_refused(
    buyer: User, seller: User, product: Product, nudges: list[object]
) -> None:
    """The shop reads nothing while suspended: the buyer's page offers no reply, and a
    typing sign is refused as the reply is."""
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Blue?").conversation_id
    suspend(seller)

    with pytest.raises(Conflict) as refused:
        actions.tell_typing(buyer, conversation_id)

    assert refused.value.code == "recipient_closed"
    assert nudges == []


def test_a_shop_the_buyer_blocked_cannot_show_itself_typing(
    buyer: User, seller: User, product: Product, nudges: list[object]
) -> None:
    """A review's buyer blocked a shop, then read "Pixel & Pine Electronics is typing…" on
    their page: the shop's reply was refused (`403 blocked`), its typing was not."""
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Blue?").conversation_id
    block_counterpart(buyer, conversation_id)

    with pytest.raises(NotAllowed) as refused:
        actions.tell_typing(seller, conversation_id)

    assert refused.value.code == "blocked"
    assert nudges == []


def test_a_blocked_shops_typing_about_the_buyers_order_reaches_nobody(
    buyer: User, seller: User, product: Product, nudges: list[object]
) -> None:
    """Its message about the buyer's order still arrives, marked; its typing sends
    nothing: the buyer blocked it."""
    order = factories.order_with_item(buyer, product)
    conversation_id = actions.contact_seller_about_order(
        buyer, order.pk, product.storefront_id, "Where is it?"
    ).conversation_id
    block_counterpart(buyer, conversation_id)

    assert actions.tell_typing(seller, conversation_id) is False
    assert nudges == []
