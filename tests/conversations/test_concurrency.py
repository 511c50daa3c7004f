"""Actions under real concurrency: threads with their own database connections, committed
transactions, on SQLite (WAL, immediate transactions) and on PostgreSQL (row locks)."""

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.marketplace.models import Product
from tests import factories
from tests.conversations.helpers import event_sequences, maintained_unread, recounted_unread

pytestmark = pytest.mark.django_db(transaction=True)


def in_threads[T](calls: list[Callable[[], T]], threads: int = 16) -> list[T]:
    """Run the calls at once (a barrier releases them together), each thread on its own
    database connection."""
    start = threading.Barrier(min(threads, len(calls)))

    def run(call: Callable[[], T]) -> T:
        try:
            if threading.current_thread().name not in started:
                started.add(threading.current_thread().name)
                start.wait(timeout=30)
            return call()
        finally:
            connection.close()

    started: set[str] = set()
    with ThreadPoolExecutor(max_workers=threads) as pool:
        return list(pool.map(run, calls))


def test_one_hundred_concurrent_sends_with_one_key_make_one_message(
    buyer: User, seller: User, product: Product
) -> None:
    question = actions.ask_seller_about_product(buyer, product.pk, "Is it in stock?")
    conversation_id = question.conversation_id

    sent = in_threads(
        [
            lambda: actions.send_message(
                seller, conversation_id, "Yes, 12 left.", idempotency_key="reply-once"
            )
        ]
        * 100
    )

    assert len({message.pk for message in sent}) == 1
    assert Message.objects.filter(conversation_id=conversation_id).count() == 2
    assert Participant.objects.get(user=buyer, conversation_id=conversation_id).unread_count == 1
    assert event_sequences(buyer) == [1, 2]
    assert maintained_unread(buyer) == {"buyer_seller": 1, "unseen": 1}


def test_unread_counts_stay_exact_under_concurrent_sends_and_reads(
    buyer: User, seller: User, product: Product
) -> None:
    conversation_id = actions.ask_seller_about_product(buyer, product.pk, "Hi").conversation_id
    calls: list[Callable[[], object]] = []
    for n in range(40):
        calls.append(lambda n=n: actions.send_message(seller, conversation_id, f"Seller {n}"))
        calls.append(lambda n=n: actions.send_message(buyer, conversation_id, f"Buyer {n}"))
        calls.append(lambda: actions.mark_read(buyer, [conversation_id]))
        calls.append(lambda: actions.mark_read(seller, [conversation_id]))

    in_threads(calls)

    for user, other in ((buyer, seller), (seller, buyer)):
        view = Participant.objects.get(user=user, conversation_id=conversation_id)
        unread_from_other = Message.objects.filter(
            conversation_id=conversation_id,
            sender=other,
            id__gt=view.last_read_message_id or 0,
        ).count()
        assert view.unread_count == unread_from_other
        assert maintained_unread(user) == recounted_unread(user)
        sequences = event_sequences(user)
        assert sequences == list(range(1, len(sequences) + 1))
    assert Message.objects.filter(conversation_id=conversation_id).count() == 81


def test_crossing_sends_in_many_conversations_neither_deadlock_nor_drift(
    seller: User, other_seller: User
) -> None:
    buyers = [factories.BuyerFactory() for _ in range(3)]
    products = [
        factories.ProductFactory(storefront=seller.storefront),
        factories.ProductFactory(storefront=other_seller.storefront),
    ]
    conversations = [
        (b, p.storefront.seller, actions.ask_seller_about_product(b, p.pk, "Hi").conversation_id)
        for b in buyers
        for p in products
    ]
    calls: list[Callable[[], object]] = []
    for round_number in range(10):
        for buyer, shop_owner, conversation_id in conversations:
            calls.append(
                lambda s=shop_owner, c=conversation_id, r=round_number: actions.send_message(
                    s, c, f"Reply {r}"
                )
            )
            calls.append(
                lambda b=buyer, c=conversation_id, r=round_number: actions.send_message(
                    b, c, f"Question {r}"
                )
            )
            calls.append(lambda b=buyer, c=conversation_id: actions.mark_read(b, [c]))
        calls.append(lambda: actions.archive_conversations(buyers[0], [conversations[0][2]]))
        calls.append(lambda: actions.move_to_inbox(buyers[0], [conversations[0][2]]))

    in_threads(calls)

    for user in (*buyers, seller, other_seller):
        assert maintained_unread(user) == recounted_unread(user)
        sequences = event_sequences(user)
        assert sequences == list(range(1, len(sequences) + 1))
    assert Message.objects.count() == 6 + 6 * 20
