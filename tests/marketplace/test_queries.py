import pytest

from messagecenter.accounts.models import User
from messagecenter.errors import NotFound
from messagecenter.marketplace import queries
from messagecenter.marketplace.models import Product
from tests import factories

pytestmark = pytest.mark.django_db


def test_access_order_returns_your_own_order(buyer: User, product: Product) -> None:
    order = factories.order_with_item(buyer, product)

    assert queries.access_order(buyer, order.number) == order


def test_someone_elses_order_and_a_missing_one_raise_the_same_not_found(
    buyer: User, other_buyer: User, product: Product
) -> None:
    order = factories.order_with_item(other_buyer, product)

    with pytest.raises(NotFound) as someone_elses:
        queries.access_order(buyer, order.number)
    with pytest.raises(NotFound) as missing:
        queries.access_order(buyer, "112-0000000-9999999")

    assert (someone_elses.value.code, someone_elses.value.message) == (
        "order_not_found",
        "No such order.",
    )
    assert (missing.value.code, missing.value.message) == ("order_not_found", "No such order.")


def test_a_seller_cannot_reach_an_order_they_sold_on(
    buyer: User, seller: User, product: Product
) -> None:
    order = factories.order_with_item(buyer, product)

    with pytest.raises(NotFound):
        queries.access_order(seller, order.number)


def test_order_details_lists_each_seller_once_in_item_order(
    buyer: User, product: Product, other_seller: User
) -> None:
    order = factories.order_with_item(buyer, product)
    for title in ("Mug", "Saucer"):
        item = factories.ProductFactory(storefront=other_seller.storefront, title=title)
        order.items.create(
            product=item, storefront=item.storefront, title=title, unit_price_cents=500
        )
    factories.order_with_item(buyer, factories.ProductFactory(title="Elsewhere"))

    details = queries.order_details(buyer, order)

    assert [item.title for item in details.items] == ["Espresso machine", "Mug", "Saucer"]
    assert [storefront.name for storefront in details.storefronts] == [
        "Acme Kitchen",
        "Other Goods",
    ]
