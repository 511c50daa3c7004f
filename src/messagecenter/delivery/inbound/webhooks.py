"""Replies that a provider (Amazon SES, Mailgun, Postmark, SendGrid, …) received for the
reply domain and posts to django-anymail's inbound webhook
(`/anymail/<provider>/inbound/`, mounted with EMAIL_URL=anymail:<provider>). anymail
checks the webhook's own authentication, parses the provider's format and sends its
`inbound` signal — its only interface; the receiver hands the e-mail to the same action
as the SMTP listener."""

from typing import Any

from anymail.signals import AnymailInboundEvent, inbound
from django.dispatch import receiver

from messagecenter.delivery.inbound.actions import receive_email


@receiver(inbound, dispatch_uid="messagecenter.delivery.inbound")
def provider_inbound(sender: Any, event: AnymailInboundEvent, esp_name: str, **kwargs: Any) -> None:
    message = event.message
    if message is None:
        return
    recipient = getattr(message, "envelope_recipient", None)
    receive_email(
        message.as_bytes(),
        route=str(esp_name).lower(),
        recipients=[recipient] if recipient else [],
        # Unknown (None) when the provider does not say; "" only for a real null sender.
        envelope_from=getattr(message, "envelope_sender", None),
    )
