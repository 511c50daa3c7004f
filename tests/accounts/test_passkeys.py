"""Passkeys (docs/accounts.md#passkeys), with a software authenticator
(tests/accounts/authenticator.py): registering one, the second step of a password sign-in,
a sign-in with the passkey alone, "Confirm it is you", removing one, enforcement by role,
and the API. Every refused answer — another challenge, a replay, another origin, another
person's passkey — changes nothing."""

import json
import time
from typing import Any

import pytest
from axes.models import AccessAttempt
from django.test import Client
from pytest_django.fixtures import Settings

from messagecenter.accounts import passkey_actions, two_factor
from messagecenter.accounts.models import Passkey, User
from messagecenter.accounts.recent_sign_in import SIGNED_IN_AT_KEY
from tests.accounts.authenticator import ORIGIN, RP_ID, Authenticator
from tests.api.helpers import CSRF_TOKEN, with_session
from tests.factories import PASSWORD

pytestmark = pytest.mark.django_db

CSRF = CSRF_TOKEN


@pytest.fixture(autouse=True)
def _relying_party(settings: Settings) -> None:
    settings.PASSKEY_RP_ID = RP_ID
    settings.PASSKEY_ORIGINS = [ORIGIN]


def browser(*, address: str = "192.0.2.10") -> Client:
    client = Client(enforce_csrf_checks=True, REMOTE_ADDR=address)
    client.cookies["csrftoken"] = CSRF
    return client


def post_json(client: Client, path: str, data: Any = None) -> Any:
    return client.post(
        path,
        json.dumps(data if data is not None else {}),
        content_type="application/json",
        # Signing in rotates the CSRF token, as in a browser: the cookie's current one.
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )


def signed_in(user: User) -> Client:
    """A browser that finished signing in (with its second factor, when on), just now."""
    client = browser()
    client.force_login(user)
    session = client.session
    session.pop(two_factor.PENDING_KEY, None)
    session.save()
    return client


def register(client: Client, authenticator: Authenticator, name: str = "Laptop") -> Any:
    options = post_json(client, "/account/passkeys/options/").json()
    return post_json(
        client, "/account/passkeys/", {"name": name, "credential": authenticator.create(options)}
    )


def with_passkey(user: User, name: str = "Laptop") -> Authenticator:
    authenticator = Authenticator()
    response = register(signed_in(user), authenticator, name)
    assert response.status_code == 201, response.content
    return authenticator


def password_sign_in(user: User, **options: Any) -> Client:
    client = browser(**options)
    response = client.post(
        "/accounts/login/",
        {"username": user.username, "password": PASSWORD, "csrfmiddlewaretoken": CSRF},
    )
    assert response.status_code == 302
    return client


def second_step(client: Client, authenticator: Authenticator, **answer: Any) -> Any:
    options = post_json(client, "/accounts/two-factor/passkey/options/").json()
    credential = authenticator.get(options, **answer)
    return post_json(client, "/accounts/two-factor/passkey/", {"credential": credential})


def state(user: User) -> list[tuple[Any, ...]]:
    return list(
        Passkey.objects.filter(user=user)
        .order_by("pk")
        .values_list("credential_id", "name", "sign_count", "last_used_at")
    )


# --- registering --------------------------------------------------------------------------


def test_a_registered_passkey_is_listed_and_turns_two_factor_on(buyer: User) -> None:
    client = signed_in(buyer)

    response = register(client, Authenticator(), "MacBook Touch ID")

    assert response.status_code == 201
    body = response.json()
    assert body["passkey"]["name"] == "MacBook Touch ID"
    # The first second factor: recovery codes, shown once.
    assert len(body["recovery_codes"]) == 10
    assert two_factor.has_two_factor(buyer)
    page = client.get("/account/security/").content.decode()
    assert "MacBook Touch ID" in page
    assert "not used yet" in page
    # A second one brings no new codes.
    assert register(client, Authenticator(), "Phone").json()["recovery_codes"] is None


@pytest.mark.parametrize(
    "answer",
    [
        {"challenge": "bm90LXRoZS1jaGFsbGVuZ2U"},
        {"origin": "https://phishing.example"},
        {"rp_id": "phishing.example"},
    ],
    ids=["other-challenge", "other-origin", "other-relying-party"],
)
def test_a_registration_answer_for_something_else_is_refused(
    buyer: User, answer: dict[str, str]
) -> None:
    client = signed_in(buyer)
    options = post_json(client, "/account/passkeys/options/").json()
    credential = Authenticator().create(options, **answer)

    response = post_json(client, "/account/passkeys/", {"name": "Laptop", "credential": credential})

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "passkey_not_verified"
    assert state(buyer) == []


def test_a_registration_answer_replayed_is_refused(buyer: User) -> None:
    client = signed_in(buyer)
    authenticator = Authenticator()
    options = post_json(client, "/account/passkeys/options/").json()
    body = {"name": "Laptop", "credential": authenticator.create(options)}
    assert post_json(client, "/account/passkeys/", body).status_code == 201
    before = state(buyer)

    again = post_json(client, "/account/passkeys/", body)

    assert again.status_code == 400
    assert again.json()["error"]["code"] == "passkey_challenge_expired"
    assert state(buyer) == before


def test_a_challenge_expires(buyer: User, monkeypatch: pytest.MonkeyPatch) -> None:
    client = signed_in(buyer)
    options = post_json(client, "/account/passkeys/options/").json()
    later = time.time() + 301
    monkeypatch.setattr(passkey_actions.time, "time", lambda: later)

    response = post_json(
        client,
        "/account/passkeys/",
        {"name": "Laptop", "credential": Authenticator().create(options)},
    )

    assert response.json()["error"]["code"] == "passkey_challenge_expired"
    assert state(buyer) == []


def test_another_persons_registration_challenge_does_not_register(
    buyer: User, other_buyer: User
) -> None:
    """The options were made in one person's session: another person's session has no
    challenge to answer."""
    options = post_json(signed_in(buyer), "/account/passkeys/options/").json()

    response = post_json(
        signed_in(other_buyer),
        "/account/passkeys/",
        {"name": "Laptop", "credential": Authenticator().create(options)},
    )

    assert response.status_code == 400
    assert state(buyer) == []
    assert state(other_buyer) == []


def test_registering_needs_a_recent_sign_in(buyer: User) -> None:
    client = signed_in(buyer)
    session = client.session
    session[SIGNED_IN_AT_KEY] = int(time.time()) - 3600
    session.save()

    response = post_json(client, "/account/passkeys/options/")

    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "recent_sign_in_required"
    assert error["confirm_url"].startswith("/account/confirm-sign-in/?next=")
    assert passkey_actions.CHALLENGE_KEY not in client.session


def test_the_same_authenticator_twice_is_refused(buyer: User) -> None:
    client = signed_in(buyer)
    authenticator = Authenticator()
    assert register(client, authenticator).status_code == 201

    again = register(client, authenticator, "Again")

    assert again.json()["error"]["code"] == "passkey_already_registered"
    assert len(state(buyer)) == 1


def test_a_passkey_needs_a_name(buyer: User) -> None:
    response = register(signed_in(buyer), Authenticator(), "   ")

    assert response.json()["error"]["code"] == "passkey_name_required"
    assert state(buyer) == []


@pytest.mark.parametrize("name", ["\u200b\u200c\u200d", "\u2060\ufeff", "\u200e \u200f"])
def test_a_passkey_name_with_nothing_visible_is_refused(buyer: User, name: str) -> None:
    """Listed as a blank: which passkey to remove?"""
    response = register(signed_in(buyer), Authenticator(), name)

    assert response.json()["error"]["code"] == "passkey_name_required"
    assert "at least one visible character" in response.json()["error"]["message"]
    assert state(buyer) == []


def test_renaming_a_passkey_to_nothing_visible_is_refused_and_keeps_its_name(
    buyer: User,
) -> None:
    caller = with_session(buyer)
    options = caller.post("/passkeys/registration-options").json()
    created = caller.post(
        "/passkeys", {"name": "Laptop", "credential": Authenticator().create(options)}
    )
    passkey = Passkey.objects.get(pk=created.json()["passkey"]["id"])

    renamed = caller.call("PATCH", f"/passkeys/{passkey.pk}", {"name": "\u200b"})

    assert (renamed.status_code, renamed.json()["error"]["code"]) == (400, "passkey_name_required")
    assert Passkey.objects.get(pk=passkey.pk).name == "Laptop"


# --- the second step of a password sign-in -----------------------------------------------------


def test_the_passkey_is_the_second_step_after_the_password(buyer: User) -> None:
    authenticator = with_passkey(buyer)
    client = password_sign_in(buyer)
    assert client.get("/message-center/").status_code == 302  # pending
    page = client.get("/accounts/two-factor/").content.decode()
    assert "Use your passkey" in page

    response = second_step(client, authenticator)

    assert response.status_code == 200
    assert client.get("/message-center/").status_code == 200
    assert client.get("/api/v1/folders").status_code == 200
    used = Passkey.objects.get(user=buyer)
    assert used.last_used_at is not None
    assert used.last_used_address == "192.0.2.10"
    assert "last used" in client.get("/account/security/").content.decode()


def test_an_old_answer_replayed_in_a_new_sign_in_is_refused(buyer: User) -> None:
    authenticator = with_passkey(buyer)
    first = password_sign_in(buyer)
    options = post_json(first, "/accounts/two-factor/passkey/options/").json()
    answer = {"credential": authenticator.get(options)}
    assert post_json(first, "/accounts/two-factor/passkey/", answer).status_code == 200
    before = state(buyer)

    second = password_sign_in(buyer)
    post_json(second, "/accounts/two-factor/passkey/options/")
    replayed = post_json(second, "/accounts/two-factor/passkey/", answer)

    assert replayed.status_code == 400
    assert replayed.json()["error"]["code"] == "passkey_not_verified"
    assert state(buyer) == before
    assert second.get("/message-center/").status_code == 302  # still pending
    # And the same answer once more in the first browser: no challenge is waiting.
    assert post_json(first, "/accounts/two-factor/passkey/", answer).status_code == 400


def test_the_same_answer_twice_in_one_sign_in_is_refused(buyer: User) -> None:
    authenticator = with_passkey(buyer)
    client = password_sign_in(buyer)
    options = post_json(client, "/accounts/two-factor/passkey/options/").json()
    wrong = authenticator.get(options, challenge="bm90LXRoZS1jaGFsbGVuZ2U")

    refused = post_json(client, "/accounts/two-factor/passkey/", {"credential": wrong})
    # The right answer to the same options, after the challenge was spent on a wrong one.
    late = post_json(
        client, "/accounts/two-factor/passkey/", {"credential": authenticator.get(options)}
    )

    assert refused.json()["error"]["code"] == "passkey_not_verified"
    assert late.json()["error"]["code"] == "passkey_challenge_expired"
    assert client.get("/message-center/").status_code == 302


def test_another_persons_passkey_is_not_a_second_step(buyer: User, other_buyer: User) -> None:
    with_passkey(buyer)
    others = with_passkey(other_buyer)
    before = state(other_buyer)
    client = password_sign_in(buyer)

    response = second_step(client, others)

    assert response.status_code == 400
    assert response.json()["error"]["code"] == "passkey_not_verified"
    assert client.get("/message-center/").status_code == 302
    assert state(other_buyer) == before


def test_a_counter_that_goes_back_is_refused(buyer: User) -> None:
    """A cloned authenticator: its counter is behind the one last seen."""
    authenticator = with_passkey(buyer)
    assert second_step(password_sign_in(buyer), authenticator).status_code == 200
    authenticator.sign_count -= 1

    client = password_sign_in(buyer)
    authenticator.counts_uses = False
    response = second_step(client, authenticator)

    assert response.status_code == 400
    assert client.get("/message-center/").status_code == 302


# --- a passkey alone --------------------------------------------------------------------------


def passwordless(client: Client, authenticator: Authenticator, **answer: Any) -> Any:
    options = post_json(client, "/accounts/passkey-sign-in/options/").json()
    assert options["allowCredentials"] == []
    assert options["userVerification"] == "required"
    return post_json(
        client,
        "/accounts/passkey-sign-in/",
        {"credential": authenticator.get(options, **answer), "next": "/account/"},
    )


def test_a_passkey_alone_signs_in_fully(buyer: User) -> None:
    authenticator = with_passkey(buyer)
    client = browser()

    response = passwordless(client, authenticator)

    assert response.status_code == 200
    assert response.json() == {"next": "/account/"}
    assert client.get("/message-center/").status_code == 200
    assert two_factor.PENDING_KEY not in client.session
    assert buyer.browser_sessions.count() == 2  # the registering browser and this one


def test_a_passkey_alone_needs_the_person_verified(buyer: User) -> None:
    authenticator = with_passkey(buyer)
    client = browser()

    response = passwordless(client, authenticator, user_verified=False)

    assert response.status_code == 400
    assert client.get("/message-center/").status_code == 302


def test_a_refused_passkey_counts_against_the_address_and_a_paused_one_is_refused(
    buyer: User, other_buyer: User, settings: Settings
) -> None:
    authenticator = with_passkey(buyer)
    stranger = Authenticator()  # a passkey this site never registered
    for _ in range(settings.SIGN_IN_FAILURE_LIMIT - 1):
        assert passwordless(browser(address="203.0.113.5"), stranger).status_code == 400
    assert AccessAttempt.objects.filter(ip_address="203.0.113.5").exists()
    # The tenth failure pauses the address.
    assert passwordless(browser(address="203.0.113.5"), stranger).status_code == 429

    client = browser(address="203.0.113.5")
    paused = passwordless(client, authenticator)

    assert paused.status_code == 429
    assert paused.json()["error"]["code"] == "sign_in_paused"
    assert client.get("/message-center/").status_code == 302
    # From another address the same passkey signs in.
    assert passwordless(browser(address="198.51.100.7"), authenticator).status_code == 200


def test_signed_in_already_is_refused(buyer: User) -> None:
    response = post_json(signed_in(buyer), "/accounts/passkey-sign-in/options/")

    assert response.json()["error"]["code"] == "already_signed_in"


# --- confirm it is you, removing, enforcement ----------------------------------------------------


def test_the_passkey_confirms_a_sign_in(buyer: User) -> None:
    authenticator = with_passkey(buyer)
    client = signed_in(buyer)
    session = client.session
    session[SIGNED_IN_AT_KEY] = int(time.time()) - 3600
    session.save()
    # With passkeys and no app, the password alone does not confirm.
    page = client.post(
        "/account/confirm-sign-in/", {"password": PASSWORD, "csrfmiddlewaretoken": CSRF}
    )
    assert page.status_code == 400

    options = post_json(client, "/account/confirm-sign-in/passkey/options/").json()
    response = post_json(
        client,
        "/account/confirm-sign-in/passkey/",
        {"credential": authenticator.get(options), "next": "/account/password/"},
    )

    assert response.json() == {"next": "/account/password/"}
    assert client.get("/account/password/").status_code == 200


def test_removing_a_passkey(buyer: User, other_buyer: User) -> None:
    with_passkey(buyer)
    others = state(other_buyer)
    passkey = Passkey.objects.get(user=buyer)

    assert (
        signed_in(other_buyer)
        .post(f"/account/passkeys/{passkey.pk}/remove/", {"csrfmiddlewaretoken": CSRF})
        .status_code
        == 404
    )
    response = signed_in(buyer).post(
        f"/account/passkeys/{passkey.pk}/remove/", {"csrfmiddlewaretoken": CSRF}
    )

    assert response.status_code == 302
    assert state(buyer) == []
    assert state(other_buyer) == others
    # The last second factor gone: two-factor is off, its recovery codes with it.
    assert not two_factor.has_two_factor(buyer)
    assert two_factor.recovery_codes_left(buyer) == 0


def test_a_role_that_must_have_two_factor_sets_it_up_with_a_passkey(
    agent: User, settings: Settings
) -> None:
    settings.TWO_FACTOR_REQUIRED_ROLES = ["agent"]
    client = password_sign_in(agent)
    assert client.session[two_factor.PENDING_KEY] == two_factor.SET_UP
    assert "Add a passkey" in client.get("/account/two-factor/").content.decode()
    authenticator = Authenticator()

    assert register(client, authenticator).status_code == 201

    assert two_factor.PENDING_KEY not in client.session
    assert client.get("/account/").status_code == 200
    # The next sign-in asks for the passkey, and its last one cannot be removed.
    again = password_sign_in(agent)
    assert again.session[two_factor.PENDING_KEY] == two_factor.VERIFY
    assert second_step(again, authenticator).status_code == 200
    passkey = Passkey.objects.get(user=agent)
    again.post(f"/account/passkeys/{passkey.pk}/remove/", {"csrfmiddlewaretoken": CSRF})
    assert Passkey.objects.filter(user=agent).exists()


# --- the API --------------------------------------------------------------------------------


def test_the_api_registers_lists_renames_and_removes_passkeys(
    buyer: User, other_buyer: User
) -> None:
    caller = with_session(buyer)
    options = caller.post("/passkeys/registration-options").json()
    created = caller.post(
        "/passkeys", {"name": "Laptop", "credential": Authenticator().create(options)}
    )
    assert created.status_code == 201
    passkey_id = created.json()["passkey"]["id"]

    listed = caller.get("/passkeys").json()
    renamed = caller.call("PATCH", f"/passkeys/{passkey_id}", {"name": "Work laptop"})
    not_theirs = with_session(other_buyer).delete(f"/passkeys/{passkey_id}")
    removed = caller.delete(f"/passkeys/{passkey_id}")

    assert [row["name"] for row in listed] == ["Laptop"]
    assert renamed.json()["name"] == "Work laptop"
    assert not_theirs.status_code == 404
    assert removed.status_code == 204
    assert state(buyer) == []


def test_the_api_refuses_a_replayed_registration(buyer: User) -> None:
    caller = with_session(buyer)
    options = caller.post("/passkeys/registration-options").json()
    body = {"name": "Laptop", "credential": Authenticator().create(options)}
    assert caller.post("/passkeys", body).status_code == 201

    again = caller.post("/passkeys", body)

    assert again.status_code == 400
    assert again.json()["error"]["code"] == "passkey_challenge_expired"
    assert len(state(buyer)) == 1
