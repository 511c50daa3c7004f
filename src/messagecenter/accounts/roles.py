"""The one seller check: what only sellers may do (their tools, their orders' buyers, the
"Response needed" list). Actions and the JSON API refuse anyone else with NotAllowed
(403, `sellers_only`); a page that exists only for sellers is not there for anyone else
(NotFound: the site's 404 page, through web/errors.py)."""

from messagecenter.accounts.models import User
from messagecenter.errors import NotAllowed, NotFound


def require_seller(user: User) -> None:
    if not user.is_seller:
        raise NotAllowed("This is for sellers.", code="sellers_only")


def require_seller_page(user: User, *, missing: str = "No such page.") -> None:
    """require_seller for a page only sellers have: someone else finds nothing there."""
    try:
        require_seller(user)
    except NotAllowed:
        raise NotFound(missing) from None
