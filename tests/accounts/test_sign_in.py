"""Sign-in protection (docs/accounts.md): failures are limited per client address and per
username, the answer says when to try again, reads the same for accounts that do not exist,
and a refused attempt hashes no password."""

import re
from datetime import timedelta

import pytest
from axes.models import AccessAttempt
from django.conf import settings
from django.contrib.auth.hashers import MD5PasswordHasher
from django.test import Client
from django.utils import timezone
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import User
from messagecenter.safety import actions as safety_actions
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

LOGIN = "/accounts/login/"
ATTACKER = "203.0.113.7"
HOME = "198.51.100.20"


@pytest.fixture
def hashes(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every password hashed while signing in (a check hashes the guess once)."""
    hashed: list[str] = []
    encode = MD5PasswordHasher.encode

    def counted(self: MD5PasswordHasher, password: str, salt: str) -> str:
        hashed.append(password)
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", counted)
    return hashed


def sign_in(username: str, password: str, address: str) -> int:
    response = Client(REMOTE_ADDR=address).post(LOGIN, {"username": username, "password": password})
    return response.status_code


def test_sixty_wrong_passwords_from_one_address_are_stopped_after_the_limit(
    buyer: User, other_buyer: User, hashes: list[str]
) -> None:
    # Guesses at many usernames, so only the address limit can stop them.
    answers = [sign_in(f"someone{number}", "wrong", ATTACKER) for number in range(60)]

    # The tenth failure is answered with the pause already.
    assert answers == [200] * 9 + [429] * 51
    assert len(hashes) == 10
    # The right password from that address waits too; other people are not affected.
    assert sign_in("alice", PASSWORD, ATTACKER) == 429
    assert sign_in("bob", PASSWORD, HOME) == 302
    assert len(hashes) == 11


def test_sixty_wrong_passwords_for_one_account_from_many_addresses_are_stopped(
    buyer: User, other_buyer: User, hashes: list[str]
) -> None:
    answers = [sign_in("alice", "wrong", f"192.0.2.{number + 1}") for number in range(60)]

    # The tenth failure is answered with the pause already.
    assert answers == [200] * 9 + [429] * 51
    assert len(hashes) == 10
    assert sign_in("alice", PASSWORD, HOME) == 429
    assert sign_in("bob", PASSWORD, HOME) == 302


def test_the_pause_ends_after_the_lockout_time(buyer: User, settings: Settings) -> None:
    for number in range(10):
        sign_in("alice", "wrong", f"192.0.2.{number + 1}")
    assert sign_in("alice", PASSWORD, HOME) == 429

    AccessAttempt.objects.update(
        attempt_time=timezone.now() - timedelta(minutes=settings.SIGN_IN_LOCKOUT_MINUTES + 1)
    )

    assert sign_in("alice", PASSWORD, HOME) == 302


def test_the_paused_page_says_when_to_try_again_and_the_way_back(buyer: User) -> None:
    for _ in range(10):
        sign_in("alice", "wrong", ATTACKER)

    response = Client(REMOTE_ADDR=ATTACKER).post(LOGIN, {"username": "alice", "password": "x"})

    assert response.status_code == 429
    page = response.content.decode()
    assert "Sign-in is paused for 15 minutes." in page
    assert "Try again in 15 minutes" in page


def test_an_unknown_username_gets_the_same_answer_and_costs_the_same_hash(
    buyer: User, hashes: list[str]
) -> None:
    known = Client(REMOTE_ADDR=HOME).post(LOGIN, {"username": "alice", "password": "wrong"})
    unknown = Client(REMOTE_ADDR="198.51.100.21").post(
        LOGIN, {"username": "nobody-here", "password": "wrong"}
    )

    assert hashes == ["wrong", "wrong"]
    assert known.status_code == unknown.status_code == 200
    assert known.context["form"].errors == unknown.context["form"].errors
    for username in ("alice", "nobody-here"):
        for number in range(10):
            sign_in(username, "wrong", f"192.0.2.{number + 1}")
    paused_known = Client(REMOTE_ADDR=HOME).post(LOGIN, {"username": "alice", "password": "x"})
    paused_unknown = Client(REMOTE_ADDR=HOME).post(
        LOGIN, {"username": "nobody-here", "password": "x"}
    )
    assert paused_known.status_code == paused_unknown.status_code == 429
    assert page_without_form_values(paused_known.content) == page_without_form_values(
        paused_unknown.content
    )


def page_without_form_values(content: bytes) -> str:
    """The page less what differs by design: the CSRF token and the username typed."""
    return re.sub(r'value="[^"]*"', 'value=""', content.decode())


def test_a_huge_password_is_refused_without_hashing(buyer: User, hashes: list[str]) -> None:
    response = Client(REMOTE_ADDR=HOME).post(
        LOGIN, {"username": "alice", "password": "x" * 100_000}
    )

    assert response.status_code == 200
    assert hashes == []
    assert "password" in response.context["form"].errors


SUSPENDED = "This account is suspended, so it cannot sign in"


def test_a_suspended_account_s_right_password_is_told_the_account_is_suspended(
    buyer: User, hashes: list[str]
) -> None:
    safety_actions.suspend(buyer)

    response = Client(REMOTE_ADDR=HOME).post(LOGIN, {"username": "alice", "password": PASSWORD})

    assert response.status_code == 200
    page = response.content.decode()
    assert SUSPENDED in page
    # How to appeal, concretely (docs/safety.md#appeals): the suspension e-mail and
    # customer service's address.
    assert "appeal by e-mail: reply to that e-mail, or write to" in page
    assert settings.SUPPORT_EMAIL_ADDRESS in page
    assert "do not match an account" not in page
    # The password was right: the field is not marked wrong.
    assert "aria-invalid" not in page
    assert "_auth_user_id" not in response.client.session
    # One hash, as for any attempt.
    assert hashes == [PASSWORD]


def test_a_wrong_password_for_a_suspended_account_reads_as_any_wrong_password(
    buyer: User, other_buyer: User, hashes: list[str]
) -> None:
    safety_actions.suspend(buyer)

    suspended = Client(REMOTE_ADDR=HOME).post(LOGIN, {"username": "alice", "password": "wrong"})
    active = Client(REMOTE_ADDR=HOME).post(LOGIN, {"username": "bob", "password": "wrong"})
    unknown = Client(REMOTE_ADDR=HOME).post(LOGIN, {"username": "nobody", "password": "wrong"})

    assert suspended.status_code == active.status_code == unknown.status_code == 200
    assert suspended.context["form"].errors == active.context["form"].errors
    assert suspended.context["form"].errors == unknown.context["form"].errors
    assert SUSPENDED not in suspended.content.decode()
    # The same cost too: one hash each.
    assert hashes == ["wrong", "wrong", "wrong"]


def test_a_paused_username_is_paused_before_anyone_learns_it_is_suspended(
    buyer: User, hashes: list[str]
) -> None:
    safety_actions.suspend(buyer)
    for number in range(10):
        sign_in("alice", "wrong", f"192.0.2.{number + 1}")
    hashed = len(hashes)

    response = Client(REMOTE_ADDR=HOME).post(LOGIN, {"username": "alice", "password": PASSWORD})

    assert response.status_code == 429
    assert SUSPENDED not in response.content.decode()
    assert len(hashes) == hashed
    # The right password of a suspended account is a failed sign-in too: it counts.
    assert AccessAttempt.objects.filter(username="alice").exists()


def test_people_signed_in_before_the_password_check_changed_stay_signed_in(
    buyer: User,
) -> None:
    client = Client()
    client.force_login(buyer, backend="django.contrib.auth.backends.ModelBackend")

    assert client.get("/message-center/").status_code == 200


@pytest.mark.parametrize("method", ["PUT", "PATCH", "DELETE"])
def test_the_sign_in_page_takes_only_get_and_post(
    buyer: User, hashes: list[str], method: str
) -> None:
    """Like every other page (require_http_methods): Django's LoginView handled a PUT as
    a POST, so the right password sent with PUT signed in."""
    client = Client()
    response = client.generic(
        method,
        LOGIN,
        f"username=alice&password={PASSWORD}",
        content_type="application/x-www-form-urlencoded",
    )

    assert response.status_code == 405
    assert response["Allow"] == "GET, HEAD, POST"
    assert "_auth_user_id" not in client.session
    assert hashes == []
