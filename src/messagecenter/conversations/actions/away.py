"""A seller's away message ("vacation mode"): while they are away, a buyer's first message
in a conversation with the shop gets it as an automatic reply (sending._post_away_reply),
once per conversation per away period, so the buyer is not left wondering
(docs/conversations.md, "Away message").

When the seller is away is kept on their user row (User.away_from, away_until), which the
send reads already: a send to a seller who is not away costs no query more. The text is
their AwayMessage, read only when an automatic reply is due.

The text reaches buyers as the seller's words, so it gets the safety check of a message to
a buyer when it is saved: contact details come out masked and a warning travels with every
reply, as with a message. What would be held is refused (`text_refused`, as a claim's
response is: nothing can wait for review here, and nobody would read it meanwhile).
"""

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db import transaction
from django.utils import timezone

from messagecenter import moments
from messagecenter.accounts.models import User
from messagecenter.accounts.roles import require_seller
from messagecenter.conversations import send_checks
from messagecenter.conversations.actions.checks import clean_body
from messagecenter.conversations.models import AwayMessage
from messagecenter.errors import InvalidInput

# The longest away period: a shop gone for longer should close for a while instead (buyers
# would otherwise write to it for months, told only "back on …").
AWAY_MAX_DAYS = 60


@dataclass(frozen=True)
class AwayStatus:
    """The seller's away message as their tools page and the API show it."""

    body: str
    away_from: datetime | None
    away_until: datetime | None
    # "on" (away now), "scheduled" (from a later moment) or "off".
    state: str


def away_status(seller: User, *, now: datetime | None = None) -> AwayStatus:
    """The seller's away message (its text kept when switched off, for next time)."""
    require_seller(seller)
    now = now or timezone.now()
    body = AwayMessage.objects.filter(seller=seller).values_list("body", flat=True).first()
    until, start = seller.away_until, seller.away_from
    if until is None or start is None or until <= now:
        return AwayStatus(body or "", None, None, "off")
    return AwayStatus(body or "", start, until, "on" if start <= now else "scheduled")


def set_away_message(
    seller: User, body: str, *, until: datetime | None, starts: datetime | None = None
) -> AwayStatus:
    """Switch the away message on (or change it): `body` is what buyers get, `until` when
    the seller is back (required, at most AWAY_MAX_DAYS ahead), `starts` when they leave
    (now when not given).

    An away period is what a conversation gets one automatic reply in: changing the text or
    the end of the period that is on keeps it (no second reply to a buyer who had one),
    while a period starting later, or switched on again after it ended, is a new one."""
    require_seller(seller)
    body = clean_body(body)
    if until is None:
        raise InvalidInput("Say when you are back.", code="away_until_required", field="away_until")
    # The date errors share a code; each names its field, for the form to mark the right one.
    moments.check(until, what="The day you are back", code="invalid_away_dates", field="away_until")
    if starts is not None:
        moments.check(
            starts, what="The day you leave", code="invalid_away_dates", field="away_from"
        )
    now = timezone.now()
    if until <= now:
        raise InvalidInput(
            "The day you are back must be in the future.",
            code="invalid_away_dates",
            field="away_until",
        )
    if until > now + timedelta(days=AWAY_MAX_DAYS):
        raise InvalidInput(
            f"An away message runs for at most {AWAY_MAX_DAYS} days: choose an earlier day "
            "you are back.",
            code="away_too_long",
            field="away_until",
        )
    if starts is not None and starts >= until:
        raise InvalidInput(
            "The day you leave must come before the day you are back.",
            code="invalid_away_dates",
            field="away_from",
        )
    decision = send_checks.decide_kept_text(seller, body, what="away message")
    with transaction.atomic():
        # The seller's own row, locked: two tabs saving at once agree on the period.
        locked = User.objects.select_for_update().only("away_from", "away_until").get(pk=seller.pk)
        start = _period_start(locked, starts, now)
        AwayMessage.objects.update_or_create(
            seller=seller,
            defaults={
                "body": decision.body,
                "safety_verdict": decision.verdict,
                "safety_reasons": decision.reasons,
                "is_masked": decision.is_masked,
                "safety_version": decision.version,
                "updated_at": now,
            },
        )
        User.objects.filter(pk=seller.pk).update(away_from=start, away_until=until)
    seller.away_from, seller.away_until = start, until
    return away_status(seller, now=now)


def _period_start(locked: User, starts: datetime | None, now: datetime) -> datetime:
    """When the period begins: a later moment as given; otherwise now — or, while a period
    is on, when it began (the same period goes on, its replies already posted count)."""
    if starts is not None and starts > now:
        return starts
    if locked.is_away(now):
        assert locked.away_from is not None
        return locked.away_from
    return now


def switch_off_away_message(seller: User) -> None:
    """The seller is back (or not leaving after all): no more automatic replies. The text
    stays, for the next time."""
    require_seller(seller)
    User.objects.filter(pk=seller.pk).update(away_from=None, away_until=None)
    seller.away_from = seller.away_until = None
