"""Search matches shown in context: the terms found in a text wrapped in <mark>, everything
else HTML-escaped. Matching uses the same tokens and rules as the databases."""

import html
import re
from collections.abc import Sequence

from django.utils.safestring import SafeString, mark_safe

from messagecenter.search.terms import Term
from messagecenter.search.tokens import tokenize

# A snippet is about this long, and starts about this far before the first match.
SNIPPET_CHARS = 200
SNIPPET_LEAD_CHARS = 60

_WHITESPACE = re.compile(r"\s+")


def highlighted(text: str, terms: Sequence[Term]) -> SafeString:
    """All of `text`, with its matches marked."""
    return _render(text, _matches(text, terms), 0, len(text))


def snippet(text: str, terms: Sequence[Term]) -> SafeString:
    """A short window of `text` around its first match (its beginning when the match was
    elsewhere, in the subject or the sender's name), with the matches marked."""
    matches = _matches(text, terms)
    first_start, first_end = matches[0] if matches else (0, 0)
    start = max(0, first_start - SNIPPET_LEAD_CHARS)
    if start > 0:
        # Begin at a word: after the first space before the match, else at the match.
        space = _first_space(text, start, first_start)
        start = space + 1 if space is not None else first_start
    end = max(start + SNIPPET_CHARS, first_end)
    if end < len(text):
        space = _last_space(text, first_end, end)
        if space is not None:
            end = space
    else:
        end = len(text)
    return _render(text, matches, start, end)


def _matches(text: str, terms: Sequence[Term]) -> list[tuple[int, int]]:
    """Where terms match in `text`, as (start, end) character ranges, merged and in order."""
    if not terms:
        return []
    tokens = tokenize(text)
    texts = [token.text for token in tokens]
    found: list[tuple[int, int]] = []
    for term in terms:
        first, count = term.tokens[0], len(term.tokens)
        # Only where the first token fits is the whole term checked (Term.matches_at): a
        # search's page checks every token of 50 texts against each term.
        if count == 1 and term.is_prefix:
            found.extend(
                (tokens[index].start, tokens[index].end)
                for index, token in enumerate(texts)
                if token.startswith(first)
            )
            continue
        found.extend(
            (tokens[index].start, tokens[index + count - 1].end)
            for index, token in enumerate(texts)
            if token == first and term.matches_at(texts, index)
        )
    found.sort()
    merged: list[tuple[int, int]] = []
    for start, end in found:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _render(text: str, matches: list[tuple[int, int]], start: int, end: int) -> SafeString:
    pieces = ["…" if start > 0 else ""]
    position = start
    for match_start, match_end in matches:
        match_start, match_end = max(match_start, start), min(match_end, end)
        if match_start >= match_end:
            continue
        pieces.append(_plain(text[position:match_start]))
        pieces.append(f"<mark>{_plain(text[match_start:match_end])}</mark>")
        position = match_end
    pieces.append(_plain(text[position:end]))
    pieces.append("…" if end < len(text) else "")
    # Safe: every piece of the text went through escape().
    return mark_safe("".join(pieces).strip())


def _plain(text: str) -> str:
    # html.escape is what django.utils.html.escape returns (as a SafeString), without its
    # lazy-text wrapper: a page's 50 texts call this ≈ 200 times.
    return html.escape(_WHITESPACE.sub(" ", text))


def _first_space(text: str, start: int, end: int) -> int | None:
    match = _WHITESPACE.search(text, start, end)
    return match.start() if match else None


def _last_space(text: str, start: int, end: int) -> int | None:
    index = max(text.rfind(" ", start, end), text.rfind("\n", start, end))
    return index if index >= 0 else None
