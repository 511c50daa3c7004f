"""Django's SMTP backend, with a fast path for broadcast e-mails that are already
assembled (rendering.PrebuiltEmail, docs/decisions/0004-broadcast-mime.md): their bytes
go to the server as they are, and their one plain ASCII recipient needs none of the
address parsing Django does for arbitrary input (most of the cost per message)."""

from typing import Any

from django.core.mail.backends.smtp import EmailBackend as DjangoSmtpBackend

from messagecenter.delivery.rendering import PrebuiltEmail


class EmailBackend(DjangoSmtpBackend):
    def _send(self, email_message: Any) -> bool:
        if not isinstance(email_message, PrebuiltEmail):
            return bool(super()._send(email_message))  # type: ignore[misc]
        assert self.connection is not None  # send_messages opened it
        self.connection.sendmail(email_message.envelope_from, email_message.to, email_message.raw)
        return True
