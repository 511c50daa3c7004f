"""Passkey routes answer odd input with a clear 4xx, never a 500."""

from typing import Any

import pytest

from messagecenter.accounts.models import Passkey, User
from tests.accounts.test_passkeys import (
    Authenticator,
    browser,
    post_json,
    register,
    signed_in,
    with_passkey,
)

pytestmark = pytest.mark.django_db


def test_a_name_with_a_nul_character_is_refused(buyer: User) -> None:
    response = register(signed_in(buyer), Authenticator(), name="Lap\x00top")

    # PostgreSQL cannot store it: the insert was a 500 there (SQLite stored it).
    assert response.status_code == 400, response.content
    assert b"passkey_name_invalid" in response.content
    assert not Passkey.objects.filter(user=buyer).exists()


ODD: list[Any] = [
    {},
    {"id": "x" * 5000},
    {"id": "%%%not-base64%%%", "rawId": "%%%", "type": "public-key", "response": {}},
    {"id": "AAAA", "rawId": 5, "response": "nope"},
    {"id": "AAAA", "rawId": "AAAA", "type": "public-key", "response": []},
    {"id": ["a"], "response": {"userHandle": {"a": 1}}},
    # A NUL in the lookup was a 500 on PostgreSQL, for anyone signed out.
    {"id": "\x00", "rawId": "\x00"},
    {"id": "AAAA\x00", "rawId": "AAAA", "type": "public-key", "response": {}},
]


@pytest.mark.parametrize("credential", ODD)
def test_odd_answers_to_a_passkey_sign_in_are_refused(buyer: User, credential: Any) -> None:
    with_passkey(buyer)
    real_id = Passkey.objects.get(user=buyer).credential_id
    for answer in (credential, {**credential, "id": real_id} if credential else {"id": real_id}):
        client = browser()
        post_json(client, "/accounts/passkey-sign-in/options/")
        response = post_json(client, "/accounts/passkey-sign-in/", {"credential": answer})
        assert response.status_code == 400, (answer, response.content)
        assert "_auth_user_id" not in client.session


@pytest.mark.parametrize("body", [b"", b"[]", b"{", b'{"credential": 5}', b"\xff\xfe", b"null"])
def test_malformed_bodies_are_400(buyer: User, body: bytes) -> None:
    client = browser()
    post_json(client, "/accounts/passkey-sign-in/options/")
    response = client.post(
        "/accounts/passkey-sign-in/",
        body,
        content_type="application/json",
        headers={"X-CSRFToken": client.cookies["csrftoken"].value},
    )
    assert response.status_code == 400, response.content
