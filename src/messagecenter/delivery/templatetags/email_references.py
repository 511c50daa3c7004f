from typing import Any

from django import template

from messagecenter.conversations.models import Message
from messagecenter.delivery import references

register = template.Library()


@register.simple_tag(takes_context=True)
def message_reference(context: dict[str, Any], message: Message) -> str:
    """The reference the e-mail about this message carried to the person looking at it
    (docs/email.md#the-reference)."""
    return references.for_message(message.pk, context["user"].pk, is_official=message.is_official)


@register.simple_tag(takes_context=True)
def broadcast_reference(context: dict[str, Any], broadcast_id: int) -> str:
    return references.for_broadcast(broadcast_id, context["user"].pk)
