"""The demo marketplace that `make run` loads, so a newcomer can sign in and find a Message
Center in use: three shops, two buyers with orders in every state, conversations with
sellers and customer service, membership messages, notices, promotions, and one phishing
message to spot.

Accounts, shops, products and orders are rows the operator's own systems would feed, so
they are created directly. Every message, read, archive and trash goes through
conversations.actions, so unread counters and event logs are exactly what real use leaves.
Actions stamp messages with the clock's time, so while the story is told the clock reads
the moment of each step (`_StoryClock`): the messages carry the times their texts and the
order rows speak of, spread over the past four weeks, as in a real inbox.
"""

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.contrib.auth.hashers import make_password
from django.db import IntegrityError, models, transaction
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.accounts.sign_in_hints import SignInHint, SignInHints
from messagecenter.conversations import actions, topics
from messagecenter.conversations.models import Conversation, Kind, Message, Participant
from messagecenter.errors import Conflict
from messagecenter.marketplace import return_actions
from messagecenter.marketplace.models import (
    Order,
    OrderItem,
    OrderStatus,
    Product,
    Refund,
    RefundStatus,
    ReturnItem,
    ReturnReason,
    ReturnRequest,
    ReturnResolution,
    ReturnStatus,
    Shipment,
    Storefront,
)
from messagecenter.notifications import actions as notification_actions
from messagecenter.notifications.models import Audience, BroadcastKind
from messagecenter.safety import limits
from messagecenter.support import actions as support_actions
from messagecenter.support import claim_actions
from messagecenter.support.models import CaseStatus, ClaimReason, TeamMember

DEMO_PASSWORD = "demo-password-2026"


SIGN_INS: tuple[SignInHint, ...] = (
    SignInHint(
        Role.BUYER,
        "alice",
        "orders in every state, seller and customer-service replies, a phishing message, "
        "a seller past their deadline",
    ),
    SignInHint(
        Role.BUYER, "bob", "a cancelled order, a seller's answer, a promotion, an open claim"
    ),
    SignInHint(Role.SELLER, "seller", "Brightside Home & Kitchen: a buyer's question to answer"),
    SignInHint(
        Role.SELLER,
        "trailhead",
        "Trailhead Outfitters: a buyer's question, answered; a claim to respond to",
    ),
    SignInHint(
        Role.SELLER,
        "pixelpine",
        "Pixel & Pine Electronics: a new question about an order, one past its deadline",
    ),
    SignInHint(
        Role.AGENT,
        "agent",
        "the console: an open, a pending and a solved case, a claim, notes, canned responses; "
        "reports filed in the demo (Trust & safety)",
    ),
    SignInHint(Role.ADMIN, "admin", "the Django admin at /admin/"),
)
# The seller behind the phishing message. It has no password: it is no one's sign-in.
IMPOSTOR_USERNAME = "mkt-account-team"
DEMO_USERNAMES: tuple[str, ...] = (
    *(sign_in.username for sign_in in SIGN_INS),
    IMPOSTOR_USERNAME,
    "omar",
)
# Everything is created in one transaction, so the first buyer existing means all of it does.
MARKER_USERNAME = "alice"


@dataclass(frozen=True)
class DemoSummary:
    """What one call to load_demo created (nothing when the demo was already loaded)."""

    already_loaded: bool
    accounts: int = 0
    storefronts: int = 0
    products: int = 0
    orders: int = 0
    conversations: int = 0
    messages: int = 0


def is_loaded() -> bool:
    """The demo's buyer, by name and demo address: a real "alice" is not the demo."""
    return User.objects.filter(
        username=MARKER_USERNAME, email=f"{MARKER_USERNAME}@example.com"
    ).exists()


HINTS = SignInHints(password=DEMO_PASSWORD, sign_ins=SIGN_INS)


def loaded_sign_in_hints() -> SignInHints | None:
    """What the sign-in page and `messagecenter run` suggest, once the demo is loaded."""
    return HINTS if is_loaded() else None


def sign_in_help() -> str:
    """The demo's sign-ins, for the terminal."""
    return HINTS.as_text()


def load_demo() -> DemoSummary:
    """Load the demo marketplace once: a second call changes nothing."""
    if is_loaded():
        return DemoSummary(already_loaded=True)
    # Password hashing is slow on purpose: hash once, before taking the write lock, and
    # give every demo account the same hash.
    password = make_password(DEMO_PASSWORD)
    try:
        with transaction.atomic():
            if is_loaded():
                return DemoSummary(already_loaded=True)
            _refuse_taken_usernames()
            before = _counts()
            _build(password, timezone.now())
            after = _counts()
    except IntegrityError:
        # Another `demo` committed first (on PostgreSQL; SQLite's write lock queues them).
        if is_loaded():
            return DemoSummary(already_loaded=True)
        raise
    accounts, storefronts, products, orders, conversations, messages = (
        rows_after - rows_before for rows_after, rows_before in zip(after, before, strict=True)
    )
    return DemoSummary(
        already_loaded=False,
        accounts=accounts,
        storefronts=storefronts,
        products=products,
        orders=orders,
        conversations=conversations,
        messages=messages,
    )


# What DemoSummary reports, in the order of its fields.
COUNTED: tuple[type[models.Model], ...] = (
    User,
    Storefront,
    Product,
    Order,
    Conversation,
    Message,
)


def _counts() -> list[int]:
    return [model._default_manager.count() for model in COUNTED]


def _refuse_taken_usernames() -> None:
    taken = sorted(
        User.objects.filter(username__in=DEMO_USERNAMES).values_list("username", flat=True)
    )
    if taken:
        raise Conflict(
            f"The demo cannot be loaded: this database already has accounts named "
            f"{', '.join(taken)}. Load it into a fresh database (another "
            f"MESSAGECENTER_VAR_DIR or DATABASE_URL).",
            code="demo_usernames_taken",
        )


def _build(password: str, now: datetime) -> None:
    people = _create_people(password)
    products = _create_catalogue(people)
    orders = _create_orders(people, products, now)
    _staff_customer_service(people)
    with _story_clock(now) as clock:
        _tell_the_story(people, products, orders, now, clock)
        _return_in_progress(people, orders, now, clock)
        _silent_seller(people, products, now, clock)
        _open_claim(people, orders, clock)


class _StoryClock:
    """The time the actions read while the story is told: the moment of the current step
    (`at`), moving on with the real clock from there, so the messages of one step keep
    their order."""

    def __init__(self, now: datetime, real_now: Callable[[], datetime]) -> None:
        self._now = now
        self._real_now = real_now
        self._step = now
        self._step_began = real_now()

    def at(self, days_ago: float) -> None:
        self._step = self._now - timedelta(days=days_ago)
        self._step_began = self._real_now()

    def now(self) -> datetime:
        return self._step + (self._real_now() - self._step_began)


@contextmanager
def _story_clock(now: datetime) -> Iterator[_StoryClock]:
    """Every action takes its time from django.utils.timezone.now (nothing in the code
    imports the function itself), so setting it for the story's length dates every row
    the actions write — messages, last activity, events, e-mails, cases — alike."""
    real_now = timezone.now
    real_limits_clock = limits._now
    clock = _StoryClock(now, real_now)
    timezone.now = clock.now
    # The sending limits count in windows of their own clock (safety/limits.py): read at
    # the story's moments too, the demo's four weeks of sends are not one burst of the
    # minute it takes to load (bob's six first contacts would pass a new account's five
    # an hour).
    limits._now = lambda: clock.now().timestamp()
    try:
        yield clock
    finally:
        timezone.now = real_now
        limits._now = real_limits_clock


def _staff_customer_service(people: dict[str, User]) -> None:
    """Priya and Omar answer customer service, with the team's canned responses; Priya
    also decides guarantee claims (the claims team) and reviews reports (Trust & safety):
    `agent` is the demo's one sign-in to the console, so a report someone files in the
    demo reaches her queue, and its "Assign to" lists her."""
    team = support_actions.team_for("request")
    TeamMember.objects.bulk_create(
        [
            TeamMember(team=team, agent=people["agent"]),
            TeamMember(team=team, agent=people["omar"]),
            TeamMember(team=support_actions.team_for("claim"), agent=people["agent"]),
            TeamMember(team=support_actions.team_for("report"), agent=people["agent"]),
        ]
    )
    for title, body in (
        (
            "Where is my order",
            "Hi {customer_name}, thanks for reaching out about order {order_number}. I've "
            "checked with the carrier: your parcel is on its way, and its latest scan is on "
            "the order's page under Shipments. If it has not arrived within 3 business days, "
            "reply here and we'll take it from there.",
        ),
        (
            "Refund timing",
            "Hi {customer_name}, the refund for order {order_number} has been issued. Banks "
            "usually show it within 3 to 5 business days.",
        ),
        (
            "Anything else",
            "Is there anything else we can help with? Reply here; your request is {case_number}.",
        ),
    ):
        support_actions.save_canned_response(people["agent"], team.pk, title, body)


# --- what the operator's systems would hold -------------------------------------------------


def _create_people(password: str) -> dict[str, User]:
    def person(
        username: str,
        role: str,
        first_name: str,
        last_name: str,
        display_name: str,
        *,
        can_sign_in: bool = True,
    ) -> User:
        return User.objects.create(
            username=username,
            # make_password(None) is an unusable password: no one can sign in with it.
            password=password if can_sign_in else make_password(None),
            email=f"{username}@example.com",
            role=role,
            first_name=first_name,
            last_name=last_name,
            display_name=display_name,
            country="US",
            is_staff=role == Role.ADMIN,
            is_superuser=role == Role.ADMIN,
        )

    people = {
        "alice": person("alice", Role.BUYER, "Alice", "Martin", "Alice Martin"),
        "bob": person("bob", Role.BUYER, "Bob", "Chen", "Bob Chen"),
        "seller": person("seller", Role.SELLER, "Dana", "Whitfield", "Dana Whitfield"),
        "trailhead": person("trailhead", Role.SELLER, "Marcus", "Reyes", "Marcus Reyes"),
        "pixelpine": person("pixelpine", Role.SELLER, "Jonah", "Park", "Jonah Park"),
        "agent": person("agent", Role.AGENT, "Priya", "Natarajan", "Priya from Customer Service"),
        # Priya's teammate: not a sign-in of the demo, the author of its solved case.
        "omar": person("omar", Role.AGENT, "Omar", "Haddad", "Omar", can_sign_in=False),
        "admin": person("admin", Role.ADMIN, "Site", "Administrator", "Site administrator"),
        IMPOSTOR_USERNAME: person(
            IMPOSTOR_USERNAME, Role.SELLER, "", "", "Account Services", can_sign_in=False
        ),
    }
    return people


def _create_catalogue(people: dict[str, User]) -> dict[str, Product]:
    def storefront(username: str, name: str, slug: str) -> Storefront:
        return Storefront.objects.create(seller=people[username], name=name, slug=slug)

    brightside = storefront("seller", "Brightside Home & Kitchen", "brightside-home-kitchen")
    trailhead = storefront("trailhead", "Trailhead Outfitters", "trailhead-outfitters")
    pixel_and_pine = storefront("pixelpine", "Pixel & Pine Electronics", "pixel-and-pine")
    # A real seller account whose shop name imitates the marketplace's own staff.
    impostor = storefront(IMPOSTOR_USERNAME, "Marketplace Account Team", "marketplace-account-team")

    def product(
        shop: Storefront, sku: str, title: str, price_cents: int, description: str
    ) -> Product:
        return Product.objects.create(
            storefront=shop,
            sku=sku,
            title=title,
            price_cents=price_cents,
            description=description,
        )

    return {
        "kettle": product(
            brightside,
            "B0C7KX2M41",
            "Variable-Temperature Electric Kettle, 1.7 L, Stainless Steel",
            6999,
            "Six presets from 160 °F to 212 °F for green tea, oolong, French press and more. "
            "Keep-warm holds the chosen temperature for 30 minutes. 1500 W: boils a litre in "
            "about four minutes. Stainless interior and lid, auto shut-off, boil-dry protection.",
        ),
        "coffee_maker": product(
            brightside,
            "B0B9TQ7R22",
            "12-Cup Programmable Coffee Maker with Thermal Carafe",
            8999,
            "Brews up to 12 cups into a double-walled stainless carafe that keeps coffee hot "
            "for four hours without a warming plate. 24-hour programmable start, bold setting, "
            "removable 60 oz reservoir, reusable gold-tone filter included.",
        ),
        "dutch_oven": product(
            brightside,
            "B0D1HV8N56",
            "Enameled Cast Iron Dutch Oven, 5.5 qt, Cerulean",
            8400,
            "Heavy enameled cast iron with a tight-fitting lid for braises, stews and "
            "no-knead bread. Oven-safe to 500 °F, works on every cooktop including induction. "
            "Serves four to six.",
        ),
        "cutting_boards": product(
            brightside,
            "B08ZP4LW93",
            "Bamboo Cutting Board Set with Juice Grooves, 3 Pieces",
            3495,
            "Three boards (15×10, 12×8 and 9×6 inches) of organic Moso bamboo, gentle on "
            "knife edges. Deep juice groove on the large board. Hand wash; oil monthly.",
        ),
        "tent": product(
            trailhead,
            "B09RT2K8XW",
            "Ridgeline 2-Person Backpacking Tent, 3-Season",
            21900,
            "Freestanding double-wall tent, 4 lb 2 oz packed. Two doors and two vestibules, "
            "29 sq ft floor, 40 in peak height. Colour-coded poles pitch in under five "
            "minutes. Stakes and guylines included; footprint sold separately.",
        ),
        "socks": product(
            trailhead,
            "B07MW3S5QA",
            "Merino Wool Hiking Socks, Cushioned Crew, 3 Pairs",
            4200,
            "70% merino wool with nylon for durability. Cushioned sole and heel, "
            "seamless toe, arch support. Naturally odour-resistant. Size M fits US 8–11.",
        ),
        "water_bottle": product(
            trailhead,
            "B08WB1T32Z",
            "Insulated Stainless Steel Water Bottle, 32 oz, Wide Mouth",
            2995,
            "Double-wall vacuum insulation keeps drinks cold for 24 hours and hot for 12. "
            "Leak-proof lid with carry loop, fits most ice cubes, dishwasher-safe.",
        ),
        "headphones": product(
            pixel_and_pine,
            "B0CH7N4P2L",
            "Wireless Noise-Cancelling Headphones, 40-Hour Battery",
            14999,
            "Adaptive noise cancelling, transparency mode and 40 hours of playback. "
            "Ten minutes of charging gives five hours. Multipoint Bluetooth 5.3, "
            "USB-C, folding design with a hard case.",
        ),
        "charger": product(
            pixel_and_pine,
            "B0BQ65W3PC",
            "65W USB-C GaN Charger, 3 Ports, Foldable Plug",
            3999,
            "Two USB-C ports and one USB-A, 65 W from a single port: enough for most "
            "laptops. Gallium nitride keeps it the size of a phone charger.",
        ),
        "keyboard": product(
            pixel_and_pine,
            "B0C75MK8BR",
            "75% Mechanical Keyboard, Hot-Swappable, Brown Switches",
            11900,
            "Compact 84-key layout with a volume knob, hot-swappable tactile switches, "
            "PBT keycaps and a gasket-mounted plate. USB-C wired or Bluetooth for three "
            "devices.",
        ),
        "phone_case": product(
            impostor,
            "B0CPC15C7Q",
            "Clear Shockproof Phone Case for iPhone 15",
            999,
            "Slim clear case with reinforced corners and raised edges around the camera.",
        ),
    }


def _create_orders(
    people: dict[str, User], products: dict[str, Product], now: datetime
) -> dict[str, Order]:
    alice, bob = people["alice"], people["bob"]

    def ago(days: float) -> datetime:
        return now - timedelta(days=days)

    def order(
        number: str,
        buyer: User,
        status: str,
        placed_days_ago: float,
        lines: Sequence[tuple[str, int]],
    ) -> Order:
        bought = [(products[key], quantity) for key, quantity in lines]
        created = Order.objects.create(
            number=number,
            buyer=buyer,
            status=status,
            placed_at=ago(placed_days_ago),
            total_cents=sum(product.price_cents * quantity for product, quantity in bought),
        )
        OrderItem.objects.bulk_create(
            OrderItem(
                order=created,
                product=product,
                storefront=product.storefront,
                title=product.title,
                quantity=quantity,
                unit_price_cents=product.price_cents,
            )
            for product, quantity in bought
        )
        return created

    def ship(
        shipped: Order,
        carrier: str,
        tracking_number: str,
        *,
        shipped_days_ago: float,
        expected_days_from_now: int,
        delivered_days_ago: float | None = None,
    ) -> None:
        Shipment.objects.create(
            order=shipped,
            carrier=carrier,
            tracking_number=tracking_number,
            shipped_at=ago(shipped_days_ago),
            estimated_delivery=(now + timedelta(days=expected_days_from_now)).date(),
            delivered_at=ago(delivered_days_ago) if delivered_days_ago is not None else None,
        )

    orders = {
        "cutting_boards": order(
            "112-4839201-5521937", alice, OrderStatus.DELIVERED, 26.2, [("cutting_boards", 1)]
        ),
        "bob_water_bottle": order(
            "113-2207418-9904216", bob, OrderStatus.DELIVERED, 15.4, [("water_bottle", 1)]
        ),
        "headphones": order(
            "114-7781230-0456682", alice, OrderStatus.DELIVERED, 12.1, [("headphones", 1)]
        ),
        "bob_socks": order("112-5093377-3318450", bob, OrderStatus.CANCELLED, 10.3, [("socks", 1)]),
        "coffee_maker": order(
            "113-6624019-7781204", alice, OrderStatus.DELAYED, 9.2, [("coffee_maker", 1)]
        ),
        "tent": order("111-9045512-2630098", alice, OrderStatus.PROBLEM, 7.3, [("tent", 1)]),
        "dutch_oven": order(
            "114-3318806-1147725", alice, OrderStatus.SHIPPED, 5.1, [("dutch_oven", 1)]
        ),
        "hiking": order(
            "112-0672954-8841306",
            alice,
            OrderStatus.OUT_FOR_DELIVERY,
            4.2,
            [("socks", 2), ("water_bottle", 1)],
        ),
        "bob_charger": order(
            "113-8850143-6092217", bob, OrderStatus.SHIPPED, 3.3, [("charger", 1)]
        ),
        "keyboard": order(
            "111-2486630-5574918",
            alice,
            OrderStatus.PLACED,
            1.2,
            [("keyboard", 1), ("phone_case", 1)],
        ),
    }
    ship(
        orders["cutting_boards"],
        "UPS",
        "1Z4R8V270391845526",
        shipped_days_ago=25,
        expected_days_from_now=-23,
        delivered_days_ago=23,
    )
    ship(
        orders["bob_water_bottle"],
        "USPS",
        "9400111899223344556677",
        shipped_days_ago=14,
        expected_days_from_now=-12,
        delivered_days_ago=12,
    )
    ship(
        orders["headphones"],
        "FedEx",
        "771234905566",
        shipped_days_ago=11,
        expected_days_from_now=-9,
        delivered_days_ago=9,
    )
    ship(
        orders["coffee_maker"],
        "UPS",
        "1Z4R8V270392217840",
        shipped_days_ago=8,
        expected_days_from_now=1,
    )
    ship(orders["tent"], "UPS", "1Z4R8V270395530127", shipped_days_ago=6, expected_days_from_now=2)
    ship(
        orders["dutch_oven"], "FedEx", "771239014482", shipped_days_ago=2, expected_days_from_now=2
    )
    ship(
        orders["hiking"],
        "USPS",
        "9400111899561203448810",
        shipped_days_ago=2,
        expected_days_from_now=0,
    )
    ship(
        orders["bob_charger"],
        "USPS",
        "9400111899780021553394",
        shipped_days_ago=2,
        expected_days_from_now=1,
    )
    # The board Brightside sold, with its seller and items recorded as a return started
    # from the order page has them: Brightside's view of the order lists it too, and the
    # unit it took back is not offered for return again (docs/returns.md).
    boards = orders["cutting_boards"]
    returned = ReturnRequest.objects.create(
        order=boards,
        storefront=boards.items.get().storefront,
        status=ReturnStatus.REFUNDED,
        reason="Arrived damaged: the large board is cracked along one edge",
        reason_code=ReturnReason.DAMAGED,
        resolution=ReturnResolution.REFUND,
        reference="RET-5B0A2D19C7",
        requested_at=ago(22),
        decided_at=ago(21.9),
        received_at=ago(17),
    )
    ReturnItem.objects.create(return_request=returned, order_item=boards.items.get(), quantity=1)
    Refund.objects.create(
        order=orders["cutting_boards"],
        return_request=returned,
        amount_cents=orders["cutting_boards"].total_cents,
        status=RefundStatus.ISSUED,
        created_at=ago(16),
    )
    return orders


def _return_in_progress(
    people: dict[str, User], orders: dict[str, Order], now: datetime, clock: "_StoryClock"
) -> None:
    """Alice's headphones stopped charging: she asked for a replacement from the order
    page yesterday and Pixel & Pine approved it this morning; the parcel is not back yet
    (docs/returns.md). Through the actions, as a person would."""
    headphones = orders["headphones"]
    clock.at(1)
    started = return_actions.request_return(
        people["alice"],
        headphones.number,
        [return_actions.ReturnLine(headphones.items.get().pk, 1)],
        resolution=ReturnResolution.REPLACEMENT,
        reason_code=ReturnReason.DEFECTIVE,
        note="The left ear cup stopped charging after a week. The cable works with my phone.",
        idempotency_key="demo-headphones-return",
        now=now - timedelta(days=1),
    )
    clock.at(3 / 24)
    return_actions.decide_return(
        people["pixelpine"],
        started.return_request.pk,
        approve=True,
        now=now - timedelta(hours=3),
    )


def _silent_seller(
    people: dict[str, User], products: dict[str, Product], now: datetime, clock: "_StoryClock"
) -> None:
    """Two weeks ago alice asked Pixel & Pine about the keyboard she bought yesterday;
    they never answered. The sweep marked the deadline when it passed (its notice dated
    then, as the worker would have), so alice's conversation offers "Ask customer service
    to help" and Pixel & Pine's Response needed says "Deadline passed"
    (docs/escalation.md). Whatever the weekday and the holidays, the deadline falls
    between 8 and 12 days ago, when alice's inbox has nothing else: the list's order does
    not depend on the day the demo is loaded."""
    clock.at(14)
    question = actions.ask_seller_about_product(
        people["alice"],
        products["keyboard"].pk,
        "Hi, does this keyboard work with a Mac out of the box, with the Command and Option "
        "keys where a Mac has them? And are the keycaps PBT or ABS?",
    )
    due = (
        Participant.objects.filter(
            conversation_id=question.conversation_id, user=people["pixelpine"]
        )
        .values_list("response_due_at", flat=True)
        .get()
    )
    if due is None or due >= now:
        raise RuntimeError("The demo's silent seller must be past their deadline.")
    clock.at((now - due - timedelta(minutes=1)).total_seconds() / 86400)
    actions.pass_response_deadlines()


def _open_claim(people: dict[str, User], orders: dict[str, Order], clock: "_StoryClock") -> None:
    """Bob's "leak-proof" water bottle leaks; Trailhead told him to check the gasket. A
    day ago he filed a guarantee claim (not as described): it waits for Trailhead's
    response, and then for an agent of the claims team (docs/support.md#guarantee-claims)."""
    bob, trailhead = people["bob"], people["trailhead"]
    bottle = orders["bob_water_bottle"]
    clock.at(5)
    asked = actions.contact_seller_about_order(
        bob,
        bottle.pk,
        bottle.items.get().storefront_id,
        "Hi, the bottle's lid leaks: a few drops every time it's on its side in my bag. The "
        "listing says leak-proof. Can you send a lid that doesn't leak, or refund me?",
    )
    clock.at(4.8)
    actions.send_message(
        trailhead,
        asked.conversation_id,
        "Hi Bob, the lids are leak-proof when the silicone gasket is pushed all the way into "
        "its groove. Take it out, press it back in evenly and it should be fine.\n\n"
        "Marcus, Trailhead Outfitters",
    )
    clock.at(1.1)
    actions.mark_read(bob, [asked.conversation_id])
    claim_actions.file_claim(
        bob,
        bottle.number,
        ClaimReason.NOT_AS_DESCRIBED,
        "The lid leaks even with the gasket pressed in properly (I tried three times). The "
        "listing promises a leak-proof lid, and the seller only told me to check the gasket.",
        about_conversation_id=asked.conversation_id,
        idempotency_key="demo-water-bottle-claim",
    )


# --- the messages, oldest first ------------------------------------------------------------


def _tell_the_story(
    people: dict[str, User],
    products: dict[str, Product],
    orders: dict[str, Order],
    now: datetime,
    clock: _StoryClock,
) -> None:
    alice, bob, agent = people["alice"], people["bob"], people["agent"]
    brightside, trailhead = people["seller"], people["trailhead"]
    impostor = people[IMPOSTOR_USERNAME]

    def date_in(days_from_now: float) -> date:
        return (now + timedelta(days=days_from_now)).date()

    def day(days_from_now: float) -> str:
        return _day(date_in(days_from_now))

    # Four weeks ago: alice's cutting boards arrive cracked; returned and refunded.
    boards = orders["cutting_boards"]
    clock.at(26.2)
    _order_update(boards, _placed_text(boards))
    clock.at(25)
    _order_update(boards, _shipped_text(boards))
    clock.at(23)
    _order_update(boards, _delivered_text(boards))
    clock.at(22)
    _returns_update(
        boards,
        f"We've received your return request for the {products['cutting_boards'].title} "
        f"(order {boards.number}).\n\n"
        "Reason: arrived damaged: the large board is cracked along one edge.\n\n"
        "Because the item arrived damaged, return shipping is free. We'll confirm the "
        "return within 24 hours.",
    )
    clock.at(21.9)
    _returns_update(
        boards,
        "Your return is approved.\n\n"
        "Print the prepaid UPS label from Your Orders, or show the QR code in Your Orders at "
        f"any UPS Store, and drop the package off by {day(-7)}. You don't need the "
        "original box.",
    )
    clock.at(17)
    _returns_update(
        boards,
        f"We received your return on {day(-17)}. Your refund of "
        f"{_money(boards.total_cents)} is on its way.",
    )
    clock.at(16)
    _returns_update(
        boards,
        f"Refund issued: {_money(boards.total_cents)} to your Visa ending in 4242 on "
        f"{day(-16)}. It can take 3–5 business days to appear on your statement.\n\n"
        "Return and refund status: Refunded.",
    )

    # Two weeks ago: bob's water bottle, and alice's headphones.
    bottle = orders["bob_water_bottle"]
    clock.at(15.4)
    _order_update(bottle, _placed_text(bottle))
    clock.at(14)
    _order_update(bottle, _shipped_text(bottle))
    clock.at(12)
    _order_update(bottle, _delivered_text(bottle))
    headphones = orders["headphones"]
    clock.at(12.1)
    _order_update(headphones, _placed_text(headphones))
    clock.at(11)
    _order_update(headphones, _shipped_text(headphones))
    clock.at(9)
    _order_update(headphones, _delivered_text(headphones))

    # Ten days ago: bob changes his mind about the socks.
    socks = orders["bob_socks"]
    clock.at(10.3)
    _order_update(socks, _placed_text(socks))
    clock.at(10.25)
    _order_update(
        socks,
        f"Your order {socks.number} has been cancelled, as you asked.\n\n"
        f"{_item_lines(socks)}\n\n"
        "You have not been charged. If your bank shows a pending amount, it is an "
        "authorisation that drops off on its own within 3–5 business days.",
    )

    # A week ago: bob asks customer service how to change his e-mail; Omar answers (solved).
    clock.at(7)
    email_case = support_actions.open_request(
        bob,
        "How do I change the e-mail address on my account?",
        "Hi, I'm moving to a new e-mail provider. Where do I change my address?",
    )
    clock.at(6.9)
    support_actions.take_case(people["omar"], email_case.pk)
    support_actions.reply_to_case(
        people["omar"],
        email_case.pk,
        "Hi Bob, go to Your Account, then Login & security, and choose Edit next to E-mail. "
        "We'll send a code to the new address to confirm it.",
        status=CaseStatus.SOLVED,
    )
    clock.at(6.8)
    actions.mark_read(bob, [email_case.conversation_id])

    # A week ago: the coffee maker and the tent ship; membership messages.
    coffee = orders["coffee_maker"]
    clock.at(9.2)
    _order_update(coffee, _placed_text(coffee))
    clock.at(8)
    _order_update(coffee, _shipped_text(coffee, expected=date_in(-5)))
    tent = orders["tent"]
    clock.at(7.3)
    _order_update(tent, _placed_text(tent))
    clock.at(6)
    _order_update(tent, _shipped_text(tent, expected=date_in(-3)))
    clock.at(6.5)
    actions.send_marketplace_message(
        alice,
        kind=Kind.MEMBERSHIP,
        subject="Your Marketplace Plus membership renews next week",
        body=f"Hi Alice,\n\n"
        f"Your Marketplace Plus membership renews on {day(8)} for $14.99 a month, charged "
        "to your Visa ending in 4242. Over the past year your membership saved you $86.40 "
        "in delivery fees.\n\n"
        "Nothing to do if you'd like to keep it. You can switch to yearly billing or cancel "
        "any time under Your Account > Memberships.",
    )
    actions.send_marketplace_message(
        bob,
        kind=Kind.MEMBERSHIP,
        subject="Welcome to your Marketplace Plus free trial",
        body="Hi Bob,\n\n"
        "Your 30-day Marketplace Plus trial has started: free two-day delivery on millions "
        "of items, free returns on eligible orders and early access to deals.\n\n"
        f"The trial ends on {day(24)}, and we'll remind you three days before. After that "
        "it's $14.99 a month unless you cancel under Your Account > Memberships.",
    )

    # Five days ago: two new orders for alice; the coffee maker runs late.
    oven = orders["dutch_oven"]
    clock.at(5.1)
    _order_update(oven, _placed_text(oven))
    hiking = orders["hiking"]
    clock.at(4.2)
    _order_update(hiking, _placed_text(hiking))
    clock.at(5)
    _order_update(
        coffee,
        f"Your package is running late.\n\n"
        f"UPS reports a delay in transit for order {coffee.number} and now expects to "
        f"deliver it by {day(1)}. We're sorry for the wait.\n\n"
        f"You don't need to do anything. If it hasn't arrived by {day(3)}, you can ask for "
        "a refund or a replacement from Your Orders.",
    )

    # Four days ago: alice asks Brightside about the late coffee maker; Dana answers.
    clock.at(4)
    about_coffee = actions.contact_seller_about_order(
        alice,
        coffee.pk,
        products["coffee_maker"].storefront_id,
        f"Hello, my coffee maker (order {coffee.number}) was due on {day(-5)}, but the "
        "tracking hasn't moved since it reached the Memphis hub four days ago. Is it lost? "
        "I'd rather not wait another week.",
    )
    clock.at(3.9)
    actions.send_message(
        brightside,
        about_coffee.conversation_id,
        "Hi Alice, I'm sorry about the wait. I checked with UPS: your package was held at "
        "the Memphis hub by a weather delay and is moving again, with delivery now expected "
        f"{day(1)}.\n\n"
        f"If it hasn't arrived by {day(3)}, reply here and I'll send a replacement the same "
        "day or refund you in full, whichever you prefer.\n\n"
        "Dana, Brightside Home & Kitchen",
    )

    # Three days ago: the tent can't be delivered; bob orders a charger and asks about a tent.
    clock.at(3)
    _order_update(
        tent,
        "There's a problem with your delivery.\n\n"
        f"UPS tried to deliver order {tent.number} on {day(-3)} but couldn't: the address "
        "is missing an apartment or unit number.\n\n"
        "Update the address in Your Orders within 5 days, or the package will be returned "
        "to the seller and your order refunded.",
    )
    charger = orders["bob_charger"]
    clock.at(3.3)
    _order_update(charger, _placed_text(charger))
    clock.at(2.9)
    tent_question = actions.ask_seller_about_product(
        bob,
        products["tent"].pk,
        "Hello! Is the Ridgeline fully freestanding, and will two 25-inch-wide sleeping pads "
        "fit side by side? Does it come with stakes?",
    )
    clock.at(2.8)
    actions.send_message(
        trailhead,
        tent_question.conversation_id,
        "Hi Bob, yes, it's fully freestanding: only the rainfly needs two stakes to pitch "
        "taut. The floor is 52 inches wide at the head end, so two 25-inch pads fit side by "
        "side with a little room to spare. It comes with 8 aluminium stakes and 4 "
        "guylines.\n\n"
        "Marcus, Trailhead Outfitters",
    )

    # Two days ago: shipments; alice asks customer service about the tent; a new notice.
    clock.at(2)
    _order_update(oven, _shipped_text(oven))
    clock.at(1.99)
    _order_update(hiking, _shipped_text(hiking))
    clock.at(1.98)
    _order_update(charger, _shipped_text(charger))
    clock.at(1.9)
    tent_case = support_actions.open_request(
        alice,
        "Tent delivery failed: the address was missing my apartment number",
        f"Hello, UPS tried to deliver my tent (order {tent.number}) but says the address is "
        "incomplete. I've now added my apartment number (Apt 4B) to the address on the "
        "order. Can you make sure the carrier gets the corrected address? I need the tent "
        "for a trip next weekend.",
        order_number=tent.number,
    )
    # She read "we have your request" on the page she was taken to.
    actions.mark_read(alice, [tent_case.conversation_id])
    clock.at(1.88)
    support_actions.take_case(agent, tent_case.pk)
    support_actions.add_note(
        agent,
        tent_case.pk,
        "Called UPS: corrected address accepted, reattempt booked. If it misses the new "
        "date, a replacement is approved (Trailhead agreed by phone).",
    )
    clock.at(1.8)
    support_actions.reply_to_case(
        agent,
        tent_case.pk,
        "Hi Alice, thanks for getting in touch. I've sent the corrected address (Apt 4B) to "
        "UPS and asked for a new delivery attempt: UPS now shows delivery on "
        f"{day(2)}, and I've added a note for the driver.\n\n"
        "If it hasn't arrived by then, reply here and we'll send a replacement at no cost, "
        "so you have it before your trip.",
    )
    # Notices and promotions are broadcasts (docs/notifications.md): one row and an
    # audience, so the Promotions switch hides them like every promotion.
    staff = people["admin"]
    # Written a little before it appears, as staff do.
    clock.at(2.2)
    notification_actions.schedule_broadcast(
        staff,
        kind=BroadcastKind.NOTICE,
        audience=Audience.BUYERS,
        send_at=now - timedelta(days=2, hours=3),
        subject="We're updating our Conditions of Use and Privacy Notice",
        body=f"Updated Conditions of Use and an updated Privacy Notice take effect on "
        f"{day(30)}. The main changes:\n\n"
        "• Clearer rules for how sellers may contact you, and a reminder: we never ask "
        "for your password, or to confirm payment details, in a message.\n"
        "• How long the Message Center keeps messages. Messages about an order are kept "
        "for as long as you have your account.\n"
        "• How to dispute a charge on an order.\n\n"
        f"You don't need to do anything: using the marketplace after {day(30)} means you "
        "accept the updated terms. Read both in full under Your Account > Legal.",
    )

    # Yesterday: alice asks about a kettle and follows up after Dana's answer.
    clock.at(1.4)
    kettle_question = actions.ask_seller_about_product(
        alice,
        products["kettle"].pk,
        "Hi, does this kettle have a keep-warm setting? And is the inside of the lid "
        "stainless or plastic? I'm trying to avoid plastic touching the water.",
    )
    clock.at(1.35)
    actions.send_message(
        brightside,
        kettle_question.conversation_id,
        "Hi Alice, yes: keep-warm holds the temperature you picked for 30 minutes (press Keep "
        "Warm after choosing a preset). Everything that touches the water is stainless "
        "steel, including the inside of the lid and the spout filter. The only plastic parts "
        "are the handle and the outer lid hinge.\n\n"
        "Dana, Brightside Home & Kitchen",
    )
    clock.at(1.3)
    actions.send_message(
        alice,
        kettle_question.conversation_id,
        "That's great, thank you! One more: which temperature presets does it have? I mostly "
        "drink green and white tea.",
    )

    # Yesterday: alice orders a keyboard and a phone case; the case's "seller" writes first.
    keyboard = orders["keyboard"]
    clock.at(1.2)
    _order_update(keyboard, _placed_text(keyboard))
    clock.at(1)
    # Sellers may write first to the buyers of their own orders — the route real phishing
    # takes. The message is a seller's, so it can never carry the Official badge.
    actions.contact_buyer_about_order(
        impostor,
        keyboard.pk,
        "URGENT: Your Marketplace account has been suspended\n\n"
        "Dear Customer,\n\n"
        "We detected unusual sign-in activity on you account and placed order "
        f"{keyboard.number} on hold. Your account will be permanently closed within 24 "
        "hours unless you verify your identity.\n\n"
        "Verify your account now: https://rnarketplace-account-verify.example/secure-login\n\n"
        "You will need to confirm your password and the card used for this order.\n\n"
        "Marketplace Account Team\n"
        "Security Department",
    )

    # Yesterday: this week's promotions, each to the buyers it was picked for.
    clock.at(1.25)
    kitchen_event = notification_actions.schedule_broadcast(
        staff,
        kind=BroadcastKind.PROMOTION,
        audience=Audience.LIST,
        user_ids=[alice.pk],
        send_at=now - timedelta(days=1, hours=5),
        subject="Spring Kitchen Event: up to 30% off cookware and small appliances",
        body="Picked for you from shops you've bought from:\n\n"
        "• Enameled cast iron Dutch ovens from $59\n"
        "• Variable-temperature kettles from $39\n"
        "• Knife sets and cutting boards up to 30% off\n\n"
        "The event ends Sunday at midnight. You're receiving this because promotions are on "
        "in Your Account → E-mail preferences; you can turn them off there at any time.",
    )
    notification_actions.schedule_broadcast(
        staff,
        kind=BroadcastKind.PROMOTION,
        audience=Audience.LIST,
        user_ids=[bob.pk],
        send_at=now - timedelta(days=1, hours=4),
        subject="Trail-ready deals: 25% off tents, packs and bottles",
        body="Getting ready for the season? This week only:\n\n"
        "• 25% off backpacking tents, including the Ridgeline 2-Person\n"
        "• Merino socks: buy two packs, get the third free\n"
        "• Insulated bottles from $19\n\n"
        "Deals end Sunday. You're receiving this because promotions are on in "
        "Your Account → E-mail preferences; you can turn them off there at any time.",
    )

    # Today: bob asks about his charger and about a charge; alice's hiking order is close.
    clock.at(0.25)
    actions.contact_seller_about_order(
        bob,
        charger.pk,
        products["charger"].storefront_id,
        "Hi, my charger shipped yesterday. Does it come with a USB-C cable, or do I need to "
        "buy one? I want to charge a laptop at 65 W.",
    )
    # New and unassigned: the first case in the console's queue.
    clock.at(0.15)
    charge_case = support_actions.open_request(
        bob,
        "Pending charge for a cancelled order",
        f"Hi, I cancelled order {socks.number} (merino socks) an hour after placing it, but "
        "my bank app still shows a pending charge of $42.00. Will it be refunded?",
        order_number=socks.number,
    )
    actions.mark_read(bob, [charge_case.conversation_id])
    clock.at(0.08)
    _order_update(hiking, _out_for_delivery_text(hiking))

    # What each buyer has already done with their messages, just now.
    clock.at(0)
    actions.mark_read(
        alice,
        [
            _updates_conversation_id(boards),
            _returns_conversation_id(boards),
            _updates_conversation_id(headphones),
            _updates_conversation_id(keyboard),
            _conversation_id(alice, Kind.MEMBERSHIP),
        ],
    )
    actions.archive_conversations(alice, [_updates_conversation_id(headphones)])
    notification_actions.trash_broadcasts(alice, [kitchen_event.pk])
    actions.mark_read(
        bob,
        [
            _updates_conversation_id(bottle),
            _updates_conversation_id(socks),
            _conversation_id(bob, Kind.MEMBERSHIP),
        ],
    )


def _order_update(order: Order, body: str) -> Message:
    return actions.send_marketplace_message(
        order.buyer,
        kind=Kind.ORDER_UPDATES,
        subject=_order_subject(order),
        body=body,
        topic_key=topics.order_updates(order.pk),
        order=order,
    )


def _returns_update(order: Order, body: str) -> Message:
    return actions.send_marketplace_message(
        order.buyer,
        kind=Kind.RETURNS,
        subject=f"Return of {order.items.get().title}",
        body=body,
        topic_key=topics.order_returns(order.pk),
        order=order,
    )


def _updates_conversation_id(order: Order) -> int:
    return Conversation.objects.get(topic_key=topics.order_updates(order.pk)).pk


def _returns_conversation_id(order: Order) -> int:
    return Conversation.objects.get(topic_key=topics.order_returns(order.pk)).pk


def _conversation_id(user: User, kind: str) -> int:
    """The person's one conversation of this kind (the demo sends each buyer one)."""
    return Conversation.objects.get(participants__user=user, kind=kind).pk


def _order_subject(order: Order) -> str:
    items = list(order.items.order_by("id"))
    others = len(items) - 1
    more = f" and {others} more item{'s' if others > 1 else ''}" if others else ""
    return f"Your order of {items[0].title}{more}"


def _item_lines(order: Order) -> str:
    return "\n".join(
        f"{item.quantity} × {item.title}, {_money(item.unit_price_cents * item.quantity)} "
        f"(sold by {item.storefront.name})"
        for item in order.items.select_related("storefront").order_by("id")
    )


def _placed_text(order: Order) -> str:
    placed = order.placed_at.date()
    return (
        f"Thank you for your order, {order.buyer.first_name}. We'll let you know when it "
        f"ships.\n\n"
        f"Order {order.number}, placed {_day(placed)}\n"
        f"{_item_lines(order)}\n"
        f"Order total: {_money(order.total_cents)}\n\n"
        f"Estimated delivery: {_day(placed + timedelta(days=3))} – "
        f"{_day(placed + timedelta(days=5))}. You can change or cancel the order in Your "
        "Orders until it ships."
    )


def _shipped_text(order: Order, *, expected: date | None = None) -> str:
    """`expected`: the estimate when it shipped, if the shipment's has changed since."""
    shipment = order.shipments.get()
    expected = expected or shipment.estimated_delivery or shipment.shipped_at.date()
    return (
        "Your package is on its way.\n\n"
        f"{_item_lines(order)}\n\n"
        f"Carrier: {shipment.carrier}\n"
        f"Tracking number: {shipment.tracking_number}\n"
        f"Estimated delivery: {_day(expected)}\n\n"
        "Track your package any time from Your Orders."
    )


def _out_for_delivery_text(order: Order) -> str:
    shipment = order.shipments.get()
    return (
        "Your package is out for delivery and should arrive today by 8 PM.\n\n"
        f"{shipment.carrier} tracking number {shipment.tracking_number}. It will be left at "
        "your front door unless you've added delivery instructions in Your Orders."
    )


def _delivered_text(order: Order) -> str:
    shipment = order.shipments.get()
    delivered = shipment.delivered_at or shipment.shipped_at
    return (
        f"Delivered: your package was left at the front door on {_day(delivered.date())}.\n\n"
        f"{_item_lines(order)}\n\n"
        "Not what you expected? Items can be returned within 30 days from Your Orders."
    )


def _day(value: date) -> str:
    return f"{value:%A, %B} {value.day}"


def _money(cents: int) -> str:
    return f"${cents // 100:,}.{cents % 100:02d}"
