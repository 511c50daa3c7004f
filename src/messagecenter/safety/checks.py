"""The safety check as the send path sees it (registered in apps.py into
conversations.send_checks): buyer↔seller messages get a verdict; a hold is kept for review."""

from typing import Any

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from messagecenter.accounts.models import Role, User
from messagecenter.conversations.models import Conversation, Kind
from messagecenter.conversations.send_checks import SendDecision
from messagecenter.errors import InvalidInput, NotAllowed
from messagecenter.rows import CompiledQuery, CompiledRows
from messagecenter.safety import vocabulary_cache
from messagecenter.safety.detector import Sender, SenderRole, check
from messagecenter.safety.links import defang
from messagecenter.safety.models import Block, HeldMessage

# Where people write to each other: buyer↔seller conversations, and a guarantee claim's
# (buyer, seller and the claims team: a seller could otherwise write there what the
# buyer↔seller check would warn about or hold). Customer service and the marketplace's own
# messages are not checked: agents must be able to ask for a phone number.
CHECKED_KINDS = (Kind.BUYER_SELLER, Kind.CLAIM)


def check_before_sending(sender: User, kind: str, body: str) -> SendDecision:
    if kind not in CHECKED_KINDS or sender.role not in (Role.BUYER, Role.SELLER):
        return SendDecision(body)
    if settings.SAFETY_DETECTOR == "off":
        # Only a benchmark measuring the check's cost runs without it (settings.py).
        return SendDecision(body)
    role: SenderRole = "seller" if sender.role == Role.SELLER else "buyer"
    verdict = check(body, Sender(sender.public_name, role), vocabulary_cache.current())
    return SendDecision(
        body=verdict.masked_body if verdict.masked_body is not None else body,
        verdict=verdict.level,
        reasons=[reason.as_dict() for reason in verdict.reasons],
        is_masked=verdict.is_masked,
        version=verdict.version,
    )


def words_an_official_message_quotes(person: User, text: str) -> str:
    """A person's own words that a message from the marketplace quotes to someone else — a
    seller's instructions for a return, their reason to decline one (marketplace/
    return_actions.py). The Official badge vouches for the marketplace's words, not these,
    yet they travel inside its message, which the page links up and "Is this e-mail from
    us?" confirms. So they get the check of a message to the other side, and more strictly:
    what would be warned about or held is refused with the reasons (nothing changes; the
    person writes it again), contact details are masked, and every link is written so that
    neither the page nor a mail client makes it clickable (hxxps://host[.]example)."""
    return _checked_strictly(
        person, text, "This text is quoted to the buyer in a message from the marketplace"
    )


def note_to_the_other_side(person: User, text: str) -> str:
    """A buyer's note with a return request, which the seller reads beside the request (the
    order page, the API), not in a message: no warning can go with it, as one goes with a
    message the check warns about, so it is checked as words_an_official_message_quotes
    checks — what would be warned about or held is refused, contact details masked, links
    defanged. Without it the note was the one way to hand the seller a phone number or a
    payment link that every message between them masks."""
    return _checked_strictly(person, text, "Your note is shown to the seller")


def _checked_strictly(person: User, text: str, shown: str) -> str:
    decision = check_before_sending(person, Kind.BUYER_SELLER, text)
    if decision.verdict != "ok":
        raise InvalidInput(
            f"{shown}, so it must pass our safety checks, and it did not: "
            f"{_reasons(decision)} Write it again without that.",
            code="text_refused",
        )
    # The masked text when contact details were found.
    return defang(decision.body)


def refuse_if_held(person: User, kind: str, text: str) -> None:
    """Before an action that writes a person's message inside its own transaction (a
    claim's filing, the seller's response, an appeal: support/claim_actions.py): a message
    the check would hold is refused with the reasons, before anything changes. Held inside
    that transaction, it would be rolled back with it — neither delivered nor kept for
    review — while the person was told it waits for review."""
    decision = check_before_sending(person, kind, text)
    if decision.verdict == "hold":
        raise InvalidInput(
            f"This was not sent: {_reasons(decision)} Write it again without that.",
            code="text_refused",
        )


def _reasons(decision: SendDecision) -> str:
    """The check's reasons as the person reads them, one sentence each."""
    return " ".join(reason["text"] for reason in decision.reasons)


def record_held(
    sender: User,
    held_as: dict[str, Any],
    body: str,
    decision: SendDecision,
    idempotency_key: str | None,
) -> None:
    try:
        with transaction.atomic():
            HeldMessage.objects.create(
                sender=sender,
                held_as=held_as,
                body=body,
                reasons=decision.reasons,
                safety_version=decision.version,
                idempotency_key=idempotency_key,
                created_at=timezone.now(),
            )
    except IntegrityError:
        # A retry with the same idempotency key: it is already waiting.
        if idempotency_key is None:
            raise


def check_recipients(
    sender: User,
    conversation: Conversation,
    recipient_ids: list[int],
    blocks: frozenset[tuple[int, int]] | None = None,
) -> list[dict[str, str]]:
    """A person who blocked the sender does not get the message, except a seller's message
    about the person's own order, which arrives marked (docs/safety.md#blocking).
    `blocks`: (blocker, blocked) among the people of the send's batch (`blocks_among`);
    read here when None."""
    if conversation.kind != Kind.BUYER_SELLER or sender.role not in (Role.BUYER, Role.SELLER):
        return []
    if not recipient_ids:
        return []
    if blocks is not None:
        blocked = any((recipient, sender.pk) in blocks for recipient in recipient_ids)
    else:
        blocked = bool(_BLOCKED_BY(sender.pk, *recipient_ids, shape=len(recipient_ids)))
    if not blocked:
        return []
    if conversation.order is not None and sender.role == Role.SELLER:
        return [
            {
                "category": "blocked",
                "code": "from_blocked_sender",
                "text": f"You blocked {sender.public_name}. This message still reached you "
                f"because it is about your order {conversation.order.number}.",
            }
        ]
    raise NotAllowed(
        f"{_counterpart_word(sender)} does not accept messages from you any more, so this "
        "message was not delivered.",
        code="blocked",
    )


# On every send: compiled once per process and number of recipients (rows.CompiledQuery).
_BLOCKED_BY = CompiledQuery(
    lambda blocked_id, *recipient_ids, shape: Block.objects.filter(
        blocker_id__in=recipient_ids, blocked_id=blocked_id
    ).only("id")[:1]
)


def blocks_among(people: list[int]) -> frozenset[tuple[int, int]]:
    """(blocker, blocked) for every block between two of these people: what
    `check_recipients` reads for each send of a batch, read once for the batch."""
    return frozenset(_BLOCKS_AMONG(*people, *people, shape=len(people)))


_BLOCKS_AMONG = CompiledRows(
    lambda *people, shape: Block.objects.filter(
        blocker_id__in=people[:shape], blocked_id__in=people[shape:]
    ).values_list("blocker_id", "blocked_id")
)


def _counterpart_word(sender: User) -> str:
    return "This seller" if sender.role == Role.BUYER else "This buyer"
