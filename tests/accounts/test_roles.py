"""accounts/roles.py: the one seller check, for actions and the API (403 sellers_only) and
for pages only sellers have (404)."""

import pytest

from messagecenter.accounts.models import User
from messagecenter.accounts.roles import require_seller, require_seller_page
from messagecenter.errors import NotAllowed, NotFound

pytestmark = pytest.mark.django_db


def test_a_seller_passes_both_checks(seller: User) -> None:
    require_seller(seller)
    require_seller_page(seller)


def test_anyone_else_is_refused_with_sellers_only(buyer: User) -> None:
    with pytest.raises(NotAllowed) as refused:
        require_seller(buyer)
    assert (refused.value.code, refused.value.status) == ("sellers_only", 403)


def test_a_sellers_page_is_not_there_for_anyone_else(buyer: User) -> None:
    with pytest.raises(NotFound) as refused:
        require_seller_page(buyer, missing="No such order.")
    assert (refused.value.message, refused.value.status) == ("No such order.", 404)
