"""Tokens and terms: the one piece of Python both databases depend on for equal results."""

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from messagecenter.search.terms import MAX_QUERY_TOKENS, MAX_TERMS, Term, parse_terms
from messagecenter.search.tokens import (
    FILLER,
    MAX_OCCURRENCES,
    MAX_TOKEN_CHARS,
    Token,
    document,
    folded,
    token_texts,
    tokenize,
)

TOKENS: dict[str, list[str]] = {
    "Kettle": ["kettle"],
    "Café crème": ["cafe", "creme"],
    "cafe\u0301": ["cafe"],  # é as e + combining accent
    "Straße": ["strasse"],
    "ﬁle": ["file"],  # the ligature
    "ΟΔΟΣ οδος": ["οδοσ", "οδοσ"],  # final sigma folds like any sigma
    "İstanbul": ["istanbul"],
    "Łódź": ["łodz"],  # Ł has no decomposition: it stays a letter of its own
    "½": ["1", "2"],
    "x²": ["x2"],
    "112-4839201-5521937": ["112", "4839201", "5521937"],
    "we'll": ["we", "ll"],
    "e-mail@shop.example": ["e", "mail", "shop", "example"],
    "<script>alert(1)</script>": ["script", "alert", "1", "script"],
    "🙂 kettle🔥boils": ["kettle", "boils"],
    "tab\there\x00nul": ["tab", "here", "nul"],
    "日本語のテキスト": ["日本語のテキスト"],
    "": [],
    "#*:^()\"'-": [],
}


@pytest.mark.parametrize("text", TOKENS.keys(), ids=repr)
def test_tokens(text: str) -> None:
    assert token_texts(text) == TOKENS[text]


def test_tokens_know_where_they_came_from() -> None:
    assert tokenize("Café, cafe\u0301!") == [Token("cafe", 0, 4), Token("cafe", 6, 11)]


def test_very_long_words_are_cut() -> None:
    assert token_texts("a" * 5_000) == ["a" * MAX_TOKEN_CHARS]
    assert token_texts("é" * 5_000) == ["e" * MAX_TOKEN_CHARS]


def test_a_document_counts_a_token_only_so_many_times() -> None:
    stored = document([["a"] * (MAX_OCCURRENCES + 2), ["b"]]).split(" ")

    assert stored == ["a"] * MAX_OCCURRENCES + [FILLER, FILLER, "b"]
    assert token_texts(FILLER) == []


def test_a_document_keeps_a_tokens_limit_exactly_at_its_edge() -> None:
    """Up to MAX_OCCURRENCES tokens in all are joined as they are; one more may be cut."""
    assert document([["a"] * (MAX_OCCURRENCES - 1), ["a"]]).split(" ") == ["a"] * MAX_OCCURRENCES
    assert document([["a"] * MAX_OCCURRENCES, ["a"]]).split(" ")[-1] == FILLER
    assert document([["a", "b"], [], ["a"]]) == "a b a"
    assert document(iter([["a"], ["b"]])) == "a b"


@settings(max_examples=300, deadline=None)
@given(text=st.text(alphabet=st.sampled_from("aZ9 -.,é\t\u0301ßx"), max_size=40))
def test_the_texts_of_tokens_are_tokenizes_texts(text: str) -> None:
    assert token_texts(text) == [token.text for token in tokenize(text)]
    assert token_texts(text + "A" * 150) == [token.text for token in tokenize(text + "A" * 150)]


def test_names_are_compared_folded() -> None:
    assert folded("  Acme   Kitchen-Café ") == "acme kitchen cafe"


TERMS: dict[str, list[Term]] = {
    "kettle": [Term(("kettle",), is_prefix=True)],
    "Kettle KETTLE kettle": [Term(("kettle",), is_prefix=True)],
    "late delivery": [Term(("late",), is_prefix=True), Term(("delivery",), is_prefix=True)],
    '"late delivery"': [Term(("late", "delivery"), is_prefix=False)],
    "“late delivery”": [Term(("late", "delivery"), is_prefix=False)],
    '"kettle"': [Term(("kettle",), is_prefix=False)],
    "112-4839201-55": [Term(("112", "4839201", "55"), is_prefix=True)],
    'a "b c" d': [
        Term(("a",), is_prefix=True),
        Term(("b", "c"), is_prefix=False),
        Term(("d",), is_prefix=True),
    ],
    # An unclosed quote is ignored.
    'kettle "late delivery': [
        Term(("kettle",), is_prefix=True),
        Term(("late",), is_prefix=True),
        Term(("delivery",), is_prefix=True),
    ],
    "NEAR(a b)": [Term(("near", "a"), is_prefix=True), Term(("b",), is_prefix=True)],
    "a OR -b": [
        Term(("a",), is_prefix=True),
        Term(("or",), is_prefix=True),
        Term(("b",), is_prefix=True),
    ],
    '"" # * ( ))) ^ : 🙂 \x00': [],
}


@pytest.mark.parametrize("text", TERMS.keys(), ids=repr)
def test_terms(text: str) -> None:
    assert list(parse_terms(text)) == TERMS[text]


def test_long_searches_are_cut() -> None:
    assert len(parse_terms(" ".join(f"word{number}" for number in range(100)))) == MAX_TERMS
    phrase = '"' + " ".join(f"w{number}" for number in range(MAX_QUERY_TOKENS + 1)) + '"'
    assert parse_terms(f"kettle {phrase} boils") == (
        Term(("kettle",), is_prefix=True),
        Term(("boils",), is_prefix=True),
    )
    assert parse_terms("kettle " * 1_000) == (Term(("kettle",), is_prefix=True),)


def test_terms_read_back_as_typed() -> None:
    assert [str(term) for term in parse_terms('kett "late delivery" 112-4839201')] == [
        "kett",
        '"late delivery"',
        "112 4839201",
    ]
