from django import template

from messagecenter.conversations.models import Message
from messagecenter.safety.links import defang

register = template.Library()


@register.filter
def as_delivered(message: Message) -> str:
    """A message's body for its e-mail copy: a warned message's addresses cannot be
    clicked (docs/safety.md)."""
    return defang(message.body) if message.is_warned else message.body
