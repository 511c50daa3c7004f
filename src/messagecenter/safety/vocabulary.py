"""What the detector knows about the operator and about scams: names, domains, phrases and
the policy for each category (docs/safety.md#vocabulary). Every list has a default here;
operators edit the lists in the admin (safety.VocabularyEntry, seeded with these defaults
by a migration), and the policy, the phone region and deployment-wide additions through
settings (SAFETY_* environment variables, see docs/operations.md). Pure Python: the rows
are read by safety/vocabulary_cache.py.

The vocabulary is part of a verdict's version: a verdict records the detector's version,
the admin's vocabulary revision and a digest of everything it ran with, so a changed entry
or setting is visible on every message judged after it.
"""

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from functools import cache, cached_property
from typing import Literal

from publicsuffixlist import PublicSuffixList

from messagecenter.safety.text import plain, skeleton

# Raised whenever the detector's rules change in a way that can change a verdict.
DETECTOR_VERSION = "8"

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
    # The admin's vocabulary revision these lists come from (0: the defaults above, no
    # revision stored yet).
    revision: int = 0

    def policy_for(self, category: str) -> Policy:
        return self.policy.get(category, DEFAULT_POLICY.get(category, "warn"))

    @cached_property
    def digest(self) -> str:
        encoded = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(encoded).hexdigest()[:8]

    @cached_property
    def version(self) -> str:
        """Stored with every verdict: the detector's version and this vocabulary's digest."""
        return f"{DETECTOR_VERSION}.{self.revision}.{self.digest}"


# --- the lists operators edit in the admin (docs/safety.md#vocabulary) ------------------------

Shape = Literal["name", "phrase", "word", "label", "domain", "host_path"]


@dataclass(frozen=True)
class Kind:
    field: str
    label: str
    shape: Shape
    example: str


# Each kind of entry, the Vocabulary field it fills, and what a value must look like.
KINDS: dict[str, Kind] = {
    "operator_name": Kind("operator_names", "Operator name", "name", "Marketplace"),
    "operator_domain": Kind("operator_domains", "Operator domain", "domain", "marketplace.example"),
    "staff_title": Kind("staff_titles", "Staff title in a name", "phrase", "security team"),
    "trusted_domain": Kind("trusted_domains", "Trusted outside domain", "domain", "ups.com"),
    "shortener_domain": Kind("shortener_domains", "Link shortener", "domain", "bit.ly"),
    "payment_link_host": Kind(
        "payment_link_hosts", "Payment link host", "host_path", "paypal.com/paypalme"
    ),
    "messenger": Kind("messengers", "Messenger name", "word", "whatsapp"),
    "messenger_link_host": Kind(
        "messenger_link_hosts", "Messenger link host", "host_path", "wa.me"
    ),
    "email_provider": Kind("email_providers", "E-mail provider", "label", "gmail"),
}


def default_lists() -> dict[str, tuple[str, ...]]:
    """The defaults of every kind, in the order the detector tries them (the migration that
    creates the admin's table seeds it with these)."""
    defaults = Vocabulary()
    return {kind: getattr(defaults, spec.field) for kind, spec in KINDS.items()}


_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_WORDS = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)*")


def normalise(kind: str, value: str) -> str:
    """The value as the detector compares it, or ValueError saying what is wrong with it:
    a domain must be a domain (not a URL, not a public suffix that would match every site
    under it), a name must have enough letters to be told apart from ordinary words."""
    spec = KINDS.get(kind)
    if spec is None:
        raise ValueError(f"Unknown kind {kind!r}: one of {', '.join(KINDS)}.")
    value = " ".join(str(value).split())
    if not value:
        raise ValueError("Write a value.")
    if spec.shape == "name":
        if len(skeleton(value)) < 4:
            raise ValueError(
                "A name needs at least 4 letters or digits: a shorter one would be found in "
                "ordinary names and words."
            )
        return value
    if spec.shape == "phrase":
        value = plain(value)
        if sum(character.isalnum() for character in value) < 3:
            raise ValueError("A phrase needs at least 3 letters or digits.")
        return value
    if spec.shape == "word":
        value = value.lower()
        if not _WORDS.fullmatch(value):
            raise ValueError(f"Write the name in letters and digits only, e.g. {spec.example}.")
        return value
    if spec.shape == "label":
        value = value.lower()
        if not _LABEL.fullmatch(value):
            raise ValueError(
                "Write the part of the address after @ and before the first dot, "
                f"e.g. {spec.example}."
            )
        return value
    host, slash, path = value.partition("/")
    if spec.shape == "domain" and slash:
        raise ValueError(f"Write the domain only, without a path: e.g. {spec.example}.")
    host = _domain(host, spec.example)
    if not slash:
        return host
    if not path or any(character.isspace() for character in path):
        raise ValueError(f"Write a host, optionally with a path after it: e.g. {spec.example}.")
    return f"{host}/{path.lower()}"


def _domain(value: str, example: str) -> str:
    value = value.lower().rstrip(".")
    if "://" in value or "@" in value or " " in value:
        raise ValueError(f"Write the domain only, without https:// or an address: e.g. {example}.")
    try:
        ascii_value = value.encode("idna").decode("ascii")
    except UnicodeError:
        raise ValueError(f"{value} is not a domain: e.g. {example}.") from None
    labels = ascii_value.split(".")
    if len(labels) < 2 or not all(_LABEL.fullmatch(label) for label in labels):
        raise ValueError(f"{value} is not a domain: e.g. {example}.")
    if not re.fullmatch(r"[a-z]{2,63}|xn--[a-z0-9-]+", labels[-1]):
        raise ValueError(f"{value} does not end in a top-level domain: e.g. {example}.")
    if _public_suffixes().is_public(ascii_value):
        raise ValueError(
            f"{value} is a public suffix, shared by every site under it: write one site's "
            f"domain, e.g. {example}."
        )
    return ascii_value


@cache
def _public_suffixes() -> PublicSuffixList:
    return PublicSuffixList()


def with_settings(
    lists: Mapping[str, tuple[str, ...]],
    revision: int,
    *,
    operator_names: tuple[str, ...] = (),
    operator_domains: tuple[str, ...] = (),
    trusted_domains: tuple[str, ...] = (),
    site_host: str = "",
    phone_region: str = "US",
    policy: Mapping[str, str] | None = None,
) -> Vocabulary:
    """The vocabulary in force: the admin's lists (a revision's), with what the settings
    add — names and domains no admin edit can take away, the site's own host as an operator
    domain — and the settings' policy and phone region. ValueError for a bad policy."""
    merged = dict(DEFAULT_POLICY) | dict(policy or {})
    unknown = {
        f"{category}={value}"
        for category, value in merged.items()
        if category not in CATEGORIES or value not in POLICIES
    }
    if unknown:
        raise ValueError(
            f"SAFETY_POLICY: {', '.join(sorted(unknown))}: categories are {', '.join(CATEGORIES)}"
            f" and policies {', '.join(POLICIES)}"
        )
    fields = {KINDS[kind].field: tuple(values) for kind, values in lists.items() if kind in KINDS}
    additions = {
        "operator_names": operator_names,
        "operator_domains": (*operator_domains, *([site_host] if site_host else [])),
        "trusted_domains": trusted_domains,
    }
    for name, added in additions.items():
        present = fields.get(name, ())
        fields[name] = (
            *present,
            *(value for value in dict.fromkeys(added) if value not in present),
        )
    return Vocabulary(
        **fields,
        phone_region=phone_region,
        policy=merged,  # type: ignore[arg-type]
        revision=revision,
    )
