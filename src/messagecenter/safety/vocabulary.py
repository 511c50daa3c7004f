"""What the detector knows about the operator and about scams: names, domains, phrases and
the policy for each category (docs/safety.md). Every entry has a default; operators change
them through settings (SAFETY_* environment variables, see docs/operations.md).

The vocabulary is part of a verdict's version: a verdict records the detector's version
and a digest of the vocabulary it ran with, so a changed setting is visible on every
message judged after it.
"""

import hashlib
import json
from dataclasses import asdict, dataclass, field
from functools import cache, cached_property
from typing import Literal

# Raised whenever the detector's rules change in a way that can change a verdict.
DETECTOR_VERSION = "1"

Policy = Literal["allow", "warn", "mask", "hold"]
POLICIES: tuple[Policy, ...] = ("allow", "warn", "mask", "hold")

# The categories a verdict's reasons fall in. Contact details are split by kind so an
# operator can, say, mask e-mail addresses but hold payment links.
IMPERSONATION = "impersonation"
CREDENTIALS = "credentials"
PAYMENT = "payment"
LINKS = "links"
CONTACT_EMAIL = "contact_email"
CONTACT_PHONE = "contact_phone"
CONTACT_MESSENGER = "contact_messenger"
CONTACT_PAYMENT_LINK = "contact_payment_link"
CATEGORIES = (
    IMPERSONATION,
    CREDENTIALS,
    PAYMENT,
    LINKS,
    CONTACT_EMAIL,
    CONTACT_PHONE,
    CONTACT_MESSENGER,
    CONTACT_PAYMENT_LINK,
)
CONTACT_CATEGORIES = (CONTACT_EMAIL, CONTACT_PHONE, CONTACT_MESSENGER, CONTACT_PAYMENT_LINK)

DEFAULT_POLICY: dict[str, Policy] = {
    IMPERSONATION: "warn",
    CREDENTIALS: "warn",
    PAYMENT: "warn",
    LINKS: "warn",
    CONTACT_EMAIL: "mask",
    CONTACT_PHONE: "mask",
    CONTACT_MESSENGER: "mask",
    # Money sent through a payment link is money the marketplace's guarantee cannot return.
    CONTACT_PAYMENT_LINK: "hold",
}


@dataclass(frozen=True)
class Vocabulary:
    # How the marketplace calls itself; anyone else using these names imitates it.
    operator_names: tuple[str, ...] = ("Marketplace",)
    # The operator's own registrable domains (the site's own host is added by from_settings).
    operator_domains: tuple[str, ...] = ("marketplace.example",)
    # Words that make a name sound like the operator's staff.
    staff_titles: tuple[str, ...] = (
        "support",
        "support team",
        "security team",
        "security department",
        "account team",
        "accounts team",
        "account department",
        "customer service",
        "customer care",
        "help desk",
        "helpdesk",
        "trust and safety",
        "trust & safety",
        "fraud department",
        "fraud prevention",
        "billing department",
        "billing team",
        "verification team",
        "verification department",
        "admin",
        "administrator",
        "moderator",
        "staff",
        "official",
        "compliance team",
    )
    # Outside sites whose links are ordinary in marketplace messages (carriers' tracking).
    trusted_domains: tuple[str, ...] = (
        "ups.com",
        "fedex.com",
        "usps.com",
        "dhl.com",
        "dhl.de",
        "royalmail.com",
        "parcelforce.com",
        "canadapost-postescanada.ca",
        "auspost.com.au",
        "laposte.fr",
        "ontrac.com",
        "evri.com",
        "dpd.com",
        "gls-group.eu",
    )
    shortener_domains: tuple[str, ...] = (
        "bit.ly",
        "bitly.com",
        "tinyurl.com",
        "t.co",
        "goo.gl",
        "ow.ly",
        "is.gd",
        "buff.ly",
        "rebrand.ly",
        "cutt.ly",
        "shorturl.at",
        "tiny.cc",
        "rb.gy",
        "t.ly",
        "s.id",
        "bit.do",
        "v.gd",
        "shorte.st",
        "adf.ly",
        "lnkd.in",
        "tiny.one",
        "short.io",
    )
    # Hosts (or host/path prefixes) of payment links.
    payment_link_hosts: tuple[str, ...] = (
        "paypal.me",
        "paypal.com/paypalme",
        "venmo.com",
        "account.venmo.com",
        "cash.app",
        "revolut.me",
        "monzo.me",
        "wise.com/pay",
        "buy.stripe.com",
        "checkout.stripe.com",
        "pay.gocardless.com",
        "ko-fi.com",
        "buymeacoffee.com",
        "zelle.com",
        "skrill.me",
        "payoneer.com",
    )
    # Messengers and social sites people move a conversation to, with their link hosts.
    messengers: tuple[str, ...] = (
        "whatsapp",
        "telegram",
        "signal",
        "wechat",
        "viber",
        "line",
        "skype",
        "snapchat",
        "instagram",
        "facebook",
        "messenger",
        "discord",
        "kik",
        "threema",
        "wickr",
        "imo",
        "tiktok",
        "twitter",
        "insta",
        "ig",
        "fb",
        "snap",
        "wa",
        "tg",
    )
    messenger_link_hosts: tuple[str, ...] = (
        "wa.me",
        "api.whatsapp.com",
        "chat.whatsapp.com",
        "t.me",
        "telegram.me",
        "signal.me",
        "m.me",
        "discord.gg",
        "discord.com/invite",
        "instagram.com",
        "facebook.com",
        "fb.com",
        "snapchat.com/add",
        "line.me",
        "viber.com",
        "u.wechat.com",
        "tiktok.com/@",
        "x.com",
        "twitter.com",
    )
    email_providers: tuple[str, ...] = (
        "gmail",
        "googlemail",
        "yahoo",
        "hotmail",
        "outlook",
        "live",
        "msn",
        "icloud",
        "me",
        "aol",
        "protonmail",
        "proton",
        "gmx",
        "yandex",
        "zoho",
        "mail",
        "web",
        "qq",
        "163",
    )
    # Region phone numbers without a country code are read in (ISO 3166 code).
    phone_region: str = "US"
    policy: dict[str, Policy] = field(default_factory=lambda: dict(DEFAULT_POLICY))

    def policy_for(self, category: str) -> Policy:
        return self.policy.get(category, DEFAULT_POLICY.get(category, "warn"))

    @cached_property
    def digest(self) -> str:
        encoded = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()[:8]

    @cached_property
    def version(self) -> str:
        """Stored with every verdict: the detector's version and this vocabulary's digest."""
        return f"{DETECTOR_VERSION}.{self.digest}"


@cache
def configured() -> Vocabulary:
    """The vocabulary of this deployment: defaults overridden by settings.SAFETY_*."""
    from urllib.parse import urlsplit

    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured

    defaults = Vocabulary()
    policy = dict(DEFAULT_POLICY) | dict(getattr(settings, "SAFETY_POLICY", {}))
    unknown = {
        f"{category}={value}"
        for category, value in policy.items()
        if category not in CATEGORIES or value not in POLICIES
    }
    if unknown:
        raise ImproperlyConfigured(
            f"SAFETY_POLICY: {', '.join(sorted(unknown))}: categories are {', '.join(CATEGORIES)}"
            f" and policies {', '.join(POLICIES)}"
        )
    site_host = (urlsplit(settings.SITE_URL).hostname or "").lower()
    domains = tuple(getattr(settings, "SAFETY_OPERATOR_DOMAINS", defaults.operator_domains))
    if site_host and site_host not in domains:
        domains = (*domains, site_host)
    return Vocabulary(
        operator_names=tuple(getattr(settings, "SAFETY_OPERATOR_NAMES", defaults.operator_names)),
        operator_domains=domains,
        trusted_domains=tuple(
            getattr(settings, "SAFETY_TRUSTED_DOMAINS", defaults.trusted_domains)
        ),
        phone_region=getattr(settings, "SAFETY_PHONE_REGION", defaults.phone_region),
        policy=policy,
    )
