"""The safety check of a message people send each other: a verdict (ok, warn or hold) with
reasons in plain words (docs/safety.md).

Pure Python: no database, no network. `check()` never raises — whatever the input, it
returns a verdict — and costs well under 2 ms for an ordinary message
(bench/safety_detector.py).
"""

import bisect
import re
from dataclasses import dataclass, field
from functools import cache
from typing import Any, Literal

from messagecenter.safety import contacts
from messagecenter.safety.links import (
    Link,
    find_links,
    imitates_operator,
    is_operator_link,
    matches_host_list,
    problems,
    spelled_out_links,
)
from messagecenter.safety.text import Respellings, has_mixed_scripts, plain, skeleton
from messagecenter.safety.vocabulary import (
    CATEGORIES,
    CONTACT_CATEGORIES,
    CREDENTIALS,
    IMPERSONATION,
    LINKS,
    PAYMENT,
    Vocabulary,
)

Level = Literal["ok", "warn", "hold"]
# Who wrote the message. The marketplace's own messages and its agents' are not checked:
# they are what everyone else is compared against.
SenderRole = Literal["buyer", "seller", "agent", "admin", "marketplace", "unknown"]
# Urgency and threats: a reason only beside another one (a buyer's "urgent" is ordinary).
PRESSURE = "pressure"
_LEVELS: dict[str, int] = {"ok": 0, "warn": 1, "hold": 2}
_CHECK_MARKS = frozenset("✓✔☑✅🗸🛡🔒™®⭐🌟✪✯☆★🔰")


@dataclass(frozen=True)
class Sender:
    display_name: str = ""
    role: SenderRole = "unknown"
    # The address an e-mail came from, when the message arrived as an e-mail.
    email: str = ""


@dataclass(frozen=True)
class Reason:
    category: str
    code: str
    text: str

    def as_dict(self) -> dict[str, str]:
        return {"category": self.category, "code": self.code, "text": self.text}


@dataclass(frozen=True)
class Verdict:
    level: Level
    reasons: tuple[Reason, ...]
    version: str
    # The body the recipients see when contact details are masked (None: unchanged).
    masked_body: str | None = None
    held_categories: tuple[str, ...] = field(default=())

    @property
    def categories(self) -> tuple[str, ...]:
        seen: dict[str, None] = {}
        for reason in self.reasons:
            if reason.category != PRESSURE:
                seen[reason.category] = None
        return tuple(seen)

    @property
    def is_masked(self) -> bool:
        return self.masked_body is not None

    def as_dict(self) -> dict[str, Any]:
        return {
            "verdict": self.level,
            "categories": list(self.categories),
            "reasons": [reason.as_dict() for reason in self.reasons],
            "masked": self.is_masked,
            "version": self.version,
        }


def check(
    body: str,
    sender: Sender,
    vocabulary: Vocabulary,
    *,
    subject: str = "",
    html_anchors: tuple[tuple[str, str], ...] = (),
) -> Verdict:
    """The verdict on one message. Never raises: a detector bug must not stop a message."""
    try:
        return _check(body, sender, vocabulary, subject, html_anchors)
    except Exception as error:  # noqa: BLE001 — documented: the detector never raises
        return Verdict(
            "warn",
            (
                Reason(
                    LINKS,
                    "not_checked",
                    f"This message could not be checked ({type(error).__name__}); treat its "
                    "links and requests with care.",
                ),
            ),
            vocabulary.version,
        )


def _check(
    body: str,
    sender: Sender,
    vocabulary: Vocabulary,
    subject: str,
    html_anchors: tuple[tuple[str, str], ...],
) -> Verdict:
    if sender.role in {"marketplace", "agent", "admin"}:
        return Verdict("ok", (), vocabulary.version)
    body = body if isinstance(body, str) else str(body)
    reasons: list[Reason] = []
    reasons.extend(_sender_reasons(sender, vocabulary))
    text = f"{subject}\n{body}" if subject else body
    links = find_links(body, html_anchors)
    # Respelled words of addresses, numbers and sites ("d0t", "f1ve"), read once for both.
    respelled = contacts.respelled_words(body, vocabulary)
    links += spelled_out_links(body, links, vocabulary, respelled)
    reasons.extend(
        _phrase_reasons(_read(text), vocabulary, _secret_beside_link(body, links, vocabulary))
    )
    findings: list[contacts.ContactFinding] = []
    if sender.role in {"buyer", "seller", "unknown"}:
        findings = contacts.find_contacts(body, links, vocabulary, respelled)
    seen: set[tuple[str, str]] = set()
    for link in links:
        # A payment link, a messenger link or an address's domain is reported as contact
        # details, not as an outside link.
        if any(f.start < link.end and link.start < f.end for f in findings):
            continue
        for problem in problems(link, vocabulary):
            if (problem.code, link.ascii_host) not in seen:
                seen.add((problem.code, link.ascii_host))
                reasons.append(Reason(LINKS, problem.code, problem.text))
    for category in CONTACT_CATEGORIES:
        if any(finding.category == category for finding in findings):
            reasons.append(Reason(category, category, _CONTACT_TEXT[category]))
    return _verdict(body, reasons, findings, vocabulary)


_CONTACT_TEXT = {
    "contact_email": "It contains an e-mail address. Keep the conversation here: outside "
    "the marketplace, we cannot help if something goes wrong.",
    "contact_phone": "It contains a phone number. Keep the conversation here: outside the "
    "marketplace, we cannot help if something goes wrong.",
    "contact_messenger": "It asks to continue on another messaging app. Keep the "
    "conversation here: outside the marketplace, we cannot help if something goes wrong.",
    "contact_payment_link": "It contains a payment link or handle. Pay only through the "
    "marketplace: money sent any other way is not covered by our guarantee.",
}


def _verdict(
    body: str,
    reasons: list[Reason],
    findings: list[contacts.ContactFinding],
    vocabulary: Vocabulary,
) -> Verdict:
    categories = {reason.category for reason in reasons if reason.category != PRESSURE}
    if not categories:
        return Verdict("ok", (), vocabulary.version)
    level: Level = "ok"
    held = []
    masked_categories = set()
    for category in categories:
        policy = vocabulary.policy_for(category)
        if policy == "mask" and category in CONTACT_CATEGORIES:
            masked_categories.add(category)
        elif policy == "hold":
            held.append(category)
            level = "hold"
        elif policy in {"warn", "mask"} and _LEVELS[level] < _LEVELS["warn"]:
            level = "warn"
    kept = tuple(
        reason
        for reason in reasons
        if vocabulary.policy_for(reason.category) != "allow" or reason.category == PRESSURE
    )
    if level == "ok" and not masked_categories:
        return Verdict("ok", (), vocabulary.version)
    if level == "ok":
        # Only masked contact details: urgency beside them is an ordinary buyer's hurry.
        kept = tuple(r for r in kept if r.category != PRESSURE)
    masked = contacts.mask(body, findings, masked_categories) if masked_categories else None
    return Verdict(
        level,
        kept,
        vocabulary.version,
        masked_body=masked,
        held_categories=tuple(sorted(held, key=CATEGORIES.index)),
    )


# What a sender's name and address are judged to be, kept per sender and vocabulary: the
# same person sends many messages, and judging them again is a fifth of a message's check
# (the name's lookalike skeletons, ≈ 30 µs) — an e-mail's sending domain two thirds (its
# registrable part and edit distances, ≈ 170 µs). Bounded: cleared when full.
_SENDER_REASONS: dict[tuple[object, ...], tuple[Reason, ...]] = {}
_SENDER_REASONS_KEPT = 4096


def _sender_reasons(sender: Sender, vocabulary: Vocabulary) -> tuple[Reason, ...]:
    # Keyed by every list of the vocabulary the judgement reads, so an operator's change
    # of them is judged anew at once.
    key = (sender, vocabulary.operator_names, vocabulary.operator_domains, vocabulary.staff_titles)
    reasons = _SENDER_REASONS.get(key)
    if reasons is None:
        if len(_SENDER_REASONS) >= _SENDER_REASONS_KEPT:
            _SENDER_REASONS.clear()
        reasons = _SENDER_REASONS[key] = tuple(_judged_sender(sender, vocabulary))
    return reasons


def _judged_sender(sender: Sender, vocabulary: Vocabulary) -> list[Reason]:
    name = sender.display_name.strip()[:200]
    reasons = []
    if name:
        plain_name = plain(name)
        name_skeleton = skeleton(name)
        for operator_name in vocabulary.operator_names:
            operator_skeleton = skeleton(operator_name)
            if len(operator_skeleton) >= 4 and operator_skeleton in name_skeleton:
                lookalike = operator_name.casefold() not in name.casefold()
                reasons.append(
                    Reason(
                        IMPERSONATION,
                        "name_lookalike" if lookalike else "name_imitates_operator",
                        f'The sender calls itself "{name}", '
                        + (
                            f'written with lookalike letters to pass for "{operator_name}"'
                            if lookalike
                            else f'using the name "{operator_name}"'
                        )
                        + f", but it is a {_ROLE_WORDS[sender.role]}, not the marketplace.",
                    )
                )
                break
        title = _staff_title_pattern(vocabulary.staff_titles).search(plain_name)
        if title is not None:
            reasons.append(
                Reason(
                    IMPERSONATION,
                    "name_staff_title",
                    f'The sender\'s name contains "{title.group(0).strip()}", as if it were '
                    f"the marketplace's staff; it is a {_ROLE_WORDS[sender.role]}.",
                )
            )
        if any(character in _CHECK_MARKS for character in name) or re.search(
            r"\bverified\b", plain_name
        ):
            reasons.append(
                Reason(
                    IMPERSONATION,
                    "name_decoration",
                    "The sender's name is decorated with a check mark or badge to look "
                    "official; only the marketplace's own messages carry the Official badge.",
                )
            )
        if has_mixed_scripts(name):
            reasons.append(
                Reason(
                    IMPERSONATION,
                    "name_mixed_scripts",
                    "The sender's name mixes letters from different alphabets, a trick to "
                    "look like another name.",
                )
            )
    if sender.email and "@" in sender.email:
        domain = sender.email.rpartition("@")[2].strip(" >").lower()
        imitated = imitates_operator(domain, vocabulary) if domain else None
        if imitated is not None:
            reasons.append(
                Reason(
                    IMPERSONATION,
                    "sender_domain_lookalike",
                    f"The e-mail comes from {domain}, which imitates {imitated}.",
                )
            )
    return reasons


_ROLE_WORDS = {
    "buyer": "buyer",
    "seller": "seller",
    "unknown": "sender outside the marketplace",
    "agent": "agent",
    "admin": "admin",
    "marketplace": "marketplace",
}


@cache
def _staff_title_pattern(titles: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(sorted((re.escape(t) for t in titles), key=len, reverse=True))
    return re.compile(rf"(?<!\w)(?:{alternatives})(?!\w)")


@cache
def _operator_voice(operator_names: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(
        r"\s*".join(re.escape(part) for part in plain(name).split()) for name in operator_names
    )
    # The operator's name written with lookalike letters or spaces: "rnarket place".
    lookalike_names = "|".join(
        r"[\W_]{0,2}".join(_letter_class(letter) for letter in skeleton(name) if letter.isalnum())
        for name in operator_names
    )
    return re.compile(
        rf"(?:\b(?:{names}|{lookalike_names})\b['’]?s?\s*(?:official\s+)?"
        r"(?:support|security|account|accounts|customer service|customer care|help ?desk|"
        r"trust (?:and|&) safety|fraud|billing|verification|compliance|team|department|"
        r"staff|admin|notification|service)s?\b"
        rf"|\b(?:on behalf of|this is|we are|from)\s+(?:the\s+)?(?:{names}|{lookalike_names})"
        r"(?:\s+(?:team|staff|support))?\s*[.,!\n]"
        rf"|\bofficial\s+(?:{names}|{lookalike_names})\b)"
    )


def _letter_class(letter: str) -> str:
    lookalikes = {
        "m": "(?:m|rn|nn)",
        "w": "(?:w|vv)",
        "o": "[o0]",
        "l": "[li1|]",
        "e": "[e3]",
        "a": "[a4@]",
        "s": "[s5$]",
        "t": "[t7]",
        "d": "(?:d|cl)",
        "u": "(?:u|ii)",
    }
    return lookalikes.get(letter, re.escape(letter))


_ACCOUNT_THREAT = re.compile(
    r"\byour\s+(?:\w+\s+){0,2}account\s+(?:has\s+been|was|will\s+be|is|is\s+being|may\s+be|"
    r"might\s+be|could\s+be|has|got)\s+(?:\w+\s+)?(?:suspended|locked|limited|closed|disabled|"
    r"deactivated|terminated|restricted|blocked|on\s+hold|flagged|compromised|frozen|"
    r"banned|deleted|put\s+on\s+hold|under\s+review)"
    r"|\b(?:verify|confirm|validate|re-?activate|restore|unlock|secure|update)\s+your\s+"
    r"(?:\w+\s+){0,2}(?:account|identity|profile|login)\b"
    r"|\bunusual\s+(?:sign[- ]?in\s+|login\s+|log[- ]in\s+|account\s+)?activity"
    r"|\bsuspicious\s+(?:sign[- ]?in|login|log[- ]in|activity|access)"
    r"|\bunauthori[sz]ed\s+(?:access|login|sign[- ]?in|purchase|transaction|charge|activity)"
    r"|\bsecurity\s+(?:alert|notice|check|verification)\b"
    r"|\baccount\s+(?:verification|validation|suspension|review|limitation)\b"
    r"|\bupdate\s+your\s+(?:billing|payment)\s+(?:information|info|details|method)"
)
# What a scammer asks for: passwords, codes, card and bank details.
_SECRETS = (
    r"(?:password|passcode|passwd|pass\s+code|pass\s+word|login\s+(?:details|credentials|"
    r"info)|credentials|sign[- ]?in\s+details|(?:one[- ]time|verification|security|"
    r"confirmation|2fa|two[- ]factor|sms|otp|authentication|auth|access|login)\s+(?:code|pin)|"
    r"otp|your\s+pin|pin\s+(?:code|number)|card\s+(?:number|details|info|information|data)|"
    r"(?:credit|debit)\s+card|cvv2?|cvc|expir(?:y|ation)\s+date|bank\s+(?:details|account|"
    r"login|info|information|card)|account\s+number|routing\s+number|iban|sort\s+code|"
    r"social\s+security(?:\s+number)?|ssn|mother'?s\s+maiden\s+name|card\s+used)\b"
)
_SECRET = re.compile(rf"\b{_SECRETS}")
_CREDENTIALS = re.compile(
    r"\b(?:confirm|verify|send|enter|provide|share|give|update|tell|type|submit|re-?enter|"
    r"validate|need|require|requires|reply\s+with|read\s+me|forward|what\s+is|what's|"
    r"input|fill\s+in|login\s+with|sign\s+in\s+with)\b"
    rf"(?:\W+\w+){{0,6}}?\W+{_SECRETS}"
    r"|\bthe\s+code\s+(?:we|i|that\s+was)?\s*(?:just\s+)?sent\s+(?:you|to\s+your)"
    r"|\b(?:tell|send|give|read|forward|share|text)\s+(?:me|us)\s+(?:the|that|this|your)\s+"
    r"(?:\w+\s+)?code\b"
    # "we need the 6-digit code you just received": a code of so many digits asked for. Not
    # after "enter", "type" or "use": a parcel locker's or a door's code is entered there.
    r"|\b(?:need|needs|send|give|tell|share|forward|read|reply\s+with|text|provide|confirm|"
    r"verify)\b(?:\W+\w+){0,4}?\W+(?:\d|four|five|six|seven|eight)[- ]?digits?\s+"
    r"(?:code|pin|passcode)\b"
)
# Ways to pay that leave the marketplace, named in a message (plain(): lower case). PayPal,
# Wise and "eth" only in the stricter "pay … via" rule: they are also ordinary words or ways
# to pay at the checkout.
_PAYMENT_APPS = (
    r"(?:zelle|venmo|cash\s?app|western\s+union|moneygram|bitcoin|btc|crypto(?:currency)?|"
    r"usdt|tether|ethereum|litecoin|wire\s+transfer|bank\s+transfer)"
    # The Cash App card is a debit card, paid with at the checkout.
    r"(?!\s+(?:visa\s+)?(?:debit\s+)?card)"
)
# Brands whose cards are gift cards, also written without "gift": "an Amazon card",
# "iTunes cards".
_CARD_BRANDS = (
    r"(?:apple|itunes|google\s+play|amazon|steam|razer(?:\s+gold)?|ebay|walmart|target|"
    r"sephora|vanilla|xbox|playstation|psn|nintendo)"
)
# … and Visa's, whose card alone is as often the one paid with at the checkout.
_GIFT_CARD_BRANDS = rf"(?:{_CARD_BRANDS}|visa)"
# Gift cards as money: a brand's, several, or one of a price. A card that goes with a
# present ("with a gift card saying Happy Birthday", "a gift card slot") or one paid with at
# the checkout ("I paid with a gift card") is not.
_GIFT_CARDS = (
    rf"(?:{_GIFT_CARD_BRANDS}\s+(?:gift\s*cards?|cards)"
    r"|(?:itunes|steam|google\s+play|razer\s+gold)\s+card|gift\s*cards"
    r"|[$£€]\s?\d[\d,.]*\s+(?:\w+\s+)?gift\s*card)"
)
# A sum of money: "$50", "£ 20", "50$", "50 dollars", "20 euros".
_AMOUNT = r"(?:[$£€]\s?\d|\d[\d,.]*\s?(?:[$£€]|(?:dollars?|bucks|usd|pounds?|gbp|euros?|eur)\b))"
_PAYMENT = re.compile(
    r"\b(?:outside|off)\s+(?:of\s+)?(?:the\s+)?(?:marketplace|platform|site|app|website)"
    r"|\bfriends\s+(?:and|&)\s+family\b"
    r"|\bpay(?:ment)?\s+(?:me\s+|us\s+)?(?:directly\s+)?(?:via|through|with|by|using|on|over|"
    r"in)\s+(?:a\s+)?(?:zelle|venmo|cash\s?app|western\s+union|moneygram|wire|bank\s+transfer|"
    r"crypto|bitcoin|btc|usdt|ethereum|eth|paypal|revolut|wise|skrill|gift\s+cards?)\b"
    r"|\bpay\s+(?:me\s+|us\s+)?directly\b"
    r"|\bsend\s+(?:me\s+|us\s+)?(?:the\s+)?(?:money|payment|funds|amount|deposit)\s+"
    r"(?:via|through|by|to\s+my|on|with|using)\b"
    r"|\b(?:western\s+union|moneygram)\b"
    # Money moved a way that leaves the marketplace: "send the $12 return fee by Zelle", "pay
    # the balance in bitcoin", "refund you by bank transfer".
    r"|\b(?:pay|send|transfer|wire|settle|cover|deposit|refund\s+(?:you|me|us))\b"
    r"(?:\W+\w+){0,6}?\W+(?:via|through|thru|with|by|using|on|over|in|into)\s+"
    rf"(?:an?\s+|my\s+|your\s+)?{_PAYMENT_APPS}\b"
    # The app as a verb ("Zelle me $12", "I'll Venmo you"), someone's account on it ("my
    # Zelle is my number"; "my cashapp is $name" is a payment handle, contacts.py), the app
    # as the way to pay ("I only take Cash App", "Zelle only").
    r"|\b(?:zelle|venmo|cash\s?app)\s+(?:me|us|you|him|her|them|it|the|that|this|those|these|"
    r"my|your|[$£€]|\d)"
    # (The group inside: one opening an alternative hides the pattern's first letters from
    # the regex engine, which then tries every position of a message — 40 times slower.)
    r"|\bmy\s+(?P<account>zelle|venmo|cash\s?app)\b(?!\s+(?:visa\s+)?(?:debit\s+)?card|"
    r"[\s:=-]*(?:is\s+)?[@$])"
    rf"|\b(?:accept|accepts|take|takes|prefer|prefers|only)\s+(?:\w+\s+){{0,2}}?{_PAYMENT_APPS}\b"
    r"|\b(?:zelle|venmo|cash\s?app|bitcoin|btc|crypto|usdt)\s+only\b"
    # An account or wallet of the writer's: "wire the fee to my bank account", "wire me".
    r"|\bwire\s+(?:me|us)\b"
    r"|\bwire\s+(?:the\s+)?(?:money|payment|funds|amount|deposit|balance|[$£€]\s?\d)"
    r"|\b(?:wire|transfer|send|pay|deposit)\b(?:\W+\w+){0,6}?\W+(?:to|into)\s+(?:my|our)\s+"
    r"(?:own\s+|personal\s+|private\s+|business\s+)?(?:(?:bank|checking|savings)\s+account|"
    r"iban|(?:zelle|venmo|cash\s?app|paypal|revolut|wise)\b|"
    r"(?:crypto\s+|bitcoin\s+|btc\s+|usdt\s+|eth\s+)?wallet)\b"
    # "Send the invoice to my bank" is ordinary; wiring money to it is not.
    r"|\bwire\b(?:\W+\w+){0,6}?\W+(?:to|into)\s+(?:my|our)\s+(?:own\s+|personal\s+)?"
    r"(?:bank|account)\b"
    # Gift cards bought, sent or paid with.
    r"|\b(?:buy|purchase|get\s+(?:me|us)|send|pay)\b"
    rf"(?:\W+\w+){{0,6}}?\W+{_GIFT_CARDS}"
    # One gift card of no brand: paid with to the writer, sent to them, or scratched open
    # ("send me a photo of the gift card slot" is not).
    r"|\bpay\s+(?:me|us)\b(?:\W+\w+){0,4}?\W+gift\s*cards?"
    # … bought for the writer with its price after it: "get me a gift card for $50", "buy us
    # one gift card worth £20" (with the price before it, "a $50 gift card", _GIFT_CARDS').
    r"|\b(?:get|buy|purchase)\s+(?:me|us)\b(?:\W+\w+){0,4}?\W+gift\s*cards?\s+"
    r"(?:for|worth|of|with|valued\s+at|loaded\s+with)\s+(?:about\s+|around\s+|at\s+least\s+)?"
    rf"{_AMOUNT}"
    r"|\b(?:send\s+(?:me|us)|in\s+the\s+form\s+of)\s+(?:\w+\s+)?gift\s*cards?"
    # One card of a brand bought for the writer ("buy me an Amazon card": a card of a brand
    # alone may be a store's credit card, "I paid with my Amazon card"), and its code asked
    # for after it ("iTunes cards are fine, send me the codes", "… and send the claim code";
    # detector version 6).
    r"|\b(?:get|buy|purchase|send)\s+(?:me|us)\b(?:\W+\w+){0,3}?\W+"
    rf"{_CARD_BRANDS}\s+(?:gift\s*)?cards?\b"
    rf"|\b{_CARD_BRANDS}\s+(?:gift\s*)?cards?\b(?:\W+\w+){{0,8}}?\W+"
    r"(?:send|text|give|tell|read|share|e-?mail|forward)\s+(?:(?:me|us|you)\s+)?"
    r"(?:the|its|their)\s+(?:(?:claim|redemption|card|gift\s+card|pin)\s+)?(?:codes?|pins?)\b"
    # One gift card of no brand sent (or got for the writer) as the price of shipping: "Send
    # a gift card and I'll ship today" ("send a gift card with it" goes with a present).
    r"|\b(?:send|get\s+(?:me|us))\s+(?:a|an|one)\s+(?:\w+\s+)?gift\s*card\b(?:\W+\w+)?\W+"
    r"(?:and|then|&)\s+(?:i|we)(?:['’]ll|\s+will|\s+can)\s+"
    r"(?:ship|send|post|mail|dispatch|release|hold|reserve)\b"
    r"|\bscratch\b(?:\W+\w+){0,6}?\W+gift\s*cards?"
    r"|\bgift\s*card\s+(?:codes?|numbers?|pins?)\b"
    r"|\b(?:avoid|save|skip|without|no|dodge)\s+(?:the\s+|paying\s+)?(?:marketplace\s+|"
    r"platform\s+|site\s+|app\s+)?(?:fees?|commission)\b"
    # The sale moved out: "cancel the order and pay me", "… and I'll refund you directly".
    r"|\bcancel\s+(?:the|your)\s+order\s+and\s+(?:pay|buy|send|order\s+(?:it\s+|them\s+)?"
    r"(?:directly|from\s+(?:me|us|my|our)|on\s+(?:my|our)|through\s+(?:me|us|my|our)))"
    r"|\bcancel\s+(?:the|your|this|my)\s+(?:order|purchase)\b(?:\W+\w+){0,6}?\W+"
    r"(?:refund|pay|sell|send|give|transfer|wire)\w*\b(?:\W+\w+){0,5}?\W+"
    r"(?:directly|direct|privately|personally|myself|ourselves|outside|in\s+cash|cheaper|"
    r"off\s+(?:the\s+)?(?:site|app|platform|marketplace))\b"
)
# Right before a payment phrase, a warning not to ("don't pay me directly", "never send
# money via Zelle", "I no longer take Venmo"). Checked on the few characters before a
# match, not in the pattern: a look-behind at the start of its alternatives made every
# search eight times slower.
_NEGATED = re.compile(r"(?:\bnot|n['’]t|\bnever|\bno\s+longer)\s+$")
_PRESSURE = re.compile(
    r"\burgent(?:ly)?\b|\bimmediately\b|\bwithin\s+\d+\s+(?:hours?|hrs?|minutes?|mins?|days?)"
    r"|\bfinal\s+(?:notice|warning|reminder)|\blast\s+(?:chance|warning)|\bact\s+now\b"
    r"|\blegal\s+action\b|\bpermanently\s+(?:closed|deleted|suspended|banned|locked)"
    r"|\bfailure\s+to\b|\bor\s+(?:else|your\s+account)\b|\bright\s+away\b"
)
_SIGN_OFF_TITLES = re.compile(
    r"(?m)^\s*(?:the\s+)?(?:security\s+(?:department|team)|account\s+team|accounts\s+team|"
    r"fraud\s+(?:department|prevention|team)|trust\s+(?:and|&)\s+safety(?:\s+team)?|"
    r"verification\s+(?:team|department)|billing\s+department|compliance\s+team)\s*$"
)


# The words of the payment and secrets rules, which a respelling would hide from them: "Z e l
# l e me the $12", "Pay via Z.e.l.l.e", "g1ft card", "C@sh App", "W i r e the fee", "p4ssw0rd".
_RESPELLINGS = Respellings(
    (
        "zelle",
        "venmo",
        "cash app",
        "cash",
        "paypal",
        "revolut",
        "skrill",
        "western union",
        "moneygram",
        "bitcoin",
        "btc",
        "crypto",
        "usdt",
        "tether",
        "ethereum",
        "litecoin",
        "wire",
        "transfer",
        "bank",
        "gift card",
        "gift cards",
        "gift",
        "card",
        "cards",
        "pay",
        "payment",
        "send",
        "money",
        "funds",
        "iban",
        "wallet",
        "directly",
        "refund",
        "friends",
        "family",
        "password",
        "passcode",
        "code",
        "pin",
        "otp",
        "cvv",
        "cvc",
        "login",
        "credentials",
        "account",
        "number",
        "details",
        "enter",
        "confirm",
        "verify",
    )
)


def _read(text: str) -> str:
    """The text as the phrase rules read it: plain letters (lower case, lookalikes of
    other alphabets folded), and their words written back where a respelling hid them."""
    return _RESPELLINGS.respelled(plain(text))


def _phrase_reasons(
    text: str, vocabulary: Vocabulary, secret_beside_link: str | None
) -> list[Reason]:
    reasons = []
    voice = _operator_voice(vocabulary.operator_names).search(text)
    if voice is not None:
        reasons.append(
            Reason(
                IMPERSONATION,
                "writes_as_operator",
                f'It speaks in the marketplace\'s name ("{_quote(voice.group(0))}"), but it '
                "is not from the marketplace.",
            )
        )
    elif (title := _SIGN_OFF_TITLES.search(text)) is not None:
        reasons.append(
            Reason(
                IMPERSONATION,
                "signs_as_staff",
                f'It is signed "{_quote(title.group(0))}", as if from the marketplace\'s '
                "staff, but it is not from the marketplace.",
            )
        )
    threat = _ACCOUNT_THREAT.search(text)
    if threat is not None:
        reasons.append(
            Reason(
                IMPERSONATION,
                "account_threat",
                f'It talks about your account ("{_quote(threat.group(0))}"). Only the '
                "marketplace manages your account, and never through a seller's or buyer's "
                "message.",
            )
        )
    credentials = _CREDENTIALS.search(text)
    asked = _quote(credentials.group(0)) if credentials is not None else secret_beside_link
    if asked is not None:
        reasons.append(
            Reason(
                CREDENTIALS,
                "asks_for_secrets",
                f'It asks for a password, a code or card or bank details ("{asked}"). Never '
                "share these in a message: the marketplace never asks for them.",
            )
        )
    payment = _asks_to_pay_outside(text, vocabulary)
    if payment is not None:
        reasons.append(
            Reason(
                PAYMENT,
                "asks_to_pay_outside",
                f'It asks for payment outside the marketplace ("{_quote(payment)}"). '
                "Money sent that way is not covered by our guarantee.",
            )
        )
    pressure = _PRESSURE.search(text)
    if pressure is not None:
        reasons.append(
            Reason(
                PRESSURE,
                "pressure",
                f'It pressures you to act fast ("{_quote(pressure.group(0))}"), a common '
                "trick to stop you from checking.",
            )
        )
    return reasons


# Where a sentence ends: a full stop, question or exclamation mark before a space, or an
# empty line. A link's own dots ("evil.example/a.html") are not followed by a space.
_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n\s*\n")
# How far from a link a secret is looked for, in a sentence without an end.
_AROUND_A_LINK = 200


def _secret_beside_link(body: str, links: list[Link], vocabulary: Vocabulary) -> str | None:
    """A password, code, card or bank details named in the sentence of a link that is not
    the marketplace's or a trusted site's: "Your password is needed at <link>", "Card
    number confirmation: <link>", "Enter at <link> your password". The link is where the
    reader is asked to give it, whatever the verb — or none: _CREDENTIALS wants one of its
    verbs a few words before the secret, and the pieces of a link between them count as
    words. What "asks_for_secrets" quotes, or None.

    Each such sentence is read once, without the addresses of its links (their own words,
    "…/reset-password", are not the writer's request)."""
    written = sorted((link for link in links if link.start >= 0), key=lambda link: link.start)
    leaving = [
        link
        for link in written
        if not is_operator_link(link, vocabulary)
        and not matches_host_list(link, vocabulary.trusted_domains)
    ]
    if not leaving:
        return None
    ends = [end.end() for end in _SENTENCE_END.finditer(body)]
    sentences: dict[int, list[Link]] = {}
    for link in leaving:
        sentences.setdefault(bisect.bisect_right(ends, link.start), []).append(link)
    starts = [link.start for link in written]
    for sentence, its_links in sentences.items():
        start = max(ends[sentence - 1] if sentence else 0, its_links[0].start - _AROUND_A_LINK)
        end = min(
            ends[sentence] if sentence < len(ends) else len(body),
            its_links[-1].end + _AROUND_A_LINK,
        )
        words = []
        position = start
        for link in written[bisect.bisect_left(starts, start) : bisect.bisect_left(starts, end)]:
            if link.start >= position:
                words.append(body[position : link.start])
                position = min(link.end, end)
        words.append(body[position:end])
        secret = _SECRET.search(_read(" ".join(words)))
        if secret is not None:
            return f"{_quote(secret.group(0))}, with a link to {its_links[0].ascii_host}"
    return None


def _asks_to_pay_outside(text: str, vocabulary: Vocabulary) -> str | None:
    """What a request to pay outside the marketplace says, to quote, or None: the first
    payment phrase that is not a warning against paying so, a buyer buying a shop's gift
    card, nor good advice (an app named, but the marketplace asked to be paid on); else
    paying on the marketplace refused beside an app ("Please don't pay on the marketplace.
    Venmo is quickest.")."""
    around: _Around | None = None
    position = 0
    while (payment := _PAYMENT.search(text, position)) is not None:
        position = payment.end()
        if _NEGATED.search(text, max(0, payment.start() - 12), payment.start()) is not None:
            continue
        if _writer_buys(text, payment):
            # The card itself may still be paid with: "I'll buy an Apple gift card and send
            # you the code".
            position = payment.start() + 1
            continue
        if _names_or_refuses_an_app(text, payment):
            around = around or _Around(text, vocabulary)
            if around.asks_to_pay_on_the_marketplace(payment):
                continue
        return payment.group(0)
    if _APP_NAMED.search(text) is None:
        return None
    return (around or _Around(text, vocabulary)).marketplace_refused_beside_an_app()


# Who buys the gift card a payment phrase names: the writer ("I'd like to buy a $50 gift card
# from your shop", "can I buy two gift cards?") is a buyer asking a shop, not someone asking
# to be paid with one. Read on the few words before a phrase that starts with buy or
# purchase; "buy me …", "you buy …" or "buy" alone stay requests.
_WRITER_BUYING = re.compile(
    r"(?:\b(?:i|we)(?:['’](?:d|ll|m|re|ve)|\s+(?:would|will|want|wanted|wish|need|am|was|"
    r"can|could|may|might|plan|hope|shall))?(?:\s+(?:like|love|want|need|wish|plan|hope|"
    r"going|trying|looking|about))?(?:\s+to)?|\b(?:can|could|may|might|shall|should)\s+"
    r"(?:i|we))\s+$"
)
_BOUGHT_BY_THE_WRITER = re.compile(r"(?:buy|purchase)\b(?!\s+(?:me|us)\b)")


def _writer_buys(text: str, payment: re.Match[str]) -> bool:
    return (
        _BOUGHT_BY_THE_WRITER.match(payment.group(0)) is not None
        and _WRITER_BUYING.search(text, max(0, payment.start() - 30), payment.start()) is not None
    )


def _names_or_refuses_an_app(text: str, payment: re.Match[str]) -> bool:
    """Whether a phrase only names the writer's account on an app ("my Zelle") or refuses
    the app ("not by Zelle", "my Venmo is not for orders"): good advice when the marketplace
    is asked to be paid on beside it."""
    return payment.group("account") is not None or _app_refused(text, payment)


def _app_refused(text: str, payment: re.Match[str]) -> bool:
    return _APP_REFUSED.search(payment.group(0)) is not None or (
        payment.group("account") is not None
        and _ACCOUNT_REFUSED.match(text, payment.end()) is not None
    )


# An app refused inside a payment phrase: "pay on the marketplace, not by Zelle", "pay at
# checkout rather than with Cash App".
_APP_REFUSED = re.compile(
    r"(?:\bnot|n['’]t|\bnever|\binstead\s+of|\brather\s+than)\s+(?:(?:via|through|thru|with|by|"
    rf"using|on|over|in)\s+)?(?:an?\s+|my\s+)?{_PAYMENT_APPS}\b"
)
# The writer's account on an app refused right after it: "My Venmo is not for orders", "my
# Zelle isn't used for sales".
_ACCOUNT_REFUSED = re.compile(
    r"\s+(?:is\s+(?:not|never|no\s+longer)|isn['’]t)\s+(?:used\s+|meant\s+|open\s+)?for\b"
)
# Two ways to pay offered, where one is the marketplace: "Zelle me or pay on the
# marketplace", "… pay at checkout if you prefer".
_ALTERNATIVE = re.compile(
    r"\b(?:or|either|otherwise|whichever|else)\b|\bup\s+to\s+you\b"
    r"|\bif\s+you\s+(?:prefer|want|like|must|insist|['’]d\s+rather|would\s+rather)\b"
)
# Right before "pay on the marketplace", or before its "on the marketplace": that paying
# there is not what is asked ("not on the marketplace", "cheaper than paying on the site",
# "no need to pay at checkout", "pay me there, not on the marketplace").
_MARKETPLACE_REFUSED = re.compile(
    r"(?:\bnot|n['’]t|\bnever|\binstead\s+of|\brather\s+than|\bthan|\bwithout|\bno\s+need\s+to|"
    r"\bskip|\bavoid|\bbypass|\bstop)\s+(?:(?:want|need|have|going|got|wish|like)\s+to\s+|"
    r"(?:\w+\s+)?)$"
)
# Where a sentence ends, for the payment rule: also a line's end (a message's lines are
# seldom one sentence).
_PAYMENT_SENTENCE_END = re.compile(r"[.!?](?:\s|$)|\n")


@cache
def _on_the_marketplace(operator_names: tuple[str, ...]) -> re.Pattern[str]:
    """Asking to pay on the marketplace: "pay on the marketplace", "just pay at checkout",
    "buy it through the site", "order it on Marketplace". The site or the app with "the",
    "this" or "our": "pay on site" is paying in person."""
    names = "|".join(
        r"\s*".join(re.escape(part) for part in plain(name).split()) for name in operator_names
    )
    return re.compile(
        r"\b(?:pay|paying|buy|buying|order|ordering|purchase|purchasing|check\s*out|checking\s+out)"
        r"\b(?:\W+\w+){0,3}?\W+(?P<where>(?:on|through|thru|via|at|in|using)\s+(?:(?:the\s+)?"
        rf"(?:{names}|marketplace|checkout)|(?:the|this|our)\s+(?:platform|site|website|app)))\b"
    )


class _Around:
    """What the payment rule reads around its phrases, found once per message: where its
    sentences end, the requests to pay on the marketplace (each inside its sentence), those
    refused, and the words that offer a second way. A phrase then looks them up by
    bisection, so a message costs time in proportion to its length however many phrases it
    has: searching the sentences around each phrase again took 270 ms on 10,000 characters
    of "my zelle, pay on the marketplace" (tests/safety/test_detector.py holds it linear)."""

    def __init__(self, text: str, vocabulary: Vocabulary) -> None:
        self.text = text
        self.ends = [end.end() for end in _PAYMENT_SENTENCE_END.finditer(text)]
        # Where each request to pay on the marketplace starts that asks it ("just pay at
        # checkout"), and the refused ones: (where the refusal starts, where it ends) — "don't
        # pay on the marketplace", "cheaper than paying on the site".
        self.asked: list[int] = []
        self.refused: list[tuple[int, int]] = []
        pattern = _on_the_marketplace(vocabulary.operator_names)
        start = 0
        for end in (*self.ends, len(text)):
            for asked in pattern.finditer(text, start, end):
                refusal = _MARKETPLACE_REFUSED.search(
                    text, max(start, asked.start() - 30), asked.start()
                )
                if refusal is not None:
                    self.refused.append((refusal.start(), asked.end()))
                # Refused between the verb and the place ("pay me there, not on the
                # marketplace": the "not" is inside the match), or an app is the way.
                elif (
                    _MARKETPLACE_REFUSED.search(text, asked.start(), asked.start("where")) is None
                    and re.search(_PAYMENT_APPS, asked.group(0)) is None
                ):
                    self.asked.append(asked.start())
            start = end
        self.alternatives = [alternative.start() for alternative in _ALTERNATIVE.finditer(text)]

    def _sentence(self, position: int) -> int:
        return bisect.bisect_right(self.ends, position)

    def _sentence_start(self, position: int) -> int:
        sentence = self._sentence(position)
        return self.ends[sentence - 1] if sentence else 0

    def _span(self, first: int, last: int) -> tuple[int, int]:
        """Where sentences first to last (by number, clipped to the text's) start and end."""
        start = self.ends[first - 1] if first > 0 else 0
        end = self.ends[last] if last < len(self.ends) else len(self.text)
        return start, end

    def asks_to_pay_on_the_marketplace(self, payment: re.Match[str]) -> bool:
        """Good advice that names an app: "My Zelle is broken, so please just pay on the
        marketplace", "Pay on the marketplace, not by Zelle". True when the phrase (which
        names the writer's account on an app or refuses the app) has, in its sentence or
        the next — for an app refused, also the one before —, a request to pay on the
        marketplace, not as one way of two and not refusing it: "pay me on Zelle, not on
        the marketplace", "pay me there, not on the marketplace", "Zelle me $12 and pay the
        rest on the marketplace", "my Zelle is quicker, or pay on the marketplace" stay
        requests to pay outside."""
        sentence = self._sentence(payment.start())
        # An app refused may follow the request to pay on the marketplace ("Please pay on the
        # marketplace only. My Venmo is not for orders."); an app only named may not ("Pay on
        # the marketplace. My Venmo works too.").
        first = sentence - 1 if _app_refused(self.text, payment) else sentence
        start, end = self._span(first, sentence + 1)
        if _any_in(self.alternatives, start, end):
            return False
        return _any_in(self.asked, start, end)

    def marketplace_refused_beside_an_app(self) -> str | None:
        """Paying on the marketplace refused, and an app named in that sentence or the next
        as the way instead: "Please don't pay on the marketplace. Venmo is quickest.", "No
        need to pay through the site, Zelle works". What to quote, or None. An app refused
        itself ("Don't pay on the marketplace until it ships. Never use Zelle.") is no way
        instead."""
        if not self.refused:
            return None
        offered = [
            app
            for app in _APP_NAMED.finditer(self.text)
            if not _app_declined(self.text, app, self._sentence_start(app.start()))
        ]
        starts = [app.start() for app in offered]
        for refusal_start, asked_end in self.refused:
            sentence = self._sentence(refusal_start)
            start, end = self._span(sentence, sentence + 1)
            index = bisect.bisect_left(starts, start)
            if index < len(starts) and starts[index] < end:
                app = offered[index]
                # From the start of the refusal's word: "don't", not "n't".
                start = min(refusal_start, app.start())
                while start > 0 and self.text[start - 1].isalnum():
                    start -= 1
                return self.text[start : max(asked_end, app.end())]
        return None


def _any_in(positions: list[int], start: int, end: int) -> bool:
    index = bisect.bisect_left(positions, start)
    return index < len(positions) and positions[index] < end


# A payment app named anywhere (the rule that reads it beside paying on the marketplace
# refused runs only then: most messages name none).
_APP_NAMED = re.compile(rf"\b{_PAYMENT_APPS}\b")
# An app named to refuse it: a refusal a few words before it ("never use Zelle", "not by
# Venmo", "no Cash App"), or right after it ("Venmo is not accepted", "Zelle isn't for
# sales").
_APP_DECLINED_BEFORE = re.compile(
    r"(?:\bnot|n['’]t|\bnever|\bno|\bno\s+longer|\binstead\s+of|\brather\s+than|\bthan|"
    r"\bwithout)\b(?:\W+\w+){0,3}?\W+$"
)
_APP_DECLINED_AFTER = re.compile(
    r"\s+(?:is|are|was)\s+(?:not|never|no\s+longer)\b|\s+(?:isn|aren|wasn|won)['’]t\b"
)


def _app_declined(text: str, app: re.Match[str], sentence_start: int) -> bool:
    return (
        _APP_DECLINED_BEFORE.search(text, max(sentence_start, app.start() - 40), app.start())
        is not None
        or _APP_DECLINED_AFTER.match(text, app.end()) is not None
    )


def _quote(text: str) -> str:
    words = " ".join(text.split())
    return words if len(words) <= 60 else words[:57] + "…"
