"""Every write of the safety app (docs/safety.md): releasing or rejecting a held message,
blocking and unblocking."""

from datetime import datetime

from django.db import IntegrityError, transaction
from django.utils import timezone

from messagecenter.accounts import closed_accounts
from messagecenter.accounts.actions import sign_out_everywhere
from messagecenter.accounts.models import Role, User
from messagecenter.conversations import actions as conversation_actions
from messagecenter.conversations.models import Kind, Message, Participant, ParticipantRole
from messagecenter.conversations.queries import access_conversation, other_side
from messagecenter.errors import Conflict, InvalidInput, NotAllowed, NotFound
from messagecenter.rows import unique_row
from messagecenter.safety.models import Block, HeldMessage, SendingCount


def _require_agent(user: User) -> None:
    if user.role not in (Role.AGENT, Role.ADMIN):
        raise NotAllowed("Only the marketplace's agents review messages.", code="not_an_agent")


def _lock_waiting(held_message_id: int) -> HeldMessage:
    held = (
        HeldMessage.objects.select_for_update()
        .select_related("sender")
        .filter(pk=held_message_id, status=HeldMessage.Status.HELD)
        .first()
    )
    if held is None:
        raise NotFound("No such message waiting for review.", code="held_message_not_found")
    return held


def release_held_message(agent: User, held_message_id: int) -> Message:
    """Deliver a held message as its sender wrote it, through the same send action, marked
    as reviewed so the check does not hold it again (it still gets its warnings)."""
    _require_agent(agent)
    with transaction.atomic():
        held = _lock_waiting(held_message_id)
        target = held.held_as
        sender = held.sender
        send = target.get("send")
        if send == "reply":
            message = conversation_actions.send_message(
                sender,
                target["conversation_id"],
                held.body,
                is_reviewed=True,
                # A reply by e-mail stays one once released.
                sent_by_email=bool(target.get("sent_by_email")),
            )
        elif send == "product":
            message = conversation_actions.ask_seller_about_product(
                sender, target["product_id"], held.body, is_reviewed=True
            )
        elif send == "order" and sender.role == Role.SELLER:
            message = conversation_actions.contact_buyer_about_order(
                sender, target["order_id"], held.body, is_reviewed=True
            )
        elif send == "order":
            message = conversation_actions.contact_seller_about_order(
                sender, target["order_id"], target["storefront_id"], held.body, is_reviewed=True
            )
        else:
            raise InvalidInput("This message cannot be delivered any more.", code="not_deliverable")
        held.status = HeldMessage.Status.RELEASED
        held.message = message
        held.reviewed_by = agent
        held.reviewed_at = timezone.now()
        held.save(update_fields=["status", "message", "reviewed_by", "reviewed_at"])
    return message


def reject_held_message(agent: User, held_message_id: int) -> None:
    _require_agent(agent)
    with transaction.atomic():
        held = _lock_waiting(held_message_id)
        held.status = HeldMessage.Status.REJECTED
        held.reviewed_by = agent
        held.reviewed_at = timezone.now()
        held.save(update_fields=["status", "reviewed_by", "reviewed_at"])


def block(blocker: User, blocked: User) -> Block:
    """`blocker` no longer gets messages from `blocked`; blocking twice is blocking once.
    Buyers and sellers block; an agent who joined a buyer–seller conversation from a request
    is no customer of it, and their block would refuse the buyer's or the seller's every
    message there (a recipient's block stops a send)."""
    if blocker.role not in (Role.BUYER, Role.SELLER):
        raise NotAllowed(
            "Only buyers and sellers block people; customer service works a conversation "
            "from its request in the console.",
            code="customers_only",
        )
    if blocker.pk == blocked.pk:
        raise InvalidInput("You cannot block yourself.", code="cannot_block_yourself")
    if blocked.role in (Role.AGENT, Role.ADMIN):
        raise InvalidInput(
            "Messages from the marketplace and its customer service cannot be blocked.",
            code="cannot_block_marketplace",
        )
    _refuse_erased(blocked)
    with transaction.atomic():
        try:
            with transaction.atomic():
                made = Block.objects.create(
                    blocker=blocker, blocked=blocked, created_at=timezone.now()
                )
        except IntegrityError:
            return Block.objects.get(blocker=blocker, blocked=blocked)
        # The blocked one's reply in their conversations with the blocker is refused now,
        # so a seller's wait there can no longer end (or, the seller blocking, is owed no
        # more): it is set aside, as for a suspension, until the unblock.
        conversation_actions.set_aside_waits_between(blocker, blocked)
        return made


def _refuse_erased(person: User) -> None:
    """`409 account_erased`: an account erased at the person's request is closed for good
    and can never write again, and the erasure removed every block of it — a block made
    now would protect from nothing while "Blocked people and shops" listed it. A suspended
    person may be blocked: the suspension may be lifted on appeal. No query for an active
    person."""
    if closed_accounts.closure_of(person) == closed_accounts.Closure.ERASED:
        whose = "This shop's" if person.role == Role.SELLER else "This buyer's"
        raise Conflict(
            f"{whose} account was erased at their request: it is closed for good and can "
            "never message you again, so there is nothing to block.",
            code="account_erased",
        )


def block_counterpart(user: User, conversation_id: int) -> Block:
    """Block the buyer or the shop on the other side of one of the person's buyer–seller
    conversations: the only way to name someone to block, so no one can be probed by id."""
    participant = access_conversation(user, conversation_id)
    if participant.conversation.kind == Kind.CLAIM and participant.role in (
        ParticipantRole.BUYER,
        ParticipantRole.SELLER,
    ):
        # The other side of a claim is a buyer or a shop, but a block only stops Buyer/Seller
        # messages (safety.checks.check_recipients): the claim's conversation stays open to
        # both while the claims team decides it, so a block made here would protect from
        # nothing in it. Say where a block does work, and what does work here.
        if participant.role == ParticipantRole.SELLER:
            whom, button = "the buyer", "Block buyer"
        else:
            whom, button = "the shop", "Block shop"
        raise InvalidInput(
            "Blocking is for conversations between a buyer and a shop, not a guarantee "
            "claim: the claim stays open to both sides until customer service decides it. "
            f"To block {whom}, use “{button}” in a conversation with them under "
            "Buyer/Seller messages; to flag a message in this claim, use Report on it.",
            code="cannot_block_in_claim",
        )
    if participant.conversation.kind != Kind.BUYER_SELLER:
        raise InvalidInput(
            "Only buyers and sellers can be blocked, not the marketplace or customer service.",
            code="cannot_block_marketplace",
        )
    # An erased person's own copy of the conversation went with their data, so the look
    # for the other participant below finds nobody: the conversation still names them.
    other = other_side(participant)
    if other is not None:
        _refuse_erased(other)
    counterpart = (
        Participant.objects.filter(
            conversation_id=participant.conversation_id,
            role__in=(ParticipantRole.BUYER, ParticipantRole.SELLER),
        )
        .exclude(user=user)
        .select_related("user__storefront")
        .first()
    )
    if counterpart is None:
        raise NotFound("No such conversation.", code="conversation_not_found")
    return block(user, counterpart.user)


def unblock(blocker: User, block_id: int) -> None:
    """Scoped to the person's own blocks: someone else's looks like a missing one."""
    with transaction.atomic():
        made = unique_row(
            Block.objects.select_for_update()
            .select_related("blocked")
            .filter(blocker=blocker, pk=block_id)
        )
        if made is None:
            raise NotFound("No such block.", code="block_not_found")
        made.delete()
        # The waits the block set aside are back, each with a new deadline from now,
        # unless a block the other way or a suspension still sets them aside.
        conversation_actions.resume_waits_between(blocker, made.blocked)


def restrict_sending(user: User, *, now: datetime) -> None:
    """After a confirmed report (docs/safety.md#reports): the person may still answer whoever
    writes to them, never write first. Stored on their sending-count row, which every send
    of theirs upserts anyway, so the check costs the send nothing (safety/limits.py)."""
    if SendingCount.objects.filter(user=user).update(restricted_at=now):
        return
    try:
        with transaction.atomic():
            SendingCount.objects.create(user=user, restricted_at=now)
    except IntegrityError:
        SendingCount.objects.filter(user=user).update(restricted_at=now)


def suspend(user: User) -> None:
    """After a confirmed report: the account is deactivated — signed out of every browser
    (sessions of an inactive person are refused), its API tokens refused, no sign-in."""
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=False)
        user.is_active = False
        # Nobody can write to them now (recipient_closed): their questions leave the
        # sellers' Response needed, a seller's own waits stop (they cannot sign in to
        # answer), and no deadline counts against a seller who could not meet it.
        conversation_actions.set_aside_waits_for(user)


def reinstate(user: User) -> None:
    """A suspension lifted on appeal (docs/safety.md#appeals): the account is active again
    and can sign in again. The browsers and API tokens it had before stay signed out — they
    were only refused while it was suspended, and may have been a scammer's —, so the
    person signs in afresh."""
    sign_out_everywhere(user)
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(is_active=True)
        user.is_active = True
        # The waits set aside while suspended (their questions as a buyer, the buyers'
        # questions to them as a seller) are back in Response needed, each starting now
        # with a new deadline, and the sellers' devices are told.
        conversation_actions.resume_waits_for(user)
