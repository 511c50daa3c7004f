"""A realistic marketplace at a chosen size, written straight into the configured database
(DATABASE_URL: SQLite file or PostgreSQL) for the benchmarks (docs/benchmarks.md).

    .venv/bin/python bench/generate.py --fresh                      # 100k users, 1M messages
    .venv/bin/python bench/generate.py --fresh --messages 10000000
    .venv/bin/python bench/generate.py --fresh --users 2000 --sellers 100 --messages 20000 --check

What it builds (seeded: the same arguments give the same rows):

- users: a few customer-service agents, `--sellers` sellers with a storefront and products,
  the rest buyers;
- conversations: buyer-seller conversations about an order or a product, whose number per
  seller follows a Zipf law (the biggest sellers have tens of thousands), the marketplace's
  order updates, returns, notices and promotions, customer-service cases with an agent,
  and `--long-conversations` conversations of exactly 200 messages;
- `--messages` messages over the year that ended 31 days ago, and after them what people did
  with them: reads, archives, opening the Message Center.

Every derived row is what conversations.actions would have left after those same actions:
Participant (box, folder, last_activity_at, unread_count, last_read_message, is_seen,
awaiting_response_since), Conversation.last_message/last_message_at/message_count,
ResponseTime for every answered wait, UnreadCounter rows (all ten keys for everyone in a
conversation) equal to a recount, one SearchDocument per message made by the search app's
own token functions (the FTS5 / tsvector index follows as on every insert) and the message
in the search mailbox (MailboxMessage) of everyone in its conversation, and the event
log as the retention purge leaves it (everything is older than the retention period, so each
person keeps only their newest event and the stream's last sequence counts them all).
`--check` verifies all of it on the loaded database with the project's own code.

Fast: rows are built in Python from numpy draws and written in large transactions (COPY on
PostgreSQL, executemany on SQLite) with the secondary indexes dropped during the load and
created again afterwards exactly as the migrations define them. Only the columns listed here
are filled; any other column (added by a later migration) gets its model default, so new
nullable or defaulted columns need no change here.

Writes API tokens for the workloads (a small buyer, the biggest seller, senders, streams, a
participant of a 200-message conversation) to `--tokens` (JSON, default var/bench-tokens.json
under MESSAGECENTER_VAR_DIR). Keep generated databases out of the repository.
"""

import argparse
import base64
import hashlib
import json
import os
import random
import sys
import time
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT / "src") not in sys.path:
    sys.path.insert(0, str(ROOT / "src"))

DAY_US = 86_400 * 1_000_000
# The history ends this long before the generation: older than the event retention (30
# days), so the event log is what the purge leaves (each person's newest event only).
HISTORY_ENDS_DAYS_AGO = 31
HISTORY_DAYS = 365
LONG_CONVERSATION_MESSAGES = 200
BATCH = 20_000

# Words the search workload looks for: COMMON_WORD is in about a third of the messages,
# RARE_WORD in about one in 20,000 (and always in one of the biggest seller's).
COMMON_WORD = "delivery"
RARE_WORD = "tourmaline"

FIRST_NAMES = [
    "Alice",
    "Bob",
    "Carla",
    "Dev",
    "Elena",
    "Farid",
    "Grace",
    "Hiro",
    "Ines",
    "Jonas",
    "Kemal",
    "Lena",
    "Mateo",
    "Nadia",
    "Omar",
    "Priya",
    "Quinn",
    "Rosa",
    "Sami",
    "Tara",
    "Umar",
    "Vera",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
]
LAST_INITIALS = "ABCDEFGHIJKLMNOPRSTVWZ"
SHOP_WORDS = [
    "Brightside",
    "Trailhead",
    "Pixel",
    "Pine",
    "Harbor",
    "Maple",
    "Copper",
    "Summit",
    "Willow",
    "Cedar",
    "Atlas",
    "Nova",
    "Orchard",
    "Lumen",
    "Ember",
    "Granite",
    "Meadow",
    "Tidal",
    "Sparrow",
    "Juniper",
]
SHOP_KINDS = [
    "Home",
    "Kitchen",
    "Outfitters",
    "Electronics",
    "Goods",
    "Supply",
    "Studio",
    "Works",
    "Traders",
    "Market",
]
PRODUCTS = [
    "kettle",
    "espresso machine",
    "hiking boots",
    "rain jacket",
    "phone case",
    "desk lamp",
    "cast iron pan",
    "yoga mat",
    "backpack",
    "wireless earbuds",
    "water bottle",
    "wool blanket",
    "chef knife",
    "tent",
    "bluetooth speaker",
    "coffee grinder",
    "running shoes",
    "smart watch",
    "bike light",
    "throw pillow",
]
COUNTRIES = ("US", "US", "US", "GB", "DE", "FR", "CA", "ES", "IT", "NL")
FILLER = [
    "please",
    "thanks",
    "today",
    "tomorrow",
    "week",
    "package",
    "box",
    "size",
    "colour",
    "color",
    "order",
    "item",
    "quality",
    "price",
    "return",
    "refund",
    "tracking",
    "number",
    "address",
    "shipping",
    "arrived",
    "damaged",
    "missing",
    "great",
    "works",
    "perfectly",
    "again",
    "soon",
    "question",
    "answer",
    "photo",
    "label",
    "courier",
    "weekend",
    "monday",
    "friday",
]
BUYER_LINES = (
    "Hi, is the {product} still available in another colour?",
    "When will my {product} ship? I need the delivery before Friday.",
    "The {product} arrived damaged, the box was open. What can I do?",
    "Can you confirm the delivery address for order {order}?",
    "Thanks, the {product} works perfectly.",
    "Tracking says delivered but nothing arrived. Can you check the delivery?",
    "Does the {product} come with a warranty?",
    "I would like to return the {product}, it is the wrong size.",
)
SELLER_LINES = (
    "Thanks for your message! The {product} ships within two business days.",
    "Sorry about that. We will send a replacement {product} with express delivery.",
    "Yes, it is in stock. Delivery usually takes three to five days.",
    "Your order {order} left our warehouse today; the courier will update the tracking.",
    "Please send a photo of the damage and we will refund you right away.",
    "The warranty is two years from the delivery date.",
)
AGENT_LINES = (
    "Hello, this is customer service. I have looked at your case.",
    "We have refunded order {order}; it can take 3-5 business days to appear.",
    "I have contacted the seller about the delivery and will update you within 48 hours.",
    "Is there anything else I can help you with today?",
)
MARKETPLACE_LINES = {
    "order_updates": (
        "Your order {order} has shipped. Estimated delivery: in 3 days.",
        "Your package is out for delivery today.",
        "Delivered: your package was left at the front door.",
        "Your delivery is delayed. We are sorry for the inconvenience.",
    ),
    "returns": (
        "Your return for order {order} was approved. Print your label.",
        "We received your return. Your refund is being processed.",
        "Your refund for order {order} was issued.",
    ),
    "notice": ("We are updating our terms of service. No action is needed.",),
    "promotion": ("New deals on {product} this weekend only.",),
}
SUBJECTS = {
    "order_updates": "Order {order}: updates",
    "returns": "Return for order {order}",
    "notice": "Important: updates to our terms of service",
    "promotion": "Deals picked for you",
}

# Conversation kinds and their shares.
KIND_SHARES = (
    ("order_question", 0.40),
    ("product_question", 0.25),
    ("order_updates", 0.20),
    ("customer_service", 0.08),
    ("returns", 0.04),
    ("notice", 0.02),
    ("promotion", 0.01),
)
# After the history: what people did with it.
READ_SHARE = 0.75  # a participant read the conversation to the end
ARCHIVE_SHARE = 0.08  # ...then archived it
SEEN_SHARE = 0.5  # a person opened the Message Center after everything


@dataclass
class Options:
    users: int = 100_000
    sellers: int = 5_000
    agents: int = 10
    messages: int = 1_000_000
    long_conversations: int = 20
    products_per_seller: int = 4
    zipf: float = 1.1
    mean_messages: float = 4.0
    senders: int = 64
    stream_buyers: int = 50
    seed: int = 1


@dataclass
class Dataset:
    """What the load wrote, for the tokens file and the report."""

    counts: dict[str, int] = field(default_factory=dict)
    tokens: dict[str, Any] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)


# --- writing rows through the models' metadata --------------------------------------------


class Table:
    """Rows for one model's table: the columns given, plus every other concrete column with
    its model default (constant for the whole load), so columns added later need nothing."""

    def __init__(self, model: Any, columns: Sequence[str]) -> None:
        from django.db import connection
        from django.db.models.fields import NOT_PROVIDED

        self.model = model
        self.table = model._meta.db_table
        fields = {f.attname: f for f in model._meta.concrete_fields}
        missing = [name for name in columns if name not in fields]
        if missing:
            raise ValueError(f"{self.table} has no columns {missing}")
        self.columns = list(columns)
        self.constants: list[Any] = []
        for name, model_field in fields.items():
            if name in columns or getattr(model_field, "generated", False):
                continue
            if model_field.db_default is not NOT_PROVIDED:
                continue  # the database fills it
            if model_field.primary_key:
                raise ValueError(f"{self.table}.{name}: give the primary key")
            default = model_field.get_default()
            self.columns.append(name)
            self.constants.append(model_field.get_db_prep_save(default, connection))
        self.columns = [fields[name].column for name in self.columns]

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        constants = tuple(self.constants)
        return write_rows(self.table, self.columns, (tuple(row) + constants for row in rows))


def write_rows(table: str, columns: Sequence[str], rows: Iterable[tuple[Any, ...]]) -> int:
    from django.db import connection

    written = 0
    quoted = ", ".join(connection.ops.quote_name(column) for column in columns)
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        raw = connection.connection
        assert raw is not None
        with (
            raw.cursor() as cursor,
            cursor.copy(f"COPY {connection.ops.quote_name(table)} ({quoted}) FROM STDIN") as copy,
        ):
            for row in rows:
                copy.write_row(row)
                written += 1
        return written
    sql = (
        f"INSERT INTO {connection.ops.quote_name(table)} ({quoted}) "
        f"VALUES ({', '.join(['%s'] * len(columns))})"
    )
    with connection.cursor() as cursor:
        for batch in batched(rows, BATCH):
            cursor.executemany(sql, batch)
            written += len(batch)
    return written


def batched(rows: Iterable[tuple[Any, ...]], size: int) -> Iterator[list[tuple[Any, ...]]]:
    batch: list[tuple[Any, ...]] = []
    for row in rows:
        batch.append(row)
        if len(batch) == size:
            yield batch
            batch = []
    if batch:
        yield batch


class Clock:
    """Microseconds since the epoch as the database takes them: aware datetimes for
    psycopg, Django's text form (naive UTC) for SQLite."""

    def __init__(self, vendor: str) -> None:
        self.is_sqlite = vendor == "sqlite"

    def __call__(self, microseconds: int | None) -> Any:
        if microseconds is None:
            return None
        moment = datetime(1970, 1, 1, tzinfo=UTC) + timedelta(microseconds=int(microseconds))
        if self.is_sqlite:
            return str(moment.replace(tzinfo=None))
        return moment


# --- indexes: dropped for the load, created again as the migrations defined them ---------


def drop_indexes(tables: Sequence[str]) -> list[str]:
    """Drop the secondary indexes (not primary keys, not the full-text table) of these
    tables; returns the statements that create them again."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT i.indexname, i.indexdef FROM pg_indexes i "
                "WHERE i.schemaname = current_schema() AND i.tablename = ANY(%s) "
                "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conname = i.indexname)",
                [list(tables)],
            )
            found = cursor.fetchall()
            for name, _ in found:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
        else:
            placeholders = ", ".join(["%s"] * len(tables))
            cursor.execute(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL "
                f"AND tbl_name IN ({placeholders})",
                list(tables),
            )
            found = cursor.fetchall()
            for name, _ in found:
                cursor.execute(f"DROP INDEX {connection.ops.quote_name(name)}")
    return [definition for _, definition in found]


def create_indexes(statements: Sequence[str]) -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)


# --- the marketplace ---------------------------------------------------------------------


@dataclass
class Conversations:
    """Columns of the conversations, index = conversation id - 1."""

    kind: list[str] = field(default_factory=list)
    buyer: list[int] = field(default_factory=list)  # user id
    seller: list[int] = field(default_factory=list)  # user id, 0 for none
    agent: list[int] = field(default_factory=list)  # user id, 0 for none
    storefront: list[int] = field(default_factory=list)  # 0 for none
    product: list[int] = field(default_factory=list)  # 0 for none
    order: list[int] = field(default_factory=list)  # 0 for none
    topic_key: list[str | None] = field(default_factory=list)
    subject: list[str] = field(default_factory=list)
    messages: list[int] = field(default_factory=list)


def zipf_weights(count: int, exponent: float) -> Any:
    weights = 1.0 / np.arange(1, count + 1, dtype=np.float64) ** exponent
    return weights / weights.sum()


def order_number(order_id: int) -> str:
    return f"11{order_id % 10}-{(order_id * 7919) % 10**7:07d}-{order_id:07d}"


def shop_name(index: int) -> str:
    return (
        f"{SHOP_WORDS[index % len(SHOP_WORDS)]} "
        f"{SHOP_KINDS[(index // len(SHOP_WORDS)) % len(SHOP_KINDS)]} {index}"
    )


def token_secret(seed: int, user_id: int, purpose: str) -> str:
    digest = hashlib.sha256(f"bench:{seed}:{user_id}:{purpose}".encode()).digest()
    return "mc_" + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def generate(options: Options, *, fast: bool = True, log: Callable[[str], None] = print) -> Dataset:
    """Load the marketplace into the configured, migrated and empty database."""
    from django.conf import settings
    from django.db import connection, transaction

    from messagecenter.accounts.actions import API_TOKEN_SHOWN_CHARS, hash_api_token_secret
    from messagecenter.accounts.models import ApiToken, Role, User
    from messagecenter.conversations import topics
    from messagecenter.conversations.actions import PREVIEW_CHARS
    from messagecenter.conversations.models import (
        FOLDER_OF_KIND,
        Conversation,
        Message,
        Participant,
        ParticipantRole,
        ResponseTime,
        UnreadCounter,
    )
    from messagecenter.hub.boxes import COUNTER_KEYS, UNSEEN, Box, counter_key
    from messagecenter.marketplace.models import Order, OrderItem, Product, Storefront
    from messagecenter.realtime.models import EventKind, EventStream, UserEvent
    from messagecenter.search.actions import MARKETPLACE_NAME
    from messagecenter.search.models import MailboxMessage, SearchDocument
    from messagecenter.search.tokens import document, folded, token_texts

    if User.objects.exists():
        raise SystemExit("The database already has users: generate into an empty one (--fresh).")
    started = time.perf_counter()
    dataset = Dataset()
    rng = np.random.default_rng(options.seed)
    text_random = random.Random(options.seed)
    clock = Clock(connection.vendor)
    now_us = int(datetime.now(UTC).timestamp() * 1_000_000)
    history_end = now_us - HISTORY_ENDS_DAYS_AGO * DAY_US
    history_start = history_end - HISTORY_DAYS * DAY_US

    agents = options.agents
    sellers = options.sellers
    buyers = options.users - sellers - agents
    if buyers < options.senders + options.stream_buyers + 2:
        raise SystemExit("Too few buyers for the workloads: raise --users.")
    first_seller = agents + 1
    first_buyer = agents + sellers + 1

    def seller_user(storefront_id: int) -> int:
        return agents + storefront_id

    # --- conversations (who, about what) ---
    long_count = min(options.long_conversations, max(1, options.messages // 1000))
    short_messages = options.messages - long_count * LONG_CONVERSATION_MESSAGES
    conversation_count = max(
        long_count + 10, int(short_messages / options.mean_messages) + long_count
    )
    short_count = conversation_count - long_count
    if short_messages < short_count:
        raise SystemExit("Too few messages for the conversations: raise --messages.")
    kinds, shares = zip(*KIND_SHARES, strict=True)
    drawn_kinds = rng.choice(len(kinds), size=short_count, p=np.array(shares) / sum(shares))
    seller_weights = zipf_weights(sellers, options.zipf)
    drawn_storefronts = rng.choice(sellers, size=conversation_count, p=seller_weights) + 1
    drawn_buyers = rng.integers(first_buyer, options.users + 1, size=conversation_count)
    drawn_agents = rng.integers(1, agents + 1, size=conversation_count)
    drawn_products = rng.integers(0, options.products_per_seller, size=conversation_count)
    # Long conversations: order questions, half of them with the biggest seller.
    long_storefronts = [1 if n % 2 == 0 else 2 + n for n in range(long_count)]

    conversations = Conversations()
    orders: list[tuple[int, int, int]] = []  # (buyer, storefront, product)
    product_topics: set[tuple[int, int]] = set()

    def add_order(buyer: int, storefront: int, product: int) -> int:
        orders.append((buyer, storefront, product))
        return len(orders)

    def product_id(storefront: int, index: int) -> int:
        return (storefront - 1) * options.products_per_seller + index + 1

    def product_title(product: int) -> str:
        return PRODUCTS[product % len(PRODUCTS)].capitalize()

    for n in range(conversation_count):
        is_long = n < long_count
        kind = "order_question" if is_long else kinds[int(drawn_kinds[n - long_count])]
        storefront = long_storefronts[n] if is_long else int(drawn_storefronts[n])
        storefront = min(storefront, sellers)
        buyer = int(drawn_buyers[n])
        product = product_id(storefront, int(drawn_products[n]))
        conversation_id = n + 1
        seller = agent = order = 0
        topic_key: str | None
        if kind == "product_question":
            while (product, buyer) in product_topics:
                buyer = first_buyer + (buyer - first_buyer + 1) % buyers
            product_topics.add((product, buyer))
            model_kind, seller = "buyer_seller", seller_user(storefront)
            topic_key = topics.product_question(product, buyer)
            subject = f"Question about {product_title(product)}"
            order = 0
        elif kind == "order_question":
            order = add_order(buyer, storefront, product)
            model_kind, seller = "buyer_seller", seller_user(storefront)
            topic_key = topics.order_with_seller(order, storefront)
            subject = f"Order {order_number(order)}"
            product = 0
        elif kind == "customer_service":
            model_kind, agent, storefront, product = "customer_service", int(drawn_agents[n]), 0, 0
            topic_key, subject = None, "Help with my account"
        else:
            model_kind = kind
            if kind in ("order_updates", "returns"):
                order = add_order(buyer, storefront, product)
                topic_key = (
                    topics.order_updates(order)
                    if kind == "order_updates"
                    else topics.order_returns(order)
                )
                subject = SUBJECTS[kind].format(order=order_number(order))
                storefront = product = 0
            else:
                topic_key = None
                subject = SUBJECTS[kind]
                storefront = 0
                product = product if kind == "promotion" else 0
        conversations.kind.append(model_kind)
        conversations.buyer.append(buyer)
        conversations.seller.append(seller)
        conversations.agent.append(agent)
        conversations.storefront.append(storefront if model_kind == "buyer_seller" else 0)
        conversations.product.append(product if model_kind == "buyer_seller" else 0)
        conversations.order.append(order)
        conversations.topic_key.append(topic_key)
        conversations.subject.append(subject)
        conversations.messages.append(LONG_CONVERSATION_MESSAGES if is_long else 1)
    # Messages per short conversation: one each, the rest spread over them (exponential-like).
    weights = rng.gamma(1.0, size=short_count)
    extra = rng.multinomial(short_messages - short_count, weights / weights.sum())
    for n in range(short_count):
        conversations.messages[long_count + n] += int(extra[n])
    # Marketplace messages come one by one, so those conversations stay short.
    log(
        f"plan: {options.users:,} users, {conversation_count:,} conversations, "
        f"{options.messages:,} messages, {len(orders):,} orders"
    )

    # --- messages: when, and from which side ---
    counts = np.array(conversations.messages, dtype=np.int64)
    total = int(counts.sum())
    assert total == options.messages, (total, options.messages)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    position = np.arange(total, dtype=np.int64) - starts
    conversation_of = np.repeat(np.arange(conversation_count, dtype=np.int64), counts)
    # Gaps: minutes to days (exponential, mean 6 hours, at least a second).
    gaps = (rng.exponential(6 * 3600, size=total) + 1).astype(np.int64) * 1_000_000
    gaps[position == 0] = 0
    elapsed = np.cumsum(gaps)
    elapsed -= np.repeat(elapsed[np.cumsum(counts) - counts], counts)
    span = elapsed[np.cumsum(counts) - 1]
    latest_start = np.maximum(history_end - span - 1, history_start)
    conversation_start = (
        history_start + rng.random(conversation_count) * (latest_start - history_start)
    ).astype(np.int64)
    message_time = conversation_start[conversation_of] + elapsed
    # The other side answers about half the time; the opener writes first.
    flips = rng.random(total) < 0.2
    from_other_side = ((position % 2) == 1) ^ flips
    from_other_side[position == 0] = False
    rare = rng.random(total) < 1 / 20_000
    # Ids in time order, as the actions would have numbered them.
    order_by_time = np.lexsort((position, conversation_of, message_time))
    message_id = np.empty(total, dtype=np.int64)
    message_id[order_by_time] = np.arange(1, total + 1, dtype=np.int64)
    log(f"  messages planned in {time.perf_counter() - started:.1f} s")

    # --- derived state, conversation by conversation, as the actions leave it ---
    @dataclass
    class Member:
        user: int
        role: str
        unread: int = 0
        last_read: int | None = None
        is_seen: bool = True
        awaiting: int | None = None
        box: str = Box.INBOX

    participants_rows: list[tuple[Any, ...]] = []
    response_rows: list[tuple[Any, ...]] = []
    events_per_user: dict[int, int] = defaultdict(int)
    # The newest event of each person: (order key, kind, payload, created_at in µs).
    newest: dict[int, tuple[tuple[int, int], str, dict[str, Any], int]] = {}
    conversation_rows: list[tuple[Any, ...]] = []
    sender_of = np.zeros(total, dtype=np.int64)  # user id, 0 for the marketplace
    after_history = history_end + 1_000_000
    member_rows_of_user: dict[int, list[int]] = defaultdict(list)
    unseen_users: set[int] = set()
    participant_id = 0
    offsets = np.cumsum(counts) - counts
    for n in range(conversation_count):
        kind = conversations.kind[n]
        first = int(offsets[n])
        count = int(counts[n])
        buyer = conversations.buyer[n]
        folder = FOLDER_OF_KIND[kind]
        if kind == "buyer_seller":
            members = [
                Member(buyer, ParticipantRole.BUYER),
                Member(conversations.seller[n], ParticipantRole.SELLER),
            ]
        elif kind == "customer_service":
            members = [
                Member(buyer, ParticipantRole.BUYER),
                Member(conversations.agent[n], ParticipantRole.AGENT),
            ]
        else:
            members = [Member(buyer, ParticipantRole.RECIPIENT)]
        members.sort(key=lambda m: m.user)
        conversation_id = n + 1
        ids = message_id[first : first + count]
        times = message_time[first : first + count]
        other = from_other_side[first : first + count]
        for index in range(count):
            mid, moment = int(ids[index]), int(times[index])
            if kind in ("buyer_seller", "customer_service"):
                opener = buyer
                counterpart = (
                    conversations.seller[n] if kind == "buyer_seller" else conversations.agent[n]
                )
                sender = counterpart if other[index] else opener
            else:
                sender = 0
            sender_of[first + index] = sender
            sending_role = None
            for member in members:
                if member.user == sender:
                    sending_role = member.role
            for member in members:
                if member.user == sender:
                    if member.role == ParticipantRole.SELLER and member.awaiting is not None:
                        response_rows.append(
                            (member.user, conversation_id, member.awaiting, moment)
                        )
                        member.awaiting = None
                    member.unread, member.last_read, member.is_seen = 0, mid, True
                else:
                    member.unread += 1
                    member.is_seen = False
                    if (
                        sending_role == ParticipantRole.BUYER
                        and member.role == ParticipantRole.SELLER
                    ):
                        member.awaiting = member.awaiting if member.awaiting is not None else moment
                events_per_user[member.user] += 1
                key = (0, mid)
                if member.user not in newest or newest[member.user][0] < key:
                    newest[member.user] = (
                        key,
                        EventKind.MESSAGE_CREATED,
                        {
                            "conversation_id": conversation_id,
                            "message_id": mid,
                            "folder": folder,
                            "box": Box.INBOX,
                            "unread_count": member.unread,
                            "is_muted": False,
                        },
                        moment,
                    )
        last_id, last_time = int(ids[-1]), int(times[-1])
        # After the history: reads, then archives (in conversation order, per person).
        draws = rng.random((len(members), 2))
        for member_index, member in enumerate(members):
            if member.unread and draws[member_index, 0] < READ_SHARE:
                member.unread, member.last_read, member.is_seen = 0, last_id, True
                events_per_user[member.user] += 1
                newest[member.user] = (
                    (1, conversation_id * 2),
                    EventKind.CONVERSATION_READ,
                    {
                        "conversation_id": conversation_id,
                        "folder": folder,
                        "box": Box.INBOX,
                        "unread_count": 0,
                    },
                    after_history,
                )
            if draws[member_index, 1] < ARCHIVE_SHARE:
                member.box, member.is_seen = Box.ARCHIVE, True
                events_per_user[member.user] += 1
                newest[member.user] = (
                    (1, conversation_id * 2 + 1),
                    EventKind.CONVERSATION_ARCHIVED,
                    {
                        "conversation_id": conversation_id,
                        "folder": folder,
                        "box": Box.ARCHIVE,
                        "unread_count": member.unread,
                    },
                    after_history,
                )
            participant_id += 1
            if not member.is_seen:
                unseen_users.add(member.user)
            member_rows_of_user[member.user].append(len(participants_rows))
            participants_rows.append(
                [
                    participant_id,
                    conversation_id,
                    member.user,
                    member.role,
                    folder,
                    member.box,
                    last_time,
                    member.last_read,
                    member.unread,
                    member.is_seen,
                    member.awaiting,
                ]
            )
        conversation_rows.append((conversation_id, int(times[0]), last_id, last_time, count))
    # Half the people then opened their Message Center: everything is seen.
    opened = rng.random(options.users + 1) < SEEN_SHARE
    for user in sorted(unseen_users):
        if opened[user]:
            for row_index in member_rows_of_user[user]:
                participants_rows[row_index][9] = True
            events_per_user[user] += 1
            newest[user] = ((2, 0), EventKind.MESSAGE_CENTER_SEEN, {}, after_history + 1_000_000)
    log(f"  state derived in {time.perf_counter() - started:.1f} s")

    # --- unread counters: the recount ---
    counters: dict[tuple[int, str], int] = {}
    for row in participants_rows:
        user, box, folder_value, unread, is_seen = row[2], row[5], row[4], row[8], row[9]
        for key in COUNTER_KEYS:
            counters.setdefault((user, key), 0)
        if unread:
            key = counter_key(box, folder_value)
            if key is not None:
                counters[(user, key)] += 1
        if not is_seen:
            counters[(user, UNSEEN)] += 1

    # --- names for senders and search documents ---
    def buyer_name(user: int) -> str:
        return f"{FIRST_NAMES[user % len(FIRST_NAMES)]} {LAST_INITIALS[user % 22]}."

    def agent_name(user: int) -> str:
        return f"Agent {user} from Customer Service"

    def public_name(user: int) -> str:
        """User.public_name's rule, without a query."""
        if user == 0:
            return MARKETPLACE_NAME
        if first_seller <= user < first_buyer:
            return shop_name(user - agents)
        if user <= agents:
            if settings.SUPPORT_SHOW_AGENT_NAMES:
                return agent_name(user)
            return str(settings.SUPPORT_AGENT_PUBLIC_NAME)
        return buyer_name(user)

    name_tokens: dict[int, tuple[list[str], str]] = {}

    def sender_tokens(user: int) -> tuple[list[str], str]:
        cached = name_tokens.get(user)
        if cached is None:
            name = public_name(user)
            cached = name_tokens[user] = (token_texts(name), folded(name))
        return cached

    subject_tokens_cache: dict[int, list[str]] = {}

    def subject_tokens(n: int) -> list[str]:
        cached = subject_tokens_cache.get(n)
        if cached is None:
            order = conversations.order[n]
            cached = token_texts(conversations.subject[n]) + token_texts(
                order_number(order) if order else ""
            )
            if len(subject_tokens_cache) > 200_000:
                subject_tokens_cache.clear()
            subject_tokens_cache[n] = cached
        return cached

    def body_of(n: int, sender: int, is_rare: bool) -> str:
        kind = conversations.kind[n]
        order = conversations.order[n]
        product = conversations.product[n] or 1
        values = {
            "product": PRODUCTS[product % len(PRODUCTS)],
            "order": order_number(order) if order else "you placed",
        }
        if kind == "buyer_seller" or kind == "customer_service":
            if sender == conversations.buyer[n]:
                lines: Sequence[str] = BUYER_LINES
            elif kind == "buyer_seller":
                lines = SELLER_LINES
            else:
                lines = AGENT_LINES
        else:
            lines = MARKETPLACE_LINES[kind]
        body = text_random.choice(lines).format(**values)
        extra = " ".join(text_random.choices(FILLER, k=text_random.randint(0, 12)))
        if extra:
            body = f"{body} {extra.capitalize()}."
        if is_rare:
            body += f" It is the {RARE_WORD} one."
        return body

    # The biggest seller always has one message with the rare word (small datasets too).
    forced_rare = int(offsets[0])
    rare[forced_rare] = True

    # --- write ---
    from django.core.management.color import no_style

    tables = [
        User,
        Storefront,
        Product,
        Order,
        OrderItem,
        Conversation,
        Message,
        SearchDocument,
        Participant,
        MailboxMessage,
        ResponseTime,
        UnreadCounter,
        EventStream,
        UserEvent,
        ApiToken,
    ]
    table_names = [model._meta.db_table for model in tables]
    sqlite = connection.vendor == "sqlite"
    if sqlite and fast:
        with connection.cursor() as cursor:
            cursor.execute("PRAGMA foreign_keys = OFF")
            cursor.execute("PRAGMA synchronous = OFF")
            cursor.execute("PRAGMA cache_size = -1048576")
    recreate = drop_indexes(table_names) if fast else []

    def timed(name: str, write: Callable[[], int]) -> None:
        began = time.perf_counter()
        with transaction.atomic():
            if not sqlite and fast:
                with connection.cursor() as cursor:
                    # No per-row foreign-key triggers during the load (the ids are ours).
                    cursor.execute("SET LOCAL session_replication_role = replica")
            written = write()
        dataset.counts[name] = written
        dataset.seconds[name] = round(time.perf_counter() - began, 1)
        log(f"  {name}: {written:,} rows in {dataset.seconds[name]} s")

    joined = clock(history_start - 30 * DAY_US)

    def user_rows() -> Iterator[tuple[Any, ...]]:
        for user in range(1, options.users + 1):
            if user <= agents:
                role, display = Role.AGENT, agent_name(user)
            elif user < first_buyer:
                role, display = Role.SELLER, f"Owner of shop {user - agents}"
            else:
                role, display = Role.BUYER, buyer_name(user)
            yield (
                user,
                f"user{user}",
                "!",
                role,
                display,
                COUNTRIES[user % len(COUNTRIES)],
                joined,
            )

    timed(
        "users",
        lambda: Table(
            User,
            ["id", "username", "password", "role", "display_name", "country", "date_joined"],
        ).write(user_rows()),
    )
    timed(
        "storefronts",
        lambda: Table(Storefront, ["id", "seller_id", "name", "slug"]).write(
            (s, seller_user(s), shop_name(s), f"shop-{s}") for s in range(1, sellers + 1)
        ),
    )
    timed(
        "products",
        lambda: Table(Product, ["id", "storefront_id", "title", "sku", "price_cents"]).write(
            (
                product_id(s, k),
                s,
                product_title(product_id(s, k)),
                f"B{product_id(s, k):09d}",
                1000 + product_id(s, k) % 9000,
            )
            for s in range(1, sellers + 1)
            for k in range(options.products_per_seller)
        ),
    )
    order_placed: dict[int, int] = {}
    for n in range(conversation_count):
        if conversations.order[n]:
            order_placed[conversations.order[n]] = int(conversation_start[n]) - 3 * DAY_US
    statuses = ("placed", "shipped", "delivered", "delivered", "delivered", "delayed")
    timed(
        "orders",
        lambda: Table(
            Order, ["id", "number", "buyer_id", "status", "placed_at", "total_cents"]
        ).write(
            (
                o,
                order_number(o),
                orders[o - 1][0],
                statuses[o % len(statuses)],
                clock(order_placed[o]),
                1000 + orders[o - 1][2] % 9000,
            )
            for o in range(1, len(orders) + 1)
        ),
    )
    timed(
        "order items",
        lambda: Table(
            OrderItem,
            ["id", "order_id", "product_id", "storefront_id", "title", "unit_price_cents"],
        ).write(
            (
                o,
                o,
                orders[o - 1][2],
                orders[o - 1][1],
                product_title(orders[o - 1][2]),
                1000 + orders[o - 1][2] % 9000,
            )
            for o in range(1, len(orders) + 1)
        ),
    )

    def conversation_out() -> Iterator[tuple[Any, ...]]:
        for conversation_id, created, last_id, last_time, count in conversation_rows:
            n = conversation_id - 1
            yield (
                conversation_id,
                conversations.kind[n],
                conversations.subject[n],
                conversations.buyer[n],
                conversations.storefront[n] or None,
                conversations.product[n] or None,
                conversations.order[n] or None,
                conversations.topic_key[n],
                clock(created),
                last_id,
                clock(last_time),
                count,
            )

    timed(
        "conversations",
        lambda: Table(
            Conversation,
            [
                "id",
                "kind",
                "subject",
                "buyer_id",
                "storefront_id",
                "product_id",
                "order_id",
                "topic_key",
                "created_at",
                "last_message_id",
                "last_message_at",
                "message_count",
            ],
        ).write(conversation_out()),
    )

    # Messages and their search documents, in id order, in one pass.
    documents: list[tuple[Any, ...]] = []
    message_table = Table(Message, ["id", "conversation_id", "sender_id", "body", "created_at"])
    document_table = Table(
        SearchDocument, ["message_id", "tokens", "subject_tokens", "sender_names"]
    )
    previews: dict[int, tuple[str, str]] = {}

    def message_out() -> Iterator[tuple[Any, ...]]:
        for rank in range(total):
            index = int(order_by_time[rank])
            n = int(conversation_of[index])
            sender = int(sender_of[index])
            body = body_of(n, sender, bool(rare[index]))
            sender_token_list, sender_folded = sender_tokens(sender)
            subject_list = subject_tokens(n)
            documents.append(
                (
                    rank + 1,
                    document([subject_list, sender_token_list, token_texts(body)]),
                    " ".join(subject_list),
                    sender_folded,
                )
            )
            if rank + 1 in newest_message_ids:
                previews[rank + 1] = (public_name(sender), body[:PREVIEW_CHARS])
            yield (rank + 1, n + 1, sender or None, body, clock(int(message_time[index])))

    newest_message_ids = {
        payload["message_id"]
        for _, kind_value, payload, _ in newest.values()
        if kind_value == EventKind.MESSAGE_CREATED
    }

    def messages_and_documents() -> int:
        written = 0
        pending = message_out()
        while True:
            chunk = list(_take(pending, 200_000))
            if not chunk:
                return written
            written += message_table.write(chunk)
            document_table.write(documents)
            documents.clear()

    timed("messages + search documents", messages_and_documents)
    timed(
        "participants",
        lambda: Table(
            Participant,
            [
                "id",
                "conversation_id",
                "user_id",
                "role",
                "folder",
                "box",
                "last_activity_at",
                "last_read_message_id",
                "unread_count",
                "is_seen",
                "awaiting_response_since",
            ],
        ).write(
            (
                *row[:6],
                clock(row[6]),
                row[7],
                row[8],
                row[9],
                clock(row[10]),
            )
            for row in participants_rows
        ),
    )
    # Every message in the mailbox of everyone in its conversation (search.actions writes
    # them with each message; everyone here joined before the first message).
    mailbox = connection.ops.quote_name(MailboxMessage._meta.db_table)
    message_name = connection.ops.quote_name(Message._meta.db_table)
    participant_name = connection.ops.quote_name(Participant._meta.db_table)

    def mailboxes() -> int:
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {mailbox} (message_id, user_id, created_at)"
                f" SELECT message.id, participant.user_id, message.created_at"
                f" FROM {message_name} AS message JOIN {participant_name} AS participant"
                f" ON participant.conversation_id = message.conversation_id"
            )
            return int(cursor.rowcount)

    timed("search mailboxes", mailboxes)
    timed(
        "response times",
        lambda: Table(
            ResponseTime, ["id", "seller_id", "conversation_id", "asked_at", "answered_at"]
        ).write(
            (number, seller, conversation, clock(asked), clock(answered))
            for number, (seller, conversation, asked, answered) in enumerate(response_rows, 1)
        ),
    )
    timed(
        "unread counters",
        lambda: Table(UnreadCounter, ["id", "user_id", "key", "conversations"]).write(
            (number, user, key, value)
            for number, ((user, key), value) in enumerate(sorted(counters.items()), 1)
        ),
    )
    timed(
        "event streams",
        lambda: Table(EventStream, ["user_id", "last_sequence"]).write(
            sorted(events_per_user.items())
        ),
    )

    def event_rows() -> Iterator[tuple[Any, ...]]:
        for number, user in enumerate(sorted(newest), 1):
            _, kind_value, payload, moment = newest[user]
            if kind_value == EventKind.MESSAGE_CREATED:
                sender_name, preview = previews[payload["message_id"]]
                payload = {
                    **payload,
                    "sender_name": sender_name,
                    "preview": preview,
                    "created_at": datetime.fromtimestamp(moment / 1e6, UTC).isoformat(),
                }
            yield (
                number,
                user,
                events_per_user[user],
                kind_value,
                json.dumps(payload),
                clock(moment),
            )

    timed(
        "user events (newest per person)",
        lambda: Table(
            UserEvent, ["id", "user_id", "sequence", "kind", "payload", "created_at"]
        ).write(event_rows()),
    )

    # --- API tokens for the workloads ---
    conversations_of_user: dict[int, list[int]] = defaultdict(list)
    for row in participants_rows:
        conversations_of_user[row[2]].append(row[1])
    biggest_seller = seller_user(1)
    # A buyer with 2–5 conversations; with many messages per person (10 million for
    # 100,000 users) there is none, and the buyer with the fewest stands in.
    buyers = [
        user for user in range(first_buyer, options.users + 1) if user in conversations_of_user
    ]
    small_buyer = next(
        (user for user in buyers if 2 <= len(conversations_of_user[user]) <= 5),
        min(buyers, key=lambda user: len(conversations_of_user[user])),
    )
    long_conversation = 1  # with the biggest seller (long conversations come first)
    used_buyers = {small_buyer, conversations.buyer[0]}
    # Senders: buyers writing to different sellers, each in their own conversation.
    senders: list[tuple[int, int]] = []
    used_sellers: set[int] = set()
    for n in range(long_count, conversation_count):
        if len(senders) >= options.senders:
            break
        buyer, seller = conversations.buyer[n], conversations.seller[n]
        if (
            seller
            and buyer not in used_buyers
            and (seller not in used_sellers or len(used_sellers) >= sellers - 1)
        ):
            senders.append((buyer, n + 1))
            used_buyers.add(buyer)
            used_sellers.add(seller)
    # Streams: buyers of the biggest seller's conversations; the seller writes to them.
    streams: list[tuple[int, int]] = []
    for n in range(long_count, conversation_count):
        if len(streams) >= options.stream_buyers:
            break
        buyer = conversations.buyer[n]
        if conversations.seller[n] == biggest_seller and buyer not in used_buyers:
            streams.append((buyer, n + 1))
            used_buyers.add(buyer)
    token_users = [
        small_buyer,
        biggest_seller,
        conversations.buyer[0],
        *(user for user, _ in senders),
        *(user for user, _ in streams),
    ]
    secrets: dict[int, str] = {
        user: token_secret(options.seed, user, "bench") for user in token_users
    }
    created = clock(after_history)
    timed(
        "api tokens",
        lambda: Table(
            ApiToken, ["id", "user_id", "name", "prefix", "secret_hash", "created_at"]
        ).write(
            (
                number,
                user,
                "benchmark",
                secrets[user][:API_TOKEN_SHOWN_CHARS],
                hash_api_token_secret(secrets[user]),
                created,
            )
            for number, user in enumerate(sorted(secrets), 1)
        ),
    )

    # --- indexes back, sequences past our ids, statistics ---
    began = time.perf_counter()
    with transaction.atomic():
        create_indexes(recreate)
    dataset.seconds["indexes"] = round(time.perf_counter() - began, 1)
    log(f"  indexes created in {dataset.seconds['indexes']} s")
    with connection.cursor() as cursor:
        for statement in connection.ops.sequence_reset_sql(no_style(), tables):
            cursor.execute(statement)
    began = time.perf_counter()
    with connection.cursor() as cursor:
        if sqlite:
            cursor.execute("INSERT INTO search_index (search_index) VALUES ('optimize')")
            cursor.execute("ANALYZE")
            if fast:
                cursor.execute("PRAGMA foreign_keys = ON")
                cursor.execute("PRAGMA synchronous = NORMAL")
        else:
            for table in table_names:
                cursor.execute(f"ANALYZE {connection.ops.quote_name(table)}")
    dataset.seconds["analyze"] = round(time.perf_counter() - began, 1)

    biggest_rows = len(conversations_of_user[biggest_seller])
    order_of_biggest = next(
        order_number(conversations.order[n])
        for n in range(long_count, conversation_count)
        if conversations.seller[n] == biggest_seller and conversations.order[n]
    )
    dataset.counts["biggest seller conversations"] = biggest_rows
    dataset.counts["small buyer conversations"] = len(conversations_of_user[small_buyer])
    dataset.tokens = {
        "seed": options.seed,
        "database": connection.vendor,
        "users": options.users,
        "sellers": sellers,
        "messages": options.messages,
        "conversations": conversation_count,
        "small_buyer": {
            "user_id": small_buyer,
            "token": secrets[small_buyer],
            "conversations": len(conversations_of_user[small_buyer]),
            "conversation_id": conversations_of_user[small_buyer][0],
        },
        "biggest_seller": {
            "user_id": biggest_seller,
            "token": secrets[biggest_seller],
            "conversations": biggest_rows,
            "search": {
                "common_word": COMMON_WORD,
                "rare_word": RARE_WORD,
                "order_number": order_of_biggest,
            },
        },
        "long_conversation": {
            "conversation_id": long_conversation,
            "messages": LONG_CONVERSATION_MESSAGES,
            "buyer_token": secrets[conversations.buyer[0]],
            "seller_token": secrets[biggest_seller],
        },
        "senders": [
            {"user_id": user, "token": secrets[user], "conversation_id": conversation}
            for user, conversation in senders
        ],
        "stream_buyers": [
            {"user_id": user, "token": secrets[user], "conversation_id": conversation}
            for user, conversation in streams
        ],
    }
    dataset.seconds["total"] = round(time.perf_counter() - started, 1)
    return dataset


def _take(iterator: Iterator[tuple[Any, ...]], count: int) -> Iterator[tuple[Any, ...]]:
    for _ in range(count):
        try:
            yield next(iterator)
        except StopIteration:
            return


# --- check: every invariant, with the project's own code --------------------------------


def check_dataset(tokens: dict[str, Any], *, sample: int = 2_000) -> list[str]:
    """What is wrong with the loaded dataset (nothing, when it is what the actions would
    have left). Whole-table SQL recounts for the counters and conversations; the tests'
    own per-person recount (tests/conversations/helpers.py) and the search app's own
    document builder for a sample; one real search."""
    from django.db import connection
    from django.db.models import Count, F, Max, Q, Sum
    from django.db.models.functions import Coalesce

    from messagecenter.accounts.models import User
    from messagecenter.conversations.models import (
        Conversation,
        Message,
        Participant,
        ParticipantRole,
        UnreadCounter,
    )
    from messagecenter.hub.boxes import Box
    from messagecenter.realtime.models import EventStream, UserEvent
    from messagecenter.search.actions import _document
    from messagecenter.search.models import MailboxMessage, SearchDocument
    from messagecenter.search.queries import SearchFilters, search_messages

    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    from tests.conversations.helpers import maintained_unread, recounted_unread

    problems: list[str] = []
    # Conversations: count, last message and its time, from the messages.
    wrong = (
        Conversation.objects.annotate(counted=Count("messages"), newest=Max("messages__id"))
        .exclude(counted=F("message_count"), newest=F("last_message_id"))
        .count()
    )
    if wrong:
        problems.append(f"{wrong} conversations with a wrong message_count or last_message")
    wrong = Conversation.objects.exclude(last_message_at=F("last_message__created_at")).count()
    if wrong:
        problems.append(f"{wrong} conversations with a wrong last_message_at")
    wrong = Participant.objects.exclude(last_activity_at=F("conversation__last_message_at")).count()
    if wrong:
        problems.append(f"{wrong} participants with a wrong last_activity_at")
    # Unread: the messages from others after the last one read.
    with connection.cursor() as cursor:
        cursor.execute(
            """
            SELECT count(*) FROM conversations_participant p
            WHERE p.unread_count != (
                SELECT count(*) FROM conversations_message m
                WHERE m.conversation_id = p.conversation_id
                  AND m.id > coalesce(p.last_read_message_id, 0)
                  AND (m.sender_id IS NULL OR m.sender_id != p.user_id))
            """
        )
        (wrong,) = cursor.fetchone()
    if wrong:
        problems.append(f"{wrong} participants whose unread_count is not a recount")
    wrong = Participant.objects.filter(is_seen=False, unread_count=0).count()
    if wrong:
        problems.append(f"{wrong} participants not seen with nothing unread")
    # A seller waits since the first buyer message after their own last message.
    with connection.cursor() as cursor:
        # "IS NOT" compares NULLs as values on SQLite; PostgreSQL spells it IS DISTINCT FROM.
        distinct = "IS DISTINCT FROM" if connection.vendor == "postgresql" else "IS NOT"
        cursor.execute(
            f"""
            SELECT count(*) FROM conversations_participant p
            WHERE p.role = %s AND p.awaiting_response_since {distinct} (
                SELECT min(m.created_at) FROM conversations_message m
                JOIN conversations_participant b
                  ON b.conversation_id = m.conversation_id AND b.user_id = m.sender_id
                WHERE m.conversation_id = p.conversation_id AND b.role = %s
                  AND m.id > coalesce((
                    SELECT max(o.id) FROM conversations_message o
                    WHERE o.conversation_id = p.conversation_id AND o.sender_id = p.user_id
                  ), 0))
            """,
            [ParticipantRole.SELLER, ParticipantRole.BUYER],
        )
        (wrong,) = cursor.fetchone()
    if wrong:
        problems.append(f"{wrong} sellers' awaiting_response_since is not a recount")
    # Counters: everyone's, recounted in SQL; a sample with the tests' own recount.
    truth: dict[tuple[int, str], int] = defaultdict(int)
    for user, box, folder, unread, is_seen in Participant.objects.exclude(
        box=Box.DELETED
    ).values_list("user_id", "box", "folder", "unread_count", "is_seen"):
        if unread:
            truth[(user, folder if box == Box.INBOX else box)] += 1
        if not is_seen:
            truth[(user, "unseen")] += 1
    maintained = {
        (user, key): value
        for user, key, value in UnreadCounter.objects.filter(conversations__gt=0).values_list(
            "user_id", "key", "conversations"
        )
    }
    if maintained != dict(truth):
        differing = set(maintained.items()) ^ set(truth.items())
        problems.append(f"{len(differing)} unread counters differ from a recount")
    users_in_conversations = set(Participant.objects.values_list("user_id", flat=True).distinct())
    with_counters = set(UnreadCounter.objects.values_list("user_id", flat=True).distinct())
    if users_in_conversations != with_counters:
        problems.append("people in conversations without their unread counter rows")
    picked = sorted(users_in_conversations)[:: max(1, len(users_in_conversations) // sample)]
    picked += [tokens["small_buyer"]["user_id"], tokens["biggest_seller"]["user_id"]]
    for user in User.objects.filter(pk__in=picked):
        if maintained_unread(user) != recounted_unread(user):
            problems.append(f"user {user.pk}: counters {maintained_unread(user)}")
    # Event log: a stream per person in a conversation, its newest event kept.
    streams = dict(EventStream.objects.values_list("user_id", "last_sequence"))
    if set(streams) != users_in_conversations:
        problems.append("event streams do not match the people in conversations")
    newest = dict(
        UserEvent.objects.values("user_id")
        .annotate(newest=Max("sequence"))
        .values_list("user_id", "newest")
    )
    if newest != streams:
        problems.append("event streams' last_sequence is not their newest event")
    # Search: one document per message, the same as the search app writes.
    if SearchDocument.objects.count() != Message.objects.count():
        problems.append("not one search document per message")
    step = max(1, Message.objects.count() // sample)
    messages = list(
        Message.objects.filter(pk__in=range(1, Message.objects.count() + 1, step))
        .select_related("conversation__order", "sender__storefront")
        .order_by("pk")
    )
    stored = SearchDocument.objects.in_bulk([m.pk for m in messages])
    for message in messages:
        order = message.conversation.order
        expected = _document(
            message, message.conversation.subject, order.number if order is not None else None
        )
        found = stored.get(message.pk)
        # The search app's row: (message id, tokens, subject tokens, sender names).
        written = (
            None if found is None else (found.tokens, found.subject_tokens, found.sender_names)
        )
        if written != expected[1:]:
            problems.append(f"message {message.pk}: search document differs")
            break
    # Mailboxes: every message once for everyone in its conversation, at its time.
    expected_rows = Participant.objects.aggregate(
        rows=Coalesce(Sum("conversation__message_count"), 0)
    )["rows"]
    if MailboxMessage.objects.count() != expected_rows:
        problems.append("search mailboxes do not hold each message once per participant")
    sampled = {m.pk: m for m in messages}
    members: dict[int, set[int]] = defaultdict(set)
    for conversation_id, user_id in Participant.objects.filter(
        conversation_id__in={m.conversation_id for m in messages}
    ).values_list("conversation_id", "user_id"):
        members[conversation_id].add(user_id)
    in_mailboxes: dict[int, set[int]] = defaultdict(set)
    for message_id, user_id, created_at in MailboxMessage.objects.filter(
        message_id__in=sampled
    ).values_list("message_id", "user_id", "created_at"):
        in_mailboxes[message_id].add(user_id)
        if created_at != sampled[message_id].created_at:
            problems.append(f"message {message_id}: a mailbox has it at another time")
            break
    if any(in_mailboxes[m.pk] != members[m.conversation_id] for m in messages):
        problems.append("a sampled message is not in exactly its participants' mailboxes")
    seller = User.objects.get(pk=tokens["biggest_seller"]["user_id"])
    search = tokens["biggest_seller"]["search"]
    for text in (search["rare_word"], search["order_number"], search["common_word"]):
        if not search_messages(seller, SearchFilters(text=text)).results:
            problems.append(f"searching {text!r} as the biggest seller finds nothing")
    wrong = Participant.objects.filter(
        Q(unread_count__lt=0) | Q(box__in=[Box.TRASH, Box.DELETED])
    ).count()
    if wrong:
        problems.append(f"{wrong} participants in Trash or deleted (the generator makes none)")
    return problems


# --- the database: fresh, migrated ---------------------------------------------------------


def fresh_database() -> None:
    """An empty database at DATABASE_URL: the SQLite file removed, or the PostgreSQL
    database dropped and created again (only ever the one named in DATABASE_URL)."""
    from django.conf import settings
    from django.db import connections

    database = settings.DATABASES["default"]
    connections.close_all()
    if database["ENGINE"].endswith("sqlite3"):
        for suffix in ("", "-wal", "-shm"):
            Path(f"{database['NAME']}{suffix}").unlink(missing_ok=True)
        return
    import psycopg
    from psycopg import sql

    with psycopg.connect(
        host=database["HOST"] or None,
        port=database["PORT"] or None,
        user=database["USER"] or None,
        password=database["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    ) as maintenance:
        name = sql.Identifier(database["NAME"])
        maintenance.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        maintenance.execute(sql.SQL("CREATE DATABASE {}").format(name))


def default_tokens_path() -> Path:
    from django.conf import settings

    return Path(settings.VAR_DIR) / "bench-tokens.json"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    defaults = Options()
    parser.add_argument("--users", type=int, default=defaults.users)
    parser.add_argument("--sellers", type=int, default=defaults.sellers)
    parser.add_argument("--agents", type=int, default=defaults.agents)
    parser.add_argument("--messages", type=int, default=defaults.messages)
    parser.add_argument("--long-conversations", type=int, default=defaults.long_conversations)
    parser.add_argument("--zipf", type=float, default=defaults.zipf, help="Zipf exponent")
    parser.add_argument("--seed", type=int, default=defaults.seed)
    parser.add_argument("--fresh", action="store_true", help="drop and recreate the database")
    parser.add_argument("--check", action="store_true", help="verify every invariant after")
    parser.add_argument("--tokens", type=Path, help="JSON file for the workloads")
    args = parser.parse_args(argv)
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "messagecenter.settings")
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    if args.fresh:
        fresh_database()
    call_command("migrate", verbosity=0, interactive=False)
    options = Options(
        users=args.users,
        sellers=args.sellers,
        agents=args.agents,
        messages=args.messages,
        long_conversations=args.long_conversations,
        zipf=args.zipf,
        seed=args.seed,
    )
    print(f"generating into {connection.vendor} {connection.settings_dict['NAME']}", flush=True)
    dataset = generate(options, log=lambda line: print(line, flush=True))
    tokens_path = args.tokens or default_tokens_path()
    tokens_path.parent.mkdir(parents=True, exist_ok=True)
    document = {**dataset.tokens, "counts": dataset.counts, "seconds": dataset.seconds}
    tokens_path.write_text(json.dumps(document, indent=1) + "\n")
    print(f"done in {dataset.seconds['total']} s; tokens: {tokens_path}", flush=True)
    if args.check:
        problems = check_dataset(dataset.tokens)
        for problem in problems:
            print(f"CHECK FAILED: {problem}")
        if problems:
            raise SystemExit(1)
        print("check: every invariant holds")


if __name__ == "__main__":
    main()
