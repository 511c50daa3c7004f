"""Links in e-mails that work without signing in: the preferences page and one-click
unsubscribe (docs/email.md). Each carries the person (and, for unsubscribe, the
category) signed with HMAC-SHA256 under the site's secret key — a 256-bit signature —
and stays valid for EMAIL_LINK_MAX_AGE_DAYS (two years by default)."""

import re
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import urlsplit

from django.conf import settings
from django.core import signing
from django.urls import Resolver404, resolve, reverse

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


# Our links that are a key in themselves: whoever has one can reset the password, confirm or
# undo an address change, open the preferences or unsubscribe — without signing in.
SECRET_LINKS = frozenset(
    {
        "password-reset-confirm",
        "email-change-confirm",
        "email-change-undo",
        "email-preferences-link",
        "unsubscribe",
    }
)
_WEB_ADDRESS = re.compile(r"(?i)\bhttps?://[^\s\"'<>()\[\]]+")
REMOVED = "[removed]/"


def without_secrets(text: str) -> str:
    """The text with the key part of each of our secret links taken out
    ("http://…/accounts/password-reset/[removed]/"): for what people other than the person
    read — a forwarded e-mail's evidence in trust and safety's console. A genuine reset
    e-mail forwarded to the report address put a working reset link before every agent."""
    site = urlsplit(settings.SITE_URL).hostname
    return _WEB_ADDRESS.sub(lambda match: _without_secret(match.group(0), site), text)


def _without_secret(written: str, site: str | None) -> str:
    # The sentence's full stop or comma after an address is not part of it.
    url = written.rstrip(".,;:!?")
    return _secret_removed(url, site) + written[len(url) :]


def _secret_removed(url: str, site: str | None) -> str:
    parts = urlsplit(url)
    if parts.hostname is None or parts.hostname.lower() != site:
        return url
    try:
        found = resolve(parts.path)
    except Resolver404:
        return url
    if found.url_name not in SECRET_LINKS:
        return url
    # The path up to the first of its parameters: "accounts/password-reset/".
    fixed = "/" + str(found.route).split("<", 1)[0]
    return f"{parts.scheme}://{parts.netloc}{fixed}{REMOVED}"


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
