import re
import time
from collections.abc import Callable
from dataclasses import replace

import pytest

from messagecenter.safety import detector
from messagecenter.safety.contacts import MASK
from messagecenter.safety.detector import Reason, Sender, _asks_to_pay_outside, _read, check
from messagecenter.safety.text import has_mixed_scripts, skeleton
from messagecenter.safety.vocabulary import DETECTOR_VERSION, Vocabulary

VOCABULARY = Vocabulary()
SELLER = Sender("Brightside Home & Kitchen", "seller")
BUYER = Sender("alice", "buyer")

DEMO_SCAM = (
    "URGENT: Your Marketplace account has been suspended\n\nDear Customer,\n\nWe detected "
    "unusual sign-in activity on you account and placed order 114-3941689-8772232 on hold.\n\n"
    "Verify your account now: https://rnarketplace-account-verify.example/secure-login\n\n"
    "You will need to confirm your password and the card used for this order.\n\n"
    "Marketplace Account Team\nSecurity Department"
)


def codes(verdict: object) -> list[str]:
    return [reason.code for reason in verdict.reasons]  # type: ignore[attr-defined]


def test_demo_scam_is_warned_with_every_reason() -> None:
    verdict = check(DEMO_SCAM, Sender("Marketplace Account Team", "seller"), VOCABULARY)

    assert verdict.level == "warn"
    assert verdict.categories == ("impersonation", "credentials", "links")
    assert codes(verdict) == [
        "name_imitates_operator",
        "name_staff_title",
        "writes_as_operator",
        "account_threat",
        "asks_for_secrets",
        "pressure",
        "link_lookalike",
    ]
    assert verdict.reasons[-1].text == (
        "A link goes to rnarketplace-account-verify.example, which imitates Marketplace but "
        "is not ours."
    )


@pytest.mark.parametrize(
    ("name", "code"),
    [
        ("Rnarketplace Help", "name_lookalike"),
        ("Маrkеtplace", "name_lookalike"),  # Cyrillic М and е
        ("Marketp1ace", "name_lookalike"),
        ("Customer Service Team", "name_staff_title"),
        ("Best Deals ✔", "name_decoration"),
        ("Pаypal Deals", "name_mixed_scripts"),
    ],
)
def test_sender_names_that_imitate_the_marketplace(name: str, code: str) -> None:
    verdict = check("Hello, thanks for your order.", Sender(name, "seller"), VOCABULARY)

    assert verdict.level == "warn"
    assert code in codes(verdict)


def test_a_senders_name_and_address_are_judged_once_per_vocabulary(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same person sends many messages: their name and address are judged on the first
    and remembered, and judged anew under a vocabulary with other operator lists."""
    judged: list[Sender] = []
    judge = detector._judged_sender

    def counting(sender: Sender, vocabulary: Vocabulary) -> list[Reason]:
        judged.append(sender)
        return judge(sender, vocabulary)

    monkeypatch.setattr(detector, "_judged_sender", counting)
    monkeypatch.setattr(detector, "_SENDER_REASONS", {})
    impostor = Sender("Marketplace Help", "seller", "help@rnarketplace.example")

    first = check("Hello, thanks for your order.", impostor, VOCABULARY)
    again = check("Your parcel left today.", impostor, VOCABULARY)
    renamed = replace(VOCABULARY, operator_names=("Bazaar",), operator_domains=("bazaar.example",))
    other = check("Your parcel left today.", impostor, renamed)

    assert judged == [impostor, impostor]
    assert codes(first) == codes(again)
    assert "name_imitates_operator" in codes(first)
    assert "sender_domain_lookalike" in codes(first)
    assert "name_imitates_operator" not in codes(other)


def test_the_judgement_kept_is_what_judging_again_gives() -> None:
    for sender in [SELLER, BUYER, Sender("Маrkеtplace", "seller"), Sender("Best ✔", "buyer")]:
        check("Hello", sender, VOCABULARY)
        assert list(detector._sender_reasons(sender, VOCABULARY)) == detector._judged_sender(
            sender, VOCABULARY
        )


def test_lookalike_folding_follows_unicode_confusables() -> None:
    assert skeleton("rnarketplace") == skeleton("Marketplace") == skeleton("Маrkеtplасе")
    assert has_mixed_scripts("Pаypal")
    assert not has_mixed_scripts("Café Zoë")


@pytest.mark.parametrize(
    ("body", "code", "text"),
    [
        ("See http://185.23.91.4/login", "link_ip_address", "bare internet address (185.23.91.4)"),
        ("Go to https://mаrketplace.example/a", "link_punycode", "xn--mrketplace-"),
        ("Go to https://bit.ly/3xYz", "link_shortener", "link shortener (bit.ly)"),
        (
            "[marketplace.example/login](https://evil.test/x)",
            "link_text_mismatch",
            'shows "marketplace.example/login" but goes to evil.test',
        ),
        ("Look at https://marketp1ace-help.com/x", "link_lookalike", "imitates"),
        ("Manual: https://example.org/manual.pdf", "link_outside", "to example.org"),
    ],
)
def test_link_problems_are_explained(body: str, code: str, text: str) -> None:
    verdict = check(body, BUYER, VOCABULARY)

    assert code in codes(verdict)
    assert any(text in reason.text for reason in verdict.reasons)


def test_marketplace_and_carrier_links_are_not_flagged() -> None:
    body = (
        "Your order is at https://marketplace.example/orders/114-3941689-8772232 and "
        "the parcel at https://www.ups.com/track?tracknum=1Z999AA10123456784"
    )
    assert check(body, SELLER, VOCABULARY).level == "ok"


@pytest.mark.parametrize(
    ("body", "category"),
    [
        ("write to john.smith@gmail.com", "contact_email"),
        ("john at gmail dot com", "contact_email"),
        ("john [at] gmail [dot] com", "contact_email"),
        ("j o h n @ g m a i l . c o m", "contact_email"),
        ("my gmail is jsmith88", "contact_email"),
        ("call me on (415) 867-5309", "contact_phone"),
        ("four one five eight six seven five three oh nine", "contact_phone"),
        ("4 1 5 8 6 7 5 3 0 9", "contact_phone"),
        ("+44 7911 123456", "contact_phone"),
        ("add me on telegram @johnny_k", "contact_messenger"),
        ("text me on WhatsApp", "contact_messenger"),
        ("https://wa.me/14158675309", "contact_messenger"),
        ("pay at paypal.me/johnny", "contact_payment_link"),
        ("my cashapp is $johnny", "contact_payment_link"),
    ],
)
def test_contact_details_are_found(body: str, category: str) -> None:
    verdict = check(body, BUYER, VOCABULARY)

    assert verdict.categories == (category,)


# Contact details written with respelled words (detector version 5): the payment rule read
# "Zel1e" and "Z e l l e", the contact patterns only what was written.
@pytest.mark.parametrize(
    ("body", "category", "masked"),
    [
        (
            "my number is f1ve f1ve f1ve 0ne tw0 thr3e f0ur, thanks",
            "contact_phone",
            f"my number is {MASK}, thanks",
        ),
        (
            "my number is F I V E F I V E F I V E one two three four",
            "contact_phone",
            f"my number is {MASK}",
        ),
        ("call 4_1_5_8_6_7_5_3_0_9 after six", "contact_phone", f"call {MASK} after six"),
        ("j0hn at gma1l dot c0m", "contact_email", MASK),
        ("Mail me: john at gmai1 d0t com, thanks", "contact_email", f"Mail me: {MASK}, thanks"),
        ("johnsmith at g m a i l dot c o m", "contact_email", MASK),
        (
            "reach me at j o h n at g m a i l dot c o m please",
            "contact_email",
            f"reach me at {MASK} please",
        ),
        ("Write to john dot smith at gmail dot com", "contact_email", f"Write to {MASK}"),
        ("write to info at cedarpine dot shop", "contact_email", f"write to {MASK}"),
        # Full-width: "[contact details removed]．com" was left of the first.
        ("email me: brightside＠gmail．com", "contact_email", f"email me: {MASK}"),
        ("write to li.silva＠yahoo。de ok", "contact_email", f"write to {MASK} ok"),
    ],
)
def test_respelled_contact_details_are_found_and_masked_whole(
    body: str, category: str, masked: str
) -> None:
    verdict = check(body, BUYER, VOCABULARY)

    assert verdict.categories == (category,)
    assert verdict.masked_body == masked


@pytest.mark.parametrize(
    "body",
    [
        "Order 114-3941689-8772232: 2 items at $12.50, tracking 1Z999AA10123456784.",
        "Your order #5551234567 ships today via UPS 1Z 999 AA1 01 2345 6784.",
        "The 0ne-piece swimsuit in size 6, 2 pack, $24.99 at checkout.",
        "Model F1VE-200 and S1X-300 both fit, 4K at 60Hz.",
        "It was three two one go, then it shipped.",
        "Thank you! We're at Marketplace dot com too.",
        "Meet me at the store at 5, or at home.",
    ],
)
def test_what_respelled_contact_details_look_like_stays_ok(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


# Small numbers listed with a comma and a space were masked as a phone number written digit
# by digit: "Sizes: [contact details removed] and 8 in stock."
@pytest.mark.parametrize(
    "body",
    [
        "Sizes: 5, 5.5, 6, 6.5, 7, 7.5 and 8 in stock.",
        "Left in stock: sizes 8, 7.5, 6, 9.5, 10, 6.5, 11.",
        "made in one, two, three, four, five, six, seven countries",
        "Pick a number: 0, 1, 2, 3, 4, 5, 6, 7, 8 or 9.",
    ],
)
def test_a_list_of_small_numbers_is_no_phone_number(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


@pytest.mark.parametrize(
    ("body", "masked"),
    [
        ("call 4, 1, 5, 8, 6, 7, 5, 3, 0, 9 tonight", f"call {MASK} tonight"),
        ("four, one, five, eight, six, seven, five, three, oh, nine", MASK),
        ("Sizes: 5, 5.5, 6. Text me 4 1 5 8 6 7 5 3 0 9", f"Sizes: 5, 5.5, 6. Text me {MASK}"),
        ("Sizes 5, 5.5, 6 4 1 5 8 6 7 5 3 0 9", f"Sizes {MASK}"),
    ],
)
def test_a_phone_number_listed_digit_by_digit_is_still_masked(body: str, masked: str) -> None:
    verdict = check(body, BUYER, VOCABULARY)

    assert verdict.categories == ("contact_phone",)
    assert verdict.masked_body == masked


def test_contact_details_are_masked_and_the_rest_is_kept() -> None:
    verdict = check("Thanks! Reach me at john at gmail dot com or 415-867-5309.", BUYER, VOCABULARY)

    assert verdict.level == "ok"
    assert verdict.masked_body == f"Thanks! Reach me at {MASK} or {MASK}."


def test_payment_links_are_held_by_default() -> None:
    verdict = check("Pay here: paypal.me/johnny", BUYER, VOCABULARY)

    assert verdict.level == "hold"
    assert verdict.held_categories == ("contact_payment_link",)


# A payment link host listed with its path ("paypal.com/paypalme", "wise.com/pay") was found
# only with "https://" before it: written bare, "paypal.com/paypalme/anna" was an outside link.
@pytest.mark.parametrize(
    "address", ["paypal.com/paypalme/anna", "wise.com/pay/anna", "www.paypal.com/paypalme/anna"]
)
def test_a_payment_link_listed_with_its_path_is_one_with_or_without_a_scheme(
    address: str,
) -> None:
    bare = check(f"Pay me at {address}", BUYER, VOCABULARY)
    with_scheme = check(f"Pay me at https://{address.removeprefix('www.')}", BUYER, VOCABULARY)

    assert codes(bare) == codes(with_scheme) == ["contact_payment_link"]
    assert bare.level == "hold"


def test_a_host_listed_with_a_path_is_no_payment_link_elsewhere() -> None:
    verdict = check("Prices at paypal.com/help and wise.com/help", BUYER, VOCABULARY)

    assert codes(verdict) == ["link_outside", "link_outside"]


def test_operator_policy_decides_per_category() -> None:
    vocabulary = replace(
        VOCABULARY, policy={"contact_email": "allow", "contact_phone": "hold", "links": "allow"}
    )
    body = "john@gmail.com, https://example.org"

    assert check(body, BUYER, vocabulary).level == "ok"
    assert check(body, BUYER, vocabulary).masked_body is None
    assert check("call 415-867-5309", BUYER, vocabulary).level == "hold"


def test_version_names_the_detector_and_the_vocabulary() -> None:
    changed = replace(VOCABULARY, operator_names=("Shopzilla",))

    assert check("hi", BUYER, VOCABULARY).version.startswith(f"{DETECTOR_VERSION}.0.")
    assert check("hi", BUYER, VOCABULARY).version != check("hi", BUYER, changed).version


@pytest.mark.parametrize(
    "body",
    [
        "Order 114-3941689-8772232 shipped with UPS 1Z999AA10123456784, total $1,234.56.",
        "USPS tracking 9400 1112 0206 2000 0000 00, delivery to 1600 Main St, Austin, TX 78701.",
        "DHL 5518997702 — arrives Friday. Urgent? Reply and we'll upgrade shipping.",
        "Thanks for your support! The password for the router is on the sticker.",
        "I'll be at home at 5; the parcel can go to the neighbour at number 14.",
        "Model KB-7000X, SKU 448812-03, 12 x 8 x 4 in, 3.5 lb.",
    ],
)
def test_ordinary_marketplace_messages_are_ok(body: str) -> None:
    verdict = check(body, SELLER, VOCABULARY)

    assert (verdict.level, verdict.masked_body, verdict.reasons) == ("ok", None, ())


def test_the_marketplace_and_its_agents_are_not_checked() -> None:
    for role in ("marketplace", "agent", "admin"):
        assert check(DEMO_SCAM, Sender("Marketplace", role), VOCABULARY).level == "ok"  # type: ignore[arg-type]


# The held-out set's first batch missed these (docs/safety.md#evaluation); each beside
# ordinary messages that look like it and must stay ok.
@pytest.mark.parametrize(
    ("body", "category"),
    [
        (
            "To finish your refund we need the 6-digit code you just received by text.",
            "credentials",
        ),
        ("Please send me the six digit code from the SMS.", "credentials"),
        ("my digits: 4one5 - 8six7 - 53oh9", "contact_phone"),
        ("call 2one2, 555, 01four4", "contact_phone"),
        ("ping me on whats app, same name as the shop", "contact_messenger"),
        ("I'm on what's app, add me", "contact_messenger"),
        ("message me on whatsap", "contact_messenger"),
        ("let's continue on tele gram", "contact_messenger"),
    ],
)
def test_what_the_first_held_out_batch_missed_is_found(body: str, category: str) -> None:
    verdict = check(body, BUYER, VOCABULARY)

    assert category in verdict.categories


@pytest.mark.parametrize(
    "body",
    [
        "Enter the 6-digit code at the parcel locker to open it.",
        "The lock takes a 4-digit code; turn the dials to set your own.",
        "Use the 5 digit code on the gift receipt to exchange it.",
        "Model X1one fits 2 of 3 shelves.",
        "Someone at number 4 will take it in.",
        "Whats the warranty on this? My last one broke after 13 months.",
        "What is the app called? I can't find the tracking in it.",
    ],
)
def test_what_looks_like_those_misses_stays_ok(body: str) -> None:
    assert check(body, BUYER, VOCABULARY).level == "ok"
    assert check(body, BUYER, VOCABULARY).masked_body is None


# A tester's report (detector version 3): paying outside the marketplace in the words people
# use — the app as a verb, money sent "by" an app, a gift card of a brand, a wire to the
# writer's own account, "cancel the order and I'll refund you directly" — came back ok.
@pytest.mark.parametrize(
    "body",
    [
        "Please Zelle me $12 for the label",
        "Send the $12 return fee by Zelle and I'll e-mail you the label.",
        "Pay me with an Apple gift card and I'll ship today.",
        "Wire the restocking fee to my bank account before I accept the return.",
        "Cancel the order and I will refund you directly",
        "Pay the $12 return shipping with Cash App",
        "Pay the return shipping via Zelle to me first",
        "pay me directly via Zelle",
        "PayPal friends and family",
        "Venmo me the $20 deposit and I'll hold it for you",
        "I'll Zelle you the difference",
        "Cash App me $15 and it ships tomorrow",
        "My Zelle is my phone number, send it there",
        "I only accept Zelle or Cash App",
        "Zelle only, no returns.",
        "Send $40 via MoneyGram",
        "Settle the shipping cost through Cash App please",
        "Can you pay the rest by wire transfer?",
        "Wire me the money today",
        "Please wire $300 to my account, I ship as soon as it clears",
        "Transfer the $250 to my bank account and I'll ship",
        "Send the refund by bank transfer to my IBAN",
        "Pay the balance in bitcoin",
        "Send 0.01 BTC to my wallet and I'll ship",
        "Send the deposit in USDT, 10% off",
        "Buy two Google Play cards and send me the codes",
        "Pay with a Steam gift card, $50 each",
        "Get me an Amazon gift card for $100 and the item is yours",
        "Send me a $50 gift card and I'll ship today",
        "Send me a Steam card and I'll release the order",
        "Scratch off the back of the gift card and send a photo of the code",
        "Cancel your order and I'll sell it to you directly for $20 less",
        "Cancel this order and we'll refund you ourselves, cheaper for both",
        "Don't pay through the site, pay me directly",
    ],
)
def test_asking_to_pay_outside_the_marketplace_is_warned(body: str) -> None:
    verdict = check(body, SELLER, VOCABULARY)

    assert verdict.level == "warn"
    assert verdict.categories == ("payment",)
    assert codes(verdict) == ["asks_to_pay_outside"]


@pytest.mark.parametrize(
    "body",
    [
        "I paid with a gift card on the marketplace checkout",
        "Does this come with a gift card slot?",
        "the wire for the lamp is 2 m long",
        "If you paid with a gift card, the refund goes back to the gift card.",
        "You'll get your refund on your gift card balance within 3 days.",
        "Could you send it as a gift with a gift card saying Happy Birthday?",
        "I'd like to buy a gift card from your shop for my sister, do you sell them?",
        "Send me a photo of the gift card slot please",
        "Please don't cut the wire, the plug is molded on.",
        "I can wire the plug for a UK socket if you like.",
        "We wire the lamps ourselves, every one is tested.",
        "Can you send the invoice to my bank? They need it for the loan.",
        "The refund goes back to your bank account in 5-10 business days.",
        "Please cancel the order, I ordered the wrong size.",
        "Cancel the order and I will refund you through the marketplace within a day.",
        "Sorry, it's out of stock: please cancel the order and you'll get a full refund.",
        "Cancel the order and order the blue one instead.",
        "I paid with my bank card through checkout, the order still says pending.",
        "My card was charged twice, I paid with Apple Pay at checkout.",
        "I paid through the app with my Cash App card.",
        "Is this speaker compatible with Apple Music and Google Play?",
        "The Steam Deck case fits the 512 GB model.",
        "Heat transfer vinyl, 12 x 12 in, pack of 10.",
        "Transfer the design to the fabric with a hot iron.",
        "Please don't pay me directly, only through the marketplace checkout.",
        "Never send money by Zelle to a seller you have not met.",
    ],
)
def test_the_same_words_in_ordinary_messages_stay_ok(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


# A gift card of no brand asked for with its price after it (detector version 5): "a $50
# gift card" was a payment request, "a gift card for $50" was not.
@pytest.mark.parametrize(
    "body",
    [
        "Get me a gift card for $50",
        "Get me a gift card for $50 and the set is yours.",
        "Buy us a gift card worth 50 dollars and it ships today",
        "Can you get me one gift card of £20 first?",
        "Get me a g1ft card for $50",
    ],
)
def test_a_gift_card_for_a_price_bought_for_the_writer_is_a_payment_request(body: str) -> None:
    assert codes(check(body, SELLER, VOCABULARY)) == ["asks_to_pay_outside"]


@pytest.mark.parametrize(
    "body",
    [
        "Get me a gift card slot in the box please",
        "Could you get me a gift card for my sister's birthday? I'll pay at checkout.",
        "I bought a gift card for $50 for my sister, it came today.",
        "I paid $50 with a gift card at checkout.",
        "I'd like to buy a gift card for $50 from your shop, do you sell them?",
        "Could you get me the gift card holder for 5 dollars more?",
    ],
)
def test_a_gift_card_and_a_price_in_ordinary_messages_stay_ok(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


# An app named beside a request to pay on the marketplace is good advice, not a request to
# pay outside it (detector version 5): "My zelle is broken so please just pay on the
# marketplace" was warned.
@pytest.mark.parametrize(
    "body",
    [
        "My zelle is broken so please just pay on the marketplace",
        "my venmo is down, just pay at checkout please",
        "My Zelle is broken. Please just pay on the marketplace.",
        "My Venmo is acting up; just buy it through the site.",
        "Please pay on the marketplace, not by Zelle.",
        "Pay at checkout rather than with Cash App, it protects us both.",
        "I no longer take Venmo, please pay through the marketplace checkout.",
        # The app refused in the sentence after the request to pay on the marketplace.
        "Please pay on the marketplace only, never outside. My Venmo is not for orders.",
        "Please buy it through the site. My Zelle isn't used for sales.",
    ],
)
def test_an_app_named_beside_paying_on_the_marketplace_stays_ok(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


@pytest.mark.parametrize(
    "body",
    [
        "pay me on zelle, not on the marketplace",
        "Pay me on Zelle. Not on the marketplace.",
        "Zelle me instead of paying on the marketplace",
        "Zelle me $12 and pay the rest on the marketplace",
        "My zelle is faster, or pay on the marketplace if you must",
        "Pay on the marketplace or Zelle me, whichever",
        "My zelle is quicker than paying on the marketplace",
        "I only take Zelle, no need to pay on the marketplace",
        "My zelle works, skip paying at checkout",
        "My Zelle is my number, send it there and I'll mark it paid on the marketplace",
        # On site: in person, not on the marketplace's site.
        "My Zelle works too, or pay on site when you pick it up",
        "My Venmo is quickest, pay on site at pickup",
        # The marketplace refused between the verb and the place: "pay me there, not on …".
        "my zelle works, so please pay me there, not on the marketplace",
        "My zelle works, pay me there and not on the marketplace",
        "My Venmo is fine, pay me there instead of on the marketplace",
        "My zelle works, pay me directly, not through the site",
        "my cash app is fine, so buy it from me there rather than through the site",
        # Only an app refused reaches back to the sentence before; one named does not.
        "Please pay on the marketplace. My Venmo works too.",
        "Please pay on the marketplace only. My Venmo is not for orders, but my Zelle is.",
        "Pay on the marketplace or by my Venmo. My Venmo is not for orders.",
    ],
)
def test_paying_on_the_marketplace_refused_or_offered_beside_an_app_is_still_warned(
    body: str,
) -> None:
    assert codes(check(body, SELLER, VOCABULARY)) == ["asks_to_pay_outside"]


def test_a_payment_handle_is_a_payment_link_not_also_a_request_to_pay_outside() -> None:
    verdict = check("my cashapp is $BloomByKay", SELLER, VOCABULARY)

    assert verdict.categories == ("contact_payment_link",)


# An exploratory test (detector version 4): the payment rule missed the same requests
# respelled — letters apart, or a digit or symbol for a letter inside a word. The rules read
# the text with those words written back (text.Respellings).
@pytest.mark.parametrize(
    "body",
    [
        "Z e l l e me the $12",
        "Zel1e me the $12",
        "Pay via Z.e.l.l.e",
        "Pay the return shipping via Z e l l e to me first",
        "Pay the return shipping via Z-e-l-l-e to me first",
        "Pay the $12 return shipping with C@sh App",
        "Pay me with C a s h A p p",
        "Buy two g1ft cards and send me the codes",
        "Pay me with an Apple g i f t c a r d",
        "W i r e the fee to my bank account",
        "W1re the restocking fee to my b4nk account",
        "Send 40 dollars via W e s t e r n U n i o n",
        "I only accept V3nm0 or Z e l l e",
        "Pay with a Z * e * l * l * e transfer",
    ],
)
def test_asking_to_pay_outside_in_respelled_words_is_warned(body: str) -> None:
    verdict = check(body, SELLER, VOCABULARY)

    assert verdict.level == "warn"
    assert codes(verdict) == ["asks_to_pay_outside"]


def test_asking_for_a_password_in_respelled_words_is_warned() -> None:
    for body in ("Send me your p4ssw0rd", "Reply with your c a r d n u m b e r"):
        assert codes(check(body, SELLER, VOCABULARY)) == ["asks_for_secrets"]


# What a respelling's rule could mistake for one: digits, symbols and single letters that
# spell no word of the rules.
@pytest.mark.parametrize(
    "body",
    [
        "It's $12 for the set, 4 items, order 114-3941689-8772232.",
        "Options A B C or D, sizes S M L XL.",
        "The box set by J. R. R. Tolkien ships Friday.",
        "Vit. B12 & D3, 60 caps, $12.50 — ships by USPS 9400 1112 0206 2000 0000 00.",
        "Model W1-200 cable: wire W1 to L1 and W2 to L2.",
        "Sent from my iPhone 15, in the U.S.A. until May.",
        "Print it on A4, 5 x 7 in cards also fit; 1st class stamp.",
        "Pay at checkout: 3 x $4 = $12, gift box incl.",
        "The p.s. on the card says: Happy 40th!",
        "C-3PO and R2-D2 mugs, 2 for $25, 4K photo print on the box.",
        "Wi-Fi 6, 5G, MP3 and H2O-proof; code T-1000 on the label.",
    ],
)
def test_lookalike_digits_and_spaced_letters_in_ordinary_messages_stay_ok(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


# A password or card details asked for at a link (detector version 4): the secrets rule
# wanted one of its verbs a few words before the secret, and a link between them counted
# as many words, so these gave only the link's reason.
@pytest.mark.parametrize(
    "body",
    [
        "Your password is needed at https://evil.example/login",
        "Password and card number required: https://evil.example/verify",
        "Card number confirmation: http://evil.example/pay",
        "Log in with your password here: http://evil.example/login",
        "Please fill your card number in at https://evil.example/pay",
        "Enter at http://secure.evil.example/a/b/c/d your password",
        "Your p4ssw0rd is needed at evil-shop.com/login, today please.",
    ],
)
def test_a_secret_asked_for_at_a_link_is_asking_for_secrets(body: str) -> None:
    verdict = check(body, SELLER, VOCABULARY)

    assert codes(verdict) == ["asks_for_secrets", "link_outside"]
    assert re.search(r", with a link to [\w.-]+\"\)", verdict.reasons[0].text)
    # Where links are allowed, the request was judged ok.
    links_allowed = replace(VOCABULARY, policy={"links": "allow"})
    assert codes(check(body, SELLER, links_allowed)) == ["asks_for_secrets"]


@pytest.mark.parametrize(
    "body",
    [
        "Forgot your password? Reset it at https://www.marketplace.example/account/password",
        "Track it at https://www.ups.com/track?tracknum=1Z999AA10123456784, no card number needed.",
        "The manual is at https://brand.example/manual.pdf. The default password is on the "
        "sticker.",
        "See https://brand.example/reset-password for the router.",
    ],
)
def test_a_secret_beside_the_marketplaces_or_a_trusted_link_or_in_another_sentence_is_not(
    body: str,
) -> None:
    assert "asks_for_secrets" not in codes(check(body, SELLER, VOCABULARY))


# Gift cards asked for as a brand's cards without "gift", by their codes, or sent as the
# price of shipping (detector version 6): these were judged ok.
@pytest.mark.parametrize(
    ("body", "quoted"),
    [
        ("iTunes cards are fine, send me the codes", "itunes cards are fine, send me the codes"),
        ("Send a gift card and I'll ship today", "send a gift card and i'll ship"),
        ("Buy me an amazon card and send the claim code", "buy me an amazon card"),
        ("Steam cards only, text me the codes", "steam cards only, text me the codes"),
        ("Get me a gift card and I'll ship today", "get me a gift card and i'll ship"),
        (
            "I'll buy an Apple gift card and send you the code",
            "apple gift card and send you the code",
        ),
    ],
)
def test_gift_cards_of_a_brand_by_their_codes_or_for_shipping_are_payment_requests(
    body: str, quoted: str
) -> None:
    verdict = check(body, SELLER, VOCABULARY)

    assert codes(verdict) == ["asks_to_pay_outside"]
    assert f'("{quoted}")' in verdict.reasons[0].text


# A buyer buying the shop's own gift card was warned as paying outside the marketplace
# (detector version 6): "buy … a $50 gift card" read as the seller asking for one.
@pytest.mark.parametrize(
    "body",
    [
        "I'd like to buy a $50 gift card from your shop",
        "Can I buy two $25 gift cards from your shop?",
        "We'd like to purchase a $100 gift card for our team from your store.",
        "I want to buy a $50 gift card, do you sell them?",
        "I paid with my Amazon card at checkout.",
        "We send a gift card with every order and we ship within 2 days.",
        "Could you send a gift card with it? I'll pay at checkout.",
        "I'll buy a gift card and send it to my mom.",
    ],
)
def test_a_buyer_buying_a_shops_gift_card_and_other_cards_stay_ok(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


# Paying on the marketplace refused, with an app named as the way instead in that sentence or
# the next, was judged ok (detector version 6): no phrase of the payment rule named the app.
@pytest.mark.parametrize(
    ("body", "quoted"),
    [
        (
            "Please don't pay on the marketplace. Venmo is quickest.",
            "don't pay on the marketplace. venmo",
        ),
        ("No need to pay through the site, Zelle works.", "no need to pay through the site, zelle"),
        ("Venmo is cheaper than paying on the site.", "venmo is cheaper than paying on the site"),
        ("Don't pay on the marketplace, bitcoin is fine", "don't pay on the marketplace, bitcoin"),
    ],
)
def test_paying_on_the_marketplace_refused_beside_an_app_is_a_payment_request(
    body: str, quoted: str
) -> None:
    verdict = check(body, SELLER, VOCABULARY)

    assert codes(verdict) == ["asks_to_pay_outside"]
    assert f'("{quoted}")' in verdict.reasons[0].text


@pytest.mark.parametrize(
    "body",
    [
        "Don't pay on the marketplace until I confirm the size. I don't take Venmo.",
        "Don't pay on the marketplace until it ships. Never use Zelle.",
        "Please don't pay on the marketplace twice. Zelle is not accepted either.",
        "No need to pay on the marketplace again, you already paid.",
        "Don't pay on the marketplace yet. I'll confirm the size tomorrow.",
    ],
)
def test_paying_on_the_marketplace_put_off_beside_an_app_refused_stays_ok(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


# A phone number with letters for digits — O for 0, l or I for 1 — was not found (detector
# version 6), as respelled digit words were not before version 5.
@pytest.mark.parametrize(
    ("body", "masked"),
    [
        ("call me on 415 555 O123", f"call me on {MASK}"),
        ("call me on 4I5 555 0I23 after six", f"call me on {MASK} after six"),
        ("text 4l5-555-Ol23", f"text {MASK}"),
        ("my number is (4l5) 867-53O9", f"my number is {MASK}"),
    ],
)
def test_a_phone_number_with_letters_for_digits_is_masked(body: str, masked: str) -> None:
    verdict = check(body, BUYER, VOCABULARY)

    assert verdict.categories == ("contact_phone",)
    assert verdict.masked_body == masked


@pytest.mark.parametrize(
    "body",
    [
        "Oil change at 10 l per 100 km, model o2 i5, 2 of 3 left.",
        "I lol at 1010 and 101, oil in 4l cans.",
        "Lot IO 1234567 is sold out.",
    ],
)
def test_letters_beside_digits_in_ordinary_messages_stay_ok(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


# A site's address with its dots spelled out was judged ok (detector version 6), while the
# same address written as one ("mystore.com") is warned as a link leaving the marketplace.
@pytest.mark.parametrize(
    ("body", "host"),
    [
        ("my website is mystore dot com", "mystore.com"),
        ("order from www dot mystore dot com instead", "www.mystore.com"),
        ("cheaper at mystore [dot] co [dot] uk", "mystore.co.uk"),
        ("www dot cedarpine dot shop, same prices", "www.cedarpine.shop"),
    ],
)
def test_a_site_spelled_out_is_judged_as_its_link_is(body: str, host: str) -> None:
    verdict = check(body, SELLER, VOCABULARY)
    written = check(f"my website is {host}", SELLER, VOCABULARY)

    assert codes(verdict) == codes(written) == ["link_outside"]
    assert verdict.reasons[0].text == (
        f"It names a site away from the marketplace, {host}, with its dots written out so "
        "that it is not a link."
    )


def test_a_lookalike_of_the_marketplace_spelled_out_is_a_lookalike() -> None:
    verdict = check("go to rnarketplace dot com to sign in", SELLER, VOCABULARY)

    assert codes(verdict) == ["link_lookalike"]


@pytest.mark.parametrize(
    "body",
    [
        "I love the polka dot in this dress.",
        "The dot com bubble was long ago.",
        "I code in dot net at work.",
        "Thank you! We're at Marketplace dot com too.",
        "Visit us at the fair, stand 12 dot 4.",
        "Dot dot dot, the end.",
    ],
)
def test_dot_as_a_word_in_ordinary_messages_stays_ok(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


# A payment, messenger or shortener host of the vocabulary spelled out was not found when
# its ending is an English word ("paypal dot me", "cash dot app"), and "pay at paypal dot me"
# was masked as an e-mail address "pay@paypal.me" (detector version 7): now each is judged
# as the same address written as one is.
@pytest.mark.parametrize(
    ("body", "written"),
    [
        ("pay at paypal dot me please", "pay at paypal.me please"),
        ("paypal dot me/anna", "paypal.me/anna"),
        ("Send it to revolut [dot] me/anna", "Send it to revolut.me/anna"),
        ("my tag is on cash dot app", "my tag is on cash.app"),
        ("Pay me at paypal dot com/paypalme/anna", "Pay me at paypal.com/paypalme/anna"),
        ("text me at wa dot me/4155550123 thanks", "text me at wa.me/4155550123 thanks"),
        ("find me on t dot me/annak", "find me on t.me/annak"),
        ("details at bit dot ly/3xYz9", "details at bit.ly/3xYz9"),
    ],
)
def test_a_listed_host_spelled_out_is_judged_as_written(body: str, written: str) -> None:
    verdict = check(body, BUYER, VOCABULARY)
    as_written = check(written, BUYER, VOCABULARY)

    assert codes(verdict) == codes(as_written) != []
    assert "contact_email" not in codes(verdict)
    assert verdict.level == as_written.level
    assert (verdict.masked_body is None) == (as_written.masked_body is None)
    if verdict.masked_body is not None:
        assert verdict.masked_body == as_written.masked_body


# "dot" respelled ("d0t", "d o t") was read in e-mail addresses ("anna at gmail d0t com",
# detector version 5) but not in a spelled-out site: "mystore d0t com" was ok (detector
# version 7: judged as "mystore dot com" is).
@pytest.mark.parametrize(
    ("body", "written"),
    [
        ("my website is mystore d0t com", "my website is mystore.com"),
        ("order from www D0T mystore D0T com", "order from www.mystore.com"),
        ("cheaper at mystore d o t com", "cheaper at mystore.com"),
        ("my website is mystore dot c0m", "my website is mystore.com"),
        ("pay at paypal d0t me please", "pay at paypal.me please"),
        ("text me at wa d.o.t me/4155550123", "text me at wa.me/4155550123"),
    ],
)
def test_a_respelled_dot_spells_a_site(body: str, written: str) -> None:
    verdict = check(body, BUYER, VOCABULARY)
    as_written = check(written, BUYER, VOCABULARY)

    assert codes(verdict) == codes(as_written) != []
    assert verdict.level == as_written.level
    assert (verdict.masked_body is None) == (as_written.masked_body is None)
    if verdict.masked_body is not None:
        assert verdict.masked_body == as_written.masked_body


@pytest.mark.parametrize(
    "body",
    [
        "I love the polka d0t in this dress.",
        "This helmet is D.O.T. approved, size M.",
        "Meets the U.S. D O T rules for shipping batteries.",
    ],
)
def test_a_respelled_dot_in_ordinary_messages_stays_ok(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


# A site spelled out with an ending that is an English word was judged ok even when a verb
# sends the reader there: "Visit cedarpine dot shop for more" (detector version 7: judged as
# "Visit cedarpine.shop for more" is).
@pytest.mark.parametrize(
    ("body", "written"),
    [
        ("Visit cedarpine dot shop for more", "Visit cedarpine.shop for more"),
        ("visit us at cedarpine dot shop", "visit us at cedarpine.shop"),
        ("Check out velvetvine dot store, same prints", "Check out velvetvine.store, same prints"),
        ("Go to cedarpine d0t shop instead", "Go to cedarpine.shop instead"),
        ("head over to annaprints dot me", "head over to annaprints.me"),
        ("Buy from velvetvine dot online and save", "Buy from velvetvine.online and save"),
    ],
)
def test_a_site_with_a_word_for_its_ending_is_one_after_a_verb_sending_there(
    body: str, written: str
) -> None:
    verdict = check(body, SELLER, VOCABULARY)
    as_written = check(written, SELLER, VOCABULARY)

    assert codes(verdict) == codes(as_written) == ["link_outside"]


@pytest.mark.parametrize(
    "body",
    [
        "We sell the polka dot shop collection too.",
        "Visit Polka Dot Shop on Main Street, they have the frames.",
        "Go to the polka dot shop downtown for the fabric.",
        "Check out the red dot design award we won.",
        "Visit Blue Dot Cafe next door while you wait.",
        "Shop at Little Dot Boutique, our sister store.",
        "Go to my dot me page? No, just ask here.",
    ],
)
def test_a_word_for_an_ending_after_a_verb_and_a_word_of_a_dot_stays_ok(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


# A verb before a bare "at" made a mailbox's name: "pay at mystore dot com" was masked as the
# address "pay@mystore.com" (detector version 7: a site, as "pay at mystore.com" is).
@pytest.mark.parametrize(
    "body",
    [
        "pay at mystore dot com",
        "Buy at mystore dot com, it is cheaper",
        "order at mystore dot com",
        "You can find at mystore dot com the rest",
        "Sold at mystore dot com as well",
        "also available at mystore dot com",
        "Cheaper at mystore dot com",
    ],
)
def test_a_verb_before_at_names_no_mailbox(body: str) -> None:
    verdict = check(body, BUYER, VOCABULARY)
    written = check(body.replace(" dot ", "."), BUYER, VOCABULARY)

    assert codes(verdict) == codes(written) == ["link_outside"]
    assert verdict.masked_body is None


@pytest.mark.parametrize(
    "body",
    [
        "sales at mystore dot com",
        "orders at mystore dot com",
        "Write to shopkeeper at mystore dot com",
    ],
)
def test_a_name_before_at_with_a_spelled_dot_is_still_a_mailbox(body: str) -> None:
    verdict = check(body, BUYER, VOCABULARY)

    assert codes(verdict) == ["contact_email"]


@pytest.mark.parametrize(
    "body",
    [
        "Polka dot me up, I love that dress!",
        "Tap the green dot app icon to open your order.",
        "Check the red dot, me and my sister liked it.",
        "The blue dot me too mug is sold out.",
    ],
)
def test_dot_before_an_ending_of_a_listed_host_stays_ok(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


# Numbers counting up or down apart by spaces or dots were masked as a phone number
# (detector version 6: only a comma and a space were read as a list's).
@pytest.mark.parametrize(
    "body",
    [
        "Version 1.2.3.4.5.6.7 of the app",
        "Ring sizes 38 40 42 44 46 48 in stock",
        "Phone cases in sizes 5 6 7 8 9 10 11",
        "Call me about sizes 36 38 40 42 44 46 48",
        "Pick 1 2 3 4 5 6 7",
        "Countdown: 10 9 8 7 6 5 4 3 2 1 go",
    ],
)
def test_numbers_counting_up_or_down_are_no_phone_number(body: str) -> None:
    for sender in (SELLER, BUYER):
        verdict = check(body, sender, VOCABULARY)

        assert (verdict.level, verdict.reasons, verdict.masked_body) == ("ok", (), None)


@pytest.mark.parametrize(
    ("body", "masked"),
    [
        ("call 4.1.5.8.6.7.5.3.0.9", f"call {MASK}"),
        ("call me 06 12 34 56 78", f"call me {MASK}"),
        ("text me 12 34 56 78 90", f"text me {MASK}"),
        ("call me at 41 55 58 67 53", f"call me at {MASK}"),
        ("Sizes 5 6 7, call 415 867 5309", f"Sizes 5 6 7, call {MASK}"),
    ],
)
def test_a_phone_number_in_digits_or_pairs_not_counting_is_still_masked(
    body: str, masked: str
) -> None:
    verdict = check(body, BUYER, VOCABULARY)

    assert verdict.categories == ("contact_phone",)
    assert verdict.masked_body == masked


def _best_time(function: Callable[[], object], rounds: int = 7) -> float:
    best = float("inf")
    for _ in range(rounds):
        started = time.thread_time()
        function()
        best = min(best, time.thread_time() - started)
    return best


# The rule that lets good advice naming an app through ("My zelle is broken so please just
# pay on the marketplace") searched the sentences around each payment phrase again: 10,000
# characters of such phrases took 100 to 150 times as long as 1,000 (45–270 ms), where a
# message may be 10,000 characters long. The sentences and requests are found once now, so
# ten times the text takes about ten times as long. Compared with itself, in the thread's
# CPU time (the best of seven runs each, the least of three such ratios), so neither the
# machine's speed nor the time spent waiting for a core on a loaded one counts; 40 leaves
# room for noise.
@pytest.mark.parametrize(
    "unit",
    [
        "my zelle, pay on the marketplace ",
        "my zelle is broken so please just pay on the marketplace ",
        "not by zelle, pay at checkout ",
        "don't pay on the marketplace, zelle ",
        "my venmo. pay on the site or ",
    ],
)
def test_the_payment_rule_takes_time_in_proportion_to_the_length(unit: str) -> None:
    short, long = ((unit * (length // len(unit) + 1))[:length] for length in (1_000, 10_000))
    read_short, read_long = _read(short), _read(long)

    ratio = min(
        _best_time(lambda: _asks_to_pay_outside(read_long, VOCABULARY))
        / _best_time(lambda: _asks_to_pay_outside(read_short, VOCABULARY))
        for _ in range(3)
    )
    assert ratio < 40, f"10,000 characters took {ratio:.0f} times as long as 1,000"


@pytest.mark.parametrize(
    ("body", "scheme"),
    [("[link](javascript:alert(3))", "javascript"), ("see [x](file:///etc/passwd)", "file")],
)
def test_a_link_that_is_no_web_page_says_so_rather_than_name_a_site(body: str, scheme: str) -> None:
    """It was "A link leads away from the marketplace, to javascript."."""
    verdict = check(body, BUYER, VOCABULARY)

    assert [reason.text for reason in verdict.reasons] == [
        f"A link is no web page's address ({scheme}:): a browser would run it or open it as a file."
    ]
