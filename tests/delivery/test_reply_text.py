"""What of a reply by e-mail is read (its plain part, or its HTML) and what of it is new
(delivery/inbound/parsing.new_text): the quote, its header and the signature go; a reply
of nothing but the quote is nothing."""

import pytest

from messagecenter.delivery.inbound.parsing import new_text, parse_message, read_content

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


def _alternative(plain: str, html: str) -> bytes:
    return (
        "From: bob@example.com\r\nTo: reply@example.com\r\nSubject: Re: Kettle\r\n"
        'MIME-Version: 1.0\r\nContent-Type: multipart/alternative; boundary="b"\r\n\r\n'
        '--b\r\nContent-Type: text/plain; charset="utf-8"\r\n\r\n'
        f"{plain}\r\n"
        '--b\r\nContent-Type: text/html; charset="utf-8"\r\n\r\n'
        f"{html}\r\n--b--\r\n"
    ).encode()


@pytest.mark.parametrize(
    ("plain", "html", "text"),
    [
        ("Thanks, plain.", "<p>Thanks, <b>HTML</b>.</p>", "Thanks, plain."),
        # An empty plain alternative beside the HTML that holds the reply (some mail apps
        # and web forms send one): the HTML is read; it was refused as empty.
        ("", "<p>Thanks, it arrived.</p>", "Thanks, it arrived."),
        ("  \r\n ", "<div>Thanks, it arrived.</div>", "Thanks, it arrived."),
    ],
)
def test_the_plain_part_is_read_unless_it_is_empty_then_the_html(
    plain: str, html: str, text: str
) -> None:
    content = read_content(parse_message(_alternative(plain, html)))

    assert (content.text, content.new_text) == (text, text)
