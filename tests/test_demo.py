"""The demo marketplace that `make run` loads: once, all or nothing, written through the
actions so its counters and event logs are what real use would leave."""

from io import StringIO

import pytest
from django.apps import apps
from django.core.management import call_command
from django.core.management.base import CommandError

from messagecenter.demo import story
from messagecenter.errors import Conflict
from messagecenter.notifications import actions as notification_actions
from tests import factories

LOADED = (
    "Loaded the demo marketplace: 9 accounts, 4 shops, 11 products, 10 orders, "
    "26 conversations and 59 messages.\n\n"
)


def row_counts() -> dict[str, int]:
    return {model._meta.label: model._default_manager.count() for model in apps.get_models()}


def test_loading_twice_changes_nothing_the_second_time(db: None) -> None:
    first = story.load_demo()
    after_first = row_counts()

    second = story.load_demo()

    assert first == story.DemoSummary(
        already_loaded=False,
        accounts=9,
        storefronts=4,
        products=11,
        orders=10,
        conversations=26,
        messages=59,
    )
    assert second == story.DemoSummary(already_loaded=True)
    assert row_counts() == after_first
    assert story.is_loaded() is True


def test_a_failure_midway_leaves_nothing_loaded(db: None, monkeypatch: pytest.MonkeyPatch) -> None:
    before = row_counts()

    def fail(*args: object, **kwargs: object) -> int:
        raise RuntimeError("the disk is full")

    # One of the last steps, so nearly everything was written before it fails.
    monkeypatch.setattr(notification_actions, "trash_broadcasts", fail)
    with pytest.raises(RuntimeError, match="the disk is full"):
        story.load_demo()

    assert row_counts() == before
    assert story.is_loaded() is False


def test_the_demo_refuses_a_database_where_its_usernames_are_taken(db: None) -> None:
    factories.UserFactory(username="admin")
    before = row_counts()

    with pytest.raises(Conflict) as raised:
        story.load_demo()

    assert raised.value.code == "demo_usernames_taken"
    assert raised.value.message == (
        "The demo cannot be loaded: this database already has accounts named admin. "
        "Load it into a fresh database (another MESSAGECENTER_VAR_DIR or DATABASE_URL)."
    )
    assert row_counts() == before


def test_demo_command_loads_once_and_prints_the_sign_ins_every_time(db: None) -> None:
    first, second = StringIO(), StringIO()

    call_command("demo", stdout=first)
    call_command("demo", stdout=second)

    assert first.getvalue() == LOADED + story.sign_in_help()
    assert second.getvalue() == (
        "The demo marketplace is already loaded.\n\n" + story.sign_in_help()
    )


def test_demo_command_leaves_the_sign_ins_to_run_when_asked(db: None) -> None:
    """make run loads the demo, then runs: the sign-ins are printed once, beside the address."""
    first, second = StringIO(), StringIO()

    call_command("demo", "--no-sign-ins", stdout=first)
    call_command("demo", "--no-sign-ins", stdout=second)

    assert first.getvalue() == LOADED.rstrip("\n") + "\n"
    assert second.getvalue() == "The demo marketplace is already loaded.\n"


def test_demo_command_explains_why_it_cannot_load(db: None) -> None:
    factories.UserFactory(username="agent")

    with pytest.raises(CommandError, match="already has accounts named agent"):
        call_command("demo", stdout=StringIO())


def test_sign_in_help_lists_every_demo_account_and_the_password() -> None:
    assert story.sign_in_help() == (
        "Demo sign-ins (the password of every account is demo-password-2026):\n"
        "  buyer   alice      orders in every state, seller and customer-service replies, "
        "a phishing message, a seller past their deadline\n"
        "  buyer   bob        a cancelled order, a seller's answer, a promotion, an open claim\n"
        "  seller  seller     Brightside Home & Kitchen: a buyer's question to answer\n"
        "  seller  trailhead  Trailhead Outfitters: a buyer's question, answered; a claim to "
        "respond to\n"
        "  seller  pixelpine  Pixel & Pine Electronics: a new question about an order, one past "
        "its deadline\n"
        "  agent   agent      the console: an open, a pending and a solved case, a claim, notes, "
        "canned responses; reports filed in the demo (Trust & safety)\n"
        "  admin   admin      the Django admin at /admin/\n"
    )
