"""Links in e-mails that work without signing in: the preferences page and one-click
unsubscribe (docs/email.md). Each carries the person (and, for unsubscribe, the
category) signed with HMAC-SHA256 under the site's secret key — a 256-bit signature —
and stays valid for EMAIL_LINK_MAX_AGE_DAYS (two years by default)."""

from dataclasses import dataclass
from datetime import timedelta

from django.conf import settings
from django.core import signing
from django.urls import reverse

from messagecenter.accounts.models import User
from messagecenter.delivery.models import Category
from messagecenter.errors import NotFound

SALT = "messagecenter.delivery.links"


@dataclass(frozen=True)
class LinkHolder:
    user: User
    category: str | None


def absolute(path: str) -> str:
    return settings.SITE_URL.rstrip("/") + path


def preferences_url(user: User) -> str:
    return absolute(reverse("email-preferences-link", args=[preferences_token(user)]))


def unsubscribe_url(user: User, category: str = Category.PROMOTIONS) -> str:
    return absolute(reverse("unsubscribe", args=[unsubscribe_token(user, category)]))


def preferences_token(user: User) -> str:
    return _token(user, None)


def unsubscribe_token(user: User, category: str = Category.PROMOTIONS) -> str:
    return _token(user, category)


def _token(user: User, category: str | None) -> str:
    payload: dict[str, object] = {"u": user.pk}
    if category is not None:
        payload["c"] = category
    return signing.dumps(payload, salt=SALT, compress=False)


def holder_of(token: str, *, category_required: bool = False) -> LinkHolder:
    """The person (and category) a link was made for; a bad or altered link (or one of an
    account that can no longer be written to) is `link_invalid`, an expired one
    `link_expired`: both NotFound, the page says which (views.link_not_valid)."""
    try:
        payload = signing.loads(
            token, salt=SALT, max_age=timedelta(days=settings.EMAIL_LINK_MAX_AGE_DAYS)
        )
    except signing.SignatureExpired as error:
        # Genuine but old: the page can say so (nothing about the account it was for).
        raise NotFound("This link has expired.", code="link_expired") from error
    except signing.BadSignature as error:
        raise NotFound("This link is not valid any more.", code="link_invalid") from error
    category = payload.get("c") if isinstance(payload, dict) else None
    if category_required and category not in Category.values:
        raise NotFound("This link is not valid any more.", code="link_invalid")
    user = User.objects.filter(pk=payload.get("u"), is_active=True).first()
    if user is None:
        raise NotFound("This link is not valid any more.", code="link_invalid")
    return LinkHolder(user, category)
