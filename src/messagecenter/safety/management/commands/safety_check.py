import email
import email.policy
import json
import sys
from collections.abc import Iterator
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Any, cast

from django.core.management.base import BaseCommand, CommandError, CommandParser

from messagecenter.safety import vocabulary_cache
from messagecenter.safety.detector import Sender, SenderRole, check
from messagecenter.safety.links import read_html

ROLES = {"buyer", "seller", "agent", "admin", "marketplace", "unknown"}


class Command(BaseCommand):
    help = (
        "Check messages with this deployment's safety settings and print one JSON line per "
        "message: verdict, categories, reasons (docs/safety.md#safety-check). Reads plain "
        "text files, .eml files, and JSON lines (.jsonl, or - for standard input) with "
        "sender_name, sender_role, subject and body."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("paths", nargs="+", help="files to check; - reads JSON lines")

    def handle(self, *args: Any, **options: Any) -> None:
        vocabulary = vocabulary_cache.current()
        for path in options["paths"]:
            for source, subject, body, sender, anchors in _messages(path):
                verdict = check(body, sender, vocabulary, subject=subject, html_anchors=anchors)
                line = {"source": source, **verdict.as_dict()}
                if verdict.masked_body is not None:
                    line["masked_body"] = verdict.masked_body
                self.stdout.write(json.dumps(line, ensure_ascii=False))


Message = tuple[str, str, str, Sender, tuple[tuple[str, str], ...]]


def _messages(path: str) -> Iterator[Message]:
    if path == "-":
        yield from _json_lines("-", sys.stdin)
        return
    file = Path(path)
    if not file.is_file():
        raise CommandError(f"{path}: no such file")
    if file.suffix.lower() in {".jsonl", ".json", ".ndjson"}:
        with file.open(encoding="utf-8", errors="replace") as handle:
            yield from _json_lines(path, handle)
    elif file.suffix.lower() == ".eml":
        yield _email(path, file.read_bytes())
    else:
        yield path, "", file.read_text(encoding="utf-8", errors="replace"), Sender(), ()


def _json_lines(path: str, lines: Any) -> Iterator[Message]:
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as error:
            raise CommandError(f"{path}:{number}: not JSON ({error.msg})") from None
        if not isinstance(record, dict) or not isinstance(record.get("body"), str):
            raise CommandError(f'{path}:{number}: needs an object with a "body" string')
        role = str(record.get("sender_role", "unknown"))
        if role not in ROLES:
            raise CommandError(f"{path}:{number}: sender_role must be one of {sorted(ROLES)}")
        sender = Sender(
            str(record.get("sender_name", "")),
            cast(SenderRole, role),
            str(record.get("sender_email", "")),
        )
        yield f"{path}:{number}", str(record.get("subject", "")), record["body"], sender, ()


def _email(path: str, raw: bytes) -> Message:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    name, address = parseaddr(str(message.get("From", "")))
    text_part = message.get_body(preferencelist=("plain",))
    html_part = message.get_body(preferencelist=("html",))
    anchors: tuple[tuple[str, str], ...] = ()
    body = ""
    if html_part is not None:
        html_text, anchors = read_html(str(cast(EmailMessage, html_part).get_content()))
        body = html_text
    if text_part is not None:
        body = str(cast(EmailMessage, text_part).get_content())
    sender = Sender(name, "unknown", address)
    return path, str(message.get("Subject", "")), body, sender, anchors
