"""Sending signed order events to the intake, as the marketplace's backend does."""

import json
import time
from typing import Any

from django.http import HttpResponse
from django.test import Client

from messagecenter.conversations.models import Conversation, Message, Participant
from messagecenter.marketplace.events import signature_header
from messagecenter.marketplace.models import (
    MarketplaceEvent,
    Order,
    Refund,
    ReturnRequest,
    Shipment,
)

URL = "/api/v1/marketplace-events"
SECRET = "whsec-test-4f1b2c"
OCCURRED_AT = "2026-11-20T14:05:00Z"
# How _when() writes OCCURRED_AT in messages to someone in UTC (the default zone in tests):
# web/dates.py's email_time.
OCCURRED = "Fri 20 Nov 2026, 2:05 PM UTC"


def event(event_type: str, data: dict[str, Any], event_id: str = "evt-1") -> dict[str, Any]:
    return {"id": event_id, "type": event_type, "occurred_at": OCCURRED_AT, "data": data}


def deliver(
    payload: Any,
    *,
    secret: str = SECRET,
    timestamp: int | None = None,
    header: str | None = None,
    client: Client | None = None,
) -> HttpResponse:
    """POST the payload (a dict as JSON, or raw bytes) signed with `secret`, or with the
    given header ("" for none)."""
    body = payload if isinstance(payload, bytes) else json.dumps(payload).encode()
    if header is None:
        header = signature_header(
            body, secret, int(time.time()) if timestamp is None else timestamp
        )
    headers = {"Marketplace-Signature": header} if header else {}
    return (client or Client()).post(  # type: ignore[return-value]
        URL, body, content_type="application/json", headers=headers
    )


def row_counts() -> dict[str, int]:
    """What a refused request must leave as it was."""
    models = (
        MarketplaceEvent,
        Message,
        Conversation,
        Participant,
        Order,
        Shipment,
        ReturnRequest,
        Refund,
    )
    return {model.__name__: model.objects.count() for model in models}
