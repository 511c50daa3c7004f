import pytest

from messagecenter.accounts.models import User
from messagecenter.delivery.models import Category, Channel, Preference
from messagecenter.delivery.preferences import is_enabled
from tests.api.helpers import error_of, with_token

pytestmark = pytest.mark.django_db


def test_the_app_reads_every_choice_with_what_cannot_change(buyer: User) -> None:
    table = with_token(buyer).get("/preferences").json()

    assert len(table) == 14
    promotions = next(c for c in table if (c["category"], c["channel"]) == ("promotions", "email"))
    assert promotions == {
        "category": "promotions",
        "channel": "email",
        "label": "Promotions and offers",
        "is_enabled": True,
        "can_change": True,
        "why_fixed": "",
    }
    notices = next(c for c in table if (c["category"], c["channel"]) == ("notices", "email"))
    assert (notices["can_change"], notices["is_enabled"]) == (False, True)


def test_the_app_switches_promotions_off(buyer: User) -> None:
    response = with_token(buyer).call(
        "PUT",
        "/preferences",
        {"choices": [{"category": "promotions", "channel": "email", "is_enabled": False}]},
    )

    assert response.status_code == 200
    assert not is_enabled(buyer, Category.PROMOTIONS, Channel.EMAIL)
    changed = [c for c in response.json() if not c["is_enabled"]]
    assert [(c["category"], c["channel"]) for c in changed] == [("promotions", "email")]


def test_switching_off_a_fixed_choice_is_refused_and_changes_nothing(buyer: User) -> None:
    response = with_token(buyer).call(
        "PUT",
        "/preferences",
        {
            "choices": [
                {"category": "promotions", "channel": "email", "is_enabled": False},
                {"category": "order_updates", "channel": "email", "is_enabled": False},
            ]
        },
    )

    assert error_of(response) == (400, "preference_fixed")
    assert Preference.objects.count() == 0


def test_an_unknown_category_is_a_schema_error(buyer: User) -> None:
    response = with_token(buyer).call(
        "PUT",
        "/preferences",
        {"choices": [{"category": "spam", "channel": "email", "is_enabled": False}]},
    )

    assert error_of(response) == (422, "invalid_input")


# A yes or no is JSON true or false: pydantic's lax booleans took "no", "off", "0" and 0 as
# false, and switched the e-mails off on a value the app never meant as a boolean.
@pytest.mark.parametrize("written", ["no", "false", "off", "0", 0, 1, "yes", None])
def test_is_enabled_is_json_true_or_false(buyer: User, written: object) -> None:
    response = with_token(buyer).call(
        "PUT",
        "/preferences",
        {"choices": [{"category": "promotions", "channel": "email", "is_enabled": written}]},
    )

    assert error_of(response) == (422, "invalid_input")
    [field] = response.json()["error"]["fields"]
    assert (field["in"], field["field"], field["type"]) == (
        "body",
        "choices.0.is_enabled",
        "bool_type",
    )
    assert Preference.objects.count() == 0


def test_the_same_choice_given_twice_with_different_answers_is_refused(buyer: User) -> None:
    """Two rows for promotions by e-mail, one on and one off, answered 200 (the last one
    won): refused, naming the duplicate, and nothing changes."""
    response = with_token(buyer).call(
        "PUT",
        "/preferences",
        {
            "choices": [
                {"category": "promotions", "channel": "email", "is_enabled": False},
                {"category": "buyer_seller", "channel": "email", "is_enabled": False},
                {"category": "promotions", "channel": "email", "is_enabled": True},
            ]
        },
    )

    assert error_of(response) == (422, "invalid_input")
    [field] = response.json()["error"]["fields"]
    assert (field["in"], field["field"]) == ("body", "choices")
    assert "promotions by email is given twice, as true and as false" in field["message"]
    assert is_enabled(buyer, Category.BUYER_SELLER, Channel.EMAIL)
    assert not Preference.objects.filter(user=buyer).exists()

    # The same answer twice says one thing: taken.
    again = {"category": "promotions", "channel": "email", "is_enabled": False}
    response = with_token(buyer).call("PUT", "/preferences", {"choices": [again, again]})
    assert response.status_code == 200
    assert not is_enabled(buyer, Category.PROMOTIONS, Channel.EMAIL)
