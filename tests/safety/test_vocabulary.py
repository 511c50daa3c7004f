"""The detector's vocabulary in the admin (docs/safety.md#vocabulary): seeded with the
defaults, edited by staff through the admin's forms, checked and normalised, published as
revisions whose number the next verdicts carry, read once per process and not per message."""

import importlib

import pytest
from django.apps import apps
from django.test import Client
from django.urls import reverse
from pytest_django import DjangoAssertNumQueries

from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions
from messagecenter.conversations.models import Message
from messagecenter.errors import InvalidInput, NotAllowed
from messagecenter.marketplace.models import Product
from messagecenter.safety import vocabulary_actions, vocabulary_cache
from messagecenter.safety.models import VocabularyEntry, VocabularyRevision
from messagecenter.safety.vocabulary import DETECTOR_VERSION, default_lists
from tests import factories

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def seeded(db: None) -> int:
    """The number of the migration's revision. A transactional test that ran earlier in this
    process (pytest-xdist) emptied every table, the migration's rows too: they are put back
    by the migration's own function (under a new number: the counter is not reset)."""
    if not VocabularyRevision.objects.exists():
        migration = importlib.import_module("messagecenter.safety.migrations.0004_vocabulary")
        migration.seed_defaults(apps, None)
    return VocabularyRevision.objects.get(change="The detector's defaults").number


@pytest.fixture
def staff() -> User:
    return factories.UserFactory(
        username="operator", role=Role.ADMIN, is_staff=True, is_superuser=True
    )


def admin_client(staff: User) -> Client:
    client = Client()
    client.force_login(staff)
    return client


def add_entry(staff: User, kind: str, value: str, *, active: bool = True) -> int:
    data = {"kind": kind, "value": value, "_save": "Save"} | ({"active": "on"} if active else {})
    return admin_client(staff).post(reverse("admin:safety_vocabularyentry_add"), data).status_code


def newest_revision() -> VocabularyRevision:
    return VocabularyRevision.objects.order_by("-number")[0]


def test_the_defaults_are_there_after_migrate_as_the_first_revision(seeded: int) -> None:
    defaults = default_lists()
    rows = {
        kind: tuple(
            VocabularyEntry.objects.filter(kind=kind, active=True)
            .order_by("id")
            .values_list("value", flat=True)
        )
        for kind in defaults
    }
    assert rows == defaults
    assert rows["operator_name"] == ("Marketplace",)
    assert "marketplace.example" in rows["operator_domain"]
    assert "security team" in rows["staff_title"]
    revision = newest_revision()
    assert (revision.number, revision.change) == (seeded, "The detector's defaults")
    assert VocabularyRevision.objects.count() == 1
    assert revision.lists == {kind: list(values) for kind, values in defaults.items()}
    vocabulary = vocabulary_cache.current()
    assert vocabulary.revision == seeded
    assert vocabulary.version.startswith(f"{DETECTOR_VERSION}.{seeded}.")
    assert vocabulary.operator_names == ("Marketplace",)


def test_an_operator_name_added_in_the_admin_judges_the_next_message_with_its_version(
    staff: User, buyer: User, seeded: int
) -> None:
    seller = factories.SellerFactory(storefront__name="Shopzilla Deals")
    order = factories.order_with_item(buyer, factories.ProductFactory(storefront=seller.storefront))
    before = actions.contact_buyer_about_order(seller, order.pk, "Your parcel left today.")
    before_version = Message.objects.get(pk=before.pk).safety_version

    assert add_entry(staff, "operator_name", "  Shopzilla ") == 302

    after = Message.objects.get(
        pk=actions.send_message(seller, before.conversation_id, "Your parcel left today.").pk
    )
    revision = newest_revision()
    assert revision.number > seeded
    assert revision.change == "Added Operator name: Shopzilla"
    assert revision.changed_by == staff
    assert revision.lists["operator_name"] == ["Marketplace", "Shopzilla"]
    assert Message.objects.get(pk=before.pk).safety_verdict == "ok"
    assert after.safety_verdict == "warn"
    assert [reason["code"] for reason in after.safety_reasons] == ["name_imitates_operator"]
    assert before_version.startswith(f"{DETECTOR_VERSION}.{seeded}.")
    assert after.safety_version.startswith(f"{DETECTOR_VERSION}.{revision.number}.")
    assert after.safety_version == vocabulary_cache.current().version


def test_an_entry_turned_off_in_the_change_form_stops_counting(
    staff: User, buyer: User, seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)
    body = "Tracking: https://www.ups.com/track?tracknum=1Z999AA10123456784"
    first = Message.objects.get(pk=actions.contact_buyer_about_order(seller, order.pk, body).pk)
    ups = VocabularyEntry.objects.get(kind="trusted_domain", value="ups.com")

    response = admin_client(staff).post(
        reverse("admin:safety_vocabularyentry_change", args=[ups.pk]),
        {"kind": "trusted_domain", "value": "ups.com", "_save": "Save"},
    )

    assert response.status_code == 302
    second = Message.objects.get(pk=actions.send_message(seller, first.conversation_id, body).pk)
    assert first.safety_verdict == "ok"
    assert second.safety_verdict == "warn"
    assert [reason["code"] for reason in second.safety_reasons] == ["link_outside"]
    assert newest_revision().change == "Turned off Trusted outside domain: ups.com"
    assert "ups.com" not in newest_revision().lists["trusted_domain"]
    assert second.safety_version.startswith(f"{DETECTOR_VERSION}.{newest_revision().number}.")


def test_a_form_saved_unchanged_publishes_no_revision(staff: User, seeded: int) -> None:
    ups = VocabularyEntry.objects.get(kind="trusted_domain", value="ups.com")

    response = admin_client(staff).post(
        reverse("admin:safety_vocabularyentry_change", args=[ups.pk]),
        {"kind": "trusted_domain", "value": "ups.com", "active": "on", "_save": "Save"},
    )

    assert response.status_code == 302
    assert newest_revision().number == seeded


def test_deleting_an_entry_publishes_a_revision(staff: User) -> None:
    entry = VocabularyEntry.objects.get(kind="shortener_domain", value="bit.ly")

    response = admin_client(staff).post(
        reverse("admin:safety_vocabularyentry_delete", args=[entry.pk]), {"post": "yes"}
    )

    assert response.status_code == 302
    assert newest_revision().change == "Removed Link shortener: bit.ly"
    assert "bit.ly" not in vocabulary_cache.current().shortener_domains


@pytest.mark.parametrize(
    ("kind", "value", "saved"),
    [
        ("operator_domain", " Shop.Example. ", "shop.example"),
        ("operator_domain", "bücher.example", "xn--bcher-kva.example"),
        ("staff_title", "Ｓｅｃｕｒｉｔｙ   Desk", "security desk"),
        ("payment_link_host", "Pay.Example/Checkout", "pay.example/checkout"),
        ("messenger", "Threads", "threads"),
        ("email_provider", "FastMail", "fastmail"),
    ],
)
def test_values_are_saved_as_the_detector_compares_them(
    staff: User, kind: str, value: str, saved: str
) -> None:
    assert add_entry(staff, kind, value) == 302

    assert VocabularyEntry.objects.filter(kind=kind, value=saved).exists()
    assert saved in newest_revision().lists[kind]


@pytest.mark.parametrize(
    ("kind", "value", "error"),
    [
        ("operator_domain", "https://shop.example/login", "Write the domain only"),
        ("operator_domain", "shop", "is not a domain"),
        ("operator_domain", "com", "is not a domain"),
        ("trusted_domain", "co.uk", "is a public suffix"),
        ("trusted_domain", "bad_host.example", "is not a domain"),
        ("shortener_domain", "short.example/abc", "without a path"),
        ("operator_domain", "shop.123", "does not end in a top-level domain"),
        ("operator_name", "Mkt", "at least 4 letters or digits"),
        ("staff_title", "!!", "at least 3 letters or digits"),
        ("email_provider", "mail.example", "after @ and before the first dot"),
        ("messenger", "what's app", "letters and digits only"),
        ("operator_name", "Marketplace", "already exists"),
        ("operator_domain", "MARKETPLACE.example", "already exists"),
    ],
)
def test_bad_input_is_refused_with_the_reason_and_changes_nothing(
    staff: User, kind: str, value: str, error: str, seeded: int
) -> None:
    entries = VocabularyEntry.objects.count()

    response = admin_client(staff).post(
        reverse("admin:safety_vocabularyentry_add"),
        {"kind": kind, "value": value, "active": "on", "_save": "Save"},
    )

    assert response.status_code == 200
    assert error in response.content.decode().replace("&#x27;", "'")
    assert VocabularyEntry.objects.count() == entries
    assert newest_revision().number == seeded


def test_the_action_refuses_bad_input_and_people_who_are_not_staff(
    staff: User, buyer: User, seeded: int
) -> None:
    with pytest.raises(InvalidInput) as refused:
        vocabulary_actions.save_vocabulary_entry(
            staff, VocabularyEntry(kind="operator_domain", value="http://x")
        )
    assert refused.value.code == "invalid_vocabulary_entry"
    with pytest.raises(InvalidInput) as duplicate:
        vocabulary_actions.save_vocabulary_entry(
            staff, VocabularyEntry(kind="messenger", value="WhatsApp")
        )
    assert duplicate.value.code == "vocabulary_entry_exists"
    with pytest.raises(NotAllowed):
        vocabulary_actions.save_vocabulary_entry(
            buyer, VocabularyEntry(kind="messenger", value="threads")
        )
    assert newest_revision().number == seeded


def test_the_vocabulary_is_read_once_per_process_not_per_message(
    django_assert_num_queries: DjangoAssertNumQueries,
) -> None:
    with django_assert_num_queries(1):
        first = vocabulary_cache.current()
    with django_assert_num_queries(0):
        assert vocabulary_cache.current() is first


def test_settings_add_to_the_admins_lists(settings: object) -> None:
    settings.SAFETY_OPERATOR_NAMES = ["ShopCo"]  # type: ignore[attr-defined]
    settings.SAFETY_TRUSTED_DOMAINS = ["ups.com", "carrier.example"]  # type: ignore[attr-defined]

    vocabulary = vocabulary_cache.current()

    assert vocabulary.operator_names == ("Marketplace", "ShopCo")
    assert vocabulary.trusted_domains.count("ups.com") == 1
    assert vocabulary.trusted_domains[-1] == "carrier.example"


def test_the_revisions_are_read_only_in_the_admin(staff: User) -> None:
    client = admin_client(staff)

    assert client.get(reverse("admin:safety_vocabularyrevision_changelist")).status_code == 200
    assert client.get(reverse("admin:safety_vocabularyrevision_add")).status_code == 403


def test_a_value_too_long_once_normalised_is_refused(staff: User, seeded: int) -> None:
    """NFKC unfolds one character into up to 18: within the field's 200 as typed, over it
    as saved (the admin answered 500)."""
    entries = VocabularyEntry.objects.count()

    response = admin_client(staff).post(
        reverse("admin:safety_vocabularyentry_add"),
        {"kind": "staff_title", "value": "\ufdfa" * 12, "active": "on", "_save": "Save"},
    )

    assert response.status_code == 200
    assert "over 200 characters" in response.content.decode()
    assert VocabularyEntry.objects.count() == entries
    assert newest_revision().number == seeded
