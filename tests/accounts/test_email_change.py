"""Changing one's e-mail address (docs/accounts.md#e-mail-address): a signed, expiring
link to the new address through the outbox, made when sent; the address changes only when
it is opened, and the old address is told; an address another account uses is refused
without the asker learning it; web and API."""

import re
from datetime import timedelta
from typing import Any
from unittest import mock

import pytest
from django.core import mail
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from messagecenter.accounts import actions
from messagecenter.accounts.models import User
from messagecenter.delivery.models import Email
from messagecenter.delivery.sender import send_due_emails
from messagecenter.errors import InvalidInput
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

NEW = "alice.new@example.test"


@pytest.fixture(autouse=True)
def _kept_mail(settings: Settings) -> None:
    settings.MAILERS = {"default": {"BACKEND": "django.core.mail.backends.locmem.EmailBackend"}}


def signed_in(user: User) -> Client:
    client = Client()
    client.force_login(user)
    return client


def ask(client: Client, address: str, password: str = PASSWORD) -> str:
    response = client.post("/account/email-address/", {"email": address, "password": password})
    assert response.status_code == 302
    return str(client.get("/account/email-address/").content.decode())


def without_tokens(page: str) -> str:
    return re.sub(r'value="[^"]*"', "", page)


def sent_link() -> str:
    assert send_due_emails() == 1
    email = mail.outbox[-1]
    match = re.search(r"http://\S+/accounts/email-change/\S+/", str(email.body))
    assert match is not None
    return match.group(0).removeprefix("http://127.0.0.1:8000")


def test_the_link_goes_to_the_new_address_and_the_address_changes_only_when_opened(
    buyer: User,
) -> None:
    page = ask(signed_in(buyer), NEW)
    assert f"We sent a link to {NEW}" in page

    queued = Email.objects.get()
    assert (queued.user, queued.kind, queued.to_address) == (buyer, "email_change", NEW)
    # Made when sent: nothing in the database holds the link.
    assert "email-change" not in str(list(Email.objects.values()))
    link = sent_link()
    assert mail.outbox[0].to == [NEW]
    assert mail.outbox[0].subject == "Confirm your new Marketplace e-mail address"
    assert Email.objects.get().to_address == NEW
    # Opening the link (a mail scanner, say) changes nothing; the button does.
    assert Client().get(link).status_code == 200
    assert User.objects.get(pk=buyer.pk).email == "alice@example.test"

    assert Client().post(link).status_code == 302

    assert User.objects.get(pk=buyer.pk).email == NEW
    assert send_due_emails() == 1
    notice = mail.outbox[1]
    assert (notice.to, notice.subject) == (
        ["alice@example.test"],
        "Your Marketplace e-mail address was changed",
    )
    assert NEW not in str(notice.body)
    # Used once: the account's address is no longer the one it changes from.
    assert Client().post(link).status_code == 400


def test_signed_in_as_another_account_the_link_changes_nothing(
    buyer: User, other_buyer: User
) -> None:
    """As the API does: the button changed the link's account while the signed-in one's
    page said its own address had changed."""
    ask(signed_in(buyer), NEW)
    link = sent_link()
    someone_else = signed_in(other_buyer)

    shown = someone_else.get(link)
    pressed = someone_else.post(link)

    assert shown.status_code == pressed.status_code == 400
    assert "This link changes another account" in pressed.content.decode()
    assert User.objects.get(pk=buyer.pk).email == "alice@example.test"
    assert User.objects.get(pk=other_buyer.pk).email != NEW
    # Its own account (signed in, or not) still can.
    assert signed_in(buyer).post(link).status_code == 302
    assert User.objects.get(pk=buyer.pk).email == NEW


def test_an_address_another_account_uses_is_refused_without_telling_the_asker(
    buyer: User, other_buyer: User
) -> None:
    free = ask(signed_in(buyer), NEW)
    Email.objects.all().delete()
    taken = ask(signed_in(buyer), "BOB@example.test")

    # The asker's page reads the same, but for the address typed (and the form's token).
    assert without_tokens(free).replace(NEW, "X") == without_tokens(taken).replace(
        "BOB@example.test", "X"
    )
    assert send_due_emails() == 1
    [email] = mail.outbox
    assert email.to == ["BOB@example.test"]
    assert email.subject == "This e-mail address already has a Marketplace account"
    assert "alice" not in str(email.body)
    assert "email-change" not in str(email.body)
    assert User.objects.get(pk=buyer.pk).email == "alice@example.test"


def test_one_email_a_minute_whichever_it_says(buyer: User, other_buyer: User) -> None:
    client = signed_in(buyer)
    ask(client, "bob@example.test")
    for address in (NEW, "third@example.test"):
        again = client.post("/account/email-address/", {"email": address, "password": PASSWORD})
        assert again.status_code == 429

    assert list(Email.objects.values_list("kind", "to_address")) == [
        ("email_in_use", "bob@example.test")
    ]


def test_a_second_ask_within_the_minute_says_nothing_was_sent_and_how_long_to_wait(
    buyer: User,
) -> None:
    """It said "We sent a link to …" the second time too, though the limit sent nothing."""
    client = signed_in(buyer)
    ask(client, "dana@exmaple.test")
    with mock.patch(
        "django.utils.timezone.now", return_value=timezone.now() + timedelta(seconds=20)
    ):
        again = client.post("/account/email-address/", {"email": NEW, "password": PASSWORD})

    page = again.content.decode()
    assert again.status_code == 429
    assert "We sent a link" not in page
    assert "You asked for a link less than a minute ago; wait 40 seconds" in page
    assert list(Email.objects.values_list("to_address", flat=True)) == ["dana@exmaple.test"]
    assert User.objects.get(pk=buyer.pk).email == "alice@example.test"


def test_the_api_refuses_a_second_ask_within_the_minute_with_when_to_try_again(
    buyer: User,
) -> None:
    _, secret = actions.create_api_token(buyer, "Phone")

    def ask_api(address: str) -> Any:
        return Client().post(
            "/api/v1/me/email",
            {"email": address, "password": PASSWORD},
            content_type="application/json",
            headers={"Authorization": f"Bearer {secret}"},
        )

    assert ask_api("dana@exmaple.test").status_code == 202
    refused = ask_api(NEW)

    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "email_change_too_soon"
    assert 1 <= int(refused["Retry-After"]) <= 60
    assert list(Email.objects.values_list("to_address", flat=True)) == ["dana@exmaple.test"]
    with mock.patch(
        "django.utils.timezone.now", return_value=timezone.now() + timedelta(seconds=61)
    ):
        assert ask_api(NEW).status_code == 202


def test_the_api_refuses_a_password_over_the_limit_as_the_sign_in_page_does(
    buyer: User,
) -> None:
    """The API took a current password of any length and hashed it whole: it is refused,
    unchecked, in the sign-in page's words, and nothing is sent."""
    _, secret = actions.create_api_token(buyer, "Phone")

    with mock.patch.object(User, "check_password") as check_password:
        refused = Client().post(
            "/api/v1/me/email",
            {"email": NEW, "password": "x" * 1025},
            content_type="application/json",
            headers={"Authorization": f"Bearer {secret}"},
        )

    assert refused.status_code == 400
    assert refused.json()["error"]["code"] == "password_too_long"
    assert refused.json()["error"]["message"] == (
        "A password is at most 1024 characters: check it and try again."
    )
    check_password.assert_not_called()
    assert not Email.objects.exists()
    assert User.objects.get(pk=buyer.pk).email == "alice@example.test"


def test_the_link_expires(buyer: User, settings: Settings) -> None:
    ask(signed_in(buyer), NEW)
    link = sent_link()
    later = timezone.now() + timedelta(hours=settings.EMAIL_CHANGE_LINK_HOURS, minutes=1)

    with mock.patch("time.time", return_value=later.timestamp()):
        assert Client().post(link).status_code == 400

    assert User.objects.get(pk=buyer.pk).email == "alice@example.test"


def test_a_new_password_since_the_link_was_made_stops_it(buyer: User) -> None:
    # A reset, or an undo from the old mailbox (which stops the password), ends what the
    # account asked for before it.
    ask(signed_in(buyer), NEW)
    link = sent_link()
    buyer.set_password("a new passphrase for this account")
    buyer.save(update_fields=["password"])

    assert Client().get(link).status_code == 400
    assert Client().post(link).status_code == 400
    assert User.objects.get(pk=buyer.pk).email == "alice@example.test"


def test_an_address_taken_meanwhile_or_an_altered_link_changes_nothing(
    buyer: User, other_buyer: User
) -> None:
    ask(signed_in(buyer), NEW)
    link = sent_link()
    User.objects.filter(pk=other_buyer.pk).update(email=NEW.upper())

    response = Client().post(link)
    assert response.status_code == 409
    assert "already belongs to another account" in response.content.decode()
    assert Client().post(link[:-4] + "xx/").status_code == 400
    assert User.objects.get(pk=buyer.pk).email == "alice@example.test"


@pytest.mark.parametrize(
    ("address", "password", "code"),
    [
        (NEW, "not my password", "wrong_password"),
        ("not an address", PASSWORD, "invalid_email"),
        ("Alice@EXAMPLE.test", PASSWORD, "same_email"),
    ],
)
def test_bad_input_is_refused_and_sends_nothing(
    buyer: User, address: str, password: str, code: str
) -> None:
    with pytest.raises(InvalidInput) as refused:
        actions.request_email_change(buyer, address, password)
    assert refused.value.code == code
    response = signed_in(buyer).post(
        "/account/email-address/", {"email": address, "password": password}
    )
    assert response.status_code == 400
    assert not Email.objects.exists()


def test_the_api_asks_and_confirms(buyer: User, other_buyer: User) -> None:
    _, secret = actions.create_api_token(buyer, "Phone")
    headers = {"Authorization": f"Bearer {secret}"}

    asked = Client().post(
        "/api/v1/me/email",
        {"email": NEW, "password": PASSWORD},
        content_type="application/json",
        headers=headers,
    )
    assert (asked.status_code, asked.json()) == (202, {"pending_email": NEW})
    token = sent_link().rstrip("/").rpartition("/")[2]
    # Someone else's token is refused.
    _, other_secret = actions.create_api_token(other_buyer, "Phone")
    refused = Client().post(
        "/api/v1/me/email/confirm",
        {"token": token},
        content_type="application/json",
        headers={"Authorization": f"Bearer {other_secret}"},
    )
    assert (refused.status_code, refused.json()["error"]["code"]) == (
        400,
        "email_change_link_invalid",
    )

    confirmed = Client().post(
        "/api/v1/me/email/confirm",
        {"token": token},
        content_type="application/json",
        headers=headers,
    )
    assert confirmed.status_code == 200
    assert User.objects.get(pk=buyer.pk).email == NEW
    # The answer "as GET /me" says the address, as Your Account does: it named none, so
    # an app could change the address but never show which one the account has.
    assert confirmed.json()["email"] == NEW
    assert Client().get("/api/v1/me", headers=headers).json()["email"] == NEW
