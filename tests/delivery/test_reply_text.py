"""What of a reply by e-mail is new (delivery/inbound/parsing.new_text): the quote, its
header and the signature go; a reply of nothing but the quote is nothing."""

import pytest

from messagecenter.delivery.inbound.parsing import new_text

HEADER = "On Wed, 2 Dec 2026, Trailhead Outfitters wrote:"


@pytest.mark.parametrize(
    ("text", "new"),
    [
        (f"Thanks, that helps!\n\n{HEADER}\n> Hi Bob\n> more", "Thanks, that helps!"),
        # Below the quote (bottom-posting), with a signature.
        (
            f"{HEADER}\n> Hi Bob\n> more\n\nThanks, below the quote.\n\n-- \nBob",
            "Thanks, below the quote.",
        ),
        ("Line one\nLine two\n\n-- \nBob\nSent from my phone", "Line one\nLine two"),
        # Nothing written: the quote was posted as the replier's words before.
        (f"{HEADER}\n> Hi Bob\n> more", ""),
        ("> only quoted\n> text", ""),
        ("", ""),
    ],
)
def test_only_what_the_replier_wrote_is_kept(text: str, new: str) -> None:
    assert new_text(text) == new
