"""Erasure at a person's request (docs/privacy.md#erasure): after it, no row of any table,
no stored file and no log holds the person's name, e-mail address or what they wrote, and
the operator's order records remain."""

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from django.apps import apps
from django.conf import settings
from django.contrib.messages import get_messages
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db import models
from django.test import Client
from django.utils import timezone

from messagecenter.accounts import actions as account_actions
from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import HiddenMessage, Message
from messagecenter.errors import Conflict, NotAllowed
from messagecenter.marketplace import messages as marketplace_messages
from messagecenter.marketplace import return_actions
from messagecenter.marketplace.models import Order, OrderItem, Product, Shipment, Storefront
from messagecenter.marketplace.return_actions import ReturnLine
from messagecenter.privacy import actions as privacy_actions
from messagecenter.privacy import export_actions
from messagecenter.privacy.erasure import REMOVED, _without_names, erase_person
from messagecenter.privacy.models import Erasure
from messagecenter.support import actions as support_actions
from messagecenter.support import claim_actions, report_actions
from messagecenter.support.models import Case, ForwardedEmail, Report, ReportFiling
from tests import factories
from tests.conversations.helpers import snapshot
from tests.delivery.replies import forward_suspicious_email
from tests.support.claims import Clock, claimable_order, clock
from tests.web.helpers import pdf_bytes

pytestmark = pytest.mark.django_db

__all__ = ["clock"]

NAME = "Zebedee"
SURNAME = "Quintonbury"
EMAIL = "zebedee.q@example.test"
WRITTEN = "xylophonic mandate"
# In a PDF's text: an image's bytes would not keep it (images are encoded again on upload).
PDF = pdf_bytes(WRITTEN)
# The buyer signs in as "zq-buyer" (not their first name, so the first name is looked for
# on its own); the seller as "zebedee".
TRACES = (NAME, SURNAME, EMAIL, WRITTEN, "zebedee", "zq-buyer")


@pytest.fixture
def admin_user(db: None) -> User:
    user: User = factories.UserFactory(
        username="opsadmin", role=Role.ADMIN, is_staff=True, is_superuser=True
    )
    return user


def order_placed(order: Order) -> None:
    """The marketplace's messages about a new order: the buyer's confirmation (naming each
    shop) and the note to its seller (naming the buyer)."""
    items = list(
        OrderItem.objects.filter(order=order).select_related("storefront__seller").order_by("id")
    )
    marketplace_messages.order_placed(order, items, order.placed_at)


def report_and_decide(reporter: User, message: Message, outcome: str, **decision: Any) -> None:
    """A report of the message, decided (an agent's note on it names the sender): the
    reporter and (unless dismissed) the sender are each told in a message of their own —
    the sender's quotes the message."""
    report_actions.report_message(reporter, message.pk, "scam")
    agent = factories.agent_in_team("trust-and-safety")
    report = Report.objects.get(sender=message.sender, outcome="pending")
    assert message.sender is not None
    support_actions.add_note(agent, report.pk, f"{message.sender.public_name}: second time.")
    report_actions.decide_report(agent, report.pk, outcome, **decision)


@pytest.fixture
def person(seller: User, product: Product) -> User:
    """A buyer who wrote to a seller (with a file), to customer service (answered by name),
    kept a token, a browser, an order and a data export; who reported the seller's answer,
    and whose question the seller reported (confirmed: they were told, quoted)."""
    buyer: User = factories.BuyerFactory(
        username="zq-buyer",
        first_name=NAME,
        last_name=SURNAME,
        display_name=f"{NAME} {SURNAME}",
        email=EMAIL,
    )
    order = factories.order_with_item(buyer, product)
    order_placed(order)
    question = conversation_actions.ask_seller_about_product(
        buyer,
        product.pk,
        f"Hello, {NAME} here: {WRITTEN}.",
        attachments=[SimpleUploadedFile("zebedee.pdf", PDF, content_type="application/pdf")],
    )
    answer = conversation_actions.send_message(seller, question.conversation_id, "Thanks, noted.")
    request = support_actions.open_request(
        buyer, f"{WRITTEN} help", f"My order: {WRITTEN}", order_number=order.number
    )
    agent = factories.agent_in_team("customer-service")
    support_actions.reply_to_case(
        agent,
        request.pk,
        support_actions.fill_placeholders(
            "Hello {customer_name}, it is on its way.", request, agent
        ),
    )
    report_actions.report_message(buyer, answer.pk, "spam")
    report_and_decide(seller, question, "confirmed", sender_action="restricted")
    # A phisher's e-mail that named them, forwarded with a line of their own.
    forward_suspicious_email(
        buyer,
        subject=f"{NAME}, your account is locked",
        text=f"Dear {NAME} {SURNAME} ({EMAIL}), sign in at https://phish.example/login.",
        note=f"{WRITTEN}: is this real?",
    )
    account_actions.create_api_token(buyer, f"{NAME}'s phone")
    Client().force_login(buyer)
    data_export = privacy_actions.request_data_export(buyer)
    export_actions.build_data_export(data_export.pk)
    return buyer


def traces_in_tables(traces: tuple[str, ...] = TRACES) -> list[str]:
    """Every text-like column of every row of every model, searched for the person."""
    found = []
    for model in apps.get_models():
        columns = [
            field.attname
            for field in model._meta.concrete_fields
            if isinstance(
                field,
                models.CharField | models.TextField | models.JSONField | models.BinaryField,
            )
        ]
        if not columns:
            continue
        for row in model._default_manager.values_list("pk", *columns):
            text = " ".join(
                bytes(value).decode(errors="replace")
                if isinstance(value, bytes | memoryview)
                else str(value)
                for value in row[1:]
            ).lower()
            found += [
                f"{model._meta.label} {row[0]}: {trace}"
                for trace in traces
                if trace.lower() in text
            ]
    return found


def traces_in_files(traces: tuple[str, ...] = TRACES) -> list[str]:
    found = []
    for path in Path(settings.MEDIA_ROOT).rglob("*"):
        if path.is_file():
            content = path.read_bytes().lower()
            found += [f"{path}: {t}" for t in traces if t.lower().encode() in content]
    return found


def run_on_commit() -> None:
    """Files go after the commit: run it as the commit would."""
    from django.db import connection

    for _, callback, _ in connection.run_on_commit:
        callback()


def test_nothing_of_the_person_is_left_but_the_orders_remain(
    person: User, seller: User, admin_user: User
) -> None:
    assert traces_in_tables(), "the scan finds the person before the erasure"
    assert traces_in_files(), "the scan finds their file before the erasure"
    orders_before = list(Order.objects.filter(buyer=person).values_list("number", flat=True))

    with_commit = erase_person(admin_user, person)

    assert with_commit.pseudonym == f"erased-{person.pk}"
    assert traces_in_tables() == []
    run_on_commit()
    assert traces_in_files() == []
    assert list(Order.objects.filter(buyer=person).values_list("number", flat=True)) == (
        orders_before
    )
    # The seller's copy: the message in its place, its text replaced; the seller's own kept.
    bodies = list(Message.objects.order_by("pk").values_list("body", flat=True))
    assert REMOVED in bodies
    assert "Thanks, noted." in bodies
    person.refresh_from_db()
    assert (person.is_active, person.has_usable_password()) == (False, False)
    # Reports by and about them stay, pointing at the pseudonymised account; what they
    # no longer saw because they reported it was their own state.
    assert Report.objects.filter(sender=person, outcome="confirmed").count() == 1
    assert ReportFiling.objects.filter(reporter=person).count() == 1
    assert Case.objects.get(report__sender=person).subject == (
        f"Report: {with_commit.pseudonym} (phishing or scam)"
    )
    assert not HiddenMessage.objects.filter(user=person).exists()
    # The phisher's e-mail they forwarded stays as evidence, naming the pseudonym.
    forwarded = ForwardedEmail.objects.get(reporter=person)
    assert (forwarded.note, forwarded.subject) == (
        "",
        f"{with_commit.pseudonym}, your account is locked",
    )
    assert forwarded.links == [{"href": "https://phish.example/login", "text": ""}]


def test_the_admin_shows_what_was_kept_and_why(person: User, admin_user: User) -> None:
    erase_person(admin_user, person)
    client = Client()
    client.force_login(admin_user)

    erasure = Erasure.objects.get()
    page = client.get(f"/admin/privacy/erasure/{erasure.pk}/change/").content.decode()

    assert "Kept, and why" in page
    assert "orders (1)" in page
    assert "the operator&#x27;s sales record" in page or "the operator's sales record" in page
    assert "attachments: 1" in page
    assert "reports about them (1)" in page
    assert "their reports of other people (1)" in page
    assert "suspicious e-mails they forwarded to the report address (1)" in page


SHOP = f"{SURNAME} Kitchen"
SHOP_TRACES = (*TRACES, SHOP, "12 Elm Row")


@pytest.fixture
def shopkeeper(buyer: User, clock: Clock) -> User:
    """A sole trader whose shop bears their name: a product sold and one never ordered
    (each described in their words), the marketplace's messages naming the shop, a return
    they declined in their words (quoted to the buyer), an answer to a buyer that the buyer
    reported (the seller was warned, quoted), a saved reply, a claim against the shop."""
    seller: User = factories.SellerFactory(
        username="zebedee",
        first_name=NAME,
        last_name=SURNAME,
        display_name=f"{NAME} {SURNAME}",
        email=EMAIL,
        storefront__name=SHOP,
        storefront__slug="quintonbury-kitchen",
    )
    sold = factories.ProductFactory(
        storefront=seller.storefront, title="Copper kettle", description=f"{NAME}: {WRITTEN}"
    )
    factories.ProductFactory(
        storefront=seller.storefront, title="Tea towel", description=f"By {NAME} {SURNAME}"
    )
    order = factories.order_with_item(buyer, sold)
    order_placed(order)
    Shipment.objects.create(
        order=order,
        carrier="UPS",
        tracking_number="1Z1",
        shipped_at=timezone.now() - timedelta(days=3),
        delivered_at=timezone.now() - timedelta(days=1),
    )
    started = return_actions.request_return(
        buyer,
        order.number,
        [ReturnLine(OrderItem.objects.get(order=order).pk, 1)],
        resolution="refund",
        reason_code="no_longer_needed",
    ).return_request
    return_actions.decide_return(
        seller, started.pk, approve=False, reason=f"{NAME} says: {WRITTEN}, 12 Elm Row"
    )
    question = conversation_actions.ask_seller_about_product(buyer, sold.pk, "Is it copper?")
    answer = conversation_actions.send_message(
        seller, question.conversation_id, f"Yes, {NAME} here: {WRITTEN}."
    )
    report_and_decide(buyer, answer, "warned")
    conversation_actions.save_reply(seller, "Thanks", f"Thanks! {NAME}")
    support_actions.open_request(seller, f"{WRITTEN} payouts", f"{SHOP} is not paid yet.")
    claims_agent = factories.agent_in_team("claims")
    claim = claim_actions.file_claim(
        buyer, claimable_order(buyer, sold, clock).number, "not_received", "It never came."
    )
    support_actions.add_note(claims_agent, claim.pk, f"Phoned {NAME} at {SHOP}.")
    return seller


def test_erasing_a_seller_pseudonymises_the_shop_and_keeps_what_it_sold(
    shopkeeper: User, buyer: User, admin_user: User
) -> None:
    assert traces_in_tables(SHOP_TRACES), "the scan finds the seller before the erasure"
    orders_before = list(OrderItem.objects.values_list("order__number", "title"))

    erasure = erase_person(admin_user, shopkeeper)

    assert traces_in_tables(SHOP_TRACES) == []
    run_on_commit()
    assert traces_in_files(SHOP_TRACES) == []
    storefront = Storefront.objects.get(seller=shopkeeper)
    assert (storefront.name, storefront.slug) == (erasure.pseudonym, erasure.pseudonym)
    # The sale stays, with what was sold; the product nobody ordered goes.
    assert list(OrderItem.objects.values_list("order__number", "title")) == orders_before
    assert list(Product.objects.values_list("title", "description")) == [("Copper kettle", "")]
    assert Report.objects.filter(sender=shopkeeper, outcome="warned").exists()
    kept = {entry["what"]: entry["count"] for entry in erasure.kept}
    assert (kept["orders sold by their shop"], kept["products"]) == (2, 1)
    assert kept["claims against their shop"] == 1
    assert erasure.removed["products"] == 1


def choose_erase(client: Client, people: list[User], **confirmed: str) -> Any:
    """The people's list in the admin, those people ticked, "Erase the selected people"."""
    return client.post(
        "/admin/accounts/user/",
        {"action": "erase_selected", "_selected_action": [p.pk for p in people], **confirmed},
    )


def accounts() -> list[tuple[Any, ...]]:
    return list(User.objects.order_by("pk").values_list("username", "email", "is_active"))


def test_the_admin_action_first_lists_who_would_be_erased_and_changes_nothing(
    person: User, seller: User, admin_user: User
) -> None:
    """Erasure cannot be undone: like the admin's own "Delete", choosing the action shows a
    page, and nothing happens until its button is pressed."""
    client = Client()
    client.force_login(admin_user)
    before, people_before = snapshot(), accounts()

    page = choose_erase(client, [person, seller, admin_user])

    assert page.status_code == 200
    assert snapshot() == before
    assert accounts() == people_before
    assert not Erasure.objects.exists()
    html = page.content.decode()
    assert "Erasing a person cannot be undone" in html
    assert "2 people to erase" in html
    listed = re.findall(r"<li>(.*?)</li>", html.split('class="erase-list"')[1].split("</ul>")[0])
    assert [item.split(" ")[0] for item in listed] == ["seller", "zq-buyer"]
    assert EMAIL in listed[1]
    # Refused people are listed with why, and not sent back with the button.
    assert "opsadmin: An administrator cannot erase themselves." in html
    sent_back = re.findall(r'name="_selected_action" value="(\d+)"', html)
    assert sorted(int(pk) for pk in sent_back) == sorted([person.pk, seller.pk])
    assert 'name="post" value="yes"' in html
    assert 'name="action" value="erase_selected"' in html


def test_the_admin_action_erases_once_confirmed_and_still_refuses_oneself(
    person: User, admin_user: User
) -> None:
    client = Client()
    client.force_login(admin_user)

    done = choose_erase(client, [person, admin_user], post="yes")

    assert done.status_code == 302
    assert list(Erasure.objects.values_list("person", flat=True)) == [person.pk]
    person.refresh_from_db()
    assert (person.username, person.is_active) == (f"erased-{person.pk}", False)
    admin_user.refresh_from_db()
    assert (admin_user.username, admin_user.is_active) == ("opsadmin", True)
    shown = [str(message) for message in get_messages(done.wsgi_request)]
    assert f"Erased, now erased-{person.pk}: see Privacy → Erasures." in shown
    assert "opsadmin: An administrator cannot erase themselves." in shown


def test_the_admin_page_offers_no_button_when_nobody_can_be_erased(
    person: User, admin_user: User
) -> None:
    erase_person(admin_user, person)
    client = Client()
    client.force_login(admin_user)

    html = choose_erase(client, [person]).content.decode()

    assert f"erased-{person.pk}: This person was erased already." in html
    assert 'name="post"' not in html
    assert "No, take me back" in html


def test_only_an_administrator_erases_and_only_once(
    person: User, seller: User, admin_user: User
) -> None:
    before = snapshot()
    with pytest.raises(NotAllowed):
        erase_person(seller, person)
    assert snapshot() == before
    erase_person(admin_user, person)
    with pytest.raises(Conflict):
        erase_person(admin_user, person)


def test_the_operator_command(person: User, admin_user: User, capsys: Any) -> None:
    call_command("erase_person", "zq-buyer", by="opsadmin")

    out = capsys.readouterr().out
    assert f"Erased: now erased-{person.pk}." in out
    assert "kept orders (1)" in out
    assert Erasure.objects.filter(person=person).exists()


def test_a_short_name_is_replaced_as_a_whole_word_only() -> None:
    assert _without_names("Sam ships the same day, sam.", ["Sam"], "erased-9") == (
        "erased-9 ships the same day, erased-9."
    )
