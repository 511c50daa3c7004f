"""Staff views of e-mail delivery: every e-mail with its status (queued, sent, bounced,
failed, not sent and why), the suppression list, and people's stored choices."""

from email import message_from_bytes, policy
from typing import Any

from django.contrib import admin
from django.db.models import QuerySet
from django.http import HttpRequest
from django.utils import timezone

from messagecenter.delivery.links import without_secrets
from messagecenter.delivery.models import (
    BroadcastEmailRun,
    Email,
    EmailStatus,
    InboundEmail,
    Suppression,
)


@admin.register(Email)
class EmailAdmin(admin.ModelAdmin[Email]):
    list_display = (
        "id",
        "user",
        "kind",
        "category",
        "status",
        "attempts",
        "to_address",
        "subject",
        "created_at",
        "sent_at",
    )
    list_filter = ("status", "kind", "category")
    search_fields = ("to_address", "subject", "user__username", "user__email")
    list_select_related = ("user",)
    date_hierarchy = "created_at"
    actions = ("retry_now",)
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Email | None = None) -> Any:
        return [field.name for field in Email._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Email | None = None) -> bool:
        return False

    @admin.action(description="Send the selected failed or bounced e-mails again now")
    def retry_now(self, request: HttpRequest, queryset: QuerySet[Email]) -> None:
        count = queryset.filter(status__in=[EmailStatus.FAILED, EmailStatus.BOUNCED]).update(
            status=EmailStatus.QUEUED,
            attempts=0,
            next_attempt_at=timezone.now(),
            claimed_until=None,
        )
        self.message_user(request, f"{count} e-mail(s) queued again.")


@admin.register(Suppression)
class SuppressionAdmin(admin.ModelAdmin[Suppression]):
    list_display = ("address", "reason", "created_at")
    list_filter = ("reason",)
    search_fields = ("address",)
    readonly_fields = ("created_at",)

    def save_model(self, request: HttpRequest, obj: Suppression, form: Any, change: bool) -> None:
        obj.address = obj.address.strip().lower()
        if obj.created_at is None:
            obj.created_at = timezone.now()
        super().save_model(request, obj, form, change)


@admin.register(BroadcastEmailRun)
class BroadcastEmailRunAdmin(admin.ModelAdmin[BroadcastEmailRun]):
    list_display = ("broadcast_id", "queued", "cursor", "created_at", "finished_at")

    def get_readonly_fields(
        self, request: HttpRequest, obj: BroadcastEmailRun | None = None
    ) -> Any:
        return [field.name for field in BroadcastEmailRun._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False


@admin.register(InboundEmail)
class InboundEmailAdmin(admin.ModelAdmin[InboundEmail]):
    """Replies by e-mail, for agents and staff: what became of each and why, our
    authentication result, and the original as it arrived (docs/email.md)."""

    list_display = ("id", "received_at", "status", "reason_code", "from_address", "user", "route")
    list_filter = ("status", "reason_code", "route")
    search_fields = ("from_address", "envelope_from", "subject", "user__username", "message_key")
    list_select_related = ("user",)
    date_hierarchy = "received_at"
    show_full_result_count = False
    exclude = ("raw",)

    def get_readonly_fields(self, request: HttpRequest, obj: InboundEmail | None = None) -> Any:
        # The subject as "shown_subject", the original as "original": both without the keys
        # of our secret links.
        hidden = {"raw", "subject"}
        return [field.name for field in InboundEmail._meta.fields if field.name not in hidden] + [
            "shown_subject",
            "original",
        ]

    @admin.display(description="Subject")
    def shown_subject(self, obj: InboundEmail) -> str:
        return without_secrets(obj.subject)

    @admin.display(description="Original e-mail")
    def original(self, obj: InboundEmail) -> str:
        """The e-mail as it arrived, shown as text (escaped by the admin) — decoded, so that
        our links that work without signing in lose their key whatever the encoding: a
        genuine reset forwarded to the report address held a working link, hidden from a
        search of the raw bytes by base64 or quoted-printable."""
        return original_without_secrets(bytes(obj.raw)[:2_000_000])

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False


def original_without_secrets(raw: bytes) -> str:
    """Every header, and every text part decoded (base64, quoted-printable, its charset),
    forwarded e-mails' included; other parts named. Our secret links lose their key."""
    message = message_from_bytes(raw, policy=policy.default)
    lines: list[str] = []
    for part in message.walk():
        lines.extend(f"{name}: {value}" for name, value in part.items())
        if part.is_multipart() or part.get_content_maintype() == "message":
            lines.append("")
            continue
        if part.get_content_maintype() == "text":
            try:
                lines.extend(["", str(part.get_content()), ""])
            except (LookupError, ValueError):
                # A charset Python does not know: its bytes as UTF-8, as the raw view was.
                payload = part.get_payload(decode=True)
                text = payload.decode("utf-8", "replace") if isinstance(payload, bytes) else ""
                lines.extend(["", text, ""])
        else:
            lines.extend(["", f"[{part.get_content_type()} {part.get_filename() or ''}]", ""])
    return without_secrets("\n".join(lines))
