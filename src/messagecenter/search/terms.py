"""What people can type in the search box, read into terms (docs/search.md).

There is no query syntax to get wrong: the input is only ever split into words and
"quoted phrases", and each is tokenized like the documents are.

- A word matches any token it begins: "kett" finds "kettle".
- A word with punctuation inside (an order number, "e-mail") is its tokens in that order,
  the last one matched as a beginning: "112-4839201-55" finds 112-4839201-5521937.
- A "quoted phrase" matches whole tokens, in that order: "late delivery".
- A message must match every term (AND). OR, NOT, NEAR, *, #, ^, parentheses and the like
  are ordinary characters: letters and digits in them are words, the rest is ignored.
"""

import re
from collections.abc import Sequence
from dataclasses import dataclass

from messagecenter.search.tokens import token_texts

# Input past this is not read; terms past these limits are dropped.
MAX_QUERY_CHARS = 500
MAX_TERMS = 16
MAX_QUERY_TOKENS = 32

# Straight and typographic double quotes all open and close phrases.
_QUOTES = re.compile('["“”„]')
_LAST_WORD = re.compile(r"\S+$")


@dataclass(frozen=True)
class Term:
    tokens: tuple[str, ...]
    # The last token matches any token it begins (words); phrases match whole tokens.
    is_prefix: bool

    def matches_at(self, tokens: Sequence[str], index: int) -> bool:
        """Whether this term matches the document tokens starting at `index`."""
        count = len(self.tokens)
        if index + count > len(tokens):
            return False
        for offset, wanted in enumerate(self.tokens):
            found = tokens[index + offset]
            is_last = offset == count - 1
            if found != wanted and not (is_last and self.is_prefix and found.startswith(wanted)):
                return False
        return True

    def __str__(self) -> str:
        words = " ".join(self.tokens)
        return words if self.is_prefix else f'"{words}"'


def parse_terms(text: str) -> tuple[Term, ...]:
    """The terms of a search; an empty tuple when nothing searchable is left."""
    if len(text) > MAX_QUERY_CHARS:
        cut = text[:MAX_QUERY_CHARS]
        # Not half a word at the end (unless it is all one word).
        text = cut if text[MAX_QUERY_CHARS].isspace() else _LAST_WORD.sub("", cut) or cut
    parts = _QUOTES.split(text)
    terms: list[Term] = []
    for index, part in enumerate(parts):
        # Odd parts sit between quotes, unless the last quote was never closed.
        if index % 2 == 1 and index < len(parts) - 1:
            terms.append(Term(tuple(token_texts(part)), is_prefix=False))
        else:
            terms.extend(Term(tuple(token_texts(word)), is_prefix=True) for word in part.split())
    kept: list[Term] = []
    token_count = 0
    for term in terms:
        if len(kept) == MAX_TERMS:
            break
        if not term.tokens or term in kept or token_count + len(term.tokens) > MAX_QUERY_TOKENS:
            continue
        kept.append(term)
        token_count += len(term.tokens)
    return tuple(kept)
