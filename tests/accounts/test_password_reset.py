"""Password reset by e-mail (docs/accounts.md): the same answer whether or not an account
exists, the link sent through the outbox and made when sent, one use, every device signed
out after it, and an account paused by the sign-in limits can sign in again at once."""

import re

import pytest
from django.core import mail
from django.test import Client
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions
from messagecenter.accounts.models import User
from messagecenter.delivery.models import Email
from messagecenter.delivery.sender import send_due_emails
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW_PASSWORD = "a fresh and long passphrase 2026"


@pytest.fixture(autouse=True)
def _kept_mail(settings: Settings) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def ask_for_link(identifier: str, address: str = "198.51.100.30") -> str:
    response = Client(REMOTE_ADDR=address).post(
        "/accounts/password-reset/", {"identifier": identifier}
    )
    assert response.status_code == 200
    return str(response.content.decode())


def sent_link() -> str:
    assert send_due_emails() == 1
    [email] = mail.outbox
    match = re.search(r"http://\S+/accounts/password-reset/\S+/\S+/", str(email.body))
    assert match is not None
    return match.group(0).removeprefix("http://127.0.0.1:8000")


def test_a_link_goes_to_the_accounts_address_through_the_outbox(buyer: User) -> None:
    ask_for_link("alice@example.test")

    queued = Email.objects.get()
    assert (queued.user, queued.kind, queued.status) == (buyer, "password_reset", "queued")
    # Made when sent: nothing in the database holds the link.
    assert "password-reset" not in str(list(Email.objects.values()))
    link = sent_link()
    assert mail.outbox[0].to == ["alice@example.test"]
    assert mail.outbox[0].subject == "Reset your Marketplace password"
    assert Client().get(link).status_code == 200


def test_the_answer_is_the_same_whether_or_not_an_account_exists(buyer: User) -> None:
    known = ask_for_link("alice")
    unknown = ask_for_link("nobody-at-all")

    assert re.sub(r'value="[^"]*"', "", known) == re.sub(r'value="[^"]*"', "", unknown)
    assert Email.objects.count() == 1


def test_asking_again_and_again_sends_one_email_in_five_minutes(buyer: User) -> None:
    for _ in range(5):
        ask_for_link("alice")

    assert Email.objects.count() == 1


def test_the_link_sets_a_new_password_once_and_signs_out_every_device(buyer: User) -> None:
    elsewhere = Client()
    elsewhere.force_login(buyer)
    _, secret = actions.create_api_token(buyer, "Phone")
    ask_for_link("alice")
    link = sent_link()

    response = Client().post(link, {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    assert response.status_code == 302
    assert elsewhere.get("/message-center/").status_code == 302
    assert (
        Client().get("/api/v1/me", headers={"Authorization": f"Bearer {secret}"}).status_code == 401
    )
    assert (
        Client()
        .post("/accounts/login/", {"username": "alice", "password": NEW_PASSWORD})
        .status_code
        == 302
    )
    used_again = Client().post(
        link, {"new_password1": "another passphrase 99", "new_password2": "another passphrase 99"}
    )
    assert used_again.status_code == 400
    assert User.objects.get(pk=buyer.pk).check_password(NEW_PASSWORD)


def test_an_altered_link_changes_nothing(buyer: User) -> None:
    ask_for_link("alice")
    link = sent_link()

    response = Client().post(
        link[:-3] + "xx/", {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD}
    )

    assert response.status_code == 400
    assert User.objects.get(pk=buyer.pk).check_password(PASSWORD)


def test_a_reset_lets_a_paused_account_sign_in_at_once(buyer: User) -> None:
    for number in range(10):
        Client(REMOTE_ADDR=f"192.0.2.{number + 1}").post(
            "/accounts/login/", {"username": "alice", "password": "wrong"}
        )
    paused = Client().post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert paused.status_code == 429
    assert "reset your password by e-mail" in paused.content.decode()

    ask_for_link("alice")
    Client().post(sent_link(), {"new_password1": NEW_PASSWORD, "new_password2": NEW_PASSWORD})

    response = Client().post("/accounts/login/", {"username": "alice", "password": NEW_PASSWORD})
    assert response.status_code == 302


def missing_descriptions(page: str) -> list[str]:
    """The ids an aria-describedby names that no element of the page has."""
    ids = set(re.findall(r'\bid="([^"]+)"', page))
    named = {
        name
        for described in re.findall(r'aria-describedby="([^"]+)"', page)
        for name in described.split()
    }
    return sorted(named - ids)


def test_the_password_rules_are_read_out_with_the_new_password_fields(buyer: User) -> None:
    """Django's password fields point aria-describedby at "<id>_helptext", and the pages
    showed the rules in an element without that id: a screen reader read the fields
    without "at least 8 characters" and the rest."""
    browser = Client()
    signed_in = browser.post("/accounts/login/", {"username": "alice", "password": PASSWORD})
    assert signed_in.status_code == 302
    change = browser.get("/account/password/")
    ask_for_link("alice")
    reset = Client().get(sent_link(), follow=True)

    for response in (change, reset):
        page = response.content.decode()
        assert 'aria-describedby="id_new_password1_helptext"' in page
        assert missing_descriptions(page) == []
        assert re.search(r'id="id_new_password1_helptext"[^>]*>.*at least 8 characters', page)
