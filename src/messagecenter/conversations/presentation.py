"""How conversations read to people, for the pages (templatetags/message_center.py) and the
API alike."""

from django.urls import reverse

from messagecenter.conversations.models import Kind, Participant, ParticipantRole

HIDDEN_PREVIEW = "Message hidden: you reported it"
REMOVED_PREVIEW = "Message removed by customer service"


def last_message_preview(participant: Participant) -> str:
    """What a list row says of the conversation's last message for this person: not the text
    of one they reported (hidden for them, docs/safety.md#reports) nor of one customer
    service removed (but its sender still sees their own)."""
    last = participant.conversation.last_message
    if last is None:
        return ""
    if getattr(participant, "last_message_hidden", False):
        return HIDDEN_PREVIEW
    if last.removed_at is not None and last.sender_id != participant.user_id:
        return REMOVED_PREVIEW
    return str(last.body)


def counterpart(participant: Participant) -> str:
    """Who the conversation is with, as this person sees it: the buyer for a seller or an
    agent, the seller's storefront for a buyer, else the marketplace itself."""
    return _counterpart(participant)[0]


def counterpart_is_marketplace(participant: Participant) -> bool:
    """Whether `counterpart` names the marketplace itself ("Customer service",
    "Marketplace"), the only counterpart the Official badge may stand beside: a buyer or a
    storefront never, whoever wrote the last message — a shop named like the marketplace
    must not look official (docs/safety.md)."""
    return _counterpart(participant)[1]


def _counterpart(participant: Participant) -> tuple[str, bool]:
    """The counterpart's name, and whether it is the marketplace's own."""
    conversation = participant.conversation
    is_serving_buyer = participant.role in (ParticipantRole.SELLER, ParticipantRole.AGENT)
    if is_serving_buyer and conversation.buyer is not None:
        return conversation.buyer.public_name, False
    if conversation.storefront is not None:
        return str(conversation.storefront.name), False
    if conversation.kind == Kind.CUSTOMER_SERVICE:
        return "Customer service", True
    return "Marketplace", True


def message_url(conversation_id: int, message_id: int) -> str:
    """A link to one message (a search result, the e-mail reference checker, a reply by
    e-mail): the page of its conversation that shows it — the page shows the newest
    messages, and `?message=` asks for the one with this message if it is older
    (queries.message_window) — scrolled to it."""
    url = reverse("conversation", args=[conversation_id])
    return f"{url}?message={message_id}#message-{message_id}"
