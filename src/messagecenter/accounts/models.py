from datetime import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q
from django.db.models.functions import Upper
from django.utils.crypto import salted_hmac

from messagecenter.accounts.time_zones import default_time_zone, validate_time_zone
from messagecenter.visible import has_visible_text


class Role(models.TextChoices):
    BUYER = "buyer", "Buyer"
    SELLER = "seller", "Seller"
    AGENT = "agent", "Customer service agent"
    ADMIN = "admin", "Administrator"


# One account per e-mail address, in the database itself: checking first (under one
# person's row lock) cannot stop two accounts taking one address at the same moment.
EMAIL_UNIQUE = "accounts_user_email_unique"

# Who works in the support console and answers as customer service (User's
# answers_as_customer_service, and the names customers see).
CUSTOMER_SERVICE_ROLES = (Role.AGENT, Role.ADMIN)


def validate_display_name(value: str) -> None:
    """A display name is blank (the person's name or username is shown instead) or shows
    something: one of zero-width spaces or direction marks only was every message's sender,
    shown as nothing at all."""
    if value and not has_visible_text(value):
        raise ValidationError(
            "A display name needs at least one visible character: zero-width spaces, "
            "direction marks and spaces alone show nothing. Leave it empty to show the "
            "person's name.",
            code="display_name_invisible",
        )


def public_name(
    *,
    storefront_name: str | None,
    role: str,
    display_name: str,
    first_name: str,
    last_name: str,
    username: str,
) -> str:
    """User.public_name from the columns it reads, for a read that selects them rather
    than build the models (search's results)."""
    if storefront_name is not None:
        return storefront_name
    if role in CUSTOMER_SERVICE_ROLES and not settings.SUPPORT_SHOW_AGENT_NAMES:
        # Customers never learn the name of whoever answers for customer service unless the
        # operator chooses (docs/support.md); agents see each other's in the console.
        return str(settings.SUPPORT_AGENT_PUBLIC_NAME)
    # AbstractUser.get_full_name's.
    return display_name or f"{first_name} {last_name}".strip() or username


class User(AbstractUser):
    """A person with a marketplace account. One role each: a seller account is separate
    from a buyer account, as on the big marketplaces."""

    role = models.CharField(max_length=16, choices=Role.choices, default=Role.BUYER)
    display_name = models.CharField(max_length=150, blank=True, validators=[validate_display_name])
    # ISO 3166-1 alpha-2; broadcasts (notices, promotions) can target a country.
    country = models.CharField(max_length=2, blank=True)
    # Paid membership runs until then (kept up to date by the marketplace's membership
    # events); broadcasts can target members.
    member_until = models.DateTimeField(null=True, blank=True)
    # An IANA name ("Europe/Paris"): every date on their pages, in their API answers and
    # e-mails is shown in it (accounts/time_zones.py).
    time_zone = models.CharField(
        max_length=64, default=default_time_zone, validators=[validate_time_zone]
    )
    # Promotions in the Message Center (the preference Promotions × Message Center,
    # docs/email.md): off hides every promotion, whichever way it was sent — broadcasts and
    # promotion conversations alike. On the user row, which every request reads already,
    # so the lists, counts and searches that obey it cost no query more.
    shows_promotions = models.BooleanField(default=True)
    # Part of every session's signature (_get_session_auth_hash): "sign out everywhere"
    # moves it on, and every session signed before, on any device, stops working at once.
    session_generation = models.PositiveIntegerField(default=0)
    # Sellers: away from `away_from` until `away_until` (null: not away). A buyer's first
    # message in a conversation with the shop meanwhile gets its away message as an
    # automatic reply (conversations/actions/away.py). On the user row, which the send
    # reads already with the conversation's participants: a send to a seller who is not
    # away costs no query more. The text lives in conversations' AwayMessage, read only
    # when the seller is away.
    away_from = models.DateTimeField(null=True, blank=True)
    away_until = models.DateTimeField(null=True, blank=True)

    class Meta:
        db_table = "accounts_user"
        constraints = [
            # The same address as actions.holders_of_address's email__iexact: the whole address
            # without case, compared as UPPER() on PostgreSQL (ASCII-only case on SQLite,
            # like its LIKE). Empty is no address: erased people and accounts made without one.
            models.UniqueConstraint(
                Upper("email"),
                condition=~Q(email=""),
                name=EMAIL_UNIQUE,
                violation_error_code="email_in_use",
                violation_error_message="This address already belongs to another account.",
            )
        ]

    def _get_session_auth_hash(self, secret: str | None = None) -> str:
        if self.session_generation == 0:
            # Django's own, so sessions signed before this field existed stay signed in.
            return str(super()._get_session_auth_hash(secret))  # type: ignore[misc]
        return salted_hmac(
            "messagecenter.accounts.models.User.get_session_auth_hash",
            f"{self.password}:{self.session_generation}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()

    def __str__(self) -> str:
        return self.public_name

    @property
    def public_name(self) -> str:
        """The name other people see: a seller's storefront, else the display name."""
        storefront = getattr(self, "storefront", None)
        return public_name(
            storefront_name=None if storefront is None else str(storefront.name),
            role=self.role,
            display_name=self.display_name,
            first_name=self.first_name,
            last_name=self.last_name,
            username=self.username,
        )

    def is_away(self, now: datetime) -> bool:
        """A seller's away period is on now."""
        return (
            self.away_until is not None
            and self.away_from is not None
            and self.away_from <= now < self.away_until
        )

    def is_member(self, now: datetime) -> bool:
        return self.member_until is not None and self.member_until > now

    @property
    def is_buyer(self) -> bool:
        return self.role == Role.BUYER

    @property
    def is_seller(self) -> bool:
        return self.role == Role.SELLER

    @property
    def is_agent(self) -> bool:
        return self.role == Role.AGENT

    @property
    def answers_as_customer_service(self) -> bool:
        """Works in the support console and writes to customers as customer service: an
        agent, or an administrator (who supervises every team). By role alone, as the
        console lets people in and as their messages are Official; Django's `is_staff`
        flag opens the admin site, not the console, and changes no one's name."""
        return self.role in CUSTOMER_SERVICE_ROLES


class ApiToken(models.Model):
    """A device's key to the JSON API ("Alice's iPhone"), beside browser sessions.

    Only a SHA-256 hash of the secret is kept: the secret is shown once, when the token is
    created, and a copy of the database cannot be used to sign in. See docs/api.md.
    """

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="api_tokens")
    name = models.CharField(max_length=100)
    # The first characters of the secret, so people can tell their tokens apart.
    prefix = models.CharField(max_length=16)
    secret_hash = models.CharField(max_length=64, unique=True)
    created_at = models.DateTimeField()
    # Updated at most once a minute, so using a token is not a write per request.
    last_used_at = models.DateTimeField(null=True, blank=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    # Where and on what it was first and last used ("Your devices").
    user_agent = models.CharField(max_length=300, blank=True)
    first_used_address = models.GenericIPAddressField(null=True, blank=True)
    first_used_country = models.CharField(max_length=2, blank=True)
    last_used_address = models.GenericIPAddressField(null=True, blank=True)
    last_used_country = models.CharField(max_length=2, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "-created_at"], name="api_token_user_recent")]

    def __str__(self) -> str:
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None


class BrowserSession(models.Model):
    """A signed-in browser, listed in "Your devices": written when someone signs in, its
    last use refreshed at most every few minutes (DEVICE_USE_RESOLUTION). Ending it deletes
    the session itself; the session's key is what ties the two."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="browser_sessions")
    session_key = models.CharField(max_length=40, unique=True)
    user_agent = models.CharField(max_length=300, blank=True)
    signed_in_at = models.DateTimeField()
    first_address = models.GenericIPAddressField(null=True, blank=True)
    first_country = models.CharField(max_length=2, blank=True)
    last_used_at = models.DateTimeField()
    last_address = models.GenericIPAddressField(null=True, blank=True)
    last_country = models.CharField(max_length=2, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["user", "-last_used_at"], name="browser_session_user_recent")
        ]

    def __str__(self) -> str:
        return f"{self.user_id}: {self.user_agent[:40]}"


class Passkey(models.Model):
    """A passkey (a WebAuthn credential) the person registered: a second factor after the
    password, or a sign-in on its own (docs/accounts.md#passkeys). Only its public key is
    kept; the private key never leaves the person's authenticator."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="passkeys")
    # The person's name for it ("MacBook Touch ID"), shown in "Your devices".
    name = models.CharField(max_length=60)
    # The authenticator's id of the credential, base64url as in the ceremony's JSON.
    credential_id = models.CharField(max_length=1400, unique=True)
    public_key = models.BinaryField()
    # The authenticator's signature counter (0 for those that keep none, e.g. synced ones):
    # a counter that goes back means a cloned authenticator, refused.
    sign_count = models.PositiveBigIntegerField(default=0)
    # The WebAuthn user handle the authenticator stores with a discoverable credential:
    # random, one per person (every passkey of a person has the same), never the user id.
    user_handle = models.CharField(max_length=100)
    # How the browser may reach it ("internal", "usb", "hybrid", ...), a hint for sign-in.
    transports = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField()
    last_used_at = models.DateTimeField(null=True, blank=True)
    # Where it was last used: a country code when the site knows it, else an IP address.
    last_used_country = models.CharField(max_length=2, blank=True)
    last_used_address = models.GenericIPAddressField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["user", "created_at"], name="passkey_user_created")]

    def __str__(self) -> str:
        return self.name
