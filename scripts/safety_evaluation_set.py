"""Writes the safety detector's labelled evaluation set (docs/safety.md#evaluation).

    .venv/bin/python scripts/safety_evaluation_set.py   # rewrites the JSON lines file

Messages are assembled from templates in several styles with a fixed random seed, so the
file is the same on every run. Each line: group, sender (display name, role), subject,
body, and the categories a correct detector reports ("expected"; empty for an ordinary
message, which must come back "ok" and unmasked).

The templates were written by the same person who wrote the detector's rules: the figures
say the detector knows these styles, not that it catches scams nobody has seen yet.
"""

import json
import random
from collections.abc import Callable
from pathlib import Path

OUTPUT = (
    Path(__file__).resolve().parent.parent / "src/messagecenter/safety/evaluation/messages.jsonl"
)
random_source = random.Random(20261202)
choice = random_source.choice
randint = random_source.randint

FIRST_NAMES = [
    "john",
    "maria",
    "li",
    "ahmed",
    "sophie",
    "kevin",
    "olga",
    "raj",
    "emma",
    "lucas",
    "fatima",
    "noah",
    "chen",
    "isabel",
    "tom",
    "anna",
    "david",
    "sara",
    "mike",
    "julia",
]
LAST_NAMES = [
    "smith",
    "garcia",
    "wang",
    "khan",
    "martin",
    "lee",
    "novak",
    "patel",
    "brown",
    "silva",
    "jones",
    "miller",
    "kim",
    "rossi",
    "dubois",
    "schmidt",
    "walker",
    "lopez",
    "nguyen",
]
SHOPS = [
    "Brightside Home & Kitchen",
    "TechNest Outlet",
    "Urban Threads",
    "Peak Outdoor Gear",
    "Little Sprouts Toys",
    "Pixel Parts Co.",
    "Green Leaf Garden",
    "Northwind Audio",
    "Cozy Corner Books",
    "Velvet & Vine",
    "Harbor Tools",
    "Sunrise Pet Supplies",
    "Blue Ridge Candles",
    "Metro Phone Cases",
    "Atlas Sporting Goods",
    "Maple Street Crafts",
    "Quantum Gadgets",
    "Silver Spoon Bakeware",
    "Trailhead Bikes",
    "Nordic Knitwear",
]
BUYERS = [
    "Alice M.",
    "bob_k",
    "Carla Reyes",
    "D. Okafor",
    "evan88",
    "Fiona",
    "Grace Liu",
    "Hiro T.",
    "Ines",
    "Jamal Brooks",
    "kate.w",
    "Leo",
    "Mina Park",
    "Nate",
]
PRODUCTS = [
    "kettle",
    "mechanical keyboard",
    "phone case",
    "hiking boots",
    "desk lamp",
    "yoga mat",
    "coffee grinder",
    "backpack",
    "wireless earbuds",
    "cast iron skillet",
    "board game",
    "winter jacket",
    "USB-C hub",
    "garden hose",
    "dog bed",
    "scented candle set",
    "bike helmet",
    "wool sweater",
    "blender",
    "picture frame",
]
CARRIERS = ["UPS", "USPS", "FedEx", "DHL", "Royal Mail"]
CITIES = [
    ("Springfield", "IL", "62704"),
    ("Austin", "TX", "78701"),
    ("Portland", "OR", "97205"),
    ("Columbus", "OH", "43215"),
    ("Denver", "CO", "80202"),
    ("Madison", "WI", "53703"),
    ("Raleigh", "NC", "27601"),
    ("Tucson", "AZ", "85701"),
]
STREETS = [
    "Elm Street",
    "Oak Avenue",
    "Maple Drive",
    "Main St",
    "Cedar Lane",
    "Park Road",
    "Lakeview Blvd",
    "Hillcrest Way",
]
AREA_CODES = ["212", "312", "415", "646", "718", "202", "305", "617", "713", "206", "404"]
PROVIDERS = ["gmail", "yahoo", "hotmail", "outlook", "icloud", "protonmail"]
TLDS = ["com", "com", "com", "net", "co.uk", "de"]


def order_number() -> str:
    return f"{randint(100, 999)}-{randint(1000000, 9999999)}-{randint(1000000, 9999999)}"


def tracking_number() -> tuple[str, str]:
    carrier = choice(CARRIERS)
    if carrier == "UPS":
        number = "1Z" + "".join(choice("0123456789ABCDEFGHJKLMNPRSTUVWXYZ") for _ in range(16))
    elif carrier == "USPS":
        digits = "9400" + "".join(choice("0123456789") for _ in range(18))
        number = " ".join(digits[i : i + 4] for i in range(0, 22, 4)) if randint(0, 1) else digits
    elif carrier == "FedEx":
        digits = "".join(choice("0123456789") for _ in range(12))
        number = f"{digits[:4]} {digits[4:8]} {digits[8:]}" if randint(0, 1) else digits
    elif carrier == "DHL":
        number = "".join(choice("0123456789") for _ in range(10))
    else:
        number = f"{choice('ABCDEFGHJK')}{choice('ABCDEFGHJK')}{randint(10000000, 99999999)}GB"
    return carrier, number


def price() -> str:
    amount = randint(3, 2500) + randint(0, 99) / 100
    return choice(
        [
            f"${amount:,.2f}",
            f"${amount:.2f}",
            f"€{amount:.2f}".replace(".", ","),
            f"£{amount:.2f}",
            f"USD {amount:.2f}",
        ]
    )


def address() -> str:
    city, state, zip_code = choice(CITIES)
    unit = choice(["", f", Apt {randint(1, 40)}{choice('ABCD')}", f", Unit {randint(100, 999)}"])
    return f"{randint(10, 9999)} {choice(STREETS)}{unit}, {city}, {state} {zip_code}"


def product_link() -> str:
    code = "B0" + "".join(choice("0123456789ABCDEFGHJKLMNPQRSTUVWXYZ") for _ in range(8))
    return choice(
        [
            f"https://marketplace.example/p/{code}",
            f"https://www.marketplace.example/products/{randint(1000, 99999)}?ref=msg",
            f"marketplace.example/p/{code}",
            f"https://marketplace.example/orders/{order_number()}",
        ]
    )


def phone_number() -> str:
    area = choice(AREA_CODES)
    exchange = randint(201, 989)
    while exchange in {555, 911, 411, 611}:
        exchange = randint(201, 989)
    line = randint(1000, 9999)
    return f"{area}{exchange}{line}"


def email_parts() -> tuple[str, str, str]:
    name = choice(FIRST_NAMES) + choice([".", "_", ""]) + choice(LAST_NAMES)
    if randint(0, 2) == 0:
        name += str(randint(1, 99))
    return name, choice(PROVIDERS), choice(TLDS)


# ---------------------------------------------------------------- ordinary messages


def ordinary_seller() -> str:
    product = choice(PRODUCTS)
    order = order_number()
    carrier, tracking = tracking_number()
    return choice(
        [
            f"Hi! Your {product} (order {order}) shipped today with {carrier}. Tracking number: "
            f"{tracking}. It should arrive in 3-5 business days.",
            f"Thanks for your order #{order}. We shipped it to {address()}. {carrier} tracking "
            f"{tracking}. Let us know if anything is wrong.",
            f"Hello, the {product} is back in stock at {price()}. You can order it here: "
            f"{product_link()}",
            f"We refunded {price()} for order {order} today; it takes 5-10 business days to show "
            f"on your statement. Thanks for your patience and support!",
            f"Sorry for the delay with order {order}. The {product} left our warehouse on "
            f"{randint(1, 12)}/{randint(1, 28)}/2026, {carrier} {tracking}.",
            f"The {product} measures {randint(5, 40)} x {randint(5, 30)} x {randint(2, 20)} in and "
            f"weighs {randint(1, 20)}.{randint(0, 9)} lb. Model number KB-{randint(1000, 9999)}"
            f"{choice('XYZ')}, SKU {randint(100000, 999999)}-{randint(10, 99)}.",
            f"Good news: your replacement {product} is on its way ({carrier}, {tracking}). No need "
            f"to return the first one. Order {order}.",
            f"Hi, we received your return for order {order}. Refund of {price()} issued. Return "
            f"label was RMA-{randint(10000, 99999)}.",
            f"Our support team checked your {product}: the warranty covers it until "
            f"{randint(1, 12)}/2028. Please open a return from Your Orders and we will send a new "
            "one right away.",
            f"Thank you for your order! Delivery to {address()} is scheduled between "
            f"{randint(8, 11)}:00 and {randint(12, 6 + 12)}:00. Track it at "
            f"https://www.ups.com/track?tracknum={tracking.replace(' ', '')}",
            f"The price of the {product} is {price()} and shipping is {price()}. Orders over $50 "
            f"ship free. See {product_link()}",
            f"We answer every message within a day. For the {product}, the user manual is on the "
            f"product page: {product_link()}. Your account page shows the order status.",
            f"Hi there, to use the smart {product} with the app, enter the pairing number printed "
            f"on the sticker ({randint(100000, 999999)}). Order {order}.",
            f"Your order {order} was split into two shipments: {tracking_number()[1]} and "
            f"{tracking_number()[1]}. Both should arrive by Friday.",
        ]
    )


def ordinary_buyer() -> str:
    product = choice(PRODUCTS)
    order = order_number()
    return choice(
        [
            f"Hi, I ordered the {product} (order {order}) but it hasn't arrived yet. The tracking "
            f"{tracking_number()[1]} hasn't moved since Monday. Can you check?",
            f"Does the {product} come in blue? I'd order two at {price()} each.",
            f"The {product} arrived damaged — the box was crushed. Order {order}. Can I get a "
            "replacement? I need it urgently for a birthday on Saturday.",
            f"Please ship to my new address: {address()}. Order {order}. Thanks!",
            f"Is this compatible with model {choice('ABCDEFG')}{randint(100, 999)}? Product link: "
            f"{product_link()}",
            f"I was charged {price()} twice for order {order}. Could you check with the "
            "marketplace's payment team?",
            f"Thanks, the {product} works great! Five stars from me. Order {order}.",
            f"Can you confirm the size before shipping? I need a {choice(['S', 'M', 'L', 'XL'])} "
            f"and the order ({order}) says {choice(['S', 'M', 'L'])}.",
            f"Hello, I'd like to return the {product}. It's unused, still in the box. How do I "
            "start the return in my account?",
            f"Will you restock the {product} soon? I bought one in March (order {order}) and want "
            f"another for {price()} or so.",
            f"My apartment is {randint(1, 30)}{choice('ABCD')} on the {randint(2, 20)}th floor at "
            f"{address()}. The doorman can sign for the parcel between 9 and 5.",
            f"The {product} stopped working after {randint(2, 11)} days. Serial number "
            f"SN{randint(10000000, 99999999)}. What should I do? Order {order}.",
            f"I tried to log in to my account to leave a review of the {product} but couldn't "
            "find the button. Is it on the order page?",
            f"Quick question about order {order}: can I pick it up instead? I'm near "
            f"{choice(CITIES)[0]}.",
        ]
    )


# ---------------------------------------------------------------- scams


OPERATOR_LOOKALIKE_NAMES = [
    "Marketplace Account Team",
    "Marketplace Support",
    "Markеtplace Security",  # Cyrillic е
    "Rnarketplace Help",
    "MarketpIace Service",
    "Marketp1ace Team",
    "Market Place Support",
    "Marketplace ✔",
    "Marketplace Verified ✅",
    "MARKETPLACE Security Department",
    "Маrketplace Billing",
    "Marketplace Trust & Safety",
    "Customer Service Team",
    "Account Verification Team",
    "Security Team",
    "Support Desk ✓",
    "Trust and Safety",
    "Marketplace Official",
    "Help Desk",
    "Mаrkеtplаcе",
]
LOOKALIKE_DOMAINS = [
    "rnarketplace-account-verify.example",
    "marketplace-secure-login.com",
    "marketplace.example.account-check.net",
    "marketpiace.com",
    "marketp1ace-support.net",
    "xn--mrketplace-0xh.com",
    "markеtplace.com",
    "secure-marketplace-help.top",
    "marketplace-refunds.info",
    "mаrketplace.example",
]
OTHER_BAD_HOSTS = [
    "http://185.23.91.4/login",
    "https://bit.ly/3xYz9Ab",
    "https://tinyurl.com/acct-fix",
    "http://0xB9175B04/verify",
    "https://cutt.ly/refund-now",
    "https://t.ly/AbC12",
]
THREATS = [
    "Your Marketplace account has been suspended",
    "your account will be permanently closed",
    "We detected unusual sign-in activity on your account",
    "Your account is on hold",
    "Unauthorized purchase detected on your account",
    "your account has been limited",
]
ASKS = [
    "confirm your password and the card used for this order",
    "reply with the verification code we just sent to your phone",
    "enter your card number, expiry date and CVV",
    "provide your bank account number and routing number",
    "send us your login details so we can restore access",
    "verify your identity with your social security number",
]


def scam_link() -> tuple[str, list[str]]:
    if randint(0, 2):
        return f"https://{choice(LOOKALIKE_DOMAINS)}/{choice(['login', 'verify', 'secure'])}", [
            "links"
        ]
    return choice(OTHER_BAD_HOSTS), ["links"]


def phishing_message() -> tuple[str, str, str, list[str]]:
    """(sender name, role, body, expected categories)."""
    style = randint(0, 9)
    order = order_number()
    link, link_categories = scam_link()
    name = choice(OPERATOR_LOOKALIKE_NAMES)
    role = choice(["seller", "seller", "buyer"])
    if style == 0:
        body = (
            f"URGENT: {choice(THREATS)}.\n\nDear Customer,\n\nTo keep order {order}, verify "
            f"your account within 24 hours: {link}\n\nYou will need to {choice(ASKS)}.\n\n"
            f"{name}"
        )
        return name, role, body, ["impersonation", "credentials", *link_categories]
    if style == 1:
        body = (
            f"Hello, we could not deliver your parcel for order {order}. A redelivery fee of "
            f"{price()} is due. Pay it here within 48 hours or the parcel is returned: {link}"
        )
        return name, role, body, ["impersonation", *link_categories]
    if style == 2:
        body = (
            f"Good news! You are owed a refund of {price()} for order {order}. To receive it, "
            f"please {choice(ASKS)}. Act now, this offer expires today."
        )
        return name, role, body, ["impersonation", "credentials"]
    if style == 3:
        cards = choice(
            [
                "Google Play gift cards",
                "Apple gift cards",
                "Steam cards",
                "iTunes cards",
                "Amazon gift cards",
            ]
        )
        body = (
            f"This is the Marketplace billing department. Your order {order} is on hold. To "
            f"release it, buy {randint(2, 5)} x $100 {cards} and send us the codes immediately."
        )
        return name, role, body, ["impersonation", "payment"]
    if style == 4:
        body = (
            f"Congratulations! Your account was selected for a {price()} loyalty reward. "
            f"Claim it at {link} — you'll need to {choice(ASKS)}."
        )
        return name, role, body, ["impersonation", "credentials", *link_categories]
    if style == 5:
        shown = choice(
            [
                "marketplace.example/account",
                "https://marketplace.example/security",
                "www.marketplace.example/login",
            ]
        )
        target = f"https://{choice(LOOKALIKE_DOMAINS)}/a"
        body = (
            f"{choice(THREATS)}. Sign in here to check: [{shown}]({target}). Failure to do so "
            "will close your account."
        )
        return name, role, body, ["impersonation", "links"]
    if style == 6:
        request = choice(
            ["tell me the code", "send me the code we sent to you", "reply with the security code"]
        )
        body = (
            "Hi, I accidentally entered your phone number on my account. You got a code by "
            f"SMS — please {request}. It's urgent!"
        )
        return name, role, body, ["impersonation", "credentials"]
    if style == 7:
        body = (
            f"Your Marketplace account has been flagged. Call Marketplace Support now at "
            f"+1 ({choice(AREA_CODES)}) {phone_number()[3:6]}-{phone_number()[6:]} to avoid "
            "suspension."
        )
        return name, role, body, ["impersonation", "contact_phone"]
    if style == 8:
        body = (
            f"Hello, please reply to confirm your delivery address for order {order}. Thank "
            "you for shopping with us."
        )
        return name, role, body, ["impersonation"]
    body = (
        f"Security alert: someone tried to change your payment method. If this wasn't you, "
        f"update your billing information at {link} immediately."
    )
    return name, role, body, ["impersonation", *link_categories]


def payment_outside_message() -> tuple[str, list[str]]:
    product = choice(PRODUCTS)
    return choice(
        [
            (
                f"I can give you the {product} for {price()} less if you pay me directly via Zelle "
                "instead of through the site.",
                ["payment"],
            ),
            (
                f"Please send the money via Western Union and I'll ship the {product} today.",
                ["payment"],
            ),
            (
                f"Let's do the deal outside the marketplace to avoid the fees. {product} for "
                f"{price()}.",
                ["payment"],
            ),
            (
                "Pay with PayPal friends and family please, it's cheaper for both of us.",
                ["payment"],
            ),
            (
                f"Cancel the order and pay me in bitcoin, I'll send the {product} with a discount.",
                ["payment"],
            ),
            (
                "You can pay through bank transfer to my account and skip the commission.",
                ["payment"],
            ),
        ]
    )


# ---------------------------------------------------------------- contact details


def obfuscated_email() -> str:
    name, provider, tld = email_parts()
    tld_words = tld.replace(".", " dot ")
    return choice(
        [
            f"{name} at {provider} dot {tld_words}",
            f"{name} [at] {provider} [dot] {tld.replace('.', ' [dot] ')}",
            f"{name}(at){provider}(dot){tld.replace('.', '(dot)')}",
            f"{name} @ {provider} . {tld.replace('.', ' . ')}",
            f"{name} AT {provider} DOT {tld.upper().replace('.', ' DOT ')}",
            f"{' '.join(name)} @ {' '.join(provider)} . {' '.join(tld)}",
            f"{name} at {provider}",
            f"my {provider} is {name}{randint(1, 99)}",
            f"{name}{{at}}{provider}{{dot}}{tld.replace('.', '{dot}')}",
            f"{name}_at_{provider}_dot_{tld.replace('.', '_dot_')}",
            f"{name} at {provider}.{tld}",
        ]
    )


DIGIT_WORDS = ["zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"]


def obfuscated_phone() -> str:
    digits = phone_number()
    words = [DIGIT_WORDS[int(d)] for d in digits]
    return choice(
        [
            " ".join(words),
            f"{' '.join(words[:3])}, {' '.join(words[3:6])}, {' '.join(words[6:])}",
            " ".join(digits),
            "-".join(digits),
            " ".join(w if i % 2 else d for i, (d, w) in enumerate(zip(digits, words, strict=True))),
            f"{' '.join(words[:3]).upper()} {' '.join(digits[3:])}",
            ".".join(digits),
            " ".join("oh" if d == "0" else w for d, w in zip(digits, words, strict=True)),
        ]
    )


def messenger_contact() -> str:
    handle = (
        choice(FIRST_NAMES) + choice(["_", ".", ""]) + choice(LAST_NAMES) + str(randint(1, 999))
    )
    number = f"+1 {phone_number()}"
    return choice(
        [
            f"add me on telegram @{handle}",
            f"WhatsApp me: {number}",
            f"my IG is @{handle}",
            "text me on WhatsApp",
            f"let's continue on Telegram, my username is {handle}",
            f"wechat id: {handle}",
            f"find me on snapchat @{handle}",
            f"https://wa.me/1{phone_number()}",
            f"t.me/{handle}",
            f"Signal: {number}",
        ]
    )


def payment_link() -> str:
    handle = choice(FIRST_NAMES) + choice(LAST_NAMES) + str(randint(1, 99))
    return choice(
        [
            f"paypal.me/{handle}",
            f"https://www.paypal.me/{handle}/{randint(20, 400)}",
            f"venmo @{handle}",
            f"my cashapp is ${handle}",
            f"https://cash.app/${handle}",
            f"revolut.me/{handle}",
            f"https://buy.stripe.com/{handle}",
        ]
    )


CONTACT_FRAMES = [
    "Hi! Easier to talk directly: {contact}. Thanks!",
    "For a better price on the {product}, reach me at {contact}",
    "I have more photos of the {product}. Contact: {contact}",
    "{contact} — write me there about the {product}, I answer faster.",
    "Sure, I can help with order {order}. My contact: {contact}",
    "Can you send the invoice to {contact}? Order {order}.",
]


def contact_message(kind: str) -> tuple[str, list[str]]:
    if kind == "email":
        contact, categories = obfuscated_email(), ["contact_email"]
    elif kind == "phone":
        contact, categories = obfuscated_phone(), ["contact_phone"]
    elif kind == "messenger":
        contact, categories = messenger_contact(), ["contact_messenger"]
    elif kind == "payment_link":
        contact, categories = payment_link(), ["contact_payment_link"]
    elif kind == "plain_email":
        name, provider, tld = email_parts()
        contact, categories = f"{name}@{provider}.{tld}", ["contact_email"]
    else:
        digits = phone_number()
        contact = choice(
            [
                f"({digits[:3]}) {digits[3:6]}-{digits[6:]}",
                f"{digits[:3]}-{digits[3:6]}-{digits[6:]}",
                f"+1 {digits[:3]} {digits[3:6]} {digits[6:]}",
                f"+44 79{randint(10, 99)} {randint(100000, 999999)}",
            ]
        )
        categories = ["contact_phone"]
    frame = choice(CONTACT_FRAMES)
    body = frame.format(contact=contact, product=choice(PRODUCTS), order=order_number())
    return body, categories


# Written by hand after the rules were tuned on the templates above and never tuned on since:
# the closest this set has to unseen messages (their figures are printed apart).
HELD_OUT: list[tuple[str, str, str, str, list[str]]] = [
    (
        "ordinary",
        "Harbor Tools",
        "seller",
        "The default Wi-Fi password of the camera is on the "
        "sticker under the base; you can change it in the app.",
        [],
    ),
    (
        "ordinary",
        "kate.w",
        "buyer",
        "I'll be at work until 6, please leave it with the neighbour at number 14.",
        [],
    ),
    (
        "ordinary",
        "Northwind Audio",
        "seller",
        "Model NW-200 ships from our Austin warehouse; "
        "allow 2-3 days. Call the carrier at the number on your tracking page if it's late.",
        [],
    ),
    (
        "ordinary",
        "Grace Liu",
        "buyer",
        "Can you verify the size of the jacket before shipping? "
        "Last time it was an M instead of an L.",
        [],
    ),
    (
        "ordinary",
        "Cozy Corner Books",
        "seller",
        "Thanks for the support! Order 112-5550123-4567890 is packed and leaves tomorrow.",
        [],
    ),
    (
        "ordinary",
        "Quantum Gadgets",
        "seller",
        "Firmware 2.4.1 fixes the pairing problem. Update it from Settings > About on the device.",
        [],
    ),
    (
        "ordinary",
        "Hiro T.",
        "buyer",
        "Got it, thanks. Sending the broken part back today, tracking 9405 5112 9876 5432 1098 76.",
        [],
    ),
    (
        "ordinary",
        "Urban Threads",
        "seller",
        "Our customer service team answers within a day. "
        "For sizes see the chart on marketplace.example/p/B0UT55",
        [],
    ),
    (
        "ordinary",
        "Ines",
        "buyer",
        "Urgent please: the gift is for my daughter's birthday on 12/14. Can it arrive before?",
        [],
    ),
    (
        "ordinary",
        "Trailhead Bikes",
        "seller",
        "The lock's code is set to 0000 at the factory; turn the dials to set your own.",
        [],
    ),
    (
        "ordinary",
        "Silver Spoon Bakeware",
        "seller",
        "We're closed 12/24–12/26. Orders placed then ship on 12/27. Happy holidays!",
        [],
    ),
    (
        "ordinary",
        "Leo",
        "buyer",
        "Is the 2 x 4 x 8 ft version in stock? I'd need 3 of them at $129.99.",
        [],
    ),
    (
        "impersonation",
        "Marketplace Help Center",
        "seller",
        "We noticed a problem with your "
        "last payment. Please sign in again at marketplace-help-center.net to keep your order.",
        ["impersonation", "links"],
    ),
    (
        "impersonation",
        "Seller Support",
        "seller",
        "Hello! To finish your refund we need the 6-digit code you just received by text message.",
        ["impersonation", "credentials"],
    ),
    (
        "impersonation",
        "Ordеr Dеsk",
        "seller",
        "Your order cannot ship until you confirm your card details with us by reply.",
        ["impersonation", "credentials"],
    ),
    (
        "impersonation",
        "Brightside Home",
        "seller",
        "This is the Marketplace security team. Your "
        "account shows suspicious logins, reply with your password so we can lock it.",
        ["impersonation", "credentials"],
    ),
    (
        "impersonation",
        "bob_k",
        "buyer",
        "I'm from marketplace staff, we need you to move this "
        "sale to wa.me/14155550123 for verification.",
        ["impersonation", "contact_messenger"],
    ),
    (
        "impersonation",
        "TechNest Outlet",
        "seller",
        "Dear customer your parcel is held at "
        "customs, pay the fee at http://customs-fee-payment.xyz within 12 hours.",
        ["links"],
    ),
    (
        "impersonation",
        "Deals4U",
        "seller",
        "You won a $500 voucher!! claim: https://is.gd/win500 before midnight",
        ["links"],
    ),
    (
        "impersonation",
        "Peak Outdoor Gear",
        "seller",
        "Send me 3 Steam gift cards and I'll release your order faster.",
        ["payment"],
    ),
    (
        "obfuscated_contact",
        "evan88",
        "buyer",
        "mail me: evan dot k dot 88 at gmail dot com",
        ["contact_email"],
    ),
    ("obfuscated_contact", "Fiona", "buyer", "my digits: 4one5 - 8six7 - 53oh9", ["contact_phone"]),
    (
        "obfuscated_contact",
        "Velvet & Vine",
        "seller",
        "ping me on whats app, same name as the shop",
        ["contact_messenger"],
    ),
    (
        "obfuscated_contact",
        "Jamal Brooks",
        "buyer",
        "email → jamal (dot) brooks (at) outlook (dot) com",
        ["contact_email"],
    ),
    (
        "obfuscated_contact",
        "Atlas Sporting Goods",
        "seller",
        "Cheaper direct: text +1 415 867 5309",
        ["contact_phone"],
    ),
    (
        "obfuscated_contact",
        "Nate",
        "buyer",
        "nine one seven - two two three - four five six seven, call me",
        ["contact_phone"],
    ),
    (
        "obfuscated_contact",
        "Mina Park",
        "buyer",
        "You can find me on Insta: mina.makes.things",
        ["contact_messenger"],
    ),
    (
        "obfuscated_contact",
        "Harbor Tools",
        "seller",
        "Venmo: @harbor-tools-joe and I'll ship today",
        ["contact_payment_link"],
    ),
]


# A second batch, written by hand on 2 December 2026 before the rules were changed for the
# first batch's three misses, and never tuned on: the first batch has been looked at since.
HELD_OUT_2: list[tuple[str, str, str, str, list[str]]] = [
    (
        "ordinary",
        "Maple & Moss",
        "seller",
        "Your code for the parcel locker is in the carrier's text message; the locker is at "
        "the Shell station on 5th Ave.",
        [],
    ),
    (
        "ordinary",
        "Tom",
        "buyer",
        "Can you send the invoice? Our accounts team needs it with the VAT number for "
        "reimbursement.",
        [],
    ),
    (
        "ordinary",
        "Blue Harbor Prints",
        "seller",
        "Printed on 300 gsm paper, 12 x 18 in. Ships in a tube via USPS Priority, about $8.45.",
        [],
    ),
    (
        "ordinary",
        "Priya",
        "buyer",
        "The app keeps asking me to verify my email, is that something on your side?",
        [],
    ),
    (
        "ordinary",
        "Koto Ceramics",
        "seller",
        "Sorry for the delay! We were closed for the holiday. Your bowls ship Monday, order "
        "113-2245789-0031124.",
        [],
    ),
    (
        "ordinary",
        "Daniel R.",
        "buyer",
        "I paid with my credit card through checkout yesterday, but the order still says "
        "pending. Any idea?",
        [],
    ),
    (
        "ordinary",
        "Northwind Audio",
        "seller",
        "Firmware update: hold the power button for 10 seconds until the LED blinks twice, "
        "then pair again.",
        [],
    ),
    (
        "ordinary",
        "Sofia",
        "buyer",
        "Apartment 4B, buzzer code 1942 — the courier can ring and I'll come down.",
        [],
    ),
    (
        "ordinary",
        "Gearhouse",
        "seller",
        "Replacement part number 55-1024-7781 is on its way; the old one can go in the recycling.",
        [],
    ),
    (
        "ordinary",
        "Chris",
        "buyer",
        "Whats the warranty on this? My last one broke after 13 months.",
        [],
    ),
    (
        "ordinary",
        "Lumen Lighting",
        "seller",
        "Our support team is online 9–5 ET on weekdays; reply here anytime and we'll answer "
        "in this chat.",
        [],
    ),
    (
        "ordinary",
        "Mei",
        "buyer",
        "Please don't ship before the 20th, I'm traveling. Text is fine here, thanks!",
        [],
    ),
    (
        "impersonation",
        "Marketplace Resolution Center",
        "seller",
        "We reviewed your claim. To receive the refund, reply with the verification code we "
        "just texted you.",
        ["credentials", "impersonation"],
    ),
    (
        "impersonation",
        "Safe Pay Desk",
        "seller",
        "Payment on hold. Confirm the last four digits and expiry date of your card to release it.",
        ["credentials"],
    ),
    (
        "impersonation",
        "m.arketplace_team",
        "buyer",
        "Hi, marketplace team here. Your listing breaks our rules; log in at "
        "marketpIace-sellers.com within 24h or it will be removed.",
        ["impersonation", "links"],
    ),
    (
        "impersonation",
        "Gadget Barn",
        "seller",
        "Good news: you're eligible for a $50 rebate. Just share your online banking login "
        "so we can deposit it.",
        ["credentials"],
    ),
    (
        "impersonation",
        "\u216farketplace Care",
        "seller",
        "Your order was flagged. Call our fraud line now.",
        ["impersonation"],
    ),
    (
        "impersonation",
        "Fresh Finds",
        "seller",
        "Pay with Apple gift cards and I'll knock 20% off, just send the codes here.",
        ["payment"],
    ),
    (
        "impersonation",
        "jenny",
        "buyer",
        "I'm with Marketplace security. Forward me the login link we emailed you so I can "
        "confirm it's you.",
        ["credentials", "impersonation"],
    ),
    (
        "impersonation",
        "TopDeals",
        "seller",
        "Bank transfer only, I'll give 10% off. IBAN on request.",
        ["payment"],
    ),
    (
        "obfuscated_contact",
        "Rafael",
        "buyer",
        "my number is 6 4 6 - 5 5 5 - 0 1 9 8",
        ["contact_phone"],
    ),
    (
        "obfuscated_contact",
        "Cedar & Pine",
        "seller",
        "reach us at info at cedarpine dot shop",
        ["contact_email"],
    ),
    (
        "obfuscated_contact",
        "Lena",
        "buyer",
        "add me on telegram: lena_k_88",
        ["contact_messenger"],
    ),
    (
        "obfuscated_contact",
        "Dune Supply",
        "seller",
        "WA: plus one, three one two, five five five, zero one four four",
        ["contact_messenger", "contact_phone"],
    ),
    (
        "obfuscated_contact",
        "Oskar",
        "buyer",
        "email me — oskar.lind (at) proton (dot) me",
        ["contact_email"],
    ),
    (
        "obfuscated_contact",
        "Ridge Outfitters",
        "seller",
        "Cheaper if you Zelle me: ridge dot outfitters at yahoo dot com",
        ["contact_email", "payment"],
    ),
    (
        "obfuscated_contact",
        "Yuki",
        "buyer",
        "my IG is yuki.draws — DM me there",
        ["contact_messenger"],
    ),
    (
        "obfuscated_contact",
        "Atlas Sporting Goods",
        "seller",
        "call or text: four-one-five, 8 6 7, five-three-0-nine",
        ["contact_phone"],
    ),
    (
        "obfuscated_contact",
        "Ben",
        "buyer",
        "gmail: ben.t.hollis",
        ["contact_email"],
    ),
    (
        "obfuscated_contact",
        "Bloom Florals",
        "seller",
        "my cashapp is $BloomByKay",
        ["contact_payment_link"],
    ),
    (
        "obfuscated_contact",
        "Ana",
        "buyer",
        "hit me up on whatsap, 07700 900123",
        ["contact_messenger", "contact_phone"],
    ),
    (
        "obfuscated_contact",
        "Pixel Forge",
        "seller",
        "Skype me: pixel.forge.studio",
        ["contact_messenger"],
    ),
]


# A third batch, from a tester's report of 5 December 2026: ways of asking to be paid outside
# the marketplace that came back ok (the report's sentences and variants of them), beside
# ordinary messages that use the same words innocently. The rules of detector version 3
# were written for them: these rows say the report is fixed, not how unseen messages fare.
QA_REPORT_2026_12_05: list[tuple[str, str, str, str, list[str]]] = [
    *(
        ("payment_outside", shop, "seller", body, ["payment"])
        for shop, body in (
            ("Brightside Home & Kitchen", "Please Zelle me $12 for the label"),
            ("Harbor Tools", "Send the $12 return fee by Zelle and I'll e-mail the label."),
            ("Fresh Finds", "Pay me with an Apple gift card and I'll ship today."),
            (
                "Urban Threads",
                "Wire the restocking fee to my bank account before I accept the return.",
            ),
            ("TechNest Outlet", "Cancel the order and I will refund you directly"),
            ("Peak Outdoor Gear", "Pay the $12 return shipping with Cash App, thanks."),
            ("Brightside Home & Kitchen", "Pay the return shipping via Zelle to me first"),
            ("Velvet & Vine", "Venmo me the $20 deposit and I'll hold the dress for you."),
            ("Little Sprouts Toys", "I only accept Zelle or Cash App for the discount."),
            ("Northwind Audio", "Please wire $300 to my account, I ship as soon as it clears."),
            ("Green Leaf Garden", "Pay the balance in bitcoin and I'll take 10% off."),
            ("Cozy Corner Books", "Get me an Amazon gift card for $100 and the set is yours."),
            (
                "Pixel Parts Co.",
                "Cancel your order and I'll sell it to you directly for $20 less.",
            ),
            ("Harbor Tools", "Can you pay the rest by wire transfer? Saves us both the fees."),
        )
    ),
    (
        "payment_outside",
        "kate.w",
        "buyer",
        "I can Zelle you $80 today if you hold it.",
        ["payment"],
    ),
    (
        "payment_outside",
        "Hiro T.",
        "buyer",
        "Refund me by bank transfer to my IBAN please, it's quicker.",
        ["payment"],
    ),
    *(
        ("ordinary", name, role, body, [])
        for name, role, body in (
            ("Daniel R.", "buyer", "I paid with a gift card on the marketplace checkout."),
            ("Ines", "buyer", "Does this come with a gift card slot?"),
            ("Lumen Lighting", "seller", "The wire for the lamp is 2 m long, braided cotton."),
            (
                "Brightside Home & Kitchen",
                "seller",
                "If you paid with a gift card, the refund goes back to the gift card.",
            ),
            (
                "Sofia",
                "buyer",
                "Could you send it as a gift with a gift card saying Happy Birthday?",
            ),
            (
                "Mei",
                "buyer",
                "I'd like to buy a gift card from your shop for my sister, do you sell them?",
            ),
            ("Lumen Lighting", "seller", "I can wire the plug for a UK socket if you like."),
            ("Tom", "buyer", "Can you send the invoice to my bank? They need it for the loan."),
            (
                "TechNest Outlet",
                "seller",
                "Sorry, it's out of stock: please cancel the order and you'll get a full refund.",
            ),
            (
                "Urban Threads",
                "seller",
                "Cancel the order and I will refund you through the marketplace within a day.",
            ),
            ("Chris", "buyer", "I paid through the app with my Cash App card, is that ok?"),
            ("Quantum Gadgets", "seller", "The Steam Deck case fits the 512 GB model."),
            (
                "Koto Ceramics",
                "seller",
                "Please don't pay me directly, only through the marketplace checkout.",
            ),
            ("Blue Harbor Prints", "seller", "Heat transfer vinyl, 12 x 12 in, pack of 10."),
        )
    ),
]


# A fourth batch, from an exploratory test of 5 December 2026: the third batch's requests to
# pay outside the marketplace respelled — letters apart ("Z e l l e", "Z.e.l.l.e", "W-i-r-e"),
# a digit or symbol for a letter ("Zel1e", "C@sh App", "g1ft") —, a password or card details
# asked for at a link in words the secrets rule had no verb for, beside ordinary messages with
# what a respelling rule could mistake for one (prices, "4 items", "A B C", initials, model
# numbers, a greeting written apart, a warning not to pay that way, a password beside the
# marketplace's own link). The rules of detector version 4 were written for them: these rows
# say the test's findings are fixed, not how unseen messages fare.
RESPELLINGS_2026_12_05: list[tuple[str, str, str, str, list[str]]] = [
    *(
        ("payment_outside", shop, "seller", body, ["payment"])
        for shop, body in (
            ("Brightside Home & Kitchen", "Z e l l e me the $12 and I'll send the label."),
            ("Harbor Tools", "Zel1e me $12 for the return label please"),
            ("Brightside Home & Kitchen", "Pay the return shipping via Z e l l e to me first"),
            ("TechNest Outlet", "Pay via Z.e.l.l.e, it's quicker for both of us."),
            ("Peak Outdoor Gear", "Pay the $12 return shipping with C@sh App, thanks."),
            ("Cozy Corner Books", "Get me two g1ft cards, $50 each, and the set is yours."),
            (
                "Urban Threads",
                "W i r e the restocking fee to my bank account before I accept the return.",
            ),
            ("Velvet & Vine", "Send the $20 deposit by V-e-n-m-o and I'll hold the dress."),
            ("Little Sprouts Toys", "I only take C a s h A p p for the discount."),
            ("Green Leaf Garden", "Pay the balance in b1tc0in and I'll take 10% off."),
            ("Northwind Audio", "W1re $300 to my account, I ship as soon as it clears."),
            ("Fresh Finds", "Pay me with an Apple g.i.f.t c.a.r.d and I'll ship today."),
            ("Pixel Parts Co.", "W.e.s.t.e.r.n U.n.i.o.n is fine too, send it to my name."),
        )
    ),
    (
        "payment_outside",
        "kate.w",
        "buyer",
        "I can Z_e_l_l_e you $80 today if you hold it.",
        ["payment"],
    ),
    *(
        ("impersonation", shop, "seller", body, expected)
        for shop, body, expected in (
            (
                "Harbor Tools",
                "Your password is needed at https://secure-check.example/login to release the "
                "refund.",
                ["credentials", "links"],
            ),
            (
                "Quantum Gadgets",
                "Card number confirmation for the refund: http://refund-desk.example/card",
                ["credentials", "links"],
            ),
            (
                "Velvet & Vine",
                "Enter at https://verify-buyer.example/step/one/two the card number you paid with.",
                ["credentials", "links"],
            ),
            (
                "TechNest Outlet",
                "For the refund, your c@rd number and CVV go here: "
                "https://refunds-fast.example/form",
                ["credentials", "links"],
            ),
            (
                "Pixel Parts Co.",
                "Send me your p4ssw0rd so I can log in and fix the order for you.",
                ["credentials"],
            ),
        )
    ),
    *(
        ("ordinary", name, role, body, [])
        for name, role, body in (
            (
                "Cozy Corner Books",
                "seller",
                "It's $12 for the set, 4 items, order 114-3941689-8772232.",
            ),
            ("Ines", "buyer", "Options A B C or D, sizes S M L XL — which one fits a 10 year old?"),
            ("Cozy Corner Books", "seller", "The box set by J. R. R. Tolkien ships Friday."),
            ("Green Leaf Garden", "seller", "Vit. B12 & D3, 60 caps, $12.50 per bottle."),
            ("Lumen Lighting", "seller", "Model W1-200 cable: wire W1 to L1 and W2 to L2."),
            ("Tom", "buyer", "I'm in the U.S.A. until May, please ship to my home address."),
            ("Blue Harbor Prints", "seller", "Print it on A4; 5 x 7 in cards also fit the frame."),
            ("Quantum Gadgets", "seller", "C-3PO and R2-D2 mugs, 2 for $25, 4K print on the box."),
            ("Daniel R.", "buyer", "I paid with a g i f t card at checkout, is that ok?"),
            (
                "Sofia",
                "buyer",
                "Gift wrap please, with a card saying H A P P Y  B I R T H D A Y!",
            ),
            (
                "Koto Ceramics",
                "seller",
                "Please don't Z e l l e me, pay at the marketplace checkout only.",
            ),
            (
                "Northwind Audio",
                "seller",
                "Forgot your password? Reset it at "
                "https://www.marketplace.example/account/password",
            ),
            (
                "Trailhead Bikes",
                "seller",
                "Track it at https://www.ups.com/track?tracknum=1Z999AA10123456784, no card "
                "number needed.",
            ),
            (
                "Harbor Tools",
                "seller",
                "The manual is on https://www.marketplace.example/products/93884. The default "
                "password is on the sticker.",
            ),
        )
    ),
]


# A fifth batch, of three misses reported on 5 December 2026 after batch 4: a gift card of no
# brand asked for with its price after it ("Get me a gift card for $50"), good advice taken
# for a request to pay outside because it names an app ("My zelle is broken so please just
# pay on the marketplace"), and contact details with respelled words ("f1ve f1ve f1ve …",
# "j0hn at gma1l d0t c0m", "info at … dot shop"); beside them the same words used innocently
# or as a request that must stay one ("pay me on zelle, not on the marketplace"), and
# ordinary messages with what the contact rules could mistake for a respelled address or
# number. The rules of detector version 5 were written for them: these rows say the
# reported misses are fixed, not how unseen messages fare.
REPORTED_MISSES_2026_12_05: list[tuple[str, str, str, str, list[str]]] = [
    *(
        ("payment_outside", shop, "seller", body, ["payment"])
        for shop, body in (
            ("Cozy Corner Books", "Get me a gift card for $50 and the set is yours."),
            ("Fresh Finds", "Buy me a gift card worth 40 dollars and I'll ship today."),
            ("Harbor Tools", "Can you get us one gift card of £20 first? Then I post it."),
            ("Velvet & Vine", "Get me a g1ft card for $50, it's quicker than the checkout."),
            ("TechNest Outlet", "Pay me on Zelle, not on the marketplace."),
            ("Peak Outdoor Gear", "Zelle me $12 and pay the rest on the marketplace."),
            ("Little Sprouts Toys", "My zelle is faster, or pay on the marketplace if you must."),
            ("Northwind Audio", "Venmo me instead of paying on the marketplace, it's cheaper."),
        )
    ),
    *(
        ("obfuscated_contact", name, role, body, [category])
        for name, role, body, category in (
            ("Rafael", "buyer", "my number is f1ve f1ve f1ve 0ne tw0 thr3e f0ur", "contact_phone"),
            (
                "Dune Supply",
                "seller",
                "Call F O U R O N E F I V E, 555, 0123 for the rest.",
                "contact_phone",
            ),
            ("Oskar", "buyer", "text me: 6_4_6_5_5_5_0_1_9_8", "contact_phone"),
            ("Lena", "buyer", "write me at j0hn.k at gma1l d0t c0m", "contact_email"),
            ("Pixel Forge", "seller", "Mail: pixelforge at g m a i l dot c o m", "contact_email"),
            ("Ana", "buyer", "a n a m at y a h o o dot c o m, thanks!", "contact_email"),
            (
                "Cedar & Pine",
                "seller",
                "Orders by mail: sales at cedarpine dot shop",
                "contact_email",
            ),
            ("Hiro T.", "buyer", "reach me: hiro dot tanaka at outlook dot com", "contact_email"),
        )
    ),
    *(
        ("ordinary", name, role, body, [])
        for name, role, body in (
            ("Daniel R.", "buyer", "I paid with a gift card, is that ok for the $50 set?"),
            ("Ines", "buyer", "Is there a gift card slot in the box?"),
            (
                "Sofia",
                "buyer",
                "Please send it with a gift card saying Happy Birthday, it's $50 I think.",
            ),
            ("Mei", "buyer", "I bought a gift card for $50 for my sister, it arrived today."),
            (
                "Brightside Home & Kitchen",
                "seller",
                "My zelle is broken so please just pay on the marketplace",
            ),
            ("Harbor Tools", "seller", "My Venmo is down. Please just pay at checkout."),
            ("Koto Ceramics", "seller", "Please pay on the marketplace, not by Zelle."),
            (
                "Urban Threads",
                "seller",
                "I no longer take Cash App, please buy it through the site.",
            ),
            ("Quantum Gadgets", "seller", "Model F1VE-200 and S1X-300 both fit, 4K at 60Hz."),
            ("Blue Harbor Prints", "seller", "The 0ne-piece swimsuit, size 6, $24.99 at checkout."),
            ("Tom", "buyer", "Your order #5551234567 ships via UPS 1Z 999 AA1 01 2345 6784?"),
            ("Green Leaf Garden", "seller", "Thank you! We're at Marketplace dot com too."),
            ("Cedar & Pine", "seller", "Visit us at the fair, stand 12 dot 4, from 9 to 5."),
            ("Trailhead Bikes", "seller", "It was three two one go, then it shipped."),
        )
    ),
]


# A sixth batch, from an exploratory test on 5 December 2026 after batch 5: a request to pay
# outside that batch 5's fix let through because the marketplace is refused between "pay"
# and "on the marketplace" ("my zelle works, so please pay me there, not on the
# marketplace"; warned before that fix) and its variants; good advice still warned because
# the app is refused after the request to pay on the marketplace ("… My Venmo is not for
# orders."); and small numbers listed with a comma and a space masked as a phone number
# ("Sizes: 5, 5.5, 6, 6.5, 7, 7.5 and 8 in stock.", "one, two, three, …"), beside phone
# numbers listed digit by digit that must stay masked. The rules were mended for them: these
# rows say the findings are fixed, not how unseen messages fare.
EXPLORATORY_TEST_2026_12_05: list[tuple[str, str, str, str, list[str]]] = [
    *(
        ("payment_outside", shop, "seller", body, ["payment"])
        for shop, body in (
            ("TechNest Outlet", "my zelle works, so please pay me there, not on the marketplace"),
            ("Peak Outdoor Gear", "My zelle works, pay me there and not on the marketplace."),
            ("Northwind Audio", "My Venmo is fine, pay me there instead of on the marketplace."),
            ("Harbor Tools", "My zelle works, pay me directly, not through the site."),
            ("Fresh Finds", "Please pay on the marketplace. My Venmo works too."),
            (
                "Little Sprouts Toys",
                "Please pay on the marketplace only. My Venmo is not for orders, but my Zelle is.",
            ),
        )
    ),
    *(
        ("obfuscated_contact", name, role, body, ["contact_phone"])
        for name, role, body in (
            ("Rafael", "buyer", "call 4, 1, 5, 8, 6, 7, 5, 3, 0, 9 tonight"),
            (
                "Dune Supply",
                "seller",
                "my number: four, one, five, eight, six, seven, five, three, oh, nine",
            ),
            ("Blue Harbor Prints", "seller", "Sizes 5, 5.5 and 6. Text me 6 4 6 5 5 5 0 1 9 8"),
        )
    ),
    *(
        ("ordinary", name, role, body, [])
        for name, role, body in (
            (
                "Koto Ceramics",
                "seller",
                "Please pay on the marketplace only, never outside. My Venmo is not for orders.",
            ),
            (
                "Urban Threads",
                "seller",
                "My Zelle isn't used for sales. Please buy it through the site.",
            ),
            ("Trailhead Bikes", "seller", "Sizes: 5, 5.5, 6, 6.5, 7, 7.5 and 8 in stock."),
            (
                "Velvet & Vine",
                "seller",
                "Made in one, two, three, four, five, six, seven countries.",
            ),
            ("Ines", "buyer", "Widths 6.5, 7, 7.5, 8, 8.5, 9 and 9.5 are left?"),
            (
                "Cedar & Pine",
                "seller",
                "Count them: one, two, three, four, five, six, seven, eight bowls in the set.",
            ),
        )
    ),
]


# A seventh batch, from a report on 5 December 2026 after batch 6: gift cards asked for by a
# brand's name or their codes ("iTunes cards are fine, send me the codes", "Buy me an amazon
# card and send the claim code") or sent as the price of shipping ("Send a gift card and I'll
# ship today"), paying on the marketplace refused beside an app ("Please don't pay on the
# marketplace. Venmo is quickest."), a phone number with letters for digits ("415 555 O123")
# and a website spelled out ("mystore dot com") judged ok; a buyer buying a shop's gift card
# ("I'd like to buy a $50 gift card from your shop") warned, and a version or sizes listed with
# spaces ("Version 1.2.3.4.5.6.7", "38 40 42 44 46 48" after a phone word) masked as phone
# numbers. Beside them, lookalikes that must stay as they are. Detector version 6 was written
# for them: these rows say the findings are fixed, not how unseen messages fare. A website
# spelled out moves the sale away from the marketplace: its rows are with the payment
# requests (expected "links", as "mystore.com" written as one is).
REPORTED_2026_12_05_BATCH_7: list[tuple[str, str, str, str, list[str]]] = [
    *(
        ("payment_outside", shop, "seller", body, ["payment"])
        for shop, body in (
            ("Pixel Parts Co.", "iTunes cards are fine, send me the codes"),
            ("Deals4U", "Send a gift card and I'll ship today"),
            ("Quantum Gadgets", "Buy me an amazon card and send the claim code"),
            ("Northwind Audio", "Please don't pay on the marketplace. Venmo is quickest."),
            ("TechNest Outlet", "Steam cards only, text me the codes"),
            ("Harbor Tools", "No need to pay through the site, Zelle works."),
        )
    ),
    *(
        ("payment_outside", shop, "seller", body, ["links"])
        for shop, body in (
            ("Blue Harbor Prints", "My website is mystore dot com, same prints for less."),
            ("Urban Threads", "Order from www dot mystore dot com instead, it ships faster."),
            ("Velvet & Vine", "Cheaper at velvetvine [dot] co [dot] uk"),
        )
    ),
    *(
        ("obfuscated_contact", name, role, body, ["contact_phone"])
        for name, role, body in (
            ("Rafael", "buyer", "call me on 415 555 O123"),
            ("Dune Supply", "seller", "Text me: 4l5 867 53O9, I answer faster."),
            ("Mina Park", "buyer", "call me at 41 55 58 67 53 tonight"),
        )
    ),
    *(
        ("ordinary", name, role, body, [])
        for name, role, body in (
            ("Grace Liu", "buyer", "I'd like to buy a $50 gift card from your shop"),
            ("Tom", "buyer", "Can I buy two $25 gift cards from your shop?"),
            ("Koto Ceramics", "seller", "Version 1.2.3.4.5.6.7 of the app has the new glazes."),
            ("Ines", "buyer", "Text me which size: 38 40 42 44 46 48"),
            ("Trailhead Bikes", "seller", "Ring sizes 38 40 42 44 46 48 in stock"),
            ("Peak Outdoor Gear", "seller", "Steps 1 2 3 4 5 6 7 are in the manual."),
            (
                "Fresh Finds",
                "seller",
                "Don't pay on the marketplace until it ships. Never use Zelle.",
            ),
            ("Ana", "buyer", "I love the polka dot in this dress."),
            ("Maple Street Crafts", "seller", "I paid with my Amazon card at checkout, thanks!"),
            ("Green Leaf Garden", "seller", "Oil change at 10 l per 100 km, model o2 i5."),
            ("Cedar & Pine", "seller", "The dot com bubble was long ago, we only sell here."),
        )
    ),
]


# An eighth batch, from the findings on detector version 6 (5 December 2026): a payment or
# messenger link host spelled out with an ending that is an English word ("pay at paypal dot
# me please", masked as the e-mail address "pay@paypal.me"; "cash dot app", "wa dot me/…"),
# a verb before "at" taken for a mailbox's name ("pay at mystore dot com"), "dot" respelled
# in a site ("mystore d0t com") and a site with an English word for its ending after a verb
# sending the reader there ("Visit cedarpine dot shop for more") judged ok or masked. Beside
# them, lookalikes that must stay as they are: addresses whose name is a mailbox's ("orders
# at velvetvine dot com"), and "dot" in ordinary words ("polka dot shop", a shop named "Polka
# Dot Shop", "the red dot design award", "D.O.T. approved", "the green dot app icon").
# Detector version 7 was written for them: these rows say the findings are fixed, not how
# unseen messages fare. Sites spelled out are with the payment requests, as in batch 7.
FINDINGS_2026_12_05_BATCH_8: list[tuple[str, str, str, str, list[str]]] = [
    *(
        ("obfuscated_contact", name, role, body, ["contact_payment_link"])
        for name, role, body in (
            ("Rafael", "buyer", "pay at paypal dot me please"),
            ("Dune Supply", "seller", "paypal dot me/dunesupply, thanks!"),
            ("Mina Park", "buyer", "my tag is on cash dot app"),
            ("Harbor Tools", "seller", "Send it to revolut [dot] me/harbortools"),
            ("Ines", "buyer", "pay at paypal d0t me please"),
        )
    ),
    *(
        ("obfuscated_contact", name, role, body, ["contact_messenger"])
        for name, role, body in (
            ("Tom", "buyer", "Text me on wa dot me/4155550123, I answer faster"),
            ("Koto Ceramics", "seller", "find me on t dot me/kotoceramics"),
        )
    ),
    *(
        ("obfuscated_contact", name, role, body, ["contact_email"])
        for name, role, body in (
            ("Velvet & Vine", "seller", "Orders by mail: orders at velvetvine dot com"),
            ("Blue Harbor Prints", "seller", "Questions? sales at blueharbor d0t com"),
        )
    ),
    *(
        ("payment_outside", shop, "seller", body, ["links"])
        for shop, body in (
            ("Cedar & Pine", "Visit cedarpine dot shop for more"),
            ("Velvet & Vine", "Check out velvetvine dot store, same prints for less."),
            ("Urban Threads", "My website is urbanthreads d0t com, it ships faster."),
            ("Northwind Audio", "pay at northwindaudio dot com and I ship today"),
            ("TechNest Outlet", "Cheaper at technest d o t com, same model."),
        )
    ),
    *(
        ("ordinary", name, role, body, [])
        for name, role, body in (
            ("Ana", "buyer", "Is this from the polka dot shop collection?"),
            ("Fresh Finds", "seller", "Visit Polka Dot Shop on Main Street, they have the frames."),
            ("Grace Liu", "buyer", "Go to the polka dot shop downtown for the fabric."),
            ("Pixel Parts Co.", "seller", "Check out the red dot design award we won."),
            ("Maple Street Crafts", "seller", "Shop at Little Dot Boutique, our sister store."),
            ("Trailhead Bikes", "seller", "This helmet is D.O.T. approved, size M."),
            ("Rafael", "buyer", "I love the polka d0t in this dress."),
            ("Quantum Gadgets", "seller", "Tap the green dot app icon to open your order."),
        )
    ),
]


def build() -> list[dict[str, object]]:
    records: list[dict[str, object]] = []

    def add(group: str, name: str, role: str, body: str, expected: list[str]) -> None:
        records.append(
            {
                "id": len(records) + 1,
                "group": group,
                "sender": {"display_name": name, "role": role},
                "body": body,
                "expected": sorted(set(expected)),
            }
        )

    makers: list[tuple[int, Callable[[], None]]] = [
        (320, lambda: add("ordinary", choice(SHOPS), "seller", ordinary_seller(), [])),
        (300, lambda: add("ordinary", choice(BUYERS), "buyer", ordinary_buyer(), [])),
        (260, lambda: add("impersonation", *phishing_message())),
        (60, lambda: add("payment_outside", choice(SHOPS), "seller", *payment_outside_message())),
    ]
    for count, make in makers:
        for _ in range(count):
            make()
    for kind, count in (
        ("email", 110),
        ("phone", 90),
        ("messenger", 60),
        ("payment_link", 40),
        ("plain_email", 20),
        ("plain_phone", 30),
    ):
        group = "plain_contact" if kind.startswith("plain") else "obfuscated_contact"
        for _ in range(count):
            body, expected = contact_message(kind)
            add(group, choice(BUYERS + SHOPS), choice(["buyer", "seller"]), body, expected)
    for batch, held_out in enumerate(
        (
            HELD_OUT,
            HELD_OUT_2,
            QA_REPORT_2026_12_05,
            RESPELLINGS_2026_12_05,
            REPORTED_MISSES_2026_12_05,
            EXPLORATORY_TEST_2026_12_05,
            REPORTED_2026_12_05_BATCH_7,
            FINDINGS_2026_12_05_BATCH_8,
        ),
        1,
    ):
        for group, name, role, body, expected in held_out:
            add(group, name, role, body, expected)
            records[-1]["held_out"] = batch
    return records


if __name__ == "__main__":
    OUTPUT.parent.mkdir(parents=True, exist_ok=True)
    lines = [json.dumps(record, ensure_ascii=False) for record in build()]
    OUTPUT.write_text("\n".join(lines) + "\n", encoding="utf-8")
    print(f"{len(lines)} messages written to {OUTPUT}")
