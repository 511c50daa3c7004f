"""Verified tokens: a token in use is read on every request but its models are built once
per process (accounts/queries.py, rows.CompiledQuery(remember=…)); whatever ends it —
revoked, the person deactivated or deleted, a new password, signed out everywhere — is
refused on the very next request, in every process.

Nothing in the actions that end a token knows of the remembered models (there is no
invalidation to forget in one process): each test warms the models through the API, then
ends the token as another process would, with the action or a plain UPDATE, and asks again.
"""

from collections.abc import Callable
from unittest import mock

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from messagecenter.accounts import actions
from messagecenter.accounts.models import ApiToken, User
from messagecenter.accounts.queries import _TOKEN_BY_HASH, api_token_for_secret
from messagecenter.rows import CompiledQuery, _Plan
from tests.api.helpers import Caller, error_of, with_token

pytestmark = pytest.mark.django_db


def _warmed(user: User) -> Caller:
    device = with_token(user)
    assert device.get("/me").status_code == 200
    assert device.get("/me").status_code == 200
    return device


def test_a_token_in_use_is_read_every_time_and_built_once(buyer: User) -> None:
    # The first request notes the token's use (last_used_at), so the second reads a
    # changed row and builds again; from then on the row is the same.
    device = _warmed(buyer)

    with (
        mock.patch.object(_Plan, "_build", side_effect=AssertionError("built again")),
        CaptureQueriesContext(connection) as queries,
    ):
        first, second = device.get("/me"), device.get("/me")

    assert (first.status_code, second.status_code) == (200, 200)
    assert first.json() == second.json()
    token_reads = [
        query for query in queries if '"accounts_apitoken"."secret_hash"' in query["sql"]
    ]
    assert len(token_reads) == 2


def _revoke(user: User) -> None:
    actions.revoke_api_token(user, ApiToken.objects.get(user=user).pk)


def _deactivate(user: User) -> None:
    User.objects.filter(pk=user.pk).update(is_active=False)


def _delete(user: User) -> None:
    User.objects.filter(pk=user.pk).delete()


def _new_password(user: User) -> None:
    actions.change_password(user, "a new and long passphrase", keep_session_key=None)


def _signed_out_everywhere(user: User) -> None:
    actions.sign_out_everywhere(user)


@pytest.mark.parametrize(
    "end", [_revoke, _deactivate, _delete, _new_password, _signed_out_everywhere]
)
def test_whatever_ends_a_token_is_refused_on_the_next_request(
    buyer: User, end: Callable[[User], None]
) -> None:
    device = _warmed(buyer)

    end(buyer)

    assert error_of(device.get("/me")) == (401, "not_authenticated")


def test_a_token_ended_in_one_process_is_refused_by_the_other(buyer: User) -> None:
    # Two processes: each its own compiled statement and remembered models.
    _, secret = actions.create_api_token(buyer, "Phone")
    other_process = CompiledQuery(_TOKEN_BY_HASH.build, remember=16)
    secret_hash = actions.hash_api_token_secret(secret)
    assert api_token_for_secret(secret) is not None
    assert len(other_process(secret_hash)) == 1
    assert len(other_process(secret_hash)) == 1

    actions.revoke_api_token(buyer, ApiToken.objects.get().pk)

    assert api_token_for_secret(secret) is None
    assert other_process(secret_hash)[0].revoked_at is not None


def test_a_change_to_the_person_is_seen_on_the_next_request(seller: User) -> None:
    device = _warmed(seller)

    User.objects.filter(pk=seller.pk).update(time_zone="Europe/Paris", display_name="Renamed")
    seller.storefront.name = "A new name"
    seller.storefront.save(update_fields=["name"])

    me = device.get("/me").json()
    assert me["time_zone"] == "Europe/Paris"
    assert me["storefront"]["name"] == "A new name"


def test_what_one_request_changes_on_its_models_never_reaches_the_next(seller: User) -> None:
    _, secret = actions.create_api_token(seller, "Phone")
    first = api_token_for_secret(secret)
    assert first is not None

    first.user.time_zone = "Asia/Tokyo"
    first.user.storefront.name = "Changed in memory"
    first.name = "Changed in memory"
    second = api_token_for_secret(secret)

    assert second is not None
    assert second is not first
    assert (second.user.time_zone, second.user.storefront.name, second.name) == (
        "UTC",
        seller.storefront.name,
        "Phone",
    )
    # The related rows are the copy's own, and point back at it as select_related's do.
    assert second.user is not first.user
    assert second.user.storefront.seller is second.user
