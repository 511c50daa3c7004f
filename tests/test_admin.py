from typing import Any

import pytest
from django import forms
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


def change_form_data(page: Any) -> dict[str, Any]:
    """What a browser would post back from an admin change page, unchanged: each field's
    value as the form shows it (a split date and time in its two inputs)."""
    form = page.context["adminform"].form
    data: dict[str, Any] = {}
    for field in form:
        value = field.value()
        widget = field.field.widget
        if field.field.disabled or value is None or value is False:
            continue
        if isinstance(widget, forms.MultiWidget):
            for index, part in enumerate(widget.decompress(value)):
                data[f"{field.html_name}_{index}"] = "" if part is None else str(part)
        elif value is True:
            data[field.html_name] = "on"
        else:
            data[field.html_name] = value
    return data


def test_the_admin_refuses_a_display_name_with_nothing_visible(staff_client: Client) -> None:
    """A display name of zero-width spaces and direction marks was the sender's name on
    every message: a blank where a name should be."""
    person = factories.BuyerFactory(username="quiet", display_name="Quiet Buyer")
    url = reverse("admin:accounts_user_change", args=[person.pk])
    data = change_form_data(staff_client.get(url))
    assert staff_client.post(url, data).status_code == 302  # the form posts back as it is

    refused = staff_client.post(url, {**data, "display_name": "\u200b\u200d\u2060\ufeff\u200e"})

    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert list(errors) == ["display_name"]
    assert "at least one visible character" in errors["display_name"][0]
    person.refresh_from_db()
    assert person.display_name == "Quiet Buyer"


@pytest.mark.parametrize("name", ["\u200b\u200d\u2060\ufeff\u200e", "\u2800", "\u3164 \u200f"])
def test_the_admin_refuses_a_shop_name_with_nothing_visible(
    staff_client: Client, name: str
) -> None:
    """A shop's name is its seller's name on every message and "Sold by …" beside its
    products: one of zero-width spaces, direction marks or a blank braille pattern was
    accepted and shown as a blank, where a display name of the same was refused."""
    shop = factories.StorefrontFactory(name="Acme Kitchen")
    url = reverse("admin:marketplace_storefront_change", args=[shop.pk])
    data = change_form_data(staff_client.get(url))
    assert staff_client.post(url, data).status_code == 302  # the form posts back as it is

    refused = staff_client.post(url, {**data, "name": name})

    assert refused.status_code == 200
    errors = refused.context["adminform"].form.errors
    assert list(errors) == ["name"]
    assert "at least one visible character" in errors["name"][0]
    shop.refresh_from_db()
    assert shop.name == "Acme Kitchen"
