"""The account's own e-mails — a password reset link, an address to confirm, an address in
use, an address changed, a data export ready — carry a reference of their own (kind A,
named by the outbox row), and "Is this e-mail from us?" vouches for it, on the page and in
the API (docs/email.md#the-reference). They used to carry none: the checker could not vouch
for the e-mail a phisher copies most easily, and a forwarded genuine reset was answered "it
carries no reference of ours, and every e-mail we send has one"."""

from datetime import timedelta

import pytest
from django.core import mail
from django.urls import reverse
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.delivery import references
from messagecenter.delivery.actions import record_account_email
from messagecenter.delivery.models import Email, EmailKind
from messagecenter.delivery.sender import send_due_emails
from messagecenter.marketplace.models import Product
from tests.api.helpers import anonymous, with_token
from tests.factories import signed_in

pytestmark = pytest.mark.django_db

SUBJECTS = {
    EmailKind.PASSWORD_RESET: "Reset your Marketplace password",
    EmailKind.DATA_EXPORT: "Your Message Center data is ready to download",
    EmailKind.EMAIL_CHANGE: "Confirm your new Marketplace e-mail address",
    EmailKind.EMAIL_CHANGED: "Your Marketplace e-mail address was changed",
}


@pytest.fixture(autouse=True)
def _kept_mail(settings: Settings) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def sent(user: User, kind: str, to_address: str | None = None) -> tuple[Email, str, str, str]:
    """The account e-mail queued and sent: its row, the reference in its header, its text
    and its HTML."""
    assert record_account_email(user, kind, timedelta(0), to_address) is None
    assert send_due_emails() == 1
    [message] = mail.outbox
    mail.outbox.clear()
    row = Email.objects.get(kind=kind, user=user)
    assert row.status == "sent", row.last_error
    [(html, _)] = message.alternatives  # type: ignore[attr-defined]
    return row, message.extra_headers["X-Message-Center-Reference"], str(message.body), str(html)


def checked(user: User, reference: str) -> str:
    return str(
        signed_in(user).get(reverse("check-email"), {"reference": reference}).content.decode()
    )


@pytest.mark.parametrize("kind", list(SUBJECTS))
def test_an_account_email_carries_a_reference_its_reader_can_check(
    buyer: User, other_buyer: User, kind: str
) -> None:
    to_address = "alice.new@example.test" if kind == EmailKind.EMAIL_CHANGE else None
    if kind == EmailKind.EMAIL_CHANGED:
        to_address = "alice.old@example.test"
    row, reference, text, html = sent(buyer, kind, to_address)

    assert reference == references.for_account_email(row.pk, buyer.pk)
    assert reference.startswith("MC-A")
    assert f"Reference {reference}." in text
    assert f"Reference {reference}.</strong>" in html
    assert "http://127.0.0.1:8000/check-email/" in text or "/check-email" in text

    page = checked(buyer, reference.lower().replace("-", " "))
    assert 'data-testid="reference-marketplace"' in page
    assert f"Yes, {reference} is an e-mail from the marketplace to you." in page
    assert SUBJECTS[kind] in page
    assert 'data-testid="account-email"' in page
    assert "Sent on " in page
    assert "are not kept in your Message Center" in page
    assert "Every link in a genuine one goes to <strong>127.0.0.1</strong>" in page
    assert "Open it in your Message Center" not in page
    # Not the "deleted it" wording of a message's reference without a copy.
    assert "no longer in your Message Center" not in page

    # Copied from the buyer's e-mail into one to someone else: not theirs.
    assert 'data-testid="reference-not-found"' in checked(other_buyer, reference)
    assert SUBJECTS[kind] not in checked(other_buyer, reference)
    # A made-up check, or another row's number under this check, is no reference of ours.
    assert 'data-testid="reference-not-found"' in checked(buyer, reference[:-4] + "AAAA")
    forged = references.for_account_email(row.pk + 1, buyer.pk).split("-")[1]
    assert 'data-testid="reference-not-found"' in checked(
        buyer, f"MC-{forged}-{reference.split('-')[2]}"
    )


def test_the_address_in_use_notice_is_checked_by_the_account_that_holds_the_address(
    buyer: User, other_buyer: User
) -> None:
    """It goes to an address another account uses, and its holder reads it: the reference
    is theirs to check, and the person who asked learns nothing from it."""
    row, reference, text, _ = sent(buyer, EmailKind.EMAIL_IN_USE, other_buyer.email)

    assert reference == references.for_account_email(row.pk, other_buyer.pk)
    assert f"Reference {reference}." in text
    holder = checked(other_buyer, reference)
    assert 'data-testid="reference-marketplace"' in holder
    assert "This e-mail address already has a Marketplace account" in holder
    assert "someone asked to use your e-mail address for another account" in holder
    assert 'data-testid="reference-not-found"' in checked(buyer, reference)


def test_an_account_email_reference_written_to_a_seller_is_not_vouched_for(
    buyer: User, product: Product
) -> None:
    _, reference, _, _ = sent(buyer, EmailKind.PASSWORD_RESET)
    conversation_actions.ask_seller_about_product(
        buyer, product.pk, f"Did you send me {reference}?"
    )

    page = checked(buyer, reference)
    assert 'data-testid="reference-told"' in page
    assert "Reset your Marketplace password" in page
    # Nothing in the Message Center to compare it with: what a genuine one is like instead.
    assert "Ours was an e-mail about your account: a link to choose a new password" in page
    assert "Every link in a genuine one goes to <strong>127.0.0.1</strong>" in page
    assert "Compare the e-mail with our message in your Message Center" not in page


def test_the_api_checks_a_reference_as_the_page_does(buyer: User, other_buyer: User) -> None:
    _, reference, _, _ = sent(buyer, EmailKind.PASSWORD_RESET)
    official = conversation_actions.send_marketplace_message(
        buyer, kind="order_updates", subject="Order 1001 shipped", body="Shipped."
    )
    api = with_token(buyer)

    response = api.get("/email-check", {"reference": f"Reference {reference.lower()}."})
    assert response.status_code == 200, response.content
    answer = response.json()
    assert answer["reference"] == reference
    assert answer["origin"] == "marketplace"
    assert answer["subject"] == "Reset your Marketplace password"
    assert answer["account_email"] == "password_reset"
    assert answer["about"].startswith("a link to choose a new password")
    assert answer["sent_at"] is not None
    assert answer["url"] == ""

    message = api.get(
        "/email-check",
        {"reference": references.for_message(official.pk, buyer.pk, is_official=True)},
    ).json()
    assert (message["origin"], message["subject"], message["account_email"]) == (
        "marketplace",
        "Order 1001 shipped",
        "",
    )
    assert f"message={official.pk}" in message["url"]

    theirs = with_token(other_buyer).get("/email-check", {"reference": reference}).json()
    assert (theirs["origin"], theirs["subject"], theirs["about"]) == ("unknown", "", "")

    # Bad input: a clear error, nothing checked.
    assert api.get("/email-check").status_code == 422
    assert api.get("/email-check", {"reference": ""}).status_code == 422
    assert api.get("/email-check", {"reference": "   "}).status_code == 422
    assert api.get("/email-check", {"reference": reference + "\x00"}).status_code == 422
    assert api.get("/email-check", {"reference": "M" * 101}).status_code == 422
    assert api.get("/email-check", {"reference": "nonsense"}).json()["origin"] == "unknown"
    assert anonymous().get("/email-check", {"reference": reference}).status_code == 401


def test_an_account_email_whose_record_is_gone_is_still_ours_and_about_the_account(
    buyer: User,
) -> None:
    """After EMAIL_RETENTION_DAYS its outbox row is purged: the page said "It is no longer
    in your Message Center … the e-mail itself is genuine", where it never was, and the API
    gave no sign it was about the account."""
    row, reference, _, _ = sent(buyer, EmailKind.DATA_EXPORT)
    Email.objects.filter(pk=row.pk).delete()

    page = checked(buyer, reference)
    assert 'data-testid="reference-marketplace"' in page
    assert "we cannot say which one it was" in page
    assert "are not kept in your Message Center" in page
    assert "no longer in your Message Center" not in page
    answer = with_token(buyer).get("/email-check", {"reference": reference}).json()
    assert (answer["origin"], answer["account_email"], answer["subject"]) == (
        "marketplace",
        "account",
        "",
    )


def test_the_address_in_use_notice_stays_signed_for_the_holder_it_was_queued_for(
    buyer: User, other_buyer: User
) -> None:
    """The holder was looked up when the e-mail was built: one who changed address before
    a retry made it signed for the asker, who was then told "someone asked to use your
    e-mail address for another account"."""
    address = other_buyer.email
    assert record_account_email(buyer, EmailKind.EMAIL_IN_USE, timedelta(0), address) is None
    User.objects.filter(pk=other_buyer.pk).update(email="someone-else@example.test")

    assert send_due_emails() == 1
    [message] = mail.outbox
    row = Email.objects.get(kind=EmailKind.EMAIL_IN_USE)
    reference = message.extra_headers["X-Message-Center-Reference"]
    assert reference == references.for_account_email(row.pk, other_buyer.pk)
    assert message.to == [address]
    assert 'data-testid="reference-not-found"' in checked(buyer, reference)


def test_a_suspended_reader_gets_no_link_to_a_page_that_needs_a_sign_in(
    buyer: User, other_buyer: User
) -> None:
    User.objects.filter(pk=other_buyer.pk).update(is_active=False)

    _, reference, text, html = sent(buyer, EmailKind.EMAIL_IN_USE, other_buyer.email)

    assert f"Reference {reference}." in text
    assert "check-email" not in text
    assert "check-email" not in html
    assert "are not kept in your Message Center." in text
