"""Mail that no person wrote just now: out-of-office and other automatic replies, bounces
and delivery reports, mailing-list mail, and our own e-mails coming back (a relay address
forwarding to another relay address). None of it is ever posted: posting it would put an
out-of-office note in front of the other party, and a loop between two relay addresses
would post for ever. Reasons follow RFC 3834 (Auto-Submitted), RFC 3464 (delivery
reports) and the headers the common mail systems add where they ignore those."""

import re
from dataclasses import dataclass
from email.message import Message

from django.conf import settings

from messagecenter.delivery import relay
from messagecenter.delivery.inbound.parsing import addresses, header_text, header_values

# Headers that mail systems add to automatic replies in place of (or beside) RFC 3834's.
AUTOREPLY_HEADERS = (
    "X-Autoreply",
    "X-Autorespond",
    "X-Autoresponder",
    "X-AutoReply-From",
    "X-Mail-Autoreply",
    "X-Vacation",
    "X-FC-MachineGenerated",
)
AUTOMATED_PRECEDENCE = frozenset({"bulk", "junk", "list", "auto_reply", "auto-reply"})
# Subjects of vacation notices in the languages the reply parser reads.
VACATION_SUBJECT = re.compile(
    r"^\s*(auto(matic|matische|matisch|matique|matica|mática)?[\s_-]*(reply|response|antwort|"
    r"antwoord|réponse|respuesta|risposta|odpowiedź|svar)"
    r"|out\s+of\s+(the\s+)?office|i\s+am\s+(out|away)|away\s+from\s+(the\s+)?office"
    r"|on\s+(vacation|holiday|leave)|vacation\s+(reply|notice)|abwesenheit|absence"
    r"|r[ée]ponse\s+automatique|respuesta\s+autom[áa]tica|risposta\s+automatica"
    r"|automatisch\s+antwoord|fuera\s+de\s+la\s+oficina|absent\s+du\s+bureau)",
    re.IGNORECASE,
)
BOUNCE_SUBJECT = re.compile(
    r"^\s*(undeliver(able|ed)|delivery\s+(status\s+notification|failure|has\s+failed)"
    r"|mail\s+delivery\s+(failed|failure|subsystem)|returned\s+mail|failure\s+notice"
    r"|delivery\s+incomplete|non[\s-]?delivery)",
    re.IGNORECASE,
)
BOUNCE_SENDERS = re.compile(r"^(mailer-daemon|postmaster|mail-daemon|bounces?)@", re.IGNORECASE)
MAX_HOPS = 30


@dataclass(frozen=True)
class Automatic:
    code: str
    reason: str


def automatic_reason(message: Message, *, envelope_from: str | None) -> Automatic | None:
    """Why this e-mail is automatic, or None for mail a person wrote."""
    if envelope_from is not None and envelope_from.strip("<> ") == "":
        return Automatic(
            "bounce",
            "This was a delivery report from a mail server (sent with an empty sender), "
            "not a reply.",
        )
    content_type = message.get_content_type()
    report_type = (message.get_param("report-type") or "") if content_type else ""
    from_addresses = addresses(message, "From")
    if (
        content_type == "multipart/report"
        or str(report_type).lower() in ("delivery-status", "disposition-notification")
        or any(BOUNCE_SENDERS.match(address) for address in from_addresses)
        or BOUNCE_SUBJECT.match(header_text(message, "Subject"))
    ):
        return Automatic(
            "bounce", "This was a delivery report or a read receipt from a mail server."
        )
    if _is_ours(message, from_addresses, envelope_from):
        return Automatic(
            "loop",
            "This was one of the Message Center's own e-mails coming back (a forward "
            "between two reply addresses); it was not posted again.",
        )
    auto_submitted = header_text(message, "Auto-Submitted").strip().lower()
    if auto_submitted and not auto_submitted.startswith("no"):
        return Automatic(
            "auto_reply",
            "This was an automatic reply (an out-of-office message or a mail program's "
            "answer), not something you wrote, so it was not posted.",
        )
    if any(message.get(name) is not None for name in AUTOREPLY_HEADERS):
        return Automatic("auto_reply", "This was an automatic reply from a mail system.")
    precedence = header_text(message, "Precedence").strip().lower()
    if precedence in AUTOMATED_PRECEDENCE:
        return Automatic(
            "auto_reply",
            "This was automatic or bulk mail, not something you wrote, so it was not posted.",
        )
    if message.get("List-Id") is not None or message.get("List-Post") is not None:
        return Automatic("auto_reply", "This came from a mailing list, not from a person.")
    if VACATION_SUBJECT.match(header_text(message, "Subject")):
        return Automatic("auto_reply", "This looks like an out-of-office or automatic reply.")
    return None


def _is_ours(message: Message, from_addresses: list[str], envelope_from: str | None) -> bool:
    senders = [*from_addresses, *(addresses(message, "Sender"))]
    if envelope_from:
        senders.append(envelope_from.strip("<> ").lower())
    if any(relay.is_relay_domain(address) for address in senders):
        return True
    if message.get("X-Message-Center-Reference") is not None:
        return True
    message_id = header_text(message, "Message-ID").strip().lower()
    if message_id.startswith("<mc.") and message_id.endswith(
        f"@{settings.EMAIL_MESSAGE_ID_DOMAIN.lower()}>"
    ):
        return True
    return len(header_values(message, "Received")) > MAX_HOPS
