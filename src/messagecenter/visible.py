"""Whether a piece of text shows anything: a message, a subject, a person's display name,
a shop's name, the name of an API token or a passkey made only of zero-width spaces,
direction marks or white space reads as blank, and is refused as empty wherever it is
written. In the
foundation so that accounts, below conversations, holds its names to the same rule as
conversations holds messages."""

import unicodedata

# Characters that draw nothing by themselves, besides white space and the format characters
# (Unicode category Cf: zero-width space and joiners, direction marks and overrides, the
# byte-order mark, the word joiner, tag characters …): Unicode's other default-ignorable
# code points — the combining grapheme joiner, the Hangul fillers, Khmer's inherent vowels,
# Mongolian's variation selectors, the variation selectors — and the blank braille pattern,
# which fonts draw as nothing and which is the usual way to send a "blank" message.
_INVISIBLE = frozenset(
    "\u034f\u115f\u1160\u17b4\u17b5\u180b\u180c\u180d\u180f\u2800\u3164\uffa0"
    + "".join(map(chr, range(0xFE00, 0xFE10)))
    + "".join(map(chr, range(0xE0100, 0xE01F0)))
)


def has_visible_text(text: str) -> bool:
    """Whether anything in the text would show: a message of zero-width spaces or direction
    overrides is a blank bubble (the overrides are even removed where text is shown,
    messagecenter/bidi.py). Usually answered by the first character."""
    return any(
        not character.isspace()
        and character not in _INVISIBLE
        and unicodedata.category(character) != "Cf"
        for character in text
    )
