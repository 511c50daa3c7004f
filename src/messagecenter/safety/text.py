"""Text as a scammer's reader sees it: lookalike letters folded together, so "Маrkеtplacе"
(with Cyrillic letters), "rnarketplace" and "Market-Place" all read as "marketplace".

The lookalikes come from Unicode's confusables table (UTS #39, as shipped by the
confusable-homoglyphs package): every character whose prototype is a plain Latin letter or
digit is replaced by it. On top of that, the ASCII tricks the table leaves alone: "rn" and
"m", "vv" and "w", digits for letters.
"""

import bisect
import json
import unicodedata
from functools import cache
from importlib import resources

# After the table: sequences and digits that pass for letters in a name or a domain.
_ASCII_LOOKALIKES = (("rn", "m"), ("vv", "w"), ("cl", "d"), ("ii", "u"))
_DIGIT_LOOKALIKES = str.maketrans(
    {"0": "o", "1": "l", "3": "e", "4": "a", "5": "s", "7": "t", "$": "s", "@": "a", "|": "l"}
)
# "I" and "l" look the same in most fonts: both fold to "l".
_I_TO_L = str.maketrans({"i": "l"})


@cache
def _confusables_table() -> dict[int, str]:
    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("confusables.json").read_text("utf-8")
    )
    table: dict[int, str] = {}
    for prototype, lookalikes in data.items():
        if not (prototype.isascii() and prototype.isalnum()):
            continue
        for lookalike in lookalikes:
            character = lookalike["c"].strip("\u200e")
            if len(character) == 1 and not character.isascii():
                table[ord(character)] = prototype.lower()
    return table


@cache
def _script_ranges() -> tuple[list[int], list[tuple[int, str]]]:
    data = json.loads(
        resources.files("confusable_homoglyphs").joinpath("categories.json").read_text("utf-8")
    )
    aliases = data["iso_15924_aliases"]
    starts, ranges = [], []
    for start, end, alias, _category in data["code_points_ranges"]:
        starts.append(start)
        ranges.append((end, aliases[alias]))
    return starts, ranges


def script_of(character: str) -> str:
    starts, ranges = _script_ranges()
    code_point = ord(character)
    index = bisect.bisect_right(starts, code_point) - 1
    if index < 0:
        return "UNKNOWN"
    end, script = ranges[index]
    return script if code_point <= end else "UNKNOWN"


def scripts_in(word: str) -> set[str]:
    """The alphabets a word's letters come from (Common and Inherited marks left out)."""
    found = set()
    for character in word:
        if character.isalpha():
            script = script_of(character)
            if script not in {"COMMON", "INHERITED", "UNKNOWN"}:
                found.add(script)
    return found


def has_mixed_scripts(text: str) -> bool:
    """A word spelled with letters of two alphabets ("Pаypal" with a Cyrillic а)."""
    return any(len(scripts_in(word)) > 1 for word in text.split())


def plain(text: str) -> str:
    """Lower case, compatibility forms unfolded ("ｍａｒｋｅｔ" → "market"), lookalike
    letters of other alphabets replaced by their Latin prototype, accents dropped."""
    # Before and after case folding: a capital Cyrillic М looks like M, its small form does
    # not look like m.
    table = _confusables_table()
    translated = unicodedata.normalize("NFKC", text).translate(table).casefold().translate(table)
    if translated.isascii():
        return translated
    decomposed = unicodedata.normalize("NFKD", translated)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def skeleton(text: str) -> str:
    """Letters and digits only, every lookalike folded together: two names with the same
    skeleton look the same to a reader."""
    letters = "".join(c for c in plain(text).translate(_DIGIT_LOOKALIKES) if c.isalnum())
    for lookalike, letter in _ASCII_LOOKALIKES:
        letters = letters.replace(lookalike, letter)
    return letters.translate(_I_TO_L)


def edit_distance_at_most(first: str, second: str, limit: int) -> bool:
    """Levenshtein distance ≤ limit (names and domain labels are short)."""
    if abs(len(first) - len(second)) > limit:
        return False
    previous = list(range(len(second) + 1))
    for i, first_character in enumerate(first, 1):
        current = [i]
        for j, second_character in enumerate(second, 1):
            cost = 0 if first_character == second_character else 1
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + cost))
        if min(current) > limit:
            return False
        previous = current
    return previous[-1] <= limit
