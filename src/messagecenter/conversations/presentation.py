"""How conversations read to people, for the pages (templatetags/message_center.py) and the
API alike."""

from messagecenter.conversations.models import Kind, Participant, ParticipantRole


def counterpart(participant: Participant) -> str:
    """Who the conversation is with, as this person sees it: the buyer for a seller or an
    agent, the seller's storefront for a buyer, else the marketplace itself."""
    conversation = participant.conversation
    is_serving_buyer = participant.role in (ParticipantRole.SELLER, ParticipantRole.AGENT)
    if is_serving_buyer and conversation.buyer is not None:
        return conversation.buyer.public_name
    if conversation.storefront is not None:
        return str(conversation.storefront.name)
    if conversation.kind == Kind.CUSTOMER_SERVICE:
        return "Customer service"
    return "Marketplace"
