"""What each person receives, where: the defaults, what cannot be switched off, and the
person's own choices (stored only where they differ from the default).

Transactional messages (orders, returns, customer service, membership) and important
notices always reach the Message Center and the inbox; buyer–seller e-mail and
promotions are each person's choice (docs/email.md).
"""

from collections.abc import Collection
from dataclasses import dataclass

from messagecenter.accounts.models import User
from messagecenter.conversations.models import Kind
from messagecenter.delivery.models import Category, Channel, Preference

__all__ = [
    "CATEGORY_OF_KIND",
    "RULES",
    "Category",
    "Channel",
    "Choice",
    "choices_for",
    "enabled_user_ids",
    "is_enabled",
]


@dataclass(frozen=True)
class Rule:
    default: bool
    can_change: bool
    # Shown beside a choice that cannot be changed.
    why_fixed: str = ""


TRANSACTIONAL = "Always on: it is about your orders, money or account."
NOTICE = "Always on: important notices about your account cannot be switched off."
IN_MESSAGE_CENTER = "Always kept in your Message Center."

RULES: dict[tuple[str, str], Rule] = {
    (Category.ORDER_UPDATES, Channel.MESSAGE_CENTER): Rule(True, False, IN_MESSAGE_CENTER),
    (Category.ORDER_UPDATES, Channel.EMAIL): Rule(True, False, TRANSACTIONAL),
    (Category.BUYER_SELLER, Channel.MESSAGE_CENTER): Rule(True, False, IN_MESSAGE_CENTER),
    (Category.BUYER_SELLER, Channel.EMAIL): Rule(True, True),
    (Category.CUSTOMER_SERVICE, Channel.MESSAGE_CENTER): Rule(True, False, IN_MESSAGE_CENTER),
    (Category.CUSTOMER_SERVICE, Channel.EMAIL): Rule(True, False, TRANSACTIONAL),
    (Category.RETURNS, Channel.MESSAGE_CENTER): Rule(True, False, IN_MESSAGE_CENTER),
    (Category.RETURNS, Channel.EMAIL): Rule(True, False, TRANSACTIONAL),
    (Category.MEMBERSHIP, Channel.MESSAGE_CENTER): Rule(True, False, IN_MESSAGE_CENTER),
    (Category.MEMBERSHIP, Channel.EMAIL): Rule(True, False, TRANSACTIONAL),
    (Category.PROMOTIONS, Channel.MESSAGE_CENTER): Rule(True, True),
    (Category.PROMOTIONS, Channel.EMAIL): Rule(True, True),
    (Category.NOTICES, Channel.MESSAGE_CENTER): Rule(True, False, NOTICE),
    (Category.NOTICES, Channel.EMAIL): Rule(True, False, NOTICE),
}

# Choices kept on the user row instead of a Preference: read by every request already, so
# what obeys them costs no query. Promotions in the Message Center hide broadcasts and
# promotion conversations alike (docs/email.md).
ON_USER_ROW: dict[tuple[str, str], str] = {
    (Category.PROMOTIONS, Channel.MESSAGE_CENTER): "shows_promotions",
}

# Every e-mail we send is also in the Message Center: that is what "Is this e-mail from
# us?" and each e-mail's "If it is not in your Message Center, it is not from us" promise.
# So a category's e-mail goes only to people who keep its Message Center copy: with
# Promotions off in the Message Center, no promotion e-mail either, whatever the e-mail
# choice says (kept as it is, for when the Message Center copy is switched on again).
FOLLOWS_MESSAGE_CENTER = (
    "Off while this is off in your Message Center: every e-mail we send is also there."
)


def needs_message_center(category: str, channel: str) -> bool:
    """Whether this choice only takes effect with the category's Message Center copy on."""
    return channel == Channel.EMAIL and RULES[(category, Channel.MESSAGE_CENTER)].can_change


CATEGORY_OF_KIND: dict[str, str] = {
    Kind.BUYER_SELLER: Category.BUYER_SELLER,
    Kind.ORDER_UPDATES: Category.ORDER_UPDATES,
    Kind.RETURNS: Category.RETURNS,
    Kind.CUSTOMER_SERVICE: Category.CUSTOMER_SERVICE,
    Kind.CLAIM: Category.CUSTOMER_SERVICE,
    Kind.MEMBERSHIP: Category.MEMBERSHIP,
    Kind.PROMOTION: Category.PROMOTIONS,
    Kind.NOTICE: Category.NOTICES,
}


def is_enabled(user: User, category: str, channel: str) -> bool:
    """One person's setting (one query, or none when it cannot be changed); an e-mail
    choice counts only with its Message Center copy on (FOLLOWS_MESSAGE_CENTER)."""
    if needs_message_center(category, channel) and not is_enabled(
        user, category, Channel.MESSAGE_CENTER
    ):
        return False
    rule = RULES[(category, channel)]
    if not rule.can_change:
        return rule.default
    if (category, channel) in ON_USER_ROW:
        return bool(getattr(user, ON_USER_ROW[(category, channel)]))
    stored = (
        Preference.objects.filter(user=user, category=category, channel=channel)
        .values_list("is_enabled", flat=True)
        .first()
    )
    return rule.default if stored is None else stored


def enabled_user_ids(user_ids: Collection[int], category: str, channel: str) -> set[int]:
    """Of these people, the ones who get this category on this channel: one query for any
    number of people, none when it cannot be switched off."""
    rule = RULES[(category, channel)]
    wanted = set(user_ids)
    if not rule.can_change or not wanted:
        return wanted if rule.default else set()
    if (category, channel) in ON_USER_ROW:
        return set(
            User.objects.filter(
                pk__in=wanted, **{ON_USER_ROW[(category, channel)]: True}
            ).values_list("pk", flat=True)
        )
    differing = Preference.objects.filter(
        user_id__in=wanted, category=category, channel=channel, is_enabled=not rule.default
    ).values_list("user_id", flat=True)
    if needs_message_center(category, channel):
        # The same one query: the people keeping the Message Center copy (on their user
        # row), less those whose e-mail choice differs from the default.
        field = ON_USER_ROW[(category, Channel.MESSAGE_CENTER)]
        people = User.objects.filter(pk__in=wanted, **{field: True})
        people = (
            people.exclude(pk__in=differing) if rule.default else people.filter(pk__in=differing)
        )
        return set(people.values_list("pk", flat=True))
    return wanted - set(differing) if rule.default else set(differing)


# A checkbox's words after its category ("Promotions and offers: by e-mail").
WHERE: dict[str, str] = {
    Channel.MESSAGE_CENTER: "in the Message Center",
    Channel.EMAIL: "by e-mail",
}


@dataclass(frozen=True)
class Choice:
    category: str
    channel: str
    label: str
    where: str
    is_enabled: bool
    can_change: bool
    why_fixed: str
    # An e-mail choice held off because the Message Center copy is off (is_enabled false,
    # can_change false, why_fixed FOLLOWS_MESSAGE_CENTER).
    waits_for_message_center: bool = False


def stored_choices(user: User) -> dict[tuple[str, str], bool]:
    """The person's choices that differ from the default, and those on their user row."""
    stored = {
        (category, channel): is_enabled
        for category, channel, is_enabled in Preference.objects.filter(user=user).values_list(
            "category", "channel", "is_enabled"
        )
    }
    for choice, field in ON_USER_ROW.items():
        stored[choice] = bool(getattr(user, field))
    return stored


def choices_for(user: User) -> list[list[Choice]]:
    """The preferences page's table: a row per category, a column per channel."""
    stored = stored_choices(user)
    table = []
    for category in Category:
        row = []
        for channel in Channel:
            rule = RULES[(category, channel)]
            value = (
                stored.get((category, channel), rule.default) if rule.can_change else rule.default
            )
            waits = needs_message_center(category, channel) and not stored.get(
                (category, Channel.MESSAGE_CENTER), True
            )
            row.append(
                Choice(
                    category,
                    channel,
                    category.label,
                    WHERE[channel],
                    value and not waits,
                    rule.can_change and not waits,
                    FOLLOWS_MESSAGE_CENTER if waits else rule.why_fixed,
                    waits_for_message_center=waits,
                )
            )
        table.append(row)
    return table
