import pytest
from django.contrib import admin
from django.test import Client
from django.urls import reverse

from messagecenter.accounts.models import Role
from messagecenter.conversations import actions
from messagecenter.marketplace.models import Product
from tests import factories

pytestmark = pytest.mark.django_db

MODELS = sorted(
    f"{model._meta.app_label}_{model._meta.model_name}" for model in admin.site._registry
)


@pytest.fixture
def staff_client(client: Client) -> Client:
    client.force_login(
        factories.UserFactory(username="admin", role=Role.ADMIN, is_staff=True, is_superuser=True)
    )
    return client


@pytest.mark.parametrize("model", MODELS)
def test_staff_can_list_every_model(
    staff_client: Client, model: str, buyer: object, product: Product
) -> None:
    actions.ask_seller_about_product(buyer, product.pk, "Is it in stock?")  # type: ignore[arg-type]
    response = staff_client.get(reverse(f"admin:{model}_changelist"))
    assert response.status_code == 200


def test_people_who_are_not_staff_are_sent_to_the_admin_sign_in(
    client: Client, buyer: object
) -> None:
    client.force_login(buyer)  # type: ignore[arg-type]
    response = client.get(reverse("admin:conversations_conversation_changelist"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("admin:login"))
