"""Contact details that take a conversation off the marketplace: e-mail addresses, phone
numbers, messenger handles and payment links — also written to slip past a filter ("john at
gmail dot com", "four one five …", "j o h n @ g m a i l"). Each finding has the span of
the original text it covers, so it can be masked (docs/safety.md#contact-details).
"""

import bisect
import itertools
import re
import string
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

import phonenumbers

from messagecenter.safety.links import Link, matches_host_list
from messagecenter.safety.text import Respellings
from messagecenter.safety.vocabulary import (
    CONTACT_EMAIL,
    CONTACT_MESSENGER,
    CONTACT_PAYMENT_LINK,
    CONTACT_PHONE,
    Vocabulary,
)


@dataclass(frozen=True)
class ContactFinding:
    category: str
    start: int
    end: int


_TLDS = (
    r"com|net|org|co|uk|us|ca|de|fr|es|it|nl|be|ch|at|se|no|dk|fi|pl|ru|au|nz|in|jp|cn|br|"
    r"mx|io|me|info|biz|edu|gov|email|online|shop|store|xyz|ie|pt|gr|cz|hu|ro|tr|za"
)
_AT = r"(?:\s*[\[({<]\s*(?:at|@)\s*[\])}>]\s*|\s+at\s+|\s*@\s*|\s*＠\s*|\s+at-sign\s+|_at_)"
# A full-width or ideographic full stop too, as a full-width at is taken ("name＠gmail．com"
# lost only "name＠gmail" to the mask, and kept "．com").
_DOT = r"(?:\s*[\[({<]\s*(?:dot|[.．。])\s*[\])}>]\s*|\s+dot\s+|\s*[.．。]\s*|_dot_)"
_EMAIL = re.compile(
    rf"(?i)(?<![\w.+-])[a-z0-9][\w.+-]{{0,63}}{_AT}[a-z0-9][\w-]{{0,62}}"
    rf"(?:{_DOT}[a-z0-9][\w-]{{0,62}})*{_DOT}(?:{_TLDS})\b"
)
_PLAIN_EMAIL = re.compile(r"(?i)[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
# The start of a name with dots spelled out, right before an address _EMAIL found from the
# last of its parts ("john dot smith at …" found as "smith at …"): up to three. Looked for
# only before a found address — in _EMAIL, every word of every message paid for it — and
# not with a bare ".", which would take in the sentence before ("Thanks. john at …").
_SPELLED_DOT_NAME = re.compile(
    r"(?i)(?<![\w.+-])(?:[a-z0-9][\w.+-]{0,63}(?:\s*[\[({<]\s*dot\s*[\])}>]\s*|\s+dot\s+)){1,3}$"
)


@cache
def _provider_email(providers: tuple[str, ...]) -> re.Pattern[str]:
    names = "|".join(re.escape(p) for p in providers if len(p) > 3)
    return re.compile(
        rf"(?i)(?<![\w.+-])[a-z0-9][\w.+-]{{1,63}}{_AT}(?:{names})\b"
        # "my gmail is john.smith88", "yahoo: jsmith"
        rf"|\b(?:{names}|e-?mail)(?:\s+(?:address|account|id))?\s*(?:is|:|-|=)\s*"
        rf"(?=[\w.+-]*[\d._])[a-z][\w.+-]{{2,63}}"
    )


_DIGIT_WORDS = (
    r"zero|oh|one|two|three|four|five|six|seven|eight|nine|"
    r"uno|dos|tres|cuatro|cinco|seis|siete|ocho|nueve|cero"
)
# Seven or more digits, each spelled out or standing alone ("4 1 5 five five …"), apart by
# what text.Respellings reads letters apart by too ("4_1_5", "4*1*5", "4·1·5").
_SPELLED_NUMBER = re.compile(
    rf"(?i)(?<![\w-])(?:(?:\d|{_DIGIT_WORDS})(?:\s*[-.,/_*·]?\s*|\s+)){{6,}}(?:\d|{_DIGIT_WORDS})\b"
)
# Digits and spelled digits glued together inside groups ("4one5 - 8six7 - 53oh9"): a group
# is a run of digits and digit words, groups are split by a dash, dot, comma, slash or space.
_GLUED_HINT = re.compile(rf"(?i)\d(?:{_DIGIT_WORDS})|(?:{_DIGIT_WORDS})\d")
# A digit beside a letter a digit word starts or ends with: a cheap scan before the hint's
# alternation of words at every position (a fifth of a check's time without it).
_GLUED_QUICK = re.compile(r"(?i)\d[zotfsenudc]|[ohernxts]\d")
_GLUED_GROUP = rf"(?:\d|{_DIGIT_WORDS})+"
_GLUED_NUMBER = re.compile(
    rf"(?i)(?<![a-z0-9-]){_GLUED_GROUP}(?:(?:\s*[-.,/]\s*|\s+){_GLUED_GROUP})+(?![a-z0-9])"
)
_DIGIT_OR_WORD = re.compile(rf"(?i)\d|{_DIGIT_WORDS}")
_SEVEN_DIGITS = re.compile(r"(?:\d\D*){7}")
_SPELLED_DIGIT = re.compile(rf"(?i)\b(?:{_DIGIT_WORDS})\b")
# A long number with phone-ish words before it ("call me on 4155550123").
_PHONE_WORD_LIST = (
    r"call|text|phone|mobile|cell|tel|telephone|whatsapp|sms|ring|reach me|"
    r"contact me|my number|number is|dial"
)
_PHONE_WORDS = re.compile(rf"(?i)\b(?:{_PHONE_WORD_LIST})\b")
_NOT_PHONE_WORDS = re.compile(
    r"(?i)(?:order|tracking|track|tracknum|shipment|parcel|package|invoice|ref|reference|item|"
    r"sku|model|serial|zip|postcode|postal|return|case|claim|receipt|transaction|iban|"
    r"account|isbn|upc|ean|asin|awb|lot|batch|ups|usps|fedex|dhl|carrier|label|rma|#|no\.)"
    r"(?:[\s#:.=,(-]+(?:number|no|num|id|code|is|was|of|the)?)*[\s#:.=,(-]*$"
)
_LONG_DIGITS = re.compile(r"(?<![\w-])\+?\d(?:[\s().-]{0,2}\d){9,13}(?![\w-])")


# How people write some messengers' names apart from the vocabulary's spelling: "whats app",
# "what's app", "whatsap", "tele gram".
_SPELLINGS = {"whatsapp": r"wh?at['’]?s[\s.-]?app?", "telegram": r"tele[\s.-]?gram"}


def _spelling(messenger: str) -> str:
    return _SPELLINGS.get(messenger, re.escape(messenger))


@cache
def _messenger_patterns(
    messengers: tuple[str, ...],
) -> tuple[re.Pattern[str], re.Pattern[str]]:
    names = "|".join(sorted((_spelling(m) for m in messengers), key=len, reverse=True))
    # A messenger's name followed by a handle or a number: "Telegram: @john_k", "wa 415…".
    handle = re.compile(
        rf"(?i)\b(?:{names})\b[\s:=-]{{0,4}}(?:(?:me|id|is|at|on|handle|username|user|name|"
        rf"number|no|@)[\s:.=-]*){{0,3}}(?:@[\w.]{{2,32}}|\+?\d[\d\s().-]{{6,18}}\d|"
        rf"(?=[\w.]*[\d_.])[a-z][\w.]{{3,31}})"
    )
    # "add me on WhatsApp", "let's continue on Telegram": only names that are not words.
    unambiguous = "|".join(
        _spelling(m)
        for m in messengers
        if m in {"whatsapp", "telegram", "wechat", "viber", "skype", "kik", "threema", "wickr"}
    )
    invitation = re.compile(
        rf"(?i)\b(?:on|via|over|through|thru|to|in|using|at|my)\s+(?:{unambiguous})\b"
        rf"|\b(?:add|message|text|contact|reach|find|ping|dm|msg|hit|call)\s+me\s+(?:up\s+)?"
        rf"(?:on|via|at|over|through|in)\s+(?:{names})\b"
    )
    return handle, invitation


_PAYMENT_HANDLE = re.compile(
    r"(?i)\b(?:venmo|cash\s?app|cashapp|paypal|zelle|revolut|wise|monzo|skrill)\b"
    r"[\s:=-]{0,4}(?:(?:me|is|at|to|handle|username|user|id|@)[\s:=-]*){0,3}"
    r"(?:@[\w.-]{2,32}|\$[a-z][\w-]{2,19})"
)
_CASHTAG = re.compile(r"(?<![\w$])\$(?=[\w-]*[a-z])[A-Za-z][\w-]{2,19}\b")


def find_contacts(
    body: str,
    links: list[Link],
    vocabulary: Vocabulary,
    respelled: list[tuple[int, int, str]] | None = None,
) -> list[ContactFinding]:
    """The contact details in `body`; `respelled` is respelled_words(body, vocabulary) when
    the caller has it already."""
    found: list[ContactFinding] = []
    for link in links:
        if link.start < 0:
            continue
        if matches_host_list(link, vocabulary.payment_link_hosts):
            found.append(ContactFinding(CONTACT_PAYMENT_LINK, link.start, link.end))
        elif matches_host_list(link, vocabulary.messenger_link_hosts):
            found.append(ContactFinding(CONTACT_MESSENGER, link.start, link.end))
    for pattern in (_PAYMENT_HANDLE, _CASHTAG):
        for match in pattern.finditer(body):
            found.append(ContactFinding(CONTACT_PAYMENT_LINK, match.start(), match.end()))
    contact_links = [(finding.start, finding.end) for finding in found]
    found.extend(_emails(body, vocabulary, contact_links))
    handle, invitation = _messenger_patterns(vocabulary.messengers)
    for pattern in (handle, invitation):
        for match in pattern.finditer(body):
            found.append(ContactFinding(CONTACT_MESSENGER, match.start(), match.end()))
    found.extend(_phones(body, vocabulary.phone_region))
    found.extend(_spaced_out(body, vocabulary))
    if respelled is None:
        respelled = respelled_words(body, vocabulary)
    found.extend(_respelled(body, vocabulary, contact_links, respelled))
    return _without_overlaps(found)


def _emails(
    text: str, vocabulary: Vocabulary, contact_links: list[tuple[int, int]]
) -> list[ContactFinding]:
    found = []
    for pattern in (_EMAIL, _provider_email(vocabulary.email_providers)):
        position = 0
        while (found_match := pattern.search(text, position)) is not None:
            match = found_match
            overlaps = any(
                start < match.end() and match.start() < end for start, end in contact_links
            )
            start = match.start()
            if pattern is _EMAIL and not overlaps:
                dotted = _SPELLED_DOT_NAME.search(text, max(0, start - 250), start)
                start = dotted.start() if dotted is not None else start
            # "reach me at t.me/john" is a messenger link, not an address "me@t.me"; when
            # "me at tom_at_…" is no address, "tom_at_…" may still be one. A name with a
            # spelled dot is a mailbox's.
            if overlaps or (
                pattern is _EMAIL
                and start == match.start()
                and not _is_address_like(match.group(0), vocabulary)
            ):
                position = match.start() + 1
                continue
            found.append(ContactFinding(CONTACT_EMAIL, start, match.end()))
            position = match.end()
    return found


@cache
def _respellings(providers: tuple[str, ...]) -> Respellings:
    """The words of e-mail addresses and phone numbers a respelling hides from the patterns
    above: spelled digits ("f1ve", "F I V E"), "dot" ("d0t"), top-level domains ("c o m",
    "c0m") and mail providers ("gma1l", "g m a i l"). "at" is too short to be told apart."""
    words = (*_DIGIT_WORDS.split("|"), "dot", *_TLDS.split("|"), *providers)
    return Respellings(tuple(word for word in dict.fromkeys(words) if len(word) >= 3))


_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def respelled_words(body: str, vocabulary: Vocabulary) -> list[tuple[int, int, str]]:
    """Where `body` spells a word of e-mail addresses, phone numbers and sites only a
    respelling hides ("f1ve", "gma1l", "d0t", "c o m", "O123"): (start, end, word) in the
    body itself, in order. Read once per message, for the contact details (_respelled) and
    the spelled-out sites (links.spelled_out_links)."""
    # Lower case letter for letter, so that positions stay those of the body (lower() can
    # change the length of other alphabets' text; translate() costs 5 µs a message).
    lowered = body.lower() if body.isascii() else body.translate(_ASCII_LOWER)
    replacements = _respellings(vocabulary.email_providers).replacements(lowered)
    return _with_digits_for_letters(lowered, replacements)


def _respelled(
    body: str,
    vocabulary: Vocabulary,
    contact_links: list[tuple[int, int]],
    replacements: list[tuple[int, int, str]],
) -> list[ContactFinding]:
    """E-mail addresses and phone numbers written with respelled words ("five f1ve f1ve
    …", "john at gma1l dot c0m"): looked for again in the text with those words written
    back (text.Respellings, as the payment rule reads its words), each finding pointed back
    at what was written. Nothing else is read differently, so an order, tracking or model
    number or a price is judged as before; a message without such a word costs one scan."""
    if not replacements:
        return []
    read, where = _written_back(body, replacements)
    found = []
    for finding in (*_emails(read, vocabulary, []), *_phones(read, vocabulary.phone_region)):
        start, end = where(finding.start, finding.end)
        if not any(start < link_end and link_start < end for link_start, link_end in contact_links):
            found.append(ContactFinding(finding.category, start, end))
    return found


# A group of digits with letters that pass for digits in it: "O123", "4l5", "4I5" (lower
# case here) — O for 0, l and I for 1. A digit is needed, so "oil", "lol" and "I" stay words.
_LETTERS_IN_NUMBER = re.compile(r"(?<![a-z0-9])(?=[oil]*[0-9])[0-9oil]*[oil][0-9oil]*(?![a-z0-9])")
_DIGITS_FOR_LETTERS = str.maketrans({"o": "0", "i": "1", "l": "1"})
# Such a letter beside a digit: a cheap scan first (the pattern above starts with a
# look-behind, so the regex engine tries it at every position).
_LETTER_BESIDE_DIGIT = re.compile(r"[0-9][oil]|[oil][0-9]")


def _with_digits_for_letters(
    lowered: str, replacements: list[tuple[int, int, str]]
) -> list[tuple[int, int, str]]:
    """The replacements, and the digits a number was written with letters for ("call me on
    415 555 O123"; detector version 6) where no respelled word was read already."""
    if _LETTER_BESIDE_DIGIT.search(lowered) is None:
        return replacements
    groups = [
        (group.start(), group.end(), group.group(0).translate(_DIGITS_FOR_LETTERS))
        for group in _LETTERS_IN_NUMBER.finditer(lowered)
    ]
    if not groups:
        return replacements
    # The replacements are in order and apart, so their ends are in order too.
    ends = [end for _, end, _ in replacements]
    kept = []
    for group in groups:
        after = bisect.bisect_right(ends, group[0])
        if after == len(replacements) or replacements[after][0] >= group[1]:
            kept.append(group)
    return sorted(replacements + kept)


def _written_back(
    body: str, replacements: list[tuple[int, int, str]]
) -> tuple[str, Callable[[int, int], tuple[int, int]]]:
    """The body with the replacements' words, and a function from a span of it to the span
    of the body it was read from (a span touching a written-back word covers all of it)."""
    pieces = []
    starts, ends, spans = [], [], []
    position = length = 0
    for start, end, word in replacements:
        pieces.append(body[position:start])
        length += start - position
        starts.append(length)
        length += len(word)
        ends.append(length)
        spans.append((start, end))
        pieces.append(word)
        position = end
    pieces.append(body[position:])

    def written(read_position: int, is_end: bool) -> int:
        # An end is the position after the character before it.
        character = read_position - 1 if is_end else read_position
        index = bisect.bisect_right(starts, character) - 1
        if index < 0:
            return read_position
        if character < ends[index]:
            return spans[index][1] if is_end else spans[index][0]
        return read_position + spans[index][1] - ends[index]

    return "".join(pieces), lambda start, end: (written(start, False), written(end, True))


_BARE_AT = re.compile(r"(?i)^([\w.+-]+)\s+at\s+([\w-]+)(\s+dot\s)?")
# Who or where is "at" a site rather than a mailbox: "visit us at", "find me at", "we're
# at", "buy it online at"; and (detector version 7) what is done there: "pay at", "buy at",
# "order at", "sold at", "available at", "cheaper at" — not "sales at" or "orders at", which
# are mailboxes.
_NOT_MAILBOXES = frozenset(
    {"me", "us", "you", "him", "her", "them", "it", "we", "i", "he", "she", "they", "re", "m"}
    | {"s", "ll", "ve", "d", "here", "there", "home", "work", "online", "store", "shop", "site"}
    | {"website", "page"}
    | {"pay", "buy", "order", "purchase", "find", "found", "sold", "sell", "sells", "selling"}
    | {"available", "listed", "cheaper", "stocked"}
)


def _is_address_like(text: str, vocabulary: Vocabulary) -> bool:
    """ "visit us at shop.com" is a link; "li.silva at yahoo.de" is an address: with a bare
    "at", the name must look like a mailbox (a dot, digit or underscore) or the domain
    like a mail provider — or the dot be spelled out too, which nobody does for a link
    ("info at cedarpine dot shop"), unless the name is a word like "us" or "me"."""
    bare = _BARE_AT.match(text)
    if bare is None:
        return True
    name, domain, spelled_dot = bare.groups()
    return (
        bool(re.search(r"[._\d]", name))
        or domain.lower() in vocabulary.email_providers
        or (spelled_dot is not None and name.lower() not in _NOT_MAILBOXES)
    )


def _phones(body: str, region: str) -> list[ContactFinding]:
    glued = _GLUED_QUICK.search(body) and _GLUED_HINT.search(body)
    found = _glued_numbers(body) if glued else []
    has_seven_digits = _SEVEN_DIGITS.search(body) is not None
    if not has_seven_digits and not _SPELLED_DIGIT.search(body):
        return found
    for match in _SPELLED_NUMBER.finditer(body):
        digits = sum(1 for _ in re.finditer(rf"(?i)\d|\b(?:{_DIGIT_WORDS})\b", match.group(0)))
        spelled = len(_SPELLED_DIGIT.findall(match.group(0)))
        # Digits standing alone ("4 1 5 5 …") or spelled out ("four one five …"); a run of
        # ordinary grouped digits (a tracking number) does not match this at all.
        if (
            digits >= 7
            and (spelled >= 2 or _single_digits_only(match.group(0)))
            and not _is_list_of_numbers(match.group(0))
        ):
            found.append(ContactFinding(CONTACT_PHONE, match.start(), match.end()))
    if not has_seven_digits:
        return found
    if _may_hold_matched_phone(body):
        found.extend(_matched_phones(body, region))
    for match in _LONG_DIGITS.finditer(body):
        before = body[max(0, match.start() - 40) : match.start()]
        if (
            _PHONE_WORDS.search(before)
            and not _NOT_PHONE_WORDS.search(before)
            and not _is_list_of_numbers(match.group(0))
        ):
            found.append(ContactFinding(CONTACT_PHONE, match.start(), match.end()))
    return found


def _matched_phones(body: str, region: str) -> list[ContactFinding]:
    """The numbers phonenumbers' matcher finds that are not a piece of something else."""
    found = []
    try:
        matcher = phonenumbers.PhoneNumberMatcher(
            body, region, leniency=phonenumbers.Leniency.POSSIBLE, max_tries=200
        )
        for number in matcher:
            if _looks_like_phone(body, number.start, number.end, number.raw_string, number.number):
                found.append(ContactFinding(CONTACT_PHONE, number.start, number.end))
    except phonenumbers.NumberParseException:
        pass
    return found


# What the matcher's numbers can start with besides a digit: a plus or an opening bracket.
_PLUS_OR_BRACKET = re.compile(r"[+＋(\[（［]")
_TEN_DIGITS = re.compile(r"(?:\d\D*){10}")
_TWO_DIGIT_RUNS = re.compile(r"\d\D+\d")
# _PHONE_WORDS without its word boundaries: _looks_like_phone searches 40 characters cut
# out of the body, and a cut can make a boundary the body does not have ("xcall").
_PHONE_WORDS_ANYWHERE = re.compile(rf"(?i){_PHONE_WORD_LIST}")


def _may_hold_matched_phone(body: str) -> bool:
    """False only when the matcher can find nothing _looks_like_phone keeps, so it need not
    run: it costs more than the rest of the detector together, and every order or tracking
    number with seven digits reaches it. What the matcher finds is a piece of the body that
    starts with a digit, a plus or an opening bracket, and has no letter, `#` or `_` after
    its last digit unless an extension's digits come before them (phonenumbers' candidate
    pattern). _looks_like_phone keeps a number written with a plus and 8 digits, or with
    10 digits or more — and those digits in one run only beside a phone word. So without a
    plus or an opening bracket, with fewer than ten digits, or with every digit in one run
    and no phone word anywhere, nothing is kept. tests/safety/test_contacts.py holds it to
    that."""
    if _PLUS_OR_BRACKET.search(body):
        return True
    if _TEN_DIGITS.search(body) is None:
        return False
    return bool(_TWO_DIGIT_RUNS.search(body) or _PHONE_WORDS_ANYWHERE.search(body))


def _glued_numbers(body: str) -> list[ContactFinding]:
    """Seven digits or more, some spelled out and glued to others ("4one5"): nothing else
    writes numbers that way (a model or tracking number has no spelled digits)."""
    found = []
    for match in _GLUED_NUMBER.finditer(body):
        text = match.group(0)
        if len(_DIGIT_OR_WORD.findall(text)) >= 7 and _GLUED_HINT.search(text):
            found.append(ContactFinding(CONTACT_PHONE, match.start(), match.end()))
    return found


# How a list's items are apart, one way throughout: a comma and a space ("5, 5.5, 6"),
# spaces ("38 40 42 44"), or one of a dot, dash, slash, underscore, star or middle dot
# ("1.2.3.4.5.6.7"), where an item has no decimal.
_LIST_SEPARATORS = (
    (re.compile(r",\s+"), True),
    (re.compile(r"\s+"), True),
    (re.compile(r"\s*[-./_*·]\s*"), False),
)
_SEPARATOR_SYMBOL = re.compile(r"[-./_*·,]")
# A small number: one or two digits without a leading zero ("06" is a piece of a phone
# number), with a decimal where items may have one.
_SMALL_NUMBER = re.compile(r"(?:0|[1-9]\d?)(?:\.\d)?")
_SMALL_WHOLE_NUMBER = re.compile(r"0|[1-9]\d?")
_DECIMAL = re.compile(r"\d\.\d")
# How far apart two neighbours of a list counting up or down may be: sizes go by 1 or 2
# ("38 40 42 44"); a phone number in pairs that happens to grow ("12 34 56 78 90") leaps.
_LARGEST_STEP = 5
_DIGIT_VALUES = {
    word: value
    for value, words in enumerate(
        (
            ("zero", "oh", "cero"),
            ("one", "uno"),
            ("two", "dos"),
            ("three", "tres"),
            ("four", "cuatro"),
            ("five", "cinco"),
            ("six", "seis"),
            ("seven", "siete"),
            ("eight", "ocho"),
            ("nine", "nueve"),
        )
    )
    for word in words
}


def _is_list_of_numbers(text: str) -> bool:
    """Small numbers listed, not a phone number written digit by digit or in groups: shoe
    sizes ("5, 5.5, 6, 6.5, 7, 7.5", "38 40 42 44 46 48") — a phone number's digit is never
    a decimal —, counting ("one, two, three, four, five, six, seven") or a version ("1.2.3.4.
    5.6.7"): numbers counting up or down by a few, which no phone number's digits or groups
    do. Digits listed in no order ("4, 1, 5, 5, 5, …", "4 1 5 8 6 7 5 3 0 9"), apart in more
    than one way ("5, 5.5, 6 4 1 5 …"), leaping ("12 34 56 78 90") or with a leading zero
    ("06 12 34 56 78") stay a phone number."""
    text = text.strip()
    for separator, decimals in _LIST_SEPARATORS:
        items = separator.split(text)
        if len(items) < 3:
            continue
        if not decimals and len(set(_SEPARATOR_SYMBOL.findall(text))) != 1:
            continue
        values = _values(items, _SMALL_NUMBER if decimals else _SMALL_WHOLE_NUMBER)
        if values is None:
            continue
        steps = [after - before for before, after in itertools.pairwise(values)]
        counting = all(0 < step <= _LARGEST_STEP for step in steps) or all(
            -_LARGEST_STEP <= step < 0 for step in steps
        )
        return counting or (decimals and any(_DECIMAL.search(item) for item in items))
    return False


def _values(items: list[str], number: re.Pattern[str]) -> list[float] | None:
    values = []
    for item in items:
        if number.fullmatch(item):
            values.append(float(item))
        elif item.lower() in _DIGIT_VALUES:
            values.append(float(_DIGIT_VALUES[item.lower()]))
        else:
            return None
    return values


def _single_digits_only(text: str) -> bool:
    groups = re.findall(r"\d+", text)
    return bool(groups) and all(len(group) == 1 for group in groups)


def _looks_like_phone(
    body: str, start: int, end: int, raw: str, number: phonenumbers.PhoneNumber
) -> bool:
    """Not a piece of an order number, tracking number, price or date."""
    before = body[start - 2 : start] if start >= 2 else " " + body[:start]
    after = body[end : end + 2]
    if before[-1:].isalnum() or before[-1:] in {"-", "#", "/", "$", "£", "€", ".", "_"}:
        return False
    if before[-1:] == " " and before[:1].isdigit():
        return False
    if (
        after[:1].isalnum()
        or after[:1] in {"_"}
        or (after[:1] in {"-", "/", " "} and after[1:2].isdigit())
    ):
        return False
    digits = sum(c.isdigit() for c in raw)
    international = raw.startswith("+")
    if digits < (8 if international else 10) or _is_list_of_numbers(raw):
        return False
    context = body[max(0, start - 40) : start]
    has_phone_words = _PHONE_WORDS.search(context) is not None
    # A bare run of digits is far more often a tracking or order number than a phone.
    if raw.isdigit() and not has_phone_words:
        return False
    if _NOT_PHONE_WORDS.search(context) and not has_phone_words:
        return False
    return international or phonenumbers.is_valid_number(number)


# Five or more pieces apart, each one character or, between two, the word "at" or "dot":
# "j o h n @ g m a i l . c o m", "j o h n at g m a i l dot c o m" ("reach me at j o h n …"
# keeps its "at").
_SPACED_OUT = re.compile(r"(?i)(?<!\S)\S[ \t]+(?:(?:\S|at|dot)[ \t]+){3,}\S(?!\S)")


def _spaced_out(body: str, vocabulary: Vocabulary) -> list[ContactFinding]:
    """Letters spaced out to dodge a filter ("j o h n @ g m a i l . c o m"): closed up,
    searched again, and mapped back to the original text. A spelled "at" or "dot" stays a
    word ("john at gmail dot com")."""
    found = []
    for run in _SPACED_OUT.finditer(body):
        pieces = run.group(0).split()
        if sum(len(piece) == 1 for piece in pieces) < len(pieces) * 0.7:
            continue
        closed_up = "".join(piece if len(piece) == 1 else f" {piece} " for piece in pieces)
        if (
            _PLAIN_EMAIL.search(closed_up)
            or _EMAIL.search(closed_up)
            or _provider_email(vocabulary.email_providers).search(closed_up)
        ):
            found.append(ContactFinding(CONTACT_EMAIL, run.start(), run.end()))
    return found


def _without_overlaps(findings: list[ContactFinding]) -> list[ContactFinding]:
    """The longest finding wins where two cover the same characters."""
    kept: list[ContactFinding] = []
    for finding in sorted(findings, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and finding.start < kept[-1].end:
            if finding.end > kept[-1].end:
                previous = kept[-1]
                kept[-1] = ContactFinding(previous.category, previous.start, finding.end)
            continue
        kept.append(finding)
    return kept


MASK = "[contact details removed]"


def mask(body: str, findings: list[ContactFinding], categories: set[str]) -> str:
    pieces = []
    position = 0
    for finding in findings:
        if finding.category not in categories:
            continue
        pieces.append(body[position : finding.start])
        pieces.append(MASK)
        position = finding.end
    pieces.append(body[position:])
    return "".join(pieces)
