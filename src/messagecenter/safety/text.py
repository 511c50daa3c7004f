"""Text as a scammer's reader sees it: lookalike letters folded together, so "Маrkеtplacе"
(with Cyrillic letters), "rnarketplace" and "Market-Place" all read as "marketplace".

The lookalikes come from Unicode's confusables table (UTS #39, as shipped by the
confusable-homoglyphs package): every character whose prototype is a plain Latin letter or
digit is replaced by it. On top of that, the ASCII tricks the table leaves alone: "rn" and
"m", "vv" and "w", digits for letters.
"""

import bisect
import json
import re
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
    if text.isascii():
        # The same as below, without looking up each character: ASCII is its own NFKC form,
        # and the table has no ASCII characters (5 µs of a message's check saved).
        return text.casefold()
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


# Words written so that a rule looking for them misses them (on plain() text): letters
# apart — "z e l l e", "z.e.l.l.e", "w-i-r-e" — or a digit or symbol for a letter inside a
# word — "zel1e", "g1ft", "c@sh". Read with skeleton()'s table: a digit or symbol as the
# letter it passes for, and "i" and "l" as one ("1" stands for either).
_READ_AS_LETTERS = {**_DIGIT_LOOKALIKES, **_I_TO_L}
_LOOKALIKE = "0-9$@|"
# Three characters or more, each alone between spaces, dots, dashes, underscores or stars.
_APART = re.compile(
    rf"(?<![a-z{_LOOKALIKE}])[a-z{_LOOKALIKE}](?:(?:[ \t]+|[ \t]*[.\-_*·][ \t]*)"
    rf"[a-z{_LOOKALIKE}](?![a-z{_LOOKALIKE}])){{2,}}"
)
_APART_CHARACTER = re.compile(rf"[a-z{_LOOKALIKE}]")
# A letter beside a digit or symbol: the word around it may be a respelled one.
_LOOKALIKE_IN_WORD = re.compile(rf"[a-z][{_LOOKALIKE}]|[{_LOOKALIKE}][a-z]")
_WORD_CHARACTERS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789$@|")


class Respellings:
    """The words some rules look for, and how to write them back: `respelled()` replaces a
    spelling of one of them that only a respelling hides by the word itself, and leaves
    everything else as it was — a price ("$12"), "4 items", "A B C", initials ("J. R. R."),
    a model or order number, an address: none of them spells a word of the list."""

    def __init__(self, words: tuple[str, ...]) -> None:
        # Without spaces: "c a s h a p p", "c@shapp" and "cash app" are one key.
        self._words = {_read_as_letters(word.replace(" ", "")): word for word in words}
        self._longest = max(len(key) for key in self._words)

    def respelled(self, text: str) -> str:
        """`text` (plain()'s) with the words of the list written back in plain letters."""
        if _APART.search(text) is not None:
            text = _written_back(text, self._joined(text))
        if _LOOKALIKE_IN_WORD.search(text) is not None:
            text = _written_back(text, self._lookalikes_read(text))
        return text

    def replacements(self, text: str) -> list[tuple[int, int, str]]:
        """Where `text` spells a word of the list only a respelling hides: (start, end, word)
        in `text` itself, in order, for a reader that must point back at what was written
        (contacts.py masks what it finds). Letters apart first, then a digit or symbol in a
        word that is not one of them."""
        joined = self._joined(text) if _APART.search(text) is not None else []
        if _LOOKALIKE_IN_WORD.search(text) is None:
            return joined
        read = [
            (start, end, word)
            for start, end, word in self._lookalikes_read(text)
            if not any(
                start < other_end and other_start < end for other_start, other_end, _ in joined
            )
        ]
        return sorted(joined + read)

    def _lookalikes_read(self, text: str) -> list[tuple[int, int, str]]:
        """Each word with a digit or symbol beside a letter that spells a word of the list.
        Found from the letter and the symbol outward: a pattern matching such a word from
        its start would try every position of a long run of letters."""
        found = []
        position = 0
        for beside in _LOOKALIKE_IN_WORD.finditer(text):
            if beside.start() < position:
                continue
            start = beside.start()
            while start > position and text[start - 1] in _WORD_CHARACTERS:
                start -= 1
            end = beside.end()
            while end < len(text) and text[end] in _WORD_CHARACTERS:
                end += 1
            word = self._word_of(text[start:end])
            if word is not None:
                found.append((start, end, word))
            position = end
        return found

    def _word_of(self, written: str) -> str | None:
        if len(written) > self._longest or sum(c.isalpha() for c in written) < 2:
            return None
        return self._words.get(_read_as_letters(written))

    def _joined(self, text: str) -> list[tuple[int, int, str]]:
        found = []
        for run in _APART.finditer(text):
            letters = list(_APART_CHARACTER.finditer(text, run.start(), run.end()))
            found.extend(self._words_in(letters))
        return found

    def _words_in(self, letters: list[re.Match[str]]) -> list[tuple[int, int, str]]:
        """The longest word of the list at each letter of a run, left to right; a word
        needs three characters, two of them letters ("a b c", "1 2 3" spell none)."""
        written = "".join(letter.group(0) for letter in letters)
        read = _read_as_letters(written)
        found = []
        index = 0
        while index < len(read):
            for end in range(min(len(read), index + self._longest), index + 2, -1):
                word = self._words.get(read[index:end])
                if word is not None and sum(c.isalpha() for c in written[index:end]) >= 2:
                    found.append((letters[index].start(), letters[end - 1].end(), word))
                    index = end
                    break
            else:
                index += 1
        return found


def _written_back(text: str, replacements: list[tuple[int, int, str]]) -> str:
    pieces = []
    position = 0
    for start, end, word in replacements:
        pieces.append(text[position:start])
        pieces.append(word)
        position = end
    pieces.append(text[position:])
    return "".join(pieces)


def _read_as_letters(written: str) -> str:
    return written.translate(_READ_AS_LETTERS)


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
