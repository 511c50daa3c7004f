"""The detector never raises, whatever it is given (docs/safety.md)."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from messagecenter.safety.detector import Sender, check
from messagecenter.safety.vocabulary import Vocabulary

VOCABULARY = Vocabulary()
ROLES = st.sampled_from(["buyer", "seller", "unknown"])
# Text weighted towards what the rules look at: digits, @, dots, lookalikes, URLs.
PIECES = st.sampled_from(
    [
        "@",
        ".",
        " at ",
        " dot ",
        "http://",
        "https://",
        "xn--",
        "www.",
        "[",
        "](",
        ")",
        "0",
        "7",
        " ",
        "\n",
        "rn",
        "а",
        "е",
        "ⅿ",
        "✔",
        "+1",
        "-",
        "paypal.me/",
        "t.me/",
        "$",
        "four",
        "oh",
        "gmail",
        "marketplace",
        "password",
        "\u200e",
        "\ufeff",
        "\x00",
        "🙂",
        "%",
        "%%",
        "::",
    ]
)
TEXT = st.lists(st.one_of(st.text(max_size=20), PIECES), max_size=60).map("".join)


@settings(max_examples=400, deadline=None)
@given(body=TEXT, name=st.text(max_size=40), role=ROLES, subject=st.text(max_size=30))
def test_detector_never_raises_on_any_text(body: str, name: str, role: str, subject: str) -> None:
    verdict = check(body, Sender(name, role, f"{name}@{subject}"), VOCABULARY, subject=subject)  # type: ignore[arg-type]

    assert verdict.level in {"ok", "warn", "hold"}
    assert all(reason.code != "not_checked" for reason in verdict.reasons)


def test_detector_never_raises_on_random_bytes() -> None:
    generator = random.Random(16)
    for _ in range(300):
        raw = bytes(generator.randrange(256) for _ in range(generator.randrange(400)))
        for encoding in ("utf-8", "latin-1", "utf-16"):
            body = raw.decode(encoding, errors="replace")
            verdict = check(body, Sender(body[:30], "buyer"), VOCABULARY)
            assert all(reason.code != "not_checked" for reason in verdict.reasons)
