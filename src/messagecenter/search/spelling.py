"""A misspelt word still finds its message: "ketle" finds kettle (docs/search.md,
"Spelling").

Only when a search finds nothing, and only for a word that no message anywhere begins
with: the words one edit away (a letter left out, one too many, two swapped, one
changed) are looked up in the text index as whole words, and the search runs again with
the first that exists. A search that finds something never comes here, so exact searches
cost nothing more. Whether the corrected search finds anything is the person's own
mailbox's answer: a word from someone else's messages is tried, never shown.
"""

from collections.abc import Iterator

from messagecenter.search.backends import known_words
from messagecenter.search.terms import Term

# Shorter words have too many neighbours one edit away to guess which was meant.
MIN_WORD_CHARS = 4
# Past this, a word is an order number, a reference or a code, not a misspelling.
MAX_WORD_CHARS = 30
# Searches tried again at most, each with one correction per unknown word.
MAX_ALTERNATIVES = 3
_ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789"


def alternatives(terms: tuple[Term, ...]) -> list[tuple[Term, ...]]:
    """The terms with their unknown words corrected, most likely first; empty when no word
    is unknown or none has a known neighbour. Two or three queries, whatever the words."""
    correctable = [
        term.tokens[0]
        for term in terms
        if term.is_prefix
        and len(term.tokens) == 1
        and MIN_WORD_CHARS <= len(term.tokens[0]) <= MAX_WORD_CHARS
        and not term.tokens[0].isdigit()
    ]
    if not correctable:
        return []
    unknown = [word for word in correctable if word not in known_words(correctable, prefix=True)]
    if not unknown:
        return []
    neighbours = {word: list(one_edit_away(word)) for word in unknown}
    known = known_words([candidate for words in neighbours.values() for candidate in words])
    choices = {word: [c for c in neighbours[word] if c in known] for word in unknown}
    if not all(choices.values()):
        return []
    found = []
    for attempt in range(MAX_ALTERNATIVES):
        replaced = {
            word: options[min(attempt, len(options) - 1)] for word, options in choices.items()
        }
        corrected = tuple(
            Term((replaced[term.tokens[0]],), is_prefix=True)
            if term.is_prefix and term.tokens[0] in replaced
            else term
            for term in terms
        )
        if corrected not in found:
            found.append(corrected)
    return found


def one_edit_away(word: str) -> Iterator[str]:
    """Every word one edit from `word`, each once, in the order typing goes wrong most:
    two letters swapped, a letter left out, one too many, one changed."""
    letters = sorted(set(_ALPHABET) | set(word))
    seen = {word}

    def new(candidate: str) -> bool:
        if candidate in seen or len(candidate) < 2:
            return False
        seen.add(candidate)
        return True

    splits = [(word[:index], word[index:]) for index in range(len(word) + 1)]
    swapped = (left + right[1] + right[0] + right[2:] for left, right in splits if len(right) > 1)
    inserted = (left + letter + right for left, right in splits for letter in letters)
    removed = (left + right[1:] for left, right in splits if right)
    changed = (left + letter + right[1:] for left, right in splits if right for letter in letters)
    for candidate in (*swapped, *inserted, *removed, *changed):
        if new(candidate):
            yield candidate
