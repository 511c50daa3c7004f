"""The built-in SMTP listener for relay addresses (aiosmtpd): `messagecenter inbound-smtp`,
started by `make run` on INBOUND_SMTP_HOST:INBOUND_SMTP_PORT. Point the reply domain's MX
at it (behind a mail server that does TLS and spam filtering, or on its own), or try a
reply with any SMTP client on one machine (docs/email.md#reply-by-e-mail).

At RCPT only relay addresses and the mailboxes apps registered (customer service's
address, delivery/inbound/mailboxes.py) are accepted (anything else: 550), so the
listener is no open relay. At DATA the e-mail goes to the one action, `receive_email`;
its answer is 250 whether the e-mail was posted, refused or quarantined (except a
mailbox's sender with no account: 550 with the reason, as nobody's page can show it) —
the outcome is recorded and shown to the person, and answering with an error would
only make mail servers send bounces (backscatter) to whoever the From names. A database
failure is a 451, so the sending server tries again later; the Message-ID makes the retry post once.
"""

import asyncio
import logging
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import SMTP
from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import DatabaseError, close_old_connections

from messagecenter.delivery import relay
from messagecenter.delivery.inbound import mailboxes
from messagecenter.delivery.inbound.actions import ROUTE_SMTP, UNKNOWN_SENDER, receive_email

logger = logging.getLogger(__name__)


class RelayHandler:
    """aiosmtpd's handler: its hook names are fixed by aiosmtpd."""

    async def handle_RCPT(  # noqa: N802
        self, server: SMTP, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if relay.parse(address) is None and mailboxes.find(address) is None:
            return "550 5.1.1 No such reply address here"
        if envelope.rcpt_tos:
            # One e-mail answers one conversation (or reaches one mailbox): a second address
            # of ours was dropped without a word — the e-mail went to the first one only, or
            # was refused whole when that one was someone else's. Refused here instead, so
            # the sender's own server tells them which address to write to again, alone (a
            # later delivery of the same e-mail would be taken for a repeat: not 452).
            return (
                f"550 5.5.3 One address of ours per e-mail: send it again to {address} on its own"
            )
        envelope.rcpt_tos.append(address)
        return "250 2.1.5 OK"

    async def handle_DATA(self, server: SMTP, session: Any, envelope: Any) -> str:  # noqa: N802
        raw = envelope.original_content or envelope.content
        if isinstance(raw, str):
            raw = raw.encode("utf-8", "surrogateescape")
        peer = session.peer[0] if isinstance(session.peer, tuple) else None
        try:
            row = await sync_to_async(_receive, thread_sensitive=False)(
                bytes(raw),
                recipients=list(envelope.rcpt_tos),
                envelope_from=envelope.mail_from,
                peer_ip=peer,
                helo=session.host_name,
            )
        except DatabaseError:
            logger.exception("inbound e-mail not stored; the sender will retry")
            return "451 4.3.0 Temporary failure, try again later"
        if row.reason_code == UNKNOWN_SENDER:
            # Nobody's account to show the refusal on: the sender's own server tells them
            # (a rejection in the session, not a bounce we would send to a forgeable From).
            return f"550 5.7.1 {row.reason}"
        return f"250 2.0.0 {row.status} as {row.pk}"


def _receive(raw: bytes, **envelope: Any) -> Any:
    # Each e-mail runs in a thread of the pool: connections that went stale between
    # e-mails are dropped before and after, as Django does around a request.
    close_old_connections()
    try:
        return receive_email(raw, route=ROUTE_SMTP, **envelope)
    finally:
        close_old_connections()


def controller(*, host: str | None = None, port: int | None = None) -> Controller:
    """The listener, not yet started (start() runs it in a thread of its own)."""
    return Controller(
        RelayHandler(),
        hostname=host or settings.INBOUND_SMTP_HOST,
        port=port if port is not None else settings.INBOUND_SMTP_PORT,
        server_hostname=settings.EMAIL_REPLY_DOMAIN,
        data_size_limit=settings.INBOUND_MAX_BYTES,
        enable_SMTPUTF8=True,
        # A client that stops talking is dropped after this long.
        timeout=120,
    )


async def serve_forever(host: str, port: int) -> None:
    """The listener in the current event loop, until cancelled."""
    loop = asyncio.get_running_loop()
    server = await loop.create_server(
        lambda: SMTP(
            RelayHandler(),
            hostname=settings.EMAIL_REPLY_DOMAIN,
            data_size_limit=settings.INBOUND_MAX_BYTES,
            enable_SMTPUTF8=True,
            timeout=120,
        ),
        host=host,
        port=port,
    )
    async with server:
        await server.serve_forever()
