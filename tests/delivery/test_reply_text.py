"""What of a reply by e-mail is read (its plain part, or its HTML) and what of it is new
(delivery/inbound/parsing.new_text): the quote, its header and the signature go; a reply
of nothing but the quote is nothing."""

import io
from email.generator import BytesGenerator
from email.message import EmailMessage
from pathlib import Path

import pytest
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Message, Participant
from messagecenter.delivery.inbound.actions import ROUTE_SMTP, receive_email
from messagecenter.delivery.inbound.parsing import new_text, parse_message, read_content
from messagecenter.delivery.rendering import reply_address
from messagecenter.marketplace.models import Product
from tests.delivery.replies import reply

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
        # A list of "- " lines is the reply, not a signature: it was posted as "Sure.".
        (
            "Sure.\n- Kettle ships Monday\n- Lid ships Tuesday\n\n-- \nBob",
            "Sure.\n- Kettle ships Monday\n- Lid ships Tuesday",
        ),
        # Nothing written: the quote was posted as the replier's words before.
        (f"{HEADER}\n> Hi Bob\n> more", ""),
        ("> only quoted\n> text", ""),
        ("", ""),
    ],
)
def test_only_what_the_replier_wrote_is_kept(text: str, new: str) -> None:
    assert new_text(text) == new


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # A sentence starting with a sign-off phrase: it was posted as "Sure.".
        (
            "Sure.\nThanks, I will ship on Monday and send the tracking number.",
            "Sure.\nThanks, I will ship on Monday and send the tracking number.",
        ),
        ("Sure.\nThanks,\nI will ship on Monday.", "Sure.\nThanks,\nI will ship on Monday."),
        ("Sure.\nTake the lid off first.", "Sure.\nTake the lid off first."),
        # A sentence first, a sign-off after it: the sign-off goes.
        (
            "Sure.\nThanks, I will ship Monday.\n\nBest regards,\nAnna Schmidt\nAcme Kitchen",
            "Sure.\nThanks, I will ship Monday.",
        ),
        ("Sure.\n\nThanks,", "Sure."),
        ("Sure.\n\nThanks, Anna", "Sure."),
        ("Sure.\n\nBest regards,\n\nAnna Schmidt\nHead of Sales | Acme Kitchen GmbH", "Sure."),
        ("Sure.\n\nMit freundlichen Grüßen\nAnna", "Sure."),
        ("Sure.\n\nBest regards, Anna von Berg", "Sure."),
    ],
)
def test_a_sign_off_is_cut_but_a_sentence_starting_like_one_is_kept(text: str, new: str) -> None:
    assert new_text(text) == new


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # A short answer starting with a sign-off phrase: after a greeting it was cut, and
        # the reply posted as "Hi Bob,".
        ("Hi Bob,\nThanks, will do", "Hi Bob,\nThanks, will do"),
        ("Hi Bob,\n\nThanks, will do.\n\nAnna", "Hi Bob,\n\nThanks, will do.\n\nAnna"),
        (
            "Hi Bob,\n\nThanks, will do.\n\nBest regards,\nAnna",
            "Hi Bob,\n\nThanks, will do.",
        ),
        ("Sure.\nThanks, got it", "Sure.\nThanks, got it"),
        ("Sure.\nThanks, I will", "Sure.\nThanks, I will"),
        ("Sure.\nThank you,\nwill do", "Sure.\nThank you,\nwill do"),
        # Below the quote, it was kept only by falling back to all that follows the quote,
        # its sign-off and name with it.
        (
            f"{HEADER}\n> Hi Bob\n> more\n\nThanks, will do\n\nBest regards,\nAnna",
            "Thanks, will do",
        ),
        # The whole reply, or its first line above a signature.
        ("Thanks, will do", "Thanks, will do"),
        ("Thanks, will do\n\nBest,\nAnna", "Thanks, will do"),
        (f"Thanks, will do\n\nKind regards,\nAnna\n\n{HEADER}\n> Hi Bob", "Thanks, will do"),
        # A name after the phrase is still a sign-off, one word or a few, lower-case
        # particles and a place included.
        ("Will do.\n\nThanks, Anna", "Will do."),
        ("Will do.\n\nViele Grüße aus Berlin\nAnna", "Will do."),
    ],
)
def test_a_short_answer_starting_with_a_sign_off_phrase_is_kept(text: str, new: str) -> None:
    assert new_text(text) == new


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # Sign-offs the parser does not know: each was posted with the name under it.
        ("Sure.\n\nCheers,\nAnna", "Sure."),
        ("Sure.\n\nCheers, Anna", "Sure."),
        ("Sure.\nCheers!", "Sure."),
        (f"Sure.\n\nCheers,\nAnna\n\n{HEADER}\n> Hi Bob", "Sure."),
        (
            f"{HEADER}\n> Hi Bob\n\nSure, below the quote.\n\nCheers,\nAnna",
            "Sure, below the quote.",
        ),
        ("Sure.\n\nRegards\nAnna", "Sure."),
        ("Sure.\n\nWarm regards,\nAnna Schmidt", "Sure."),
        ("Sure.\n\nBest wishes,\nAnna", "Sure."),
        ("Sure.\n\nBest\nAnna", "Sure."),
        ("Sure.\n\nMany thanks,\nAnna", "Sure."),
        ("Sure.\n\nThanks\nAnna", "Sure."),
        ("Sure.\n\nThank you!\nAnna", "Sure."),
        ("Sure.\n\nYours sincerely,\nAnna Schmidt", "Sure."),
        ("Sure.\n\nTake care,\nAnna", "Sure."),
        ("Sure.\n\nThanks & regards,\nAnna", "Sure."),
        ("Sure.\n\nThanks and kind regards\nAnna Schmidt", "Sure."),
        ("Sure.\n\nThx,\nAnna", "Sure."),
        ("Sure.\nThx!", "Sure."),
        ("Sure.\n\nYours,\nAnna", "Sure."),
        ("Sure.\n\nLove,\nAnna", "Sure."),
        ("Sure.\n\nLove\nAnna", "Sure."),
        # The parser's own, as before.
        ("Sure.\n\nKind regards,\nAnna", "Sure."),
        ("Sure.\n\nBest,\nAnna", "Sure."),
        # The reply's own words starting like one stay, and so does the reply's first line.
        ("Sure.\nThanks for the photos", "Sure.\nThanks for the photos"),
        ("Sure.\nBest I can do is 40 with shipping.", "Sure.\nBest I can do is 40 with shipping."),
        (
            "Sure.\nTake care with the lid, it is glass.",
            "Sure.\nTake care with the lid, it is glass.",
        ),
        (
            "Sure.\nRegardless of colour, it ships Monday.",
            "Sure.\nRegardless of colour, it ships Monday.",
        ),
        ("Sure.\nCheers, will do", "Sure.\nCheers, will do"),
        ("Sure.\nThx for the photos", "Sure.\nThx for the photos"),
        ("Sure.\nThanks and regards to your team.", "Sure.\nThanks and regards to your team."),
        ("Sure.\nLove the colour", "Sure.\nLove the colour"),
        ("Sure.\nLove Paris!", "Sure.\nLove Paris!"),
        ("Sure.\nLove,\nthe colour is perfect", "Sure.\nLove,\nthe colour is perfect"),
        ("Sure.\nYours is packed.", "Sure.\nYours is packed."),
        (
            "Sure.\nYours, Anna's and Bob's ship Monday.",
            "Sure.\nYours, Anna's and Bob's ship Monday.",
        ),
        ("Cheers, will do", "Cheers, will do"),
    ],
)
def test_common_sign_offs_the_parser_lacks_are_cut(text: str, new: str) -> None:
    assert new_text(text) == new


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # The replier's name in lower case under or after a sign-off: it was posted with
        # the reply, lower-case words being read as the reply's own.
        ("Sure.\n\ncheers,\nbob", "Sure."),
        ("Sure.\n\ncheers\nbob", "Sure."),
        ("Sure.\n\nthanks, anna", "Sure."),
        ("Sure.\n\nthx\nanna", "Sure."),
        ("Sure.\n\nbest regards,\nanna schmidt", "Sure."),
        ("Sure.\n\nCheers,\nanna", "Sure."),
        ("Sure.\n\nthanks,\nanna\n\np.s. the lid ships apart", "Sure.\n\np.s. the lid ships apart"),
        # A capitalised name under a lower-case sign-off, as before.
        ("Sure.\n\nthanks\nAnna", "Sure."),
        # A short answer starting with a sign-off phrase stays, in lower case too.
        ("Sure.\nthanks, will do", "Sure.\nthanks, will do"),
        ("Hi Bob,\nthanks, will do", "Hi Bob,\nthanks, will do"),
        ("Sure.\nthank you,\nwill do", "Sure.\nthank you,\nwill do"),
        ("Sure.\ncheers, got it", "Sure.\ncheers, got it"),
        # Lower-case words that are not their name: the reply's.
        ("Sure.\n\nthanks,\ndone", "Sure.\n\nthanks,\ndone"),
        ("Sure.\n\ncheers,\ncarl", "Sure.\n\ncheers,\ncarl"),
        ("Sure.\n\nthanks, anna will collect it", "Sure.\n\nthanks, anna will collect it"),
        # The reply's first line is the reply.
        ("thanks, anna", "thanks, anna"),
    ],
)
def test_a_sign_off_in_lower_case_is_cut_with_the_repliers_own_name(text: str, new: str) -> None:
    assert new_text(text, ["Anna", "Schmidt", "Anna Schmidt", "Bob"]) == new


def test_a_lower_case_name_of_the_from_header_signs_off() -> None:
    raw = (
        b"From: bob <bob@example.com>\r\nSubject: Re: Kettle\r\n\r\nSure.\r\n\r\ncheers,\r\nbob\r\n"
    )
    assert read_content(parse_message(raw)).new_text == "Sure."


# The replier's names, as the account and the From header give them (read_content).
ANNA = ["Anna", "Schmidt", "Anna von Berg", "Anna Schmidt"]


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # The replier's name signed with a dash under the reply: it was posted with it.
        ("Sure.\n- Anna", "Sure."),
        ("Sure, it ships Monday.\n\n- Anna Schmidt", "Sure, it ships Monday."),
        ("Sure.\n\n-- Anna", "Sure."),
        ("Sure.\n-Anna", "Sure."),
        ("Sure.\n\u2014 Anna von Berg", "Sure."),
        ("Sure.\n- A. S.", "Sure."),
        ("Sure.\n- Anna S.", "Sure."),
        ("Thanks, will do\n- Anna", "Thanks, will do"),
        ("Sure.\n\n- Anna\n\nSent from my iPhone", "Sure."),
        (f"Sure.\n- Anna\n\n{HEADER}\n> Hi Bob", "Sure."),
        (f"{HEADER}\n> Hi Bob\n\nSure, below the quote.\n- Anna", "Sure, below the quote."),
        ("Sure.\n\nCheers,\n- Anna", "Sure."),
        # After a blank line under a list: it was posted as the list's last item.
        ("Options:\n- Blue\n- Green\n\n- Anna", "Options:\n- Blue\n- Green"),
        # A list's last item stays: under another item, under a line ending in ":", or
        # words rather than a name.
        ("Which one?\n- the blue one\n- the red one", "Which one?\n- the blue one\n- the red one"),
        ("Which one?\n- Blue\n- Red", "Which one?\n- Blue\n- Red"),
        ("Colours left:\n- Blue", "Colours left:\n- Blue"),
        ("Who collects it:\n- Anna", "Who collects it:\n- Anna"),
        ("Who collects it?\n- Bob\n- Anna", "Who collects it?\n- Bob\n- Anna"),
        ("Sure.\n- will ship Monday", "Sure.\n- will ship Monday"),
        ("Sure.\n- 2 left", "Sure.\n- 2 left"),
        ("Sure.\n- Really?", "Sure.\n- Really?"),
        # A list of one item under a line not ending in ":" is no one's name: "Available
        # sizes" alone was posted.
        ("Available sizes\n- Large", "Available sizes\n- Large"),
        ("Yes.\n- Not Yet Shipped", "Yes.\n- Not Yet Shipped"),
        ("I need two things\n- Receipt", "I need two things\n- Receipt"),
        ("We have one left.\n- Blue", "We have one left.\n- Blue"),
        ("Sure.\n- Von", "Sure.\n- Von"),
        ("Which one?\n- A", "Which one?\n- A"),
        # Nothing written above it: the line is the reply.
        ("- Anna", "- Anna"),
    ],
)
def test_the_repliers_name_signed_with_a_dash_is_cut_but_a_list_is_kept(
    text: str, new: str
) -> None:
    assert new_text(text, ANNA) == new


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # Whose name it is not known: a capitalised line under a dash may be a list's.
        ("Sure.\n- Anna", "Sure.\n- Anna"),
        ("Available sizes\n- Large", "Available sizes\n- Large"),
        # "-- " is a signature's dashes, never a list's.
        ("Sure.\n\n-- Anna", "Sure."),
        ("Sure.\n--Anna Schmidt", "Sure."),
        ("Sizes:\n- Shirts\n-- Large", "Sizes:\n- Shirts\n-- Large"),
    ],
)
def test_a_name_signed_with_a_dash_is_cut_only_as_theirs_or_after_two_dashes(
    text: str, new: str
) -> None:
    assert new_text(text) == new


# The quoted e-mail signed off, as a shop's e-mails do.
SIGNED_QUOTE = f"{HEADER}\n> Hi Bob, is the blue one fine?\n>\n> Thanks,\n> Trailhead Outfitters"


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # A reply below a quote that signs off: the quote's sign-off was taken for the
        # reply's signature, the reply cut away with it, and the fallback to all below the
        # quote posted the replier's sign-off and name with the reply.
        (f"{SIGNED_QUOTE}\n\nSure, below the quote.\n\nCheers,\nAnna", "Sure, below the quote."),
        (
            f"{SIGNED_QUOTE}\n\nSure, below the quote.\n\nBest regards,\nAnna Schmidt\nAcme",
            "Sure, below the quote.",
        ),
        (f"{SIGNED_QUOTE}\n\nSure, below the quote.\n\nthanks,\nanna", "Sure, below the quote."),
        (
            f"{HEADER}\n> Hi Bob\n> -- \n> Trailhead Outfitters\n\nSure, below.\n\nThanks\nAnna",
            "Sure, below.",
        ),
        # Its postscript was posted alone, the reply lost.
        (
            f"{SIGNED_QUOTE}\n\nSure, below the quote.\n\nKind regards,\nAnna\n\nP.S. Two boxes.",
            "Sure, below the quote.\n\nP.S. Two boxes.",
        ),
        # Answers between the quote's lines: the last one was cut with the quote's sign-off.
        (
            "> Is the blue one fine?\nYes.\n> Thanks,\n> Trailhead Outfitters\nShips Monday.\n\n"
            "Cheers,\nAnna",
            "Yes.\nShips Monday.",
        ),
        # Words the parser took for a disclaimer ("Warning: … mail …") left nothing above
        # the quote's end but the fallback: its sign-off was posted.
        (
            f"{HEADER}\n> Hi Bob\n\nWarning: the mail room is closed on Monday.\n\nCheers,\nAnna",
            "Warning: the mail room is closed on Monday.",
        ),
        # As before: what was written stays, the phone's line goes.
        (
            f"{SIGNED_QUOTE}\n\nSure, below the quote.\n\nThanks, will do",
            "Sure, below the quote.\n\nThanks, will do",
        ),
        (f"{SIGNED_QUOTE}\n\nSure.\n\nSent from my iPhone", "Sure."),
        (SIGNED_QUOTE, ""),
    ],
)
def test_a_reply_below_the_quote_loses_its_sign_off_but_not_to_the_quotes(
    text: str, new: str
) -> None:
    assert new_text(text, ANNA) == new


def test_the_name_of_the_from_header_is_the_repliers() -> None:
    raw = (
        b"From: Anna Schmidt <anna@example.com>\r\nSubject: Re: Kettle\r\n\r\n"
        b"Available sizes\r\n- Large\r\n\r\n- Anna\r\n"
    )
    assert read_content(parse_message(raw)).new_text == "Available sizes\n- Large"


@pytest.mark.parametrize(
    ("names", "text", "new"),
    [
        # A common nickname of their name: it was posted with the reply.
        (["Robert", "Miller"], "Sure.\n- Bob", "Sure."),
        (["Robert", "Miller"], "Sure.\n\n- Bob Miller", "Sure."),
        (["Robert Miller"], "Sure.\n- Rob M.", "Sure."),
        (["Robert", "Miller"], "Sure.\n\ncheers,\nbob", "Sure."),
        (["Elizabeth", "Jones"], "Sure.\n\u2014 Liz", "Sure."),
        # The full name signed by someone whose account has the nickname.
        (["Bob", "Miller"], "Sure.\n- Robert", "Sure."),
        (["Chris"], "Sure.\n- Christina", "Sure."),
        # Someone else's name, a nickname of another of the nickname's full names, or a
        # nickname that is an everyday word (left out of the table): posted.
        (["Robert", "Miller"], "Sure.\n- Tom", "Sure.\n- Tom"),
        (["Christopher"], "Sure.\n- Tina", "Sure.\n- Tina"),
        (["William"], "Which one?\n- Bill", "Which one?\n- Bill"),
        (["William"], "Sure.\n\nthanks,\nwill do", "Sure.\n\nthanks,\nwill do"),
        # A list's item under a line ending in ":", as for their name itself.
        (["Robert"], "Who collects it:\n- Bob", "Who collects it:\n- Bob"),
    ],
)
def test_a_common_nickname_of_the_repliers_name_is_theirs(
    names: list[str], text: str, new: str
) -> None:
    assert new_text(text, names) == new


@pytest.mark.parametrize(
    ("sender", "business_names", "text", "new"),
    [
        # A team's or a shop's display name made its words the replier's names, and a
        # list of one item signed with them was cut as a signature.
        ("Trailhead Outfitters Support", [], "Who answers returns?\n- Support", None),
        ("Trailhead Outfitters Support", [], "Which brand?\n- Outfitters", None),
        ("Acme Sales Team", [], "Who can help?\n- Sales", None),
        ("Customer Service", [], "Who answers?\n- Customer Service", None),
        ("Kettle Shop 24", [], "Which one?\n- Kettle", None),
        # Their own shop's name, its legal form aside.
        ("Trailhead Outfitters", ["Trailhead Outfitters"], "Which brand?\n- Trailhead", None),
        ("Trailhead Outfitters", ["Trailhead Outfitters Ltd"], "Which brand?\n- Trailhead", None),
        ("Anna at Trailhead Outfitters", ["Trailhead Outfitters"], "Who packs it?\n- Anna", None),
        # A person's name is still theirs.
        ("Anna Schmidt", ["Trailhead Outfitters"], "Sure.\n- Anna", "Sure."),
        ("Anna Kettle", [], "Sure.\n- Anna Kettle", "Sure."),
    ],
)
def test_a_business_display_name_in_from_is_no_ones_name(
    sender: str, business_names: list[str], text: str, new: str | None
) -> None:
    raw = (
        f"From: {sender} <shop@example.com>\r\nSubject: Re: Kettle\r\n\r\n"
        + text.replace("\n", "\r\n")
        + "\r\n"
    ).encode()

    assert read_content(parse_message(raw), (), business_names).new_text == (new or text)


@pytest.mark.django_db
def test_the_account_display_name_of_a_team_or_shop_is_no_ones_name(
    buyer: User, seller: User, product: Product, settings: Settings
) -> None:
    settings.INBOUND_REQUIRE_AUTHENTICATION = False
    seller.first_name = "Anna"
    seller.display_name = "Acme Kitchen Support"
    seller.save(update_fields=["first_name", "display_name"])
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Who packs it?")
    seat = Participant.objects.get(conversation_id=question.conversation_id, user=seller)
    address = reply_address(seat)
    assert address is not None

    for number, text in enumerate(
        ["Who answers returns?\n- Support", "Which brand?\n- Acme", "Sure.\n- Anna"]
    ):
        raw = reply(
            sender=f"Acme Kitchen <{seller.email}>",
            to=address,
            text=text,
            message_id=f"<names-{number}@mail.example.test>",
        )
        receive_email(raw, route=ROUTE_SMTP, recipients=[address], envelope_from=seller.email)

    # The shop's name ("Acme Kitchen": the storefront, as From) and the team's display name
    # are no one's; the first name on the account is hers.
    assert list(
        Message.objects.filter(sender=seller).order_by("id").values_list("body", flat=True)
    ) == ["Who answers returns?\n- Support", "Which brand?\n- Acme", "Sure."]


def test_a_real_e_mail_signed_with_a_dash_keeps_a_line_that_is_not_the_senders_name() -> None:
    # From CPython's e-mail test data (the corpus), from "John X. Doe": "-Me" is no one's
    # name (a list's "- Me" answers "Who collects it?"), so it is posted with the text.
    raw = (Path(__file__).parent / "corpus" / "cpython" / "msg_01.txt").read_bytes()
    assert read_content(parse_message(raw)).new_text == "Hi,\n\nDo you like this message?\n\n-Me"


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # A postscript under the sign-off: it was cut with it, "Will do." alone posted.
        (
            "Will do.\n\nCheers,\nAnna\n\nP.S. The lid is in a separate box.",
            "Will do.\n\nP.S. The lid is in a separate box.",
        ),
        (
            "Will do.\n\nBest regards,\nAnna Schmidt\nAcme Kitchen\n\nPS: the lid ships apart.",
            "Will do.\n\nPS: the lid ships apart.",
        ),
        (
            "Will do.\n\nThanks,\nAnna\nP.P.S. Two boxes.\n\nCheers,\nAnna",
            "Will do.\n\nP.P.S. Two boxes.",
        ),
        (
            f"Will do.\n\nCheers,\nAnna\n\nps. two boxes\n\nSent from my iPhone\n\n{HEADER}\n> Hi",
            "Will do.\n\nps. two boxes",
        ),
        # Not a postscript: a line starting "PS5".
        ("Will do.\n\nCheers,\nAnna\nPS5 Pro Team", "Will do."),
    ],
)
def test_a_postscript_under_a_sign_off_is_kept(text: str, new: str) -> None:
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


def _as_smtplib_sends_it(text: str, *, subtype: str = "plain") -> bytes:
    """A reply as Python's smtplib.send_message puts it on the wire: its generator writes
    the e-mail mbox-style, so a line starting "From " goes out as ">From "."""
    message = EmailMessage()
    message["From"] = "bob@example.com"
    message["Subject"] = "Re: Kettle"
    message.set_content(text, subtype=subtype)
    wire = io.BytesIO()
    BytesGenerator(wire).flatten(message, linesep="\r\n")
    return wire.getvalue()


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # The line was cut as a quote: "Thanks.\n\nRegards" was posted. (The sign-off
        # goes now: test_common_sign_offs_the_parser_lacks_are_cut.)
        (
            "Thanks.\n\nFrom what I can tell the kettle is fine.\nRegards",
            "Thanks.\n\nFrom what I can tell the kettle is fine.",
        ),
        # Refused as empty.
        ("From new address after change", "From new address after change"),
        (
            "Thanks!\nFrom Monday I'm away, so please ship before.",
            "Thanks!\nFrom Monday I'm away, so please ship before.",
        ),
        ("To be honest, it works.", "To be honest, it works."),
        # The quote still goes, with its own "From …" line and Outlook's header block.
        (f"Thanks!\n\n{HEADER}\n> Hi Bob\n> From Monday on\n> more", "Thanks!"),
        (f"Thanks!\n\n{HEADER}\n>Hi Bob\n>From Monday on\n>more", "Thanks!"),
        (
            "From Monday, yes.\n\nFrom: Trailhead Outfitters <shop@example.com>\n"
            "Sent: Wednesday, December 2, 2026 10:00\nTo: Bob\nSubject: Kettle\n\nHi Bob",
            "From Monday, yes.",
        ),
    ],
)
def test_a_line_starting_with_from_is_the_repliers_own(text: str, new: str) -> None:
    raw = _as_smtplib_sends_it(text)
    # As on the wire: no line of the text starts "From " any more.
    assert b"\r\nFrom " not in b"\r\n" + raw.split(b"\r\n\r\n", 1)[1]

    assert read_content(parse_message(raw)).new_text == new


def test_a_line_starting_with_from_in_an_html_reply_is_kept() -> None:
    raw = _as_smtplib_sends_it("<p>Thanks!\nFrom Monday I'm away.</p>", subtype="html")

    assert read_content(parse_message(raw)).new_text == "Thanks! From Monday I'm away."


@pytest.mark.parametrize(
    ("html", "text"),
    [
        # Was "Thanks! See tracking page and ." — the address lost, the image's gap left.
        (
            "<p>Thanks! See <a href='https://tracking.example/x'>tracking page</a> and "
            "<img src='https://tracking.example/pixel.png'>.</p>",
            "Thanks! See tracking page (https://tracking.example/x) and.",
        ),
        # The address as the link's text: once.
        (
            '<p>Here: <a href="https://tracking.example/x">https://tracking.example/x</a></p>',
            "Here: https://tracking.example/x",
        ),
        (
            '<p>Here: <a href="https://www.tracking.example/x/">tracking.example/x</a></p>',
            "Here: tracking.example/x",
        ),
        # A linked logo leaves nothing; the image between words no double space.
        (
            '<p>Bob <a href="https://acme.example"><img src="cid:logo"></a></p>'
            "<p>Before <img src='cid:photo'> after</p>",
            "Bob\n\nBefore after",
        ),
        # Spaces before punctuation the writer typed stay (French).
        ("<p>Ça va ? <b>Oui</b> !</p>", "Ça va ? Oui !"),
    ],
)
def test_an_html_reply_keeps_its_links_addresses_and_drops_images_cleanly(
    html: str, text: str
) -> None:
    content = read_content(parse_message(_as_smtplib_sends_it(html, subtype="html")))

    assert content.new_text == text


@pytest.mark.parametrize(
    ("html", "text"),
    [
        # A list's items were paragraphs: "Sizes:\n\nLarge\n\nMedium".
        (
            "<p>Sizes:</p><ul><li>Large</li><li>Medium</li></ul><p>Ships Monday.</p>",
            "Sizes:\n- Large\n- Medium\n\nShips Monday.",
        ),
        ("<div>Steps:</div><ol><li>Unpack</li><li>Rinse</li></ol>", "Steps:\n1. Unpack\n2. Rinse"),
        (
            "<ol start='3'><li>Third</li><li value='7'>Seventh</li><li>Eighth</li></ol>",
            "3. Third\n7. Seventh\n8. Eighth",
        ),
        # As mail apps and web editors write them: indented source, a paragraph in an
        # item, a nested list, an empty item, an item never closed.
        (
            "<ul>\n  <li>Kettle\n    <ul><li>Lid</li></ul>\n  </li>\n  <li><p>Mug</p></li>\n"
            "  <li><br></li>\n</ul><p>Bob</p>",
            "- Kettle\n  - Lid\n- Mug\n\nBob",
        ),
        ("<ol><li>One<li>Two</ol>", "1. One\n2. Two"),
        # A quoted list is still the quote.
        ("<p>Yes.</p><blockquote><ul><li>Large</li></ul></blockquote>", "Yes.\n\n> - Large"),
    ],
)
def test_an_html_reply_keeps_its_lists_bullets_and_numbers(html: str, text: str) -> None:
    content = read_content(parse_message(_as_smtplib_sends_it(html, subtype="html")))

    assert content.text == text


def test_an_html_reply_with_a_list_is_posted_with_its_bullets() -> None:
    html = "<div>Sure, two sizes left:</div><ul><li>Large</li><li>Medium</li></ul><div>Bob</div>"
    raw = _as_smtplib_sends_it(html, subtype="html")

    assert (
        read_content(parse_message(raw)).new_text
        == "Sure, two sizes left:\n- Large\n- Medium\n\nBob"
    )


@pytest.mark.parametrize(
    "text",
    [
        # The parser's disclaimer pattern ("Warning:", "Caution:", "Confidential:", "Important
        # note:", "Achtung:"… with "mail" further on the line) took these for disclaimers and
        # cut them: the first was posted as "- Anna", the others without their sentence.
        f"{HEADER}\n> Hi Bob\n\nWarning: the mail room is closed on Monday.\n- Anna",
        "Sure, it ships Monday.\nWarning: the mail room is closed on Monday.",
        "Sure, it ships Monday.\nImportant note: the label is in the mail already.",
        "Sure, it ships Monday.\nConfidential: my new e-mail address is below, keep it.",
        "Sure. Caution: the box is heavy, the mailman complained.",
        "Ja, gerne.\nAchtung: die Mail mit der Rechnung kommt morgen.",
        # Never cut; kept so.
        "Sure, it ships Monday.\nNote: the label is in the mail already.",
        "Sure, it ships Monday.\nNotice: the post office says the mail is late.",
        "Sure, it ships Monday.\nImportant: send me your new e-mail address first.",
        # A disclaimer's words in a person's own sentences: too few, or the reply's start.
        "Sure.\n\nThe invoice was sent to me in error, please delete it.",
        "Is this e-mail confidential? I am not the intended recipient of the invoice, it was "
        "sent to me in error, so please delete my address and notify the sender.",
    ],
)
def test_a_persons_sentence_is_not_taken_for_a_disclaimer(text: str) -> None:
    written = text.removeprefix(f"{HEADER}\n> Hi Bob\n\n").removesuffix("\n- Anna")

    assert new_text(text, ANNA) == written


CONFIDENTIALITY_NOTICE = (
    "CONFIDENTIALITY NOTICE: This e-mail and any attachments are confidential\n"
    "and may be privileged. If you are not the intended recipient, please notify\n"
    "the sender immediately and delete this e-mail from your system. Any\n"
    "unauthorised copying, disclosure or distribution is strictly forbidden."
)


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # One line the parser's pattern knows: cut before as now.
        (
            "Sure.\n\nCONFIDENTIALITY: This e-mail and any attachments are confidential and may"
            " be privileged. If you are not the intended recipient, please notify the sender"
            " and delete it.",
            "Sure.",
        ),
        # Wrapped, or under a heading the parser does not know, or in German: its first line
        # at most was cut, the rest posted.
        (f"Sure.\n\n{CONFIDENTIALITY_NOTICE}", "Sure."),
        (
            f"Sure.\n\nAnna Schmidt\nAcme Kitchen GmbH\n\n{CONFIDENTIALITY_NOTICE}\n\n"
            "Please consider the environment before printing this e-mail.",
            "Sure.\n\nAnna Schmidt\nAcme Kitchen GmbH",
        ),
        (
            "Sure.\n\nDISCLAIMER\n\nThis message is intended only for the addressee and may"
            " contain privileged information. We accept no liability for viruses.",
            "Sure.",
        ),
        (
            "Ja, gerne.\n\nDiese E-Mail enthält vertrauliche und/oder rechtlich geschützte "
            "Informationen. Wenn Sie nicht der richtige Adressat sind oder diese E-Mail "
            "irrtümlich erhalten haben, informieren Sie bitte sofort den Absender und "
            "vernichten Sie diese Mail. Das unerlaubte Kopieren sowie die unbefugte Weitergabe"
            " dieser Mail ist nicht gestattet.",
            "Ja, gerne.",
        ),
        # The reply's own sentence before the disclaimer in one paragraph stays.
        (
            "Sure.\n\nShips Monday. This e-mail is confidential and intended only for the "
            "addressee; if you received it in error, please delete it and notify the sender.",
            "Sure.\n\nShips Monday.",
        ),
        # Above the quote, and below it.
        (f"Sure.\n\n{CONFIDENTIALITY_NOTICE}\n\n{HEADER}\n> Hi Bob", "Sure."),
        (f"{HEADER}\n> Hi Bob\n\nSure, below.\n\n{CONFIDENTIALITY_NOTICE}", "Sure, below."),
    ],
)
def test_a_disclaimer_under_the_reply_is_cut(text: str, new: str) -> None:
    assert new_text(text, ANNA) == new


def test_a_persons_paragraph_with_a_disclaimers_words_stays() -> None:
    # Three of a disclaimer's things, none that only a disclaimer says: a buyer's words.
    text = (
        "Hi Bob,\n\nThe parcel was delivered to me in error, it is addressed to my neighbour, "
        "so please contact the sender and delete my address from the order."
    )
    assert new_text(text, ANNA) == text


# Avast's footer as Gmail with Avast writes it in the plain part: the link of its logo
# above, its anchor below.
AVAST_LINK = (
    "<https://www.avast.com/sig-email?utm_medium=email&utm_source=link"
    "&utm_campaign=sig-email&utm_content=webmail>"
)
AVAST_GMAIL = (
    f"{AVAST_LINK}\nVirus-free.www.avast.com\n{AVAST_LINK}\n<#DAB4FAD8-2DD7-40BB-A1B8-4E2AA1F9FDF2>"
)


@pytest.mark.parametrize(
    ("text", "new"),
    [
        # A virus scanner's stamp under the reply was posted as part of it.
        (
            "Sure.\n\nThis email has been checked for viruses by Avast antivirus software.\n"
            "www.avast.com",
            "Sure.",
        ),
        (
            "Sure.\n\n---\nThis email has been checked for viruses by Avast antivirus "
            "software.\nhttps://www.avast.com/antivirus",
            "Sure.",
        ),
        ("Sure.\n\nVirus-free. www.avg.com", "Sure."),
        ("Sure.\n\nVirus-free. www.avast.com", "Sure."),
        (f"Sure.\n\n{AVAST_GMAIL}", "Sure."),
        (
            "Sure.\n\nThis email has been checked for viruses by AVG.\nhttp://www.avg.com",
            "Sure.",
        ),
        ("Sure.\n\nScanned by Norton AntiVirus", "Sure."),
        ("Sure.\n\nThis e-mail has been scanned by Norton Internet Security.", "Sure."),
        ("Sure.\n\nScanned by McAfee", "Sure."),
        ("Sure.\n\nThis message was scanned for viruses by McAfee VirusScan.", "Sure."),
        ("Sure.\n\nChecked by Kaspersky Anti-Virus", "Sure."),
        ("Sure.\n\nThis email has been scanned by Kaspersky Internet Security.", "Sure."),
        (
            "Sure.\n\nThe message was checked by ESET NOD32 Antivirus.\n\nhttp://www.eset.com",
            "Sure.",
        ),
        # Windows' Mail app, its link written by the plain part or by an HTML reply.
        (
            "Sure.\n\nSent from Mail<https://go.microsoft.com/fwlink/?LinkId=550986> for "
            "Windows 10",
            "Sure.",
        ),
        (
            "Sure.\n\nSent from Mail (https://go.microsoft.com/fwlink/?LinkId=550986) for "
            "Windows 11",
            "Sure.",
        ),
        ("Sure.\n\nSent from Mail for Windows", "Sure."),
        # With a signature and the quote: the footer between them goes, the name stays.
        (
            f"Sure.\n\nAnna\n\nVirus-free. www.avast.com\n\n{HEADER}\n> Is it available?",
            "Sure.\n\nAnna",
        ),
        # Below the quote (bottom-posting).
        (
            f"{HEADER}\n> Is it available?\n\nSure.\n\nScanned by McAfee",
            "Sure.",
        ),
        # The replier's own link above the footer is theirs.
        (
            "Tracking:\nhttps://track.example/123\n\nVirus-free. www.avg.com",
            "Tracking:\nhttps://track.example/123",
        ),
    ],
)
def test_a_virus_scanners_footer_is_cut(text: str, new: str) -> None:
    assert new_text(text, ANNA) == new


@pytest.mark.parametrize(
    "text",
    [
        "Sorry, my laptop had a virus so I replied late.",
        "Sure.\n\nMy laptop had a virus so I replied late.",
        "Sure.\n\nIt was scanned by McAfee at the depot and they found nothing, I promise.",
        "Sure.\n\nChecked by Kaspersky, it is clean.",
        "Sure.\n\nScanned by McAfee at the depot, all fine.",
        "Sure.\n\nThe photos: https://photos.example/kettle\nScanned by Avast they are fine",
        "Sure.\n\nIs it virus-free?",
        "Sure.\n\nThe USB stick is virus-free.",
        "Sure.\n\nI sent it from Mail for Windows but the photos did not come through.",
    ],
)
def test_a_persons_sentence_about_a_virus_stays(text: str) -> None:
    assert new_text(text, ANNA) == text


def test_an_html_reply_with_avasts_footer_is_posted_without_it() -> None:
    html = (
        "<div>Sure, it ships Monday.</div><br><table><tr><td>"
        '<a href="https://www.avast.com/sig-email"><img src="https://ipmcdn.avast.com/logo.png">'
        '</a></td><td>Virus-free. <a href="https://www.avast.com/sig-email">www.avast.com</a>'
        "</td></tr></table>"
    )
    content = read_content(parse_message(_as_smtplib_sends_it(html, subtype="html")))

    assert content.new_text == "Sure, it ships Monday."


@pytest.mark.parametrize(
    ("html", "text"),
    [
        # A nested item was posted at its parent's level: "- Kettle\n- Lid".
        (
            "<div>Sizes:</div><ul><li>Kettle<ul><li>Lid</li><li>Spout<ul><li>Cap</li></ul>"
            "</li></ul></li><li>Mug</li></ul><div>Bob</div>",
            "Sizes:\n- Kettle\n  - Lid\n  - Spout\n    - Cap\n- Mug\n\nBob",
        ),
        (
            "<p>Steps:</p><ol><li>Unpack<ol><li>Lid off</li><li>Rinse</li></ol></li>"
            "<li>Boil</li></ol>",
            "Steps:\n1. Unpack\n  1. Lid off\n  2. Rinse\n2. Boil",
        ),
        # The same item's text at two levels: each keeps its own.
        (
            "<p>Left:</p><ul><li>Lid<ul><li>Lid</li></ul></li><li>Lid</li></ul>",
            "Left:\n- Lid\n  - Lid\n- Lid",
        ),
        # Above the quote.
        (
            "<p>Yes:</p><ul><li>Kettle<ul><li>Lid</li></ul></li></ul>"
            "<blockquote><ul><li>Large<ul><li>Small</li></ul></li></ul></blockquote>",
            "Yes:\n- Kettle\n  - Lid",
        ),
    ],
)
def test_an_html_reply_keeps_its_nested_lists_indented(html: str, text: str) -> None:
    content = read_content(parse_message(_as_smtplib_sends_it(html, subtype="html")))

    assert content.new_text == text


def test_a_plain_reply_is_posted_without_its_lines_indentation_as_before() -> None:
    # Plain text is the mail app's own layout (Gmail's indents a list's items by three
    # spaces): its lines are posted as the parser leaves them, without indentation.
    content = read_content(parse_message(_as_smtplib_sends_it("Sizes:\n   - Large\n     - Lid")))

    assert content.new_text == "Sizes:\n- Large\n- Lid"
