"""The development mailbox: an e-mail backend that keeps every e-mail in the database
instead of sending it, shown at /mailbox/ (EMAIL_URL=mailbox:, the default for
`make run`). Never a production transport: the page answers only on loopback or to staff.
"""

from collections.abc import Sequence
from typing import Any

from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone

from messagecenter.delivery.models import MailboxEmail


class MailboxBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[Any]) -> int:
        now = timezone.now()
        kept = []
        for email_message in email_messages:
            message = email_message.message()
            kept.append(
                MailboxEmail(
                    to_addresses=", ".join(email_message.recipients()),
                    subject=str(email_message.subject)[:255],
                    message_id=str(message.get("Message-ID", ""))[:255],
                    raw=message.as_bytes(),
                    received_at=now,
                )
            )
        MailboxEmail.objects.bulk_create(kept)
        return len(kept)
