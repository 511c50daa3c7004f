"""Preferences, one-click unsubscribe, the reference checker and the development mailbox,
as people use them."""

import hashlib
import hmac
import re
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from django.core import signing
from django.test import Client
from django.urls import reverse
from pytest_django.fixtures import Settings

import messagecenter
from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Kind
from messagecenter.delivery import actions, links, references
from messagecenter.delivery.models import Category, Channel, MailboxEmail, Preference
from messagecenter.delivery.preferences import is_enabled
from messagecenter.errors import InvalidInput
from messagecenter.marketplace.models import Product
from messagecenter.support import actions as support_actions
from tests import factories
from tests.factories import signed_in
from tests.web.helpers import not_isolated

pytestmark = pytest.mark.django_db


def test_the_preferences_page_says_what_cannot_be_switched_off(buyer: User) -> None:
    page = signed_in(buyer).get(reverse("email-preferences")).content.decode()

    assert 'data-testid="pref-promotions-email"' in page
    assert 'data-testid="pref-buyer_seller-email"' in page
    assert 'data-testid="pref-order_updates-email-fixed"' in page
    assert 'data-testid="pref-notices-email-fixed"' in page
    assert "important notices about your account cannot be switched off" in page
    assert page.count("Always on: it is about your orders, money or account.") == 4


def test_the_preferences_page_says_the_digest_timing_as_configured(
    buyer: User, settings: Settings
) -> None:
    """It said "a quiet period of 10 minutes" whatever EMAIL_DIGEST_QUIET_MINUTES was."""
    settings.EMAIL_DIGEST_QUIET_MINUTES = 0.5
    settings.EMAIL_DIGEST_MAX_WAIT_MINUTES = 30
    signed = signed_in(buyer).get(reverse("email-preferences")).content.decode()
    from_link = Client().get(links.preferences_url(buyer)).content.decode()

    for page in (signed, from_link):
        assert "a quiet period of 0.5 minutes (at most 30 minutes after the first)" in page


def test_the_preferences_page_names_itself_once_and_spells_e_mail_one_way(buyer: User) -> None:
    """The page's title said "Email preferences", its heading "Email and communication
    preferences", and its text mixed "Email" with "e-mail". Title, heading and the links to
    the page now say "E-mail preferences", and the page spells "e-mail" as the rest of the
    product does."""
    signed_in_page = signed_in(buyer).get(reverse("email-preferences")).content.decode()
    from_link = (
        Client()
        .get(reverse("email-preferences-link", args=[links.preferences_token(buyer)]))
        .content.decode()
    )
    account = signed_in(buyer).get(reverse("account")).content.decode()

    for page in (signed_in_page, from_link):
        title = re.search(r"<title>(.*?) · Marketplace</title>", page)
        heading = re.search(r"<h1[^>]*>(.*?)</h1>", page)
        assert title is not None
        assert heading is not None
        assert title.group(1) == heading.group(1) == "E-mail preferences"
        words = re.sub(r"<[^>]+>", " ", page)
        assert re.findall(r"\bemails?\b", words, re.IGNORECASE) == []
        assert "e-mail" in words.lower()
    assert "E-mail preferences" in account
    assert "Email preferences" not in account


def test_no_text_of_the_product_calls_the_page_communication_preferences() -> None:
    """The demo's promotions sent people to "your communication preferences", a page the
    site does not have: every page, e-mail and message names it "E-mail preferences"."""
    source = Path(messagecenter.__file__).parent
    found = [
        str(path.relative_to(source))
        for path in sorted(source.rglob("*"))
        if path.suffix in {".py", ".html", ".txt"}
        and re.search(r"communications? preferences", path.read_text(encoding="utf-8"), re.I)
    ]

    assert found == []


def labels_of(page: str) -> list[str]:
    """Each checkbox label's text as a screen reader reads it (tags dropped)."""
    return [
        " ".join(re.sub(r"<[^>]+>", " ", label).split())
        for label in re.findall(r"<label>(.*?)</label>", page, re.DOTALL)
    ]


def test_preference_checkboxes_say_what_they_are_not_on_or_off(buyer: User) -> None:
    actions.set_preferences(buyer, {(Category.PROMOTIONS, Channel.EMAIL): False})

    page = signed_in(buyer).get(reverse("email-preferences")).content.decode()

    assert labels_of(page) == [
        "Messages from buyers and sellers: by e-mail",
        "Promotions and offers: in the Message Center",
        "Promotions and offers: by e-mail",
    ]
    assert "message_center" not in " ".join(re.findall(r'aria-label="[^"]*"', page))
    assert re.search(r'value="promotions:email"(?! checked)', page)


def test_switching_promotions_and_digests_off_and_on(buyer: User) -> None:
    client = signed_in(buyer)

    response = client.post(reverse("email-preferences"), {"enabled": ["promotions:message_center"]})

    assert response.status_code == 302
    assert not is_enabled(buyer, Category.PROMOTIONS, Channel.EMAIL)
    assert not is_enabled(buyer, Category.BUYER_SELLER, Channel.EMAIL)
    assert is_enabled(buyer, Category.PROMOTIONS, Channel.MESSAGE_CENTER)
    # Only what differs from the default is stored.
    assert Preference.objects.filter(user=buyer).count() == 2

    client.post(
        reverse("email-preferences"),
        {"enabled": ["promotions:message_center", "promotions:email", "buyer_seller:email"]},
    )
    assert Preference.objects.filter(user=buyer).count() == 0


def test_a_choice_that_cannot_be_changed_is_refused_and_nothing_changes(buyer: User) -> None:
    with pytest.raises(InvalidInput) as refused:
        actions.set_preferences(
            buyer,
            {
                (Category.PROMOTIONS, Channel.EMAIL): False,
                (Category.ORDER_UPDATES, Channel.EMAIL): False,
            },
        )

    assert refused.value.code == "preference_fixed"
    assert Preference.objects.count() == 0
    # A forged form field for a fixed choice is simply not read.
    signed_in(buyer).post(reverse("email-preferences"), {"enabled": []})
    assert is_enabled(buyer, Category.ORDER_UPDATES, Channel.EMAIL)


def form_as_shown(page: str) -> dict[str, list[str]]:
    """What a browser sends from the preferences page as it was rendered: the ticked boxes
    and the hidden fields."""
    return {
        "enabled": re.findall(r'name="enabled" value="([^"]+)" checked', page),
        "shown": re.findall(r'name="shown" value="([^"]+)"', page),
    }


def test_saving_a_stale_preferences_tab_changes_only_what_was_changed_on_it(
    buyer: User,
) -> None:
    """Tab 1 open, promotions unsubscribed elsewhere (tab 2, one click in an e-mail), then
    one box changed in tab 1: saving it wrote back every box as tab 1 showed them, turning
    promotions back on."""
    browser = signed_in(buyer)
    stale = form_as_shown(browser.get("/account/email/").content.decode())
    assert "promotions:email" in stale["enabled"]
    actions.unsubscribe(buyer, Category.PROMOTIONS)
    stale["enabled"].remove("buyer_seller:email")

    assert browser.post("/account/email/", stale).status_code == 302

    assert not is_enabled(buyer, Category.PROMOTIONS, Channel.EMAIL)
    assert not is_enabled(buyer, Category.BUYER_SELLER, Channel.EMAIL)
    fresh = form_as_shown(browser.get("/account/email/").content.decode())
    assert "promotions:email" not in fresh["enabled"]
    assert "promotions:email:0" in fresh["shown"]


def test_the_link_in_an_email_opens_preferences_without_signing_in(buyer: User) -> None:
    url = links.preferences_url(buyer).removeprefix("http://127.0.0.1:8000")
    anonymous = Client(enforce_csrf_checks=True)

    page = anonymous.get(url)
    assert page.status_code == 200
    assert buyer.email in page.content.decode()

    saved = anonymous.post(url, {"enabled": ["buyer_seller:email", "promotions:message_center"]})
    assert saved.status_code == 200
    assert "Your preferences are saved." in saved.content.decode()
    assert not is_enabled(buyer, Category.PROMOTIONS, Channel.EMAIL)
    assert is_enabled(buyer, Category.BUYER_SELLER, Channel.EMAIL)


def test_link_tokens_carry_at_least_128_bits_and_last_over_a_year(
    buyer: User, settings: Settings
) -> None:
    token = links.preferences_token(buyer)
    signature = token.rsplit(":", 1)[1]
    # base64 of an HMAC-SHA256: 43 characters, 256 bits.
    assert len(signature) * 6 >= 256
    assert settings.EMAIL_LINK_MAX_AGE_DAYS >= 366


def test_an_altered_or_expired_link_is_not_found(
    buyer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    token = links.unsubscribe_token(buyer)
    assert Client().get(reverse("unsubscribe", args=[token[:-2] + "xx"])).status_code == 404
    assert (
        Client().get(reverse("unsubscribe", args=[links.preferences_token(buyer)])).status_code
        == 404
    )

    two_years_ago = signing.b62_encode(int(time.time()) - 731 * 86400)
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: two_years_ago)
    old = links.unsubscribe_token(buyer)
    monkeypatch.undo()
    assert Client().get(reverse("unsubscribe", args=[old])).status_code == 404
    assert Client().post(reverse("unsubscribe", args=[old])).status_code == 404
    assert is_enabled(buyer, Category.PROMOTIONS, Channel.EMAIL)


def test_a_broken_or_expired_link_says_so_and_how_to_change_preferences(
    buyer: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A tampered or cut-short link showed the site's generic 404 ("…belongs to another
    account. Go to the Message Center"): someone arriving signed out from an e-mail got
    no hint. The page says the link is not valid (or has expired), that nothing changed,
    and how to get to the preferences: sign in, then E-mail preferences."""
    token = links.unsubscribe_token(buyer)
    broken = [
        reverse("unsubscribe", args=[token[:-2] + "xx"]),
        reverse("unsubscribe", args=[token[:20]]),
        reverse("email-preferences-link", args=[links.preferences_token(buyer)[:-3] + "abc"]),
    ]
    for url in broken:
        response = Client().get(url)
        page = response.content.decode()
        assert response.status_code == 404, url
        assert "This link is not valid" in page
        assert "Nothing was changed." in page
        assert "sign in, then open <strong>Your Account → E-mail preferences</strong>" in page
        assert f'href="{reverse("email-preferences")}"' in page
        assert "belongs to another account" not in page

    two_years_ago = signing.b62_encode(int(time.time()) - 731 * 86400)
    monkeypatch.setattr(signing.TimestampSigner, "timestamp", lambda self: two_years_ago)
    old = links.unsubscribe_token(buyer)
    monkeypatch.undo()
    for response in (
        Client().get(reverse("unsubscribe", args=[old])),
        Client().post(reverse("unsubscribe", args=[old])),
    ):
        page = response.content.decode()
        assert response.status_code == 404
        assert "This link has expired" in page
        assert "work for 730 days" in page
    assert is_enabled(buyer, Category.PROMOTIONS, Channel.EMAIL)

    # Signed in already: straight to the preferences.
    page = signed_in(buyer).get(broken[0]).content.decode()
    assert "Sign in" not in page.split("<main", 1)[-1]
    assert ">E-mail preferences</a>" in page


def test_a_get_on_the_unsubscribe_link_only_asks(buyer: User) -> None:
    page = Client().get(reverse("unsubscribe", args=[links.unsubscribe_token(buyer)]))

    assert page.status_code == 200
    assert "Unsubscribe from promotions and offers e-mails?" in page.content.decode()
    assert is_enabled(buyer, Category.PROMOTIONS, Channel.EMAIL)


def test_the_unsubscribe_link_of_someone_unsubscribed_already_says_so(buyer: User) -> None:
    # Unsubscribed by the mail client's one click, then the link at the e-mail's foot: the
    # page asked "Unsubscribe …?" again, as if the click had done nothing.
    actions.unsubscribe(buyer, Category.PROMOTIONS)

    page = Client().get(reverse("unsubscribe", args=[links.unsubscribe_token(buyer)]))

    text = page.content.decode()
    assert page.status_code == 200
    assert "You are already unsubscribed" in text
    assert "You get no promotions and offers by e-mail." in text
    assert "Unsubscribe from promotions and offers e-mails?" not in text
    assert 'data-testid="confirm-unsubscribe"' not in text


def test_with_promotions_off_in_the_message_center_the_link_says_none_are_e_mailed(
    buyer: User,
) -> None:
    # E-mail follows the Message Center: with promotions off there, none are e-mailed
    # whatever the e-mail choice says.
    actions.set_preferences(buyer, {(Category.PROMOTIONS, Channel.MESSAGE_CENTER): False})

    page = Client().get(reverse("unsubscribe", args=[links.unsubscribe_token(buyer)]))

    assert "You are already unsubscribed" in page.content.decode()


def test_one_click_unsubscribe_needs_no_session_and_answers_200_at_once(buyer: User) -> None:
    # RFC 8058: the mail client POSTs the body "List-Unsubscribe=One-Click", no cookies.
    client = Client(enforce_csrf_checks=True)
    response = client.post(
        reverse("unsubscribe", args=[links.unsubscribe_token(buyer)]),
        "List-Unsubscribe=One-Click",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 200
    assert "You are unsubscribed" in response.content.decode()
    assert not is_enabled(buyer, Category.PROMOTIONS, Channel.EMAIL)
    # Other mail keeps coming.
    assert is_enabled(buyer, Category.BUYER_SELLER, Channel.EMAIL)


def test_a_reference_from_an_email_is_vouched_for_only_for_its_recipient(
    buyer: User, other_buyer: User
) -> None:
    message = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001 shipped", body="Shipped."
    )
    reference = references.for_message(message.pk, buyer.pk, is_official=True)
    check = reverse("check-email")

    mine = signed_in(buyer).get(check, {"reference": reference.lower().replace("-", "- ")})
    assert 'data-testid="reference-marketplace"' in mine.content.decode()
    assert "Order 1001 shipped" in mine.content.decode()
    assert "Open it in your Message Center" in mine.content.decode()

    # Copied from the buyer's e-mail into one to someone else: not theirs.
    theirs = signed_in(other_buyer).get(check, {"reference": reference})
    assert 'data-testid="reference-not-found"' in theirs.content.decode()
    assert "Order 1001 shipped" not in theirs.content.decode()

    made_up = signed_in(buyer).get(check, {"reference": reference[:-4] + "AAAA"})
    assert 'data-testid="reference-not-found"' in made_up.content.decode()


def test_a_reference_the_person_wrote_to_a_seller_is_not_vouched_for(
    buyer: User, seller: User, product: Product
) -> None:
    """ "I got e-mail MC-O… about my refund", written to a seller: the seller can print that
    reference under a phishing e-mail to the buyer, whose signature would then verify."""
    message = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001 refunded", body="Refunded."
    )
    reference = references.for_message(message.pk, buyer.pk, is_official=True)
    check = reverse("check-email")
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    assert 'data-testid="reference-marketplace"' in (
        signed_in(buyer).get(check, {"reference": reference}).content.decode()
    )

    # Typed another way than the checker is asked: it is still the same reference.
    conversation_actions.send_message(
        buyer,
        question.conversation_id,
        f"Your shop's refund came with e-mail ref {reference.lower().replace('-', ' ')}.",
    )
    page = signed_in(buyer).get(check, {"reference": reference}).content.decode()

    assert 'data-testid="reference-marketplace"' not in page
    assert 'data-testid="reference-told"' in page
    told = re.sub(r"<[^>]+>", "", page)
    assert f"you wrote it in a message to {product.storefront.name} on" in told
    assert "cannot tell whether the e-mail you have is that one" in told
    assert "Open our message" in told
    assert f"Your message to {product.storefront.name}" in told


def _full_width(text: str) -> str:
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else c for c in text)


@pytest.mark.parametrize(
    "written",
    [
        lambda reference: " ".join(reference),
        lambda reference: reference[:7] + "\n" + reference[7:],
        lambda reference: reference[:9] + "\u200b" + reference[9:],
        _full_width,
        lambda reference: reference.lower().replace("-", "_"),
        lambda reference: reference.replace("-", " ")[:-4] + " " + reference[-4:],
    ],
    ids=["spaced", "line break", "zero-width space", "full-width", "underscores", "grouped"],
)
def test_a_reference_the_person_wrote_to_a_seller_in_any_spelling_is_not_vouched_for(
    buyer: User, product: Product, written: Callable[[str], str]
) -> None:
    """Spaced out, cut by a line break or an invisible character, in full-width letters,
    with underscores: a review wrote the buyer's references to a seller in each of these,
    and the checker went on vouching for them — for the e-mails the seller could then
    print them under."""
    message = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001 refunded", body="Refunded."
    )
    reference = references.for_message(message.pk, buyer.pk, is_official=True)
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    conversation_actions.send_message(
        buyer, question.conversation_id, f"My e-mail said {written(reference)} about it."
    )

    page = signed_in(buyer).get(reverse("check-email"), {"reference": reference}).content.decode()

    assert 'data-testid="reference-marketplace"' not in page
    assert 'data-testid="reference-told"' in page


def test_a_reference_written_only_to_customer_service_or_before_it_existed_is_vouched_for(
    buyer: User, seller: User, product: Product
) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Hello?")
    request = support_actions.open_request(buyer, "Refund", "Where is my refund?")
    message = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001 refunded", body="Refunded."
    )
    reference = references.for_message(message.pk, buyer.pk, is_official=True)
    # Customer service's agents are the marketplace's own; another reference of the buyer's,
    # to the seller, is not this one.
    conversation_actions.send_message(buyer, request.conversation_id, f"It says {reference}.")
    other = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1002 shipped", body="Shipped."
    )
    conversation_actions.send_message(
        buyer,
        question.conversation_id,
        f"Shipped: {references.for_message(other.pk, buyer.pk, is_official=True)}",
    )

    page = signed_in(buyer).get(reverse("check-email"), {"reference": reference})

    assert 'data-testid="reference-marketplace"' in page.content.decode()


def test_the_checker_says_where_to_forward_a_suspicious_email(
    buyer: User, settings: Settings
) -> None:
    settings.PHISHING_REPORT_ADDRESS = "report-phishing@reply.example"
    check = reverse("check-email")

    page = signed_in(buyer).get(check).content.decode()
    assert "Forward it — as an attachment" in page
    assert "<strong>report-phishing@reply.example</strong>" in page
    not_ours = signed_in(buyer).get(check, {"reference": "MC-O1234-ABCDEFGH"}).content.decode()
    assert "Forward it to report-phishing@reply.example so that we can act on it" in not_ours

    # No report address: nothing names one.
    settings.PHISHING_REPORT_ADDRESS = ""
    page = signed_in(buyer).get(check, {"reference": "MC-O1234-ABCDEFGH"}).content.decode()
    assert 'data-testid="report-address"' not in page
    assert "Forward it" not in page
    assert "You can delete it." in page


def test_a_marketplace_email_is_recognised_after_its_copy_was_deleted(buyer: User) -> None:
    message = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001 shipped", body="Shipped."
    )
    conversation_actions.trash_conversations(buyer, [message.conversation_id])
    conversation_actions.delete_conversations(buyer, [message.conversation_id])
    reference = references.for_message(message.pk, buyer.pk, is_official=True)

    page = signed_in(buyer).get(reverse("check-email"), {"reference": reference}).content.decode()

    assert 'data-testid="reference-marketplace"' in page
    assert "It is no longer in your Message Center" in page
    assert "Open it in your Message Center" not in page


def test_a_sellers_message_reference_says_it_came_from_the_seller(
    buyer: User, seller: User, product: Product
) -> None:
    message = conversation_actions.ask_seller_about_product(
        buyer, product.pk, "Is it still available?"
    )
    reply = conversation_actions.send_message(
        seller,
        message.conversation_id,
        "Your account has been suspended. Verify your account and confirm your password.",
    )
    reference = references.for_message(reply.pk, buyer.pk, is_official=False)

    page = signed_in(buyer).get(reverse("check-email"), {"reference": reference}).content.decode()

    assert 'data-testid="reference-person"' in page
    assert f"This came from {seller.public_name}, a seller — not from the marketplace." in page
    assert "It asks for a password" in page
    # Its kind letter changed to the marketplace's: the signature no longer matches.
    forged = reference.replace("MC-P", "MC-O")
    page = signed_in(buyer).get(reverse("check-email"), {"reference": forged}).content.decode()
    assert 'data-testid="reference-not-found"' in page


def test_the_reference_of_one_s_own_message_says_it_is_theirs(
    buyer: User, seller: User, product: Product
) -> None:
    """alice checked the reference shown beside her own message (MC-P…) and was told "This
    came from Alice Martin, a buyer — not from the marketplace… never asks for your
    password": about herself, as about a stranger."""
    asked = conversation_actions.ask_seller_about_product(
        buyer, product.pk, "Is it still available?"
    )
    reference = references.for_message(asked.pk, buyer.pk, is_official=False)
    conversation_page = signed_in(buyer).get(reverse("conversation", args=[asked.conversation_id]))
    assert f"Ref. {reference}" in conversation_page.content.decode()

    page = signed_in(buyer).get(reverse("check-email"), {"reference": reference}).content.decode()

    assert 'data-testid="reference-own"' in page
    assert f"{reference} is the reference of your own message" in page
    assert "you wrote it." in page
    assert "never back to you" in page
    assert 'data-testid="reference-person"' not in page
    assert buyer.public_name not in page.split("<main", 1)[-1]
    # The seller, whom it was sent to, is told it came from the buyer, as before.
    theirs = references.for_message(asked.pk, seller.pk, is_official=False)
    page = signed_in(seller).get(reverse("check-email"), {"reference": theirs}).content.decode()
    assert f"This came from {buyer.public_name}, a buyer — not from the marketplace." in page


def test_an_agent_s_own_answer_is_theirs_too(buyer: User) -> None:
    agent = factories.agent_in_team("customer-service", username="carla")
    case = support_actions.open_request(buyer, "Where is my parcel?", "Still nothing.")
    answer = support_actions.reply_to_case(agent, case.pk, "It is on its way.")
    reference = references.for_message(answer.pk, agent.pk, is_official=True)

    page = signed_in(agent).get(reverse("check-email"), {"reference": reference}).content.decode()

    assert 'data-testid="reference-own"' in page
    assert 'data-testid="reference-marketplace"' not in page


def test_references_survive_typing_mistakes_but_not_made_up_checks() -> None:
    reference = references.for_message(123456, 7, is_official=True)
    assert references.parse(reference, 7) == references.Reference("O", 123456)
    assert references.parse(f"  {reference.lower()} ", 7) == references.Reference("O", 123456)
    assert references.parse(reference, 8) is None
    assert references.parse(reference[:-1] + ("A" if reference[-1] != "A" else "B"), 7) is None
    assert references.parse("MC-X12-ABCD", 7) is None
    assert references.parse(references.for_broadcast(7, 7), 7) == references.Reference("B", 7)


def test_look_alikes_are_forgiven_where_the_reference_cannot_mean_the_other() -> None:
    # The id 1025 is "101": a zero and two ones to mistype.
    reference = references.for_message(1025, 7, is_official=True)
    assert reference.startswith("MC-O101-")
    # The kind is a letter (O, P, B, M), the id and check are in an alphabet without O, I, L.
    typed = "mc-0lOI-" + reference[len("MC-O101-") :]
    assert references.parse(typed, 7) == references.Reference("O", 1025)
    assert references.parse(typed, 8) is None
    broadcast = references.for_broadcast(1025, 7)
    assert references.parse(broadcast.replace("MC-B", "MC-8"), 7) == references.Reference("B", 1025)
    assert references.parse(broadcast.replace("MC-B", "MC-8"), 8) is None


SPELLINGS = {
    "as printed": lambda reference: reference,
    "spaces": lambda reference: reference.replace("-", " "),
    "spaces around dashes": lambda reference: reference.replace("-", " - "),
    "no separators": lambda reference: reference.replace("-", ""),
    "en dashes": lambda reference: reference.replace("-", "\u2013"),
    "em dashes": lambda reference: reference.replace("-", "\u2014"),
    "minus signs": lambda reference: reference.replace("-", "\u2212"),
    "non-breaking hyphens": lambda reference: reference.replace("-", "\u2011"),
    "no-break spaces": lambda reference: reference.replace("-", "\u00a0"),
    "one separator left out": lambda reference: reference.replace("-", "", 1),
    "lower case, O for 0": lambda reference: reference.lower().replace("0", "o"),
    # The kind is a letter, never a digit: a zero where the O goes can only mean O.
    "a zero for the kind's O": lambda reference: reference.replace("MC-O", "MC-0"),
    "a zero for the O, no separators": lambda reference: reference.replace("-", "").replace(
        "MCO", "MC0"
    ),
    "in quotes": lambda reference: f"\u201c{reference}\u201d",
    "with the footer's words": lambda reference: f"Reference {reference}.",
    "with Ref.": lambda reference: f"(Ref. {reference})",
    "Ref. before its quotes": lambda reference: f"Ref. \u201c{reference}\u201d",
    "Ref. glued to its quotes": lambda reference: f'Ref."{reference}"',
    "Reference: before brackets": lambda reference: f"Reference: [{reference}]",
    "full-width": lambda reference: "\uff2d\uff23" + reference[2:],
}


@pytest.mark.parametrize("spelling", SPELLINGS.values(), ids=SPELLINGS.keys())
def test_a_genuine_reference_is_recognised_however_it_is_typed(
    buyer: User, other_buyer: User, spelling: Callable[[str], str]
) -> None:
    message = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001 shipped", body="Shipped."
    )
    reference = references.for_message(message.pk, buyer.pk, is_official=True)
    typed = spelling(reference)

    assert references.parse(typed, buyer.pk) == references.Reference("O", message.pk)
    page = signed_in(buyer).get(reverse("check-email"), {"reference": typed}).content.decode()
    assert 'data-testid="reference-marketplace"' in page
    # Answered about the reference as the e-mail printed it.
    assert f"Yes, {reference} is an e-mail from the marketplace to you" in page
    # However it is typed, it is still bound to its recipient.
    assert references.parse(typed, other_buyer.pk) is None
    page = signed_in(other_buyer).get(reverse("check-email"), {"reference": typed})
    assert 'data-testid="reference-not-found"' in page.content.decode()


NOT_REFERENCES = {
    "a check character changed": lambda reference: (
        reference[:-1] + ("A" if reference[-1] != "A" else "B")
    ),
    "a check character left out": lambda reference: reference[:-1],
    "a character added": lambda reference: reference + "A",
    "a letter before it": lambda reference: "X" + reference,
    "a person's letter": lambda reference: reference.replace("MC-O", "MC-P"),
    "dots for dashes": lambda reference: reference.replace("-", "."),
    "a slash inside": lambda reference: reference.replace("-", "/"),
    "two references run together": lambda reference: reference + reference,
    "a Cyrillic O": lambda reference: reference.replace("MC-O", "MC-\u041e"),
    # 8 stands for B, the broadcasts' letter: the signature is for O, so it stays refused.
    "an 8 for the kind": lambda reference: reference.replace("MC-O", "MC-8"),
    # The same number, but not the reference the e-mail printed (nor O for that 0).
    "a zero before the id": lambda reference: reference.replace("MC-O", "MC-O0"),
    "an O before the id": lambda reference: reference.replace("MC-O", "MC-OO"),
}


@pytest.mark.parametrize("spelling", NOT_REFERENCES.values(), ids=NOT_REFERENCES.keys())
def test_forgiving_the_spelling_never_vouches_for_anything_else(
    buyer: User, spelling: Callable[[str], str]
) -> None:
    message = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001 shipped", body="Shipped."
    )
    typed = spelling(references.for_message(message.pk, buyer.pk, is_official=True))

    assert references.parse(typed, buyer.pk) is None
    page = signed_in(buyer).get(reverse("check-email"), {"reference": typed}).content.decode()
    assert 'data-testid="reference-not-found"' in page
    assert "Order 1001 shipped" not in page


def test_the_checker_s_example_has_the_shape_of_a_real_reference_and_is_nobody_s(
    buyer: User,
) -> None:
    example = references.example()
    real = references.for_message(1234, buyer.pk, is_official=True)
    shape = re.compile(r"^MC-O[0-9A-Z]{2,4}-[0-9A-Z]{8}$")
    assert shape.match(real)
    assert shape.match(example)
    assert all(character in references.ALPHABET for character in example[4:].replace("-", ""))

    page = signed_in(buyer).get(reverse("check-email")).content.decode()
    assert f"<code>{example}</code>" in page
    assert references.parse(example, buyer.pk) is None
    page = signed_in(buyer).get(reverse("check-email"), {"reference": example}).content.decode()
    assert 'data-testid="reference-not-found"' in page


def test_references_of_emails_sent_before_they_were_bound_to_a_recipient_still_work(
    buyer: User, settings: Settings
) -> None:
    message = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001 shipped", body="Shipped."
    )
    digest = hmac.new(
        settings.SECRET_KEY.encode(), f"reference:M:{message.pk}".encode(), hashlib.sha256
    ).digest()
    check = "".join(references.ALPHABET[byte % 32] for byte in digest[:4])
    legacy = f"MC-M{references._encode(message.pk)}-{check}"

    assert references.parse(legacy, buyer.pk) == references.Reference("M", message.pk, True)
    page = signed_in(buyer).get(reverse("check-email"), {"reference": legacy}).content.decode()
    assert 'data-testid="reference-marketplace"' in page


def _legacy(kind: str, object_id: int, secret_key: str) -> str:
    """A reference as e-mails printed it before references were bound to their recipient."""
    digest = hmac.new(
        secret_key.encode(), f"reference:{kind}:{object_id}".encode(), hashlib.sha256
    ).digest()
    check = "".join(references.ALPHABET[byte % 32] for byte in digest[:4])
    return f"MC-{kind}{references._encode(object_id)}-{check}"


def test_an_old_reference_other_people_were_e_mailed_too_does_not_vouch_for_an_e_mail(
    buyer: User, seller: User, product: Product, settings: Settings
) -> None:
    """An old reference named its message or broadcast, not its recipient: the marketplace's
    notice in a buyer–seller conversation reached the seller under the same reference as the
    buyer, a notice to everyone reached everyone so. The seller (or anyone) could print it
    under a phishing e-mail to the buyer, and the checker answered "Yes, … is an e-mail from
    the marketplace to you"."""
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "Blue?")
    notice = conversation_actions.post_marketplace_message(
        question.conversation_id, "The seller's time to answer has passed."
    )
    from tests.delivery.helpers import send_broadcast

    broadcast = send_broadcast(kind="notice", subject="New terms of service")
    only_hers = conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001 shipped", body="Shipped."
    )

    for shared in (
        _legacy("M", notice.pk, settings.SECRET_KEY),
        _legacy("B", broadcast.pk, settings.SECRET_KEY),
    ):
        page = signed_in(buyer).get(reverse("check-email"), {"reference": shared}).content
        assert b'data-testid="reference-marketplace"' not in page
        assert b'data-testid="reference-shared"' in page
        assert b"cannot tell whether the e-mail you have is that one" in page
    # Only she was e-mailed that one: still vouched for.
    page = signed_in(buyer).get(
        reverse("check-email"), {"reference": _legacy("M", only_hers.pk, settings.SECRET_KEY)}
    )
    assert b'data-testid="reference-marketplace"' in page.content


def test_the_mailbox_shows_sent_email_on_loopback_only(buyer: User, settings: Settings) -> None:
    settings.MAILERS = {"default": {"BACKEND": "messagecenter.delivery.mailbox.MailboxBackend"}}
    from messagecenter.delivery.sender import send_due_emails

    conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject="Order 1001 shipped", body="Shipped with DHL."
    )
    send_due_emails()
    stored = MailboxEmail.objects.get()

    local = Client(HTTP_HOST="127.0.0.1:8000")
    listing = local.get(reverse("mailbox")).content.decode()
    assert "Order 1001 shipped" in listing
    detail = local.get(reverse("mailbox-email", args=[stored.pk])).content.decode()
    assert "Shipped with DHL." in detail
    html = local.get(reverse("mailbox-email-html", args=[stored.pk]))
    assert html["Content-Security-Policy"].startswith("sandbox")
    assert '<base target="_blank">' in html.content.decode()
    assert "/email/preferences/" in html.content.decode()

    remote = Client(HTTP_HOST="127.0.0.1:8000", REMOTE_ADDR="203.0.113.9")
    assert remote.get(reverse("mailbox")).status_code == 404
    # Behind a reverse proxy on the same machine: a loopback peer, the public host name.
    settings.ALLOWED_HOSTS = ["messages.example.com", "127.0.0.1"]
    proxied = Client(HTTP_HOST="messages.example.com")
    assert proxied.get(reverse("mailbox")).status_code == 404
    settings.MAILBOX_ENABLED = False
    assert local.get(reverse("mailbox")).status_code == 404


def test_the_mailbox_shows_an_emails_subject_header_with_its_own_direction(
    buyer: User, settings: Settings
) -> None:
    """The list and the heading of an e-mail's page isolated a Hebrew subject, but its
    Subject header, under Headers, took the page's left-to-right direction: its "?" at
    the wrong end."""
    settings.MAILERS = {"default": {"BACKEND": "messagecenter.delivery.mailbox.MailboxBackend"}}
    from messagecenter.delivery.sender import send_due_emails

    subject = "שאלה על ההזמנה 123?"
    conversation_actions.send_marketplace_message(
        buyer, kind=Kind.ORDER_UPDATES, subject=subject, body="Shipped with DHL."
    )
    send_due_emails()
    stored = MailboxEmail.objects.get()

    detail = (
        Client(HTTP_HOST="127.0.0.1:8000")
        .get(reverse("mailbox-email", args=[stored.pk]))
        .content.decode()
    )

    headers = detail.split('<dl class="mail-headers">', 1)[1].split("</dl>", 1)[0]
    assert not_isolated(headers, subject) == []
    # The other headers are ours or addresses: left to right, as they were.
    assert '<dd dir="auto">' not in headers.replace(f'<dd dir="auto">{subject}</dd>', "")


def test_the_mailbox_shows_a_right_to_left_name_in_from_as_an_isolate_of_its_own(
    buyer: User, settings: Settings
) -> None:
    """The Subject header was isolated, but From was one left-to-right run: an operator's
    Arabic name for customer service ("خدمة العملاء via Message Center <no-reply@…>") took
    the "<" of the address into its right-to-left run. Now the name is a <bdi> of its own
    and the address follows it left to right."""
    settings.MAILERS = {"default": {"BACKEND": "messagecenter.delivery.mailbox.MailboxBackend"}}
    settings.SUPPORT_SHOW_AGENT_NAMES = False
    settings.SUPPORT_AGENT_PUBLIC_NAME = "خدمة العملاء"
    from messagecenter.delivery.sender import send_due_emails
    from messagecenter.support import actions as support_actions
    from tests.factories import agent_in_team

    case = support_actions.open_request(buyer, "Where is my parcel?", "It is late.")
    support_actions.reply_to_case(agent_in_team(), case.pk, "It ships today.")
    send_due_emails()
    stored = MailboxEmail.objects.get(subject__startswith="خدمة العملاء")

    detail = (
        Client(HTTP_HOST="127.0.0.1:8000")
        .get(reverse("mailbox-email", args=[stored.pk]))
        .content.decode()
    )

    headers = detail.split('<dl class="mail-headers">', 1)[1].split("</dl>", 1)[0]
    name = "خدمة العملاء via Message Center"
    assert not_isolated(headers, name) == []
    assert f"<dt>From</dt><dd><bdi>{name}</bdi> &lt;" in headers
    # An address alone is ours, left to right as it was.
    assert f"<dt>To</dt><dd>{buyer.email}</dd>" in headers


def test_a_broadcast_shows_the_reference_its_email_carries(buyer: User) -> None:
    from tests.delivery.helpers import send_broadcast

    broadcast = send_broadcast(audience="buyers")

    page = signed_in(buyer).get(reverse("broadcast", args=[broadcast.pk])).content.decode()
    reference = references.for_broadcast(broadcast.pk, buyer.pk)
    assert f"Ref. {reference}" in page
    check = signed_in(buyer).get(reverse("check-email"), {"reference": reference})
    assert 'data-testid="reference-marketplace"' in check.content.decode()


def test_a_message_shows_the_reference_its_email_carries(buyer: User) -> None:
    message = conversation_actions.send_marketplace_message(
        buyer,
        kind=Kind.ORDER_UPDATES,
        subject="Order 1001",
        body="See http://127.0.0.1:8000/orders/1001/",
    )

    page = signed_in(buyer).get(reverse("conversation", args=[message.conversation_id]))
    content = page.content.decode()
    assert f"Ref. {references.for_message(message.pk, buyer.pk, is_official=True)}" in content
    # The marketplace's own links are clickable.
    assert '<a href="http://127.0.0.1:8000/orders/1001/"' in content
