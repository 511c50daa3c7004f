"""A saved reply's title is the seller's once whatever its case (docs/conversations.md,
"Saved replies"): "Shipping" and "shipping" were two replies the seller could not tell
apart in the Insert list. The check before a save compares as the database's constraint
does (LOWER() of both), the constraint holds it for a save the check did not see, and a
refusal is the form's or the API's 409 title_taken, changing nothing. A database from
before the constraint may hold such pairs: the migration names them and stops."""

import importlib
from unittest import mock

import pytest
from django.apps import apps
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import Client
from django.utils import timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import actions
from messagecenter.conversations.actions import seller_tools
from messagecenter.conversations.models import SAVED_REPLY_TITLE_UNIQUE, SavedReply
from messagecenter.errors import Conflict, InvalidInput
from tests.api.helpers import error_of, with_token

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module(
    "messagecenter.conversations.migrations.0010_saved_reply_title_unique_without_case"
)


def saved() -> list[tuple[int, int, str, str]]:
    return list(SavedReply.objects.order_by("pk").values_list("pk", "seller", "title", "body"))


def stored(seller: User, title: str) -> SavedReply:
    """A row written past the action, as a database from before the constraint holds."""
    now = timezone.now()
    reply: SavedReply = SavedReply.objects.create(
        seller=seller, title=title, body="x", created_at=now, updated_at=now
    )
    return reply


@pytest.mark.parametrize("title", ["shipping", "SHIPPING", "  Shipping  ", "sHiPpInG\t"])
def test_a_title_another_reply_has_in_any_case_is_refused(seller: User, title: str) -> None:
    actions.save_reply(seller, "Shipping", "1-2 days.")
    before = saved()

    with pytest.raises(Conflict) as refused:
        actions.save_reply(seller, title, "Same day.")

    assert refused.value.code == "title_taken"
    assert saved() == before


def test_renaming_a_reply_to_another_ones_title_in_any_case_is_refused(seller: User) -> None:
    actions.save_reply(seller, "Shipping", "1-2 days.")
    returns = actions.save_reply(seller, "Returns", "30 days.")
    before = saved()

    with pytest.raises(Conflict) as refused:
        actions.save_reply(seller, "SHIPPING", "30 days.", saved_reply_id=returns.pk)

    assert refused.value.code == "title_taken"
    assert saved() == before


def test_a_reply_may_change_the_case_of_its_own_title(seller: User) -> None:
    reply = actions.save_reply(seller, "shipping", "1-2 days.")

    actions.save_reply(seller, "Shipping", "1-2 days.", saved_reply_id=reply.pk)

    assert [title for _, _, title, _ in saved()] == ["Shipping"]


def test_another_seller_may_have_the_title_in_any_case(seller: User, other_seller: User) -> None:
    actions.save_reply(seller, "Shipping", "1-2 days.")

    actions.save_reply(other_seller, "SHIPPING", "Same day.")

    assert SavedReply.objects.count() == 2


def test_the_database_refuses_a_title_in_another_case(seller: User, other_seller: User) -> None:
    stored(seller, "Shipping")
    stored(other_seller, "shipping")

    with pytest.raises(IntegrityError, match=SAVED_REPLY_TITLE_UNIQUE), transaction.atomic():
        stored(seller, "sHIPPING")

    assert SavedReply.objects.filter(seller=seller).count() == 1


def test_a_title_taken_since_the_check_is_refused_and_changes_nothing(seller: User) -> None:
    """The check looked before another tab's save committed: the constraint refuses it,
    and the refusal is the same 409 — the enclosing transaction rolled back whole."""
    actions.save_reply(seller, "Shipping", "1-2 days.")
    returns = actions.save_reply(seller, "Returns", "30 days.")
    before = saved()

    with (
        mock.patch.object(seller_tools, "_title_taken", return_value=False),
        pytest.raises(Conflict) as refused,
    ):
        actions.save_reply(seller, "shipping", "Same day.", saved_reply_id=returns.pk)

    assert refused.value.code == "title_taken"
    assert saved() == before


def test_the_form_says_the_title_is_taken_and_keeps_what_was_typed(seller: User) -> None:
    actions.save_reply(seller, "Shipping", "1-2 days.")
    before = saved()
    client = Client()
    client.force_login(seller)

    response = client.post(
        "/message-center/saved-replies/", {"title": "shipping ", "body": "Same day."}
    )

    text = response.content.decode()
    assert response.status_code == 409
    assert "You already have a saved reply with that title.</p>" in text
    assert ">Same day.</textarea>" in text
    assert saved() == before


def test_the_api_says_the_title_is_taken(seller: User) -> None:
    caller = with_token(seller)
    caller.post("/seller/saved-replies", {"title": "Shipping", "body": "1-2 days."})
    before = saved()

    response = caller.post("/seller/saved-replies", {"title": "SHIPPING", "body": "Same day."})

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "title_taken"
    assert saved() == before


def test_the_migration_names_replies_whose_titles_differ_only_in_case(
    seller: User, other_seller: User
) -> None:
    """A database from before the constraint may hold some: the migration stops, naming
    the sellers and the replies (not the titles), and changes nothing."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {SAVED_REPLY_TITLE_UNIQUE}")
    first = stored(seller, "Shipping")
    second = stored(seller, "shipping")
    third = stored(seller, "SHIPPING")
    stored(seller, "Returns")
    stored(other_seller, "Shipping")
    before = saved()

    with pytest.raises(CommandError) as stopped:
        MIGRATION.refuse_titles_shared_without_case(apps, None)

    message = str(stopped.value)
    assert f"  - {seller.username} (id {seller.pk}): saved replies " in message
    assert f"{first.pk}, {second.pk}, {third.pk}\n" in message + "\n"
    assert other_seller.username not in message
    assert "hipping" not in message
    assert "Returns" not in message
    assert saved() == before


def test_the_migration_lets_distinct_titles_through(seller: User, other_seller: User) -> None:
    stored(seller, "Shipping")
    stored(seller, "Shipping times")
    stored(other_seller, "shipping")

    MIGRATION.refuse_titles_shared_without_case(apps, None)


def test_a_saved_reply_every_send_of_which_would_be_held_is_refused_when_saved(
    seller: User,
) -> None:
    """A review saved "pay me via paypal.me/joe": accepted, and every message sent with it
    then waited for review. Refused now as the away message is, naming why; one with a
    phone number (masked when sent, not held) is saved as written."""
    with pytest.raises(InvalidInput) as refused:
        seller_tools.save_reply(seller, "Payment", "Thanks! Pay me via paypal.me/joe")

    assert refused.value.code == "text_refused"
    assert "Every message sent with it would wait for review" in refused.value.message
    assert not SavedReply.objects.filter(seller=seller).exists()
    api = with_token(seller).post(
        "/seller/saved-replies", {"title": "Payment", "body": "Pay me via paypal.me/joe"}
    )
    assert error_of(api) == (400, "text_refused")
    kept = seller_tools.save_reply(seller, "Call", "Call us on 415-555-0123 any time.")
    assert kept.body == "Call us on 415-555-0123 any time."
