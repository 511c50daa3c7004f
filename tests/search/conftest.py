"""One mailbox, searched the same way on SQLite and PostgreSQL (the suite runs on both).

Alice (a buyer) has, newest first:

name  sent    from          conversation (folder, box)          body
f2    Mar 10  Acme Kitchen  Question about Espresso grinder     New terms: the warranty is…
a3    Mar 9   Acme Kitchen  Question about Electric kettle      Here is a photo of the LABEL…
e1    Mar 8   Marketplace   Deals on kettles (promotion, Trash) Save 20% on kettles and toasters…
d2    Mar 7   Sam (agent)   Refund question (customer service)  Your refund was issued today.
d1    Mar 6   Alice         Refund question                     When will my refund for the…
c1    Mar 5   Marketplace   Your order has shipped (archived)   Order 112-4839201-5521937 is on…
b2    Mar 4   Acme Kitchen  Order 112-4839201-5521937           Sorry about the delay! <script>…
b1    Mar 3   Alice         Order 112-4839201-5521937           …Tracking says late delivery.
a2    Mar 2   Acme Kitchen  Question about Electric kettle      Yes, it switches off… Café owners…
a1    Mar 1   Alice         Question about Electric kettle      Does it switch off by itself…

a3 comes with a photo. f1 (Feb 20, Alice: "Is the kettle warranty two years?") came before
she deleted the grinder conversation for ever: the seller's f2 brought it back, without f1.
a3, e1 and f2 are unread. g1 (Mar 11) is Bob's question to Acme about the kettle: never
Alice's.
"""

from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime

import pytest
from pytest_django import DjangoDbBlocker
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Kind, Message
from messagecenter.marketplace.models import Order, Product
from messagecenter.search.models import MailboxMessage
from tests import factories
from tests.conftest import built_once, make_agent, make_buyer, make_other_buyer, make_seller
from tests.web.helpers import png

ORDER_NUMBER = "112-4839201-5521937"
SENT_ON = {
    "f1": datetime(2026, 2, 20, 12, tzinfo=UTC),
    **{
        name: datetime(2026, 3, day, 12, tzinfo=UTC)
        for day, name in enumerate(
            ["a1", "a2", "b1", "b2", "c1", "d1", "d2", "e1", "a3", "f2", "g1"], start=1
        )
    },
}


@dataclass(frozen=True)
class Mailbox:
    buyer: User
    other_buyer: User
    seller: User
    agent: User
    order: Order
    ids: dict[str, int]

    def names(self, message_ids: list[int]) -> list[str]:
        """Message ids as the names above, so a failing assertion reads as the table."""
        by_id = {message_id: name for name, message_id in self.ids.items()}
        return [by_id.get(message_id, f"#{message_id}") for message_id in message_ids]


def move_in_time(message_ids: list[int], created_at: datetime) -> None:
    """Date messages as if sent then: the message and its copies in the mailboxes (which
    the send path writes with the message's time, never changed afterwards)."""
    Message.objects.filter(pk__in=message_ids).update(created_at=created_at)
    MailboxMessage.objects.filter(message_id__in=message_ids).update(created_at=created_at)


@pytest.fixture
def mailbox(buyer: User, other_buyer: User, seller: User, agent: User) -> Mailbox:
    return build_mailbox(buyer, other_buyer, seller, agent)


@pytest.fixture(scope="module")
def shared_mailbox(
    django_db_setup: None,
    django_db_blocker: DjangoDbBlocker,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[tuple[Mailbox, str]]:
    """Alice's mailbox, built once for a module that searches it in many tests (a quarter
    of a second each on PostgreSQL, most of their time); each test runs in a savepoint of
    it (tests.conftest.built_once). A module asks for it with `mailbox_built_once`."""
    media_root = tmp_path_factory.mktemp("mailbox")
    with built_once("shared_mailbox", django_db_blocker, media_root):
        people = make_buyer(), make_other_buyer(), make_seller(), make_agent()
        yield build_mailbox(*people), str(media_root)


@pytest.fixture
def mailbox_built_once(
    shared_mailbox: tuple[Mailbox, str], db: None, settings: Settings
) -> Mailbox:
    """The shared mailbox for one test, in its savepoint. Its people and order are read
    afresh: what a test changes on them (a time zone, the last sign-in) goes with its
    savepoint, not into the next test's objects."""
    built, media_root = shared_mailbox
    settings.MEDIA_ROOT = media_root
    users = User.objects.in_bulk(
        [built.buyer.pk, built.other_buyer.pk, built.seller.pk, built.agent.pk]
    )
    return replace(
        built,
        buyer=users[built.buyer.pk],
        other_buyer=users[built.other_buyer.pk],
        seller=users[built.seller.pk],
        agent=users[built.agent.pk],
        order=Order.objects.get(pk=built.order.pk),
    )


def build_mailbox(buyer: User, other_buyer: User, seller: User, agent: User) -> Mailbox:
    kettle = factories.ProductFactory(storefront=seller.storefront, title="Electric kettle")
    grinder: Product = factories.ProductFactory(
        storefront=seller.storefront, title="Espresso grinder"
    )
    order = factories.order_with_item(buyer, kettle, number=ORDER_NUMBER)
    sent: dict[str, Message] = {}

    sent["a1"] = actions.ask_seller_about_product(
        buyer, kettle.pk, "Does it switch off by itself when the water boils?"
    )
    a = sent["a1"].conversation_id
    sent["a2"] = actions.send_message(
        seller, a, "Yes, it switches off automatically. Café owners love it."
    )
    sent["f1"] = actions.ask_seller_about_product(
        buyer, grinder.pk, "Is the kettle warranty two years?"
    )
    f = sent["f1"].conversation_id
    actions.trash_conversations(buyer, [f])
    actions.delete_conversations(buyer, [f])
    sent["b1"] = actions.contact_seller_about_order(
        buyer,
        order.pk,
        seller.storefront.pk,
        "My parcel has not arrived yet. Tracking says late delivery.",
    )
    b = sent["b1"].conversation_id
    sent["b2"] = actions.send_message(
        seller,
        b,
        "Sorry about the delay! <script>alert('x')</script> We'll refund you & apologise.",
    )
    sent["c1"] = actions.send_marketplace_message(
        buyer,
        kind=Kind.ORDER_UPDATES,
        subject="Your order has shipped",
        body=f"Order {ORDER_NUMBER} is on its way. Expected delivery: Friday.",
        topic_key=f"order:{order.pk}:updates",
        order=order,
    )
    sent["d1"] = actions.contact_customer_service(
        buyer, "Refund question", "When will my refund for the blender arrive?", agent=agent
    )
    sent["d2"] = actions.send_message(
        agent, sent["d1"].conversation_id, "Your refund was issued today."
    )
    actions.mark_read(buyer, [a, b, sent["c1"].conversation_id, sent["d1"].conversation_id])
    actions.archive_conversations(buyer, [sent["c1"].conversation_id])
    sent["e1"] = actions.send_marketplace_message(
        buyer,
        kind=Kind.PROMOTION,
        subject="Deals on kettles",
        body="Save 20% on kettles and toasters this week.",
    )
    actions.trash_conversations(buyer, [sent["e1"].conversation_id])
    sent["a3"] = actions.send_message(
        seller, a, "Here is a photo of the LABEL on the box.", attachments=[png("label.png")]
    )
    sent["f2"] = actions.send_message(
        seller, f, "New terms: the warranty is extended to two years."
    )
    sent["g1"] = actions.ask_seller_about_product(
        other_buyer, kettle.pk, "Is the kettle available in red?"
    )
    for name, message in sent.items():
        move_in_time([message.pk], SENT_ON[name])
    return Mailbox(
        buyer=buyer,
        other_buyer=other_buyer,
        seller=seller,
        agent=agent,
        order=order,
        ids={name: message.pk for name, message in sent.items()},
    )
