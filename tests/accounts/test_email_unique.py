"""One account per e-mail address, in the database itself (docs/accounts.md#e-mail-address):
the check before a change holds only one person's row lock, so two accounts taking one
address at the same moment both passed it. The constraint compares the whole address
without case, as the check does, and leaves empty addresses (erased people) alone; a
change or an undo it refuses is the check's 409 email_in_use, changing nothing."""

import importlib
import threading
from collections.abc import Iterator
from unittest import mock

import pytest
from django.apps import apps
from django.core.management.base import CommandError
from django.db import IntegrityError, connection, transaction
from django.test import Client

from messagecenter.accounts import actions, email_changes
from messagecenter.accounts.models import EMAIL_UNIQUE, User
from messagecenter.delivery.models import Email
from messagecenter.errors import Conflict
from tests import factories
from tests.accounts.test_email_change import _kept_mail, signed_in  # noqa: F401 (a fixture)
from tests.accounts.test_email_change_undo import (
    NEW,
    OLD,
    account_state,
    in_threads,
    notice_of_change,
    text_of,
    undo_link,
    works,
)
from tests.databases import on_postgresql

pytestmark = pytest.mark.django_db

MIGRATION = importlib.import_module("messagecenter.accounts.migrations.0008_user_email_unique")


def new_account(username: str, email: str) -> User:
    with transaction.atomic():
        user: User = factories.BuyerFactory(username=username, email=email)
    return user


def test_a_second_account_with_the_same_address_in_any_case_is_refused(buyer: User) -> None:
    for address in ("alice@example.test", "ALICE@Example.TEST", "Alice@example.test"):
        with pytest.raises(IntegrityError, match=EMAIL_UNIQUE):
            new_account("alice-again", address)
        with pytest.raises(IntegrityError, match=EMAIL_UNIQUE), transaction.atomic():
            User.objects.filter(pk=factories.BuyerFactory().pk).update(email=address)

    assert User.objects.filter(email__iexact="alice@example.test").count() == 1


def test_accounts_without_an_address_are_not_one_address() -> None:
    """Erasure empties the address (privacy/erasure.py), and an account may be made
    without one (createsuperuser)."""
    new_account("erased-1", "")
    new_account("erased-2", "")

    assert User.objects.filter(email="").count() == 2


def test_the_admin_says_the_address_is_taken(buyer: User, other_buyer: User) -> None:
    staff = factories.UserFactory(username="operator", is_staff=True, is_superuser=True)
    client = Client()
    client.force_login(staff)
    form = client.get(f"/admin/accounts/user/{other_buyer.pk}/change/").context["adminform"].form
    data = {name: value for name, value in form.initial.items() if value is not None}
    data |= {"email": "ALICE@example.test", "date_joined_0": "2026-01-01"}
    data |= {"date_joined_1": "00:00:00", "role": "buyer", "time_zone": "UTC"}

    answer = client.post(f"/admin/accounts/user/{other_buyer.pk}/change/", data)

    assert answer.status_code == 200
    assert "This address already belongs to another account." in text_of(answer)
    other_buyer.refresh_from_db()
    assert other_buyer.email != "ALICE@example.test"


@pytest.fixture
def check_missed() -> Iterator[None]:
    """The check before the change looked while the other account's change was not
    committed yet: it saw the address free."""
    with mock.patch.object(actions, "_address_taken", return_value=False):
        yield


def confirmation_link(user: User, address: str) -> str:
    return email_changes.make_link_token(user, address)


@pytest.mark.usefixtures("check_missed")
def test_a_change_to_an_address_taken_meanwhile_is_refused_and_changes_nothing(
    buyer: User, other_buyer: User
) -> None:
    token = confirmation_link(buyer, "taken@example.test")
    User.objects.filter(pk=other_buyer.pk).update(email="Taken@Example.test")

    with pytest.raises(Conflict) as refused:
        actions.confirm_email_change(token)

    assert refused.value.code == "email_in_use"
    buyer.refresh_from_db()
    assert buyer.email == "alice@example.test"
    # No notice to the old address of a change that did not happen.
    assert not Email.objects.exists()
    # The page shows the same refusal, and the link still refuses (the address is taken).
    page = Client().post(f"/accounts/email-change/{token}/")
    assert page.status_code == 409
    assert "already belongs to another account" in text_of(page)


@pytest.mark.usefixtures("check_missed")
def test_an_undo_to_an_address_taken_meanwhile_is_refused_and_changes_nothing(
    seller: User, other_seller: User
) -> None:
    browser = signed_in(seller)
    link = undo_link(notice_of_change(seller, NEW))
    User.objects.filter(pk=other_seller.pk).update(email=OLD.upper())
    before = account_state(seller)

    with pytest.raises(Conflict) as refused:
        actions.undo_email_change(link.split("/")[-2])
    pressed = Client().post(link)

    assert refused.value.code == "email_in_use"
    assert pressed.status_code == 409
    assert f"{OLD} belongs to another account now" in text_of(pressed)
    assert account_state(seller) == before
    assert seller.has_usable_password()
    assert works(browser)


@pytest.mark.django_db(transaction=True)
@pytest.mark.skipif(
    not on_postgresql(), reason="SQLite's writers take turns: the second sees the first"
)
def test_two_accounts_taking_one_address_at_once_one_gets_it(
    buyer: User, other_buyer: User
) -> None:
    """Both checks look before either change commits (a barrier holds them there); the
    second save waits for the first's commit, then the constraint refuses it."""
    tokens = [confirmation_link(person, "Both@example.test") for person in (buyer, other_buyer)]
    looked = threading.Barrier(2)
    address_taken = actions._address_taken

    def check_then_wait(address: str, user: User) -> bool:
        taken = address_taken(address, user)
        looked.wait(timeout=30)
        return taken

    with mock.patch.object(actions, "_address_taken", check_then_wait):
        results = in_threads(
            [lambda token=token: actions.confirm_email_change(token) for token in tokens]
        )

    assert sorted(type(result).__name__ for result in results) == ["Conflict", "User"]
    assert [r.code for r in results if isinstance(r, Conflict)] == ["email_in_use"]
    assert User.objects.filter(email__iexact="both@example.test").count() == 1
    # One notice, to the old address of the account that got it.
    assert Email.objects.filter(kind="email_changed").count() == 1


def test_the_migration_names_accounts_that_share_an_address(buyer: User) -> None:
    """A database from before the constraint may hold some: the migration stops, naming
    the accounts (not their addresses), and changes nothing."""
    with connection.cursor() as cursor:
        cursor.execute(f"DROP INDEX {EMAIL_UNIQUE}")
    twin = factories.BuyerFactory(username="alice-twin", email="ALICE@example.test")
    factories.BuyerFactory(username="loner", email="loner@example.test")
    new_account("erased-1", "")
    new_account("erased-2", "")

    with pytest.raises(CommandError) as stopped:
        MIGRATION.refuse_shared_addresses(apps, None)

    message = str(stopped.value)
    assert f"alice (id {buyer.pk}), alice-twin (id {twin.pk})" in message
    assert "loner" not in message
    assert "erased" not in message
    assert "example.test" not in message


def test_the_migration_lets_a_database_without_shared_addresses_through(
    buyer: User, other_buyer: User
) -> None:
    new_account("erased-1", "")
    new_account("erased-2", "")

    MIGRATION.refuse_shared_addresses(apps, None)
