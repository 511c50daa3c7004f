"""Whoever answers from the console answers as customer service: an administrator, like an
agent, is "Customer Service" to the customer — on the conversation's page, in the list, by
e-mail and in the API — unless SUPPORT_SHOW_AGENT_NAMES (docs/support.md). Sellers and
buyers keep their names, whatever Django's staff flag says."""

import pytest
from django.urls import reverse
from pytest_django.fixtures import Settings

from messagecenter.accounts.models import Role, User
from messagecenter.support import actions
from messagecenter.support.models import Case
from tests import factories
from tests.api.helpers import with_token
from tests.factories import signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin(db: None) -> User:
    return factories.UserFactory(
        username="admin",
        role=Role.ADMIN,
        is_staff=True,
        is_superuser=True,
        display_name="Site administrator",
    )


@pytest.fixture
def case(buyer: User) -> Case:
    return actions.open_request(buyer, "Pending charge", "Why is there a pending charge?")


def answer_from_the_console(admin: User, case: Case) -> None:
    response = signed_in(admin).post(
        reverse("console-case-reply", args=[case.pk]), {"body": "It goes away within a week."}
    )
    assert response.status_code == 302


def test_the_console_tells_an_admin_the_customer_sees_customer_service(
    admin: User, case: Case
) -> None:
    text = signed_in(admin).get(reverse("console-case", args=[case.pk])).content.decode()

    assert "the customer sees it as from <bdi>Customer Service</bdi>, Official" in text
    assert "Site administrator" not in text


def test_an_admins_answer_is_from_customer_service_on_the_customers_pages(
    admin: User, buyer: User, case: Case
) -> None:
    answer_from_the_console(admin, case)
    customer = signed_in(buyer)

    page = customer.get(reverse("conversation", args=[case.conversation_id])).content.decode()
    listed = customer.get("/message-center/").content.decode()

    assert '<span class="message__sender">Customer Service</span>' in page
    assert "Customer Service" in listed
    assert "Site administrator" not in page + listed


def test_an_admins_answer_is_from_customer_service_in_the_api(
    admin: User, buyer: User, case: Case
) -> None:
    answer_from_the_console(admin, case)
    device = with_token(buyer)

    [row] = device.get("/conversations").json()["items"]
    messages = device.get(f"/conversations/{case.conversation_id}/messages").json()["items"]

    assert (row["last_message"]["sender_name"], row["last_message"]["is_official"]) == (
        "Customer Service",
        True,
    )
    assert messages[-1]["sender_name"] == "Customer Service"


def test_the_operator_may_show_the_names_of_those_who_answer(
    admin: User, case: Case, settings: Settings
) -> None:
    settings.SUPPORT_SHOW_AGENT_NAMES = True

    assert admin.public_name == "Site administrator"


def test_the_console_shows_a_right_to_left_name_the_customer_sees_apart_from_official(
    admin: User, case: Case, settings: Settings
) -> None:
    """ "(the customer sees it as from نور الهدى, Official)": as one run of text the Arabic
    name took the ", Official" after it into its right-to-left run. It is an isolate of its
    own, as every name on the console's pages."""
    settings.SUPPORT_SHOW_AGENT_NAMES = True
    User.objects.filter(pk=admin.pk).update(display_name="نور الهدى")

    text = signed_in(admin).get(reverse("console-case", args=[case.pk])).content.decode()

    assert "the customer sees it as from <bdi>نور الهدى</bdi>, Official" in text


def test_the_staff_flag_changes_no_sellers_or_buyers_name(seller: User, buyer: User) -> None:
    """Django's `is_staff` opens the admin site, not the console: a staff seller is still
    their shop, a staff buyer still themself."""
    User.objects.filter(pk__in=[seller.pk, buyer.pk]).update(is_staff=True)
    seller.refresh_from_db()
    buyer.refresh_from_db()

    assert seller.public_name == "Acme Kitchen"
    assert buyer.public_name == buyer.display_name != "Customer Service"
