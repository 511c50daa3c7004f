"""How text becomes search tokens: one Python function for what is indexed and for what
people type, so SQLite and PostgreSQL are handed the same plain tokens and never tokenize
anything themselves (docs/search.md).

A token is a run of letters and digits after each character is decomposed (NFKD), case
folded and stripped of its marks (accents, diacritics): "Café" → "cafe", "Straße" →
"strasse", "112-4839201-5521937" → "112", "4839201", "5521937". Everything that is not a
letter or a digit (punctuation, symbols, emoji, control characters) separates tokens.
"""

import re
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

# Longer runs are cut to this: PostgreSQL refuses lexemes over 2,047 bytes.
MAX_TOKEN_CHARS = 100
# PostgreSQL keeps at most 256 positions of one lexeme in a document, FTS5 keeps them all.
# Later occurrences of a token become FILLER in the document, so positions (and phrases)
# stay the same on both databases.
MAX_OCCURRENCES = 256
# PostgreSQL clamps positions above 16,383; a document never gets near that (a 10,000
# character body has at most ~10,000 tokens), and longer ones are cut here.
MAX_DOCUMENT_TOKENS = 16_000
# Neither a letter nor a digit, so no query can ever match it; both databases still count
# it as a token (FTS5's ascii tokenizer keeps every non-ASCII character, PostgreSQL splits
# documents on spaces only).
FILLER = "\u2063"

_ASCII_TOKEN = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True, slots=True)
class Token:
    """A token and where it came from in the original text (for highlighting)."""

    text: str
    start: int
    end: int


def tokenize(text: str) -> list[Token]:
    if text.isascii():
        # The fast path gives exactly what the general one would for ASCII.
        return [
            Token(match.group()[:MAX_TOKEN_CHARS], match.start(), match.end())
            for match in _ASCII_TOKEN.finditer(text.lower())
        ]
    tokens: list[Token] = []
    pieces: list[str] = []
    start = end = 0
    for index, char in enumerate(text):
        folded = _fold(char)
        if not folded:
            # A mark: part of the token it follows, so a highlight covers it too.
            if pieces:
                end = index + 1
            continue
        for piece in folded:
            if piece == " ":
                if pieces:
                    tokens.append(Token("".join(pieces)[:MAX_TOKEN_CHARS], start, end))
                    pieces = []
                continue
            if not pieces:
                start = index
            pieces.append(piece)
            end = index + 1
    if pieces:
        tokens.append(Token("".join(pieces)[:MAX_TOKEN_CHARS], start, end))
    return tokens


def token_texts(text: str) -> list[str]:
    if text.isascii():
        # tokenize's fast path without a Token for each: every message sent is indexed.
        return [token[:MAX_TOKEN_CHARS] for token in _ASCII_TOKEN.findall(text.lower())]
    return [token.text for token in tokenize(text)]


def folded(text: str) -> str:
    """The tokens of a text, space-separated: what names are compared as."""
    return " ".join(token_texts(text))


def document(parts: Iterable[list[str]]) -> str:
    """The tokens of a document as stored: space-separated, each token counted only for its
    first MAX_OCCURRENCES occurrences, at most MAX_DOCUMENT_TOKENS in all."""
    parts = list(parts)
    if sum(len(tokens) for tokens in parts) <= MAX_OCCURRENCES:
        # Too few tokens for one to pass its limit (the limits' minimum): all kept as they
        # are, as the count below would keep them — most messages, and every one sent.
        return " ".join(token for tokens in parts for token in tokens)
    seen: Counter[str] = Counter()
    kept: list[str] = []
    for tokens in parts:
        for token in tokens:
            if len(kept) == MAX_DOCUMENT_TOKENS:
                return " ".join(kept)
            seen[token] += 1
            kept.append(token if seen[token] <= MAX_OCCURRENCES else FILLER)
    return " ".join(kept)


@lru_cache(maxsize=65_536)
def _fold(char: str) -> str:
    """One character as letters, digits and spaces (separators); "" for a mark. Casefolding
    can produce new marks ("ǰ" → "j" + caron), hence the second decomposition."""
    decomposed = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", char).casefold())
    return "".join(
        piece if piece.isalnum() else " "
        for piece in decomposed
        if not unicodedata.category(piece).startswith("M")
    )
