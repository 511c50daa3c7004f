"""API tokens: made from a signed-in browser, shown once, kept only as a hash, listed,
revoked; and how a request is authenticated by a token or by a session."""

import hashlib
from datetime import timedelta

import pytest
from django.utils import timezone

from messagecenter.accounts import actions
from messagecenter.accounts.models import ApiToken, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.marketplace.models import Product
from tests.api.helpers import anonymous, error_of, with_session, with_token
from tests.conversations.helpers import snapshot

pytestmark = pytest.mark.django_db


def test_a_signed_in_browser_creates_a_token_whose_secret_is_shown_once(buyer: User) -> None:
    response = with_session(buyer).post("/tokens", {"name": "  Alice's iPhone  "})

    assert response.status_code == 201
    body = response.json()
    secret = body["secret"]
    assert secret.startswith("mc_")
    assert len(secret) == 46
    assert body["token"]["name"] == "Alice's iPhone"
    assert body["token"]["prefix"] == secret[:11]
    assert body["token"]["last_used_at"] is None
    assert body["token"]["is_current"] is False
    token = ApiToken.objects.get()
    assert token.user == buyer
    assert token.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in str(list(ApiToken.objects.values()))
    listed = with_session(buyer).get("/tokens").json()
    assert [(item["id"], item["name"], item["prefix"]) for item in listed] == [
        (token.pk, "Alice's iPhone", secret[:11])
    ]
    assert "secret" not in listed[0]


def test_the_new_secret_signs_the_device_in(buyer: User) -> None:
    secret = with_session(buyer).post("/tokens", {"name": "Phone"}).json()["secret"]

    response = anonymous().get("/me", headers={"Authorization": f"Bearer {secret}"})

    assert response.status_code == 200
    assert response.json() == {
        "id": buyer.pk,
        "username": "alice",
        "name": "Alice Buyer",
        "role": "buyer",
        "storefront": None,
        "email": "alice@example.test",
        "time_zone": "UTC",
    }


def test_a_token_cannot_create_another_token(buyer: User) -> None:
    device = with_token(buyer)

    response = device.post("/tokens", {"name": "Successor"})

    assert error_of(response) == (401, "not_authenticated")
    assert ApiToken.objects.count() == 1


def test_creating_a_token_needs_the_csrf_token_of_the_session(buyer: User) -> None:
    response = with_session(buyer, csrf=False).post("/tokens", {"name": "Phone"})

    assert error_of(response) == (403, "csrf_failed")
    assert ApiToken.objects.count() == 0


@pytest.mark.parametrize(
    ("name", "code"), [("   ", "token_name_required"), ("x" * 101, "token_name_too_long")]
)
def test_a_token_needs_a_name_of_at_most_100_characters(buyer: User, name: str, code: str) -> None:
    response = with_session(buyer).post("/tokens", {"name": name})

    assert error_of(response) == (400, code)
    assert ApiToken.objects.count() == 0


# Shown as a blank in the list of tokens: which one to revoke?
INVISIBLE_NAMES = ["\u200b\u200c\u200d", "\u2060\ufeff", " \u200e\u200f\u202e "]


@pytest.mark.parametrize("name", INVISIBLE_NAMES, ids=["zero-width", "joiner-bom", "bidi-marks"])
def test_a_token_name_with_nothing_visible_is_refused(buyer: User, name: str) -> None:
    response = with_session(buyer).post("/tokens", {"name": name})

    assert error_of(response) == (400, "token_name_required")
    assert "at least one visible character" in response.json()["error"]["message"]
    assert ApiToken.objects.count() == 0


def test_a_person_has_at_most_50_active_tokens(buyer: User) -> None:
    for number in range(actions.API_TOKENS_PER_USER):
        actions.create_api_token(buyer, f"Device {number}")
    actions.revoke_api_token(buyer, ApiToken.objects.first().pk)  # type: ignore[union-attr]
    actions.create_api_token(buyer, "Replacement")

    response = with_session(buyer).post("/tokens", {"name": "One too many"})

    assert error_of(response) == (400, "too_many_tokens")
    assert ApiToken.objects.filter(user=buyer, revoked_at__isnull=True).count() == 50


def test_the_list_marks_the_token_in_use_and_shows_only_the_persons_active_tokens(
    buyer: User, other_buyer: User
) -> None:
    device = with_token(buyer)
    laptop, _ = actions.create_api_token(buyer, "Laptop")
    old, _ = actions.create_api_token(buyer, "Old tablet")
    actions.revoke_api_token(buyer, old.pk)
    actions.create_api_token(other_buyer, "Bob's phone")

    listed = device.get("/tokens").json()

    assert [(item["name"], item["is_current"]) for item in listed] == [
        ("Laptop", False),
        ("Test phone", True),
    ]
    assert listed[0]["id"] == laptop.pk


def test_a_device_revokes_its_own_token_and_is_signed_out(buyer: User) -> None:
    device = with_token(buyer)
    token = ApiToken.objects.get()

    response = device.delete(f"/tokens/{token.pk}")

    assert response.status_code == 204
    assert response.content == b""
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert error_of(device.get("/me")) == (401, "not_authenticated")


def test_a_revoked_token_is_refused_everywhere(buyer: User, seller: User, product: Product) -> None:
    question = conversation_actions.ask_seller_about_product(buyer, product.pk, "In stock?")
    device = with_token(buyer)
    actions.revoke_api_token(buyer, ApiToken.objects.get().pk)
    before = snapshot()

    read = device.get(f"/conversations/{question.conversation_id}")
    archive = device.post(
        "/conversations/actions",
        {"action": "archive", "conversation_ids": [question.conversation_id]},
    )

    assert error_of(read) == (401, "not_authenticated")
    assert error_of(archive) == (401, "not_authenticated")
    assert read.headers["WWW-Authenticate"] == 'Bearer realm="Message Center API"'
    assert snapshot() == before


def test_someone_elses_token_cannot_be_revoked_and_looks_missing(
    buyer: User, other_buyer: User
) -> None:
    bobs_token, _ = actions.create_api_token(other_buyer, "Bob's phone")
    alice = with_token(buyer)

    foreign = alice.delete(f"/tokens/{bobs_token.pk}")
    missing = alice.delete("/tokens/987654")

    assert foreign.json() == missing.json()
    assert error_of(foreign) == (404, "token_not_found")
    bobs_token.refresh_from_db()
    assert bobs_token.revoked_at is None


def test_revoking_twice_finds_nothing_the_second_time(buyer: User) -> None:
    token, _ = actions.create_api_token(buyer, "Laptop")
    browser = with_session(buyer)

    assert browser.delete(f"/tokens/{token.pk}").status_code == 204
    assert error_of(browser.delete(f"/tokens/{token.pk}")) == (404, "token_not_found")


def test_revoking_from_a_session_needs_the_csrf_token(buyer: User) -> None:
    token, _ = actions.create_api_token(buyer, "Laptop")

    response = with_session(buyer, csrf=False).delete(f"/tokens/{token.pk}")

    assert error_of(response) == (403, "csrf_failed")
    token.refresh_from_db()
    assert token.revoked_at is None


def test_last_used_is_written_at_most_once_a_minute(buyer: User) -> None:
    device = with_token(buyer)
    token = ApiToken.objects.get()
    assert token.last_used_at is None

    before = timezone.now()
    device.get("/me")
    token.refresh_from_db()
    first_use = token.last_used_at
    # The first use is written, with the time of that request.
    assert first_use is not None
    assert before <= first_use <= timezone.now()
    device.get("/me")
    token.refresh_from_db()
    assert token.last_used_at == first_use

    ApiToken.objects.filter(pk=token.pk).update(last_used_at=first_use - timedelta(minutes=2))
    device.get("/me")
    token.refresh_from_db()
    assert token.last_used_at is not None
    assert token.last_used_at > first_use - timedelta(minutes=1)
    assert token.last_used_at <= timezone.now()


@pytest.mark.parametrize(
    "header",
    [
        "Bearer mc_not-a-real-token",
        "Bearer not-even-our-prefix",
        "Bearer ",
        "Basic YWxpY2U6cGFzc3dvcmQ=",
        "mc_token-without-a-scheme",
        "Bearer " + "mc_" + "x" * 5000,
    ],
)
def test_a_wrong_or_malformed_token_is_refused(buyer: User, header: str) -> None:
    response = anonymous().get("/me", headers={"Authorization": header})

    assert error_of(response) == (401, "not_authenticated")


def test_a_bad_token_is_refused_even_beside_a_valid_session(buyer: User) -> None:
    """The Authorization header decides alone: it never falls back to the cookie."""
    browser = with_session(buyer)

    response = browser.get("/me", headers={"Authorization": "Bearer mc_wrong"})

    assert error_of(response) == (401, "not_authenticated")


def test_a_deactivated_persons_token_is_refused(buyer: User) -> None:
    device = with_token(buyer)
    User.objects.filter(pk=buyer.pk).update(is_active=False)

    assert error_of(device.get("/me")) == (401, "not_authenticated")


def test_me_names_a_sellers_storefront(seller: User) -> None:
    response = with_token(seller).get("/me")

    assert response.json() == {
        "id": seller.pk,
        "username": "seller",
        "name": "Acme Kitchen",
        "role": "seller",
        "storefront": {"id": seller.storefront.pk, "name": "Acme Kitchen"},  # type: ignore[attr-defined]
        "email": "seller@example.test",
        "time_zone": "UTC",
    }


def test_me_for_an_agent_with_a_session(agent: User) -> None:
    response = with_session(agent).get("/me")

    assert response.json()["role"] == "agent"
    # The name customers see (docs/support.md: agents' own names stay internal).
    assert response.json()["name"] == "Customer Service"
    assert response.json()["storefront"] is None
