from django import template

from messagecenter.delivery import references

register = template.Library()


@register.filter
def message_reference(message_id: int) -> str:
    """The reference an e-mail about this message carries (docs/email.md)."""
    return references.for_message(message_id)


@register.filter
def broadcast_reference(broadcast_id: int) -> str:
    return references.for_broadcast(broadcast_id)
