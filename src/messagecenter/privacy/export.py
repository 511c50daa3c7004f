"""What a person's data export holds (docs/privacy.md#your-data): one JSON file per section,
and their attachments, in a zip.

Every model of the project is either in a section here (SECTIONS, with the rows that are
about the person) or on EXCLUDED with the reason it is not exported;
tests/privacy/test_export.py fails when a model is neither, so a new table is decided on
when it is added. Secrets that would let someone into the account (password and token
hashes, session keys, two-factor keys and recovery codes) are never exported.
"""

import base64
import json
import zipfile
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from axes.models import AccessAttempt, AccessFailureLog, AccessLog
from django.core.serializers.json import DjangoJSONEncoder
from django.db.models import Model, Q, QuerySet
from django.db.models.fields.files import FieldFile
from django.utils import timezone
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from messagecenter.accounts.models import ApiToken, BrowserSession, Passkey, User
from messagecenter.conversations import queries as conversation_queries
from messagecenter.conversations.models import (
    AwayMessage,
    HiddenMessage,
    Participant,
    ResponseTime,
    SavedReply,
)
from messagecenter.delivery.models import (
    NEW_ADDRESS_EMAIL_KINDS,
    Email,
    InboundEmail,
    Preference,
    Suppression,
)
from messagecenter.hub.boxes import VISIBLE_BOXES
from messagecenter.marketplace.models import (
    Order,
    OrderItem,
    Product,
    Refund,
    ReturnItem,
    ReturnPhoto,
    ReturnRequest,
    Shipment,
    Storefront,
)
from messagecenter.notifications.models import (
    Broadcast,
    BroadcastRecipient,
    BroadcastsSeen,
    BroadcastState,
)
from messagecenter.privacy.models import DataExport
from messagecenter.safety.models import Block, HeldMessage
from messagecenter.support.models import (
    Case,
    CaseKind,
    ChatAvailability,
    Claim,
    ForwardedEmail,
    ReportCategory,
    ReportFiling,
    ReportOutcome,
    TeamMember,
)


@dataclass
class Collected:
    """What a section adds besides its JSON: stored files, by their path in the zip."""

    files: dict[str, FieldFile] = field(default_factory=dict)

    def add_file(self, folder: str, key: int, name: str, stored: FieldFile) -> str:
        path = f"{folder}/{key}-{_safe_name(name)}"
        self.files[path] = stored
        return path


# A file's name in the zip, after its key: short enough for every system's paths.
_NAME_MAX_CHARS = 120
# What follows the last dot counts as the extension (kept whole when a long name is cut, so
# the file still opens in the right program) only up to this long: ".jpeg", ".heic", not
# the tail of "minutes.of the meeting with the seller".
_EXTENSION_MAX_CHARS = 10


def _safe_name(name: str) -> str:
    """A file name that stays one name inside the zip on every system: a long one loses the
    end of its stem, never its extension."""
    cleaned = "".join(c if c.isalnum() or c in "._- " else "_" for c in name).strip(" .")
    stem, dot, extension = cleaned.rpartition(".")
    if not (dot and stem and extension.isalnum() and len(extension) <= _EXTENSION_MAX_CHARS):
        stem, extension = cleaned, ""
    else:
        extension = f".{extension}"
    stem = stem[: _NAME_MAX_CHARS - len(extension)].rstrip(" .")
    return f"{stem or 'file'}{extension}"


def rows(queryset: QuerySet[Any], *, exclude: Iterable[str] = ()) -> list[dict[str, Any]]:
    """Every column of each row (foreign keys as ids, files as their stored names), but the
    ones named in `exclude`."""
    left_out = set(exclude)
    names = [
        column.attname
        for column in queryset.model._meta.concrete_fields
        if column.attname not in left_out and column.name not in left_out
    ]
    return list(queryset.order_by("pk").values(*names))


Builder = Callable[[User, Collected], Any]


@dataclass(frozen=True)
class Section:
    # The JSON file in the zip: "conversations.json".
    file: str
    title: str
    # The models whose rows about the person this section holds ("app_label.Model").
    models: tuple[str, ...]
    build: Builder


def _account(user: User, collected: Collected) -> Any:
    account = rows(
        User.objects.filter(pk=user.pk),
        # The password hash and the session generation are credentials, not data.
        exclude=("password", "session_generation"),
    )[0]
    return {
        "account": account,
        "storefront": rows(Storefront.objects.filter(seller=user)),
        "products": rows(Product.objects.filter(storefront__seller=user)),
    }


def _devices(user: User, collected: Collected) -> Any:
    return {
        "browsers": rows(BrowserSession.objects.filter(user=user), exclude=("session_key",)),
        "api_tokens": rows(ApiToken.objects.filter(user=user), exclude=("secret_hash",)),
        # Whether two-factor sign-in is on, never its key or the recovery codes.
        "authenticator_apps": rows(
            TOTPDevice.objects.filter(user=user),
            exclude=("key", "throttling_failure_timestamp", "throttling_failure_count"),
        ),
        # Each passkey's name and uses; its public key is a credential's half (binary).
        "passkeys": rows(Passkey.objects.filter(user=user), exclude=("public_key",)),
        "recovery_code_sets": [
            {"id": device.pk, "name": device.name, "codes_left": device.token_set.count()}
            for device in StaticDevice.objects.filter(user=user).order_by("pk")
        ],
        "sign_in_attempts": {
            "failures": rows(AccessFailureLog.objects.filter(username=user.get_username())),
            "counts": rows(AccessAttempt.objects.filter(username=user.get_username())),
            "sign_ins": rows(AccessLog.objects.filter(username=user.get_username())),
        },
    }


def _conversations(user: User, collected: Collected) -> Any:
    """The conversations in the person's Inbox, Archive and Trash, each with the messages
    they can see (conversations.queries: nothing from before they deleted it)."""
    participants = (
        Participant.objects.filter(user=user, box__in=VISIBLE_BOXES)
        .select_related("conversation")
        .order_by("conversation_id")
    )
    exported = []
    for participant in participants:
        conversation = participant.conversation
        messages = []
        for message in conversation_queries.conversation_messages(participant):
            messages.append(
                {
                    "id": message.pk,
                    "sender": message.sender_name,
                    "sent_by_you": message.sender_id == user.pk,
                    "sent_at": message.created_at,
                    "body": message.body,
                    "sent_by_email": message.sent_by_email,
                    "safety_verdict": message.safety_verdict,
                    "attachments": [
                        {
                            "name": attachment.download_name,
                            "content_type": attachment.content_type,
                            "size": attachment.size,
                            "file": collected.add_file(
                                "attachments",
                                attachment.pk,
                                attachment.download_name,
                                attachment.file,
                            ),
                        }
                        for attachment in message.listed_attachments
                    ],
                }
            )
        exported.append(
            {
                "id": conversation.pk,
                "kind": conversation.kind,
                "subject": conversation.subject,
                "order_id": conversation.order_id,
                "product_id": conversation.product_id,
                "storefront_id": conversation.storefront_id,
                "created_at": conversation.created_at,
                "your_copy": rows(
                    Participant.objects.filter(pk=participant.pk), exclude=("conversation",)
                )[0],
                "messages": messages,
            }
        )
    return {
        "conversations": exported,
        "saved_replies": rows(SavedReply.objects.filter(seller=user)),
        "away_message": rows(AwayMessage.objects.filter(seller=user)),
        "response_times": rows(ResponseTime.objects.filter(seller=user)),
    }


def _orders(user: User, collected: Collected) -> Any:
    """Orders the person placed, and for a seller what was sold and returned to their shop."""
    buyer_or_seller = Q(order__buyer=user) | Q(storefront__seller=user)
    photos = []
    for photo in ReturnPhoto.objects.filter(
        Q(return_request__order__buyer=user) | Q(return_request__storefront__seller=user)
    ).order_by("pk"):
        photos.append(
            {
                "id": photo.pk,
                "return_request_id": photo.return_request_id,
                "name": photo.download_name,
                "content_type": photo.content_type,
                "size": photo.size,
                "file": collected.add_file(
                    "return-photos", photo.pk, photo.download_name, photo.file
                ),
            }
        )
    return {
        "orders": rows(Order.objects.filter(buyer=user)),
        "order_items": rows(OrderItem.objects.filter(buyer_or_seller)),
        "shipments": rows(Shipment.objects.filter(order__buyer=user)),
        "returns": rows(ReturnRequest.objects.filter(buyer_or_seller)),
        "return_items": rows(
            ReturnItem.objects.filter(
                Q(return_request__order__buyer=user) | Q(return_request__storefront__seller=user)
            )
        ),
        "return_photos": photos,
        "refunds": rows(
            Refund.objects.filter(Q(order__buyer=user) | Q(return_request__storefront__seller=user))
        ),
    }


def _customer_service(user: User, collected: Collected) -> Any:
    """The person's requests and claims (their messages are in conversations.json), and for
    an agent their teams and chat availability."""
    return {
        # A report's case names its first reporter as its customer only for the queue's
        # bookkeeping: it is the agents' review of someone else, which other people's
        # reports join — never shown to a reporter (docs/safety.md#reports). Their own
        # reports are in safety.json.
        "cases": rows(Case.objects.filter(customer=user).exclude(kind=CaseKind.REPORT)),
        "claims": rows(Claim.objects.filter(Q(case__customer=user) | Q(storefront__seller=user))),
        "teams": rows(TeamMember.objects.filter(agent=user)),
        "chat_availability": rows(ChatAvailability.objects.filter(agent=user)),
    }


def _broadcasts(user: User, collected: Collected) -> Any:
    return {
        # What the person did with notices and promotions: read, archived, trashed.
        "states": rows(BroadcastState.objects.filter(user=user)),
        "addressed_to_you": rows(BroadcastRecipient.objects.filter(user=user)),
        "seen_until": rows(BroadcastsSeen.objects.filter(user=user)),
        # Staff: the notices and promotions they wrote.
        "written": rows(Broadcast.objects.filter(created_by=user)),
    }


def _email(user: User, collected: Collected) -> Any:
    emails = Email.objects.filter(user=user)
    return {
        "preferences": rows(Preference.objects.filter(user=user)),
        "emails_sent_to_you": rows(emails.exclude(kind__in=NEW_ADDRESS_EMAIL_KINDS)),
        "new_addresses_asked_for": _new_addresses_asked_for(emails),
        "suppressed_address": rows(Suppression.objects.filter(address__iexact=user.email))
        if user.email
        else [],
        # E-mails to the person's relay addresses: what became of each (not the raw e-mail).
        "replies_by_email": _replies_by_email(user),
    }


def _new_addresses_asked_for(emails: QuerySet[Email]) -> list[dict[str, Any]]:
    """The addresses the person asked to change theirs to, and when: what they did. Not the
    e-mail each one got, which went to whoever reads that mailbox, not to the person — and
    whose kind (a link, or "this address already has an account"), subject or outcome would
    tell anyone whether another account uses any address they type
    (docs/accounts.md#e-mail-address)."""
    return [
        {"address": address, "asked_at": asked_at}
        for address, asked_at in emails.filter(kind__in=NEW_ADDRESS_EMAIL_KINDS)
        .order_by("pk")
        .values_list("to_address", "created_at")
    ]


# What an e-mail from another address than the account's says about its sender, who may be
# a third party (a forger who learnt a relay address): never given to the account holder.
_ANOTHER_SENDERS = ("envelope_from", "from_address", "subject", "authentication", "notes")


def _replies_by_email(user: User) -> list[dict[str, Any]]:
    replies = rows(InboundEmail.objects.filter(user=user), exclude=("raw",))
    for reply in replies:
        if not reply["from_account_holder"]:
            for name in _ANOTHER_SENDERS:
                reply[name] = ""
    return replies


def _safety(user: User, collected: Collected) -> Any:
    return {
        "blocked_by_you": rows(Block.objects.filter(blocker=user)),
        "held_for_review": rows(HeldMessage.objects.filter(sender=user)),
        "your_reports": _reports_filed(user),
        "hidden_by_reporting": _hidden_by_reporting(user),
        "your_forwarded_emails": _forwarded_emails(user),
    }


def _forwarded_emails(user: User) -> list[dict[str, Any]]:
    """The suspicious e-mails the person forwarded to the report address
    (docs/safety.md#forwarded-e-mails), as they sent them to us, and whether each carried
    a reference of ours to them; never the case or the agents' review (as a report's)."""
    return [
        {
            "forwarded_at": row.created_at,
            "how": row.how,
            "from": row.from_header,
            "reply_to": row.reply_to,
            "subject": row.subject,
            "date": row.date,
            "text": row.text,
            "links": row.links,
            "your_note": row.note,
            "reference": row.reference,
            "reference_origin": row.reference_origin,
        }
        for row in ForwardedEmail.objects.filter(reporter=user).order_by("created_at", "pk")
    ]


def _reports_filed(user: User) -> list[dict[str, Any]]:
    """The person's own reports, as GET /reports lists them: what they reported, as what,
    when, and how it ended. Never anyone else's filing of the same report, the case it
    joined, or the agents' review (a reporter never learns who else reported)."""
    return [
        {
            "id": filing.pk,
            "category": filing.category,
            "category_label": ReportCategory(filing.category).label,
            "conversation_id": filing.conversation_id,
            # None: the conversation was reported as a whole.
            "message_id": filing.message_id,
            "reported_at": filing.created_at,
            "status": filing.report.outcome,
            "status_label": ReportOutcome(filing.report.outcome).label,
            "decided_at": filing.report.decided_at,
        }
        for filing in ReportFiling.objects.filter(reporter=user)
        .select_related("report")
        .order_by("created_at", "pk")
    ]


def _hidden_by_reporting(user: User) -> list[dict[str, Any]]:
    """The messages the person hid by reporting them, which conversations.json no longer
    shows them: each with its text as sent to them — unless customer service removed it
    for everyone after the review (gone from every page, as from conversations.json)."""
    hidden = []
    for row in (
        HiddenMessage.objects.filter(user=user)
        .select_related("message__sender__storefront")
        .order_by("hidden_at", "pk")
    ):
        message = row.message
        removed = message.removed_at is not None
        hidden.append(
            {
                "message_id": message.pk,
                "conversation_id": message.conversation_id,
                "sender": message.sender_name,
                "sent_at": message.created_at,
                "hidden_at": row.hidden_at,
                "removed_by_customer_service": removed,
                "body": None if removed else message.body,
                "attachments": []
                if removed
                else [
                    {"name": attachment.download_name, "size": attachment.size}
                    for attachment in message.listed_attachments
                ],
            }
        )
    return hidden


def _exports(user: User, collected: Collected) -> Any:
    return rows(DataExport.objects.filter(user=user), exclude=("file",))


SECTIONS: tuple[Section, ...] = (
    Section(
        "account.json",
        "Your account",
        ("accounts.User", "marketplace.Storefront", "marketplace.Product"),
        _account,
    ),
    Section(
        "devices.json",
        "Signed-in devices and sign-in",
        (
            "accounts.BrowserSession",
            "accounts.ApiToken",
            "otp_totp.TOTPDevice",
            "otp_static.StaticDevice",
            "accounts.Passkey",
            "axes.AccessFailureLog",
            "axes.AccessAttempt",
            "axes.AccessLog",
        ),
        _devices,
    ),
    Section(
        "conversations.json",
        "Conversations and messages",
        (
            "conversations.Conversation",
            "conversations.Participant",
            "conversations.Message",
            "conversations.Attachment",
            "conversations.SavedReply",
            "conversations.AwayMessage",
            "conversations.ResponseTime",
        ),
        _conversations,
    ),
    Section(
        "orders.json",
        "Orders, returns and refunds",
        (
            "marketplace.Order",
            "marketplace.OrderItem",
            "marketplace.Shipment",
            "marketplace.ReturnRequest",
            "marketplace.ReturnItem",
            "marketplace.ReturnPhoto",
            "marketplace.Refund",
        ),
        _orders,
    ),
    Section(
        "customer-service.json",
        "Customer service and claims",
        ("support.Case", "support.Claim", "support.TeamMember", "support.ChatAvailability"),
        _customer_service,
    ),
    Section(
        "notices-and-promotions.json",
        "Notices and promotions",
        (
            "notifications.BroadcastState",
            "notifications.BroadcastRecipient",
            "notifications.BroadcastsSeen",
            "notifications.Broadcast",
        ),
        _broadcasts,
    ),
    Section(
        "email.json",
        "E-mail: preferences, e-mails sent, replies by e-mail",
        ("delivery.Preference", "delivery.Email", "delivery.Suppression", "delivery.InboundEmail"),
        _email,
    ),
    Section(
        "safety.json",
        "Blocks, your reports and messages held for review",
        (
            "safety.Block",
            "safety.HeldMessage",
            "support.ReportFiling",
            "support.ForwardedEmail",
            "conversations.HiddenMessage",
        ),
        _safety,
    ),
    Section("data-exports.json", "Your data exports", ("privacy.DataExport",), _exports),
)

# Models not in the export, each with the reason (reviewed: docs/privacy.md#not-exported).
EXCLUDED: dict[str, str] = {
    "admin.LogEntry": "the admin site's audit of staff changes, kept by the operator",
    "auth.Permission": "the site's permission names: no person in it",
    "auth.Group": "staff permission groups: no person's data",
    "contenttypes.ContentType": "the list of tables: no person in it",
    "sessions.Session": "a signed-in browser's key (a credential); the browsers are in "
    "devices.json",
    "django_tasks_database.DBTaskResult": "the worker's job queue: ids, no content; purged",
    "axes.AccessAttemptExpiration": "when a sign-in count expires; the counts are in devices.json",
    "otp_static.StaticToken": "recovery codes are credentials; devices.json says how many are left",
    "business_days.Closure": "the operator's calendar: no person in it",
    "marketplace.MarketplaceEvent": "the operator's signed intake log of order events; the "
    "orders they made are in orders.json",
    "conversations.UnreadCounter": "counts derived from the conversations exported",
    "realtime.EventStream": "a device sync cursor: derived, no content",
    "realtime.UserEvent": "copies of changes for devices to sync, whose data is exported "
    "in its own section; purged after REALTIME_EVENT_RETENTION_DAYS",
    "search.SearchDocument": "search tokens of message texts exported in conversations.json",
    "search.MailboxMessage": "the search index's per-person rows over messages exported in "
    "conversations.json",
    "search.BroadcastDocument": "search tokens of notices and promotions: the "
    "marketplace's text, no person's",
    "delivery.BroadcastEmailRun": "a broadcast's e-mail fan-out cursor: no person in it",
    "delivery.MailboxEmail": "development only (EMAIL_URL=mailbox:): copies of e-mails "
    "listed in email.json",
    "safety.SendingCount": "sending-limit counters of the current minute, hour and day",
    "safety.VocabularyEntry": "the scam check's vocabulary: the operator's words, no person's data",
    "safety.VocabularyRevision": "the scam check's vocabulary as each change published it: "
    "the operator's words, and which staff member changed them (an audit record, as "
    "support.CaseEvent)",
    "support.Team": "customer-service teams: no customer's data",
    "support.CaseCounter": "maintained queue counts: no person in it",
    "support.CaseNote": "agents' internal working notes; the operator answers a request "
    "for them (docs/privacy.md#not-exported)",
    "support.CaseEvent": "the case's audit history for agents; the case and its messages "
    "are exported",
    "privacy.Erasure": "the operator's record of an erasure: the person it is about can "
    "no longer sign in to ask for an export",
    "support.CannedResponse": "a team's answer templates: no customer's data",
    "support.Report": "customer service's review of a reported person, which names everyone "
    "who reported them: neither the reported person's nor a reporter's to read (a reporter's "
    "own filings, with the outcome, are in safety.json; docs/safety.md#reports)",
}


class ExportEncoder(DjangoJSONEncoder):
    """Dates, decimals and ids as DjangoJSONEncoder writes them; raw bytes (a table's binary
    column) as base64, so nothing is dropped silently."""

    def default(self, o: Any) -> Any:
        if isinstance(o, bytes | memoryview):
            return base64.b64encode(bytes(o)).decode("ascii")
        return super().default(o)


def model_label(model: type[Model]) -> str:
    return str(model._meta.label)


def write_zip(
    user: User,
    path: str,
    *,
    on_progress: Callable[[int, str], None] = lambda percent, step: None,
) -> None:
    """The export, written to a file at `path`. Sections take the first 60 %, the files the
    rest; `on_progress` hears of each step."""
    collected = Collected()
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for index, section in enumerate(SECTIONS):
            on_progress(60 * index // len(SECTIONS), section.title)
            data = section.build(user, collected)
            archive.writestr(
                section.file, json.dumps(data, cls=ExportEncoder, indent=2, ensure_ascii=False)
            )
        files = sorted(collected.files.items())
        missing = []
        for index, (name, stored) in enumerate(files):
            if index % 20 == 0:
                on_progress(60 + 40 * index // max(len(files), 1), "Attachments")
            try:
                with stored.open("rb") as handle:
                    archive.writestr(name, handle.read())
            except FileNotFoundError:
                missing.append(name)
        archive.writestr("README.txt", _readme(user, missing))
    on_progress(100, "Done")


def _readme(user: User, missing: list[str]) -> str:
    lines = [
        f"Your Message Center data, for {user.get_username()}, made "
        f"{timezone.now():%Y-%m-%d %H:%M} UTC.",
        "",
        "Each .json file is one part of it (times in UTC, ISO 8601):",
        *(f"  {section.file}: {section.title}" for section in SECTIONS),
        "  attachments/, return-photos/: the files, named in the JSON by their path here.",
    ]
    if missing:
        lines += ["", "Files the storage no longer had:", *(f"  {name}" for name in missing)]
    return "\n".join(lines) + "\n"
