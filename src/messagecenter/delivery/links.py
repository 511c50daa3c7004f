"""Links in e-mails that work without signing in: the preferences page and one-click
unsubscribe (docs/email.md). Each carries the person (and, for unsubscribe, the
category) signed with HMAC-SHA256 under the site's secret key — a 256-bit signature —
and stays valid for EMAIL_LINK_MAX_AGE_DAYS (two years by default)."""

import re
from dataclasses import dataclass
from datetime import timedelta
from functools import cache

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


# Our links that are a key in themselves: whoever has one can reset the password, confirm or
# undo an address change, open the preferences or unsubscribe — without signing in.
SECRET_LINKS = {
    "password-reset-confirm": 2,
    "email-change-confirm": 1,
    "email-change-undo": 1,
    "email-preferences-link": 1,
    "unsubscribe": 1,
}
REMOVED = "[removed]"
# A "/" as a link may carry it: plain, percent-encoded (a gateway's rewritten link holds
# ours as its parameter: SafeLinks, urldefense, Google's redirect), an HTML entity, or
# escaped in a script.
_SLASH = r"(?:/|%2[fF]|&#0*47;|&#[xX]0*2[fF];|\\/)"
# A path segment: anything but a slash, a space or what ends an address in text or HTML;
# percent-encoded characters but the slash included.
_SEGMENT = r"(?:[^\s/%&\"'<>\\]|%(?!2[fF])[0-9A-Fa-f]{2}|&(?!#0*47;|#[xX]0*2[fF];))+"


@cache
def _secret_paths() -> re.Pattern[str]:
    """Each secret link's fixed path, then its key's segments, in any of those spellings
    and on any host (a link to "localhost" opens the same page as one to 127.0.0.1)."""
    patterns: list[str] = []
    for name, segments in SECRET_LINKS.items():
        fixed = reverse(name, args=["X"] * segments).split("/X/", 1)[0]
        words = [re.escape(word) for word in fixed.strip("/").split("/")]
        key = _SLASH.join([_SEGMENT] * segments)
        patterns.append(f"{_SLASH.join(words)}{_SLASH}(?P<key_{len(patterns)}>{key})")
    # Longest first: "email-change/undo/<key>" before "email-change/<key>".
    patterns.sort(key=len, reverse=True)
    return re.compile("(?:" + "|".join(patterns) + ")")


def without_secrets(text: str) -> str:
    """The text with the key of each of our secret links taken out
    ("…/accounts/password-reset/[removed]/"): for what people other than the person read — a
    forwarded e-mail's evidence in trust and safety's console and the admin. A genuine
    reset forwarded to the report address put a working reset link before every agent.
    Looked for by its path, whatever the host or the encoding; "/" in the key is what ends
    it, so a key cut by a line break loses its first part (and cannot be used)."""
    return _secret_paths().sub(_removed, text)


def _removed(match: re.Match[str]) -> str:
    # The key is the one named group of the alternative that matched.
    start, end = match.span(match.lastgroup or 0)
    return match.string[match.start() : start] + REMOVED + match.string[end : match.end()]


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
