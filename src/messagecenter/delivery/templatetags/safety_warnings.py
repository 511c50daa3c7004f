"""How a person's message reads in its e-mail copy, the one place for every e-mail that
carries one — the digest and the e-mail of a single message (a claim's, customer
service's, a return's): the safety check's warning above a warned message, and its
addresses defanged (docs/safety.md, docs/email.md). The warning's words are the partials
delivery/email/safety_warning.html and .txt, which both e-mails include."""

from django import template

from messagecenter.conversations.models import Message
from messagecenter.safety.links import defang

register = template.Library()


@register.filter
def as_delivered(message: Message) -> str:
    """A message's body for its e-mail copy: a warned message's addresses cannot be
    clicked (docs/safety.md)."""
    return defang(message.body) if message.is_warned else message.body


@register.filter
def warning_reasons(message: Message) -> list[str]:
    """The reasons listed under a warned message's warning, defanged as its body is: a
    reason names the host a link goes to ("A link goes to paypa1-secure.com …"), which a
    mail app would otherwise make clickable."""
    return [defang(reason.get("text", "")) for reason in message.safety_reasons or []]
