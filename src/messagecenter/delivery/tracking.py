"""Bounce and complaint reports from e-mail providers (Amazon SES, Postmark, SendGrid, …)
arrive through django-anymail's tracking webhooks (docs/email.md). anymail hands them to
its `tracking` signal — its only interface — and the receiver does nothing but call the
action, so the rule stays in actions.py."""

from typing import Any

from anymail.signals import AnymailTrackingEvent, tracking
from django.dispatch import receiver

from messagecenter.delivery import actions


@receiver(tracking, dispatch_uid="messagecenter.delivery.tracking")
def provider_report(sender: Any, event: AnymailTrackingEvent, esp_name: str, **kwargs: Any) -> None:
    if event.event_type in {"bounced", "complained"} and event.recipient:
        actions.record_bounce(
            address=event.recipient,
            is_complaint=event.event_type == "complained",
            provider_message_id=event.message_id or "",
            detail=f"{esp_name}: {event.description or event.mta_response or event.event_type}",
        )
