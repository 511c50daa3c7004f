"""Staff compose, preview, schedule and cancel broadcasts here (docs/notifications.md,
"Staff guide"). Every write goes through notifications.actions; a sent or scheduled
broadcast is never edited, only cancelled (and composed again)."""

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from messagecenter.errors import InvalidInput
from messagecenter.notifications import actions, queries
from messagecenter.notifications.models import Audience, Broadcast, BroadcastKind

# An uploaded list bigger than this is refused before it is read.
LIST_FILE_MAX_BYTES = 20 * 1024 * 1024


class BroadcastForm(forms.ModelForm[Broadcast]):
    user_ids = forms.CharField(
        label="User ids",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For the list audience: user ids separated by commas, spaces or lines.",
    )
    user_ids_file = forms.FileField(
        label="Or upload a list",
        required=False,
        help_text="A text or CSV file with one user id per line (a header line is skipped).",
    )

    class Meta:
        model = Broadcast
        fields = ("kind", "subject", "body", "send_at", "expires_at", "audience", "country")
        help_texts = {
            "send_at": "When it appears in inboxes (now or later).",
            "body": "Plain text: a blank line between paragraphs; web addresses become links.",
            "country": "For the country audience: two letters, e.g. US or DE.",
        }

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        try:
            text = data.get("user_ids") or ""
            upload = data.get("user_ids_file")
            if upload is not None:
                if upload.size > LIST_FILE_MAX_BYTES:
                    raise InvalidInput("The uploaded list is too large.", code="list_too_large")
                # Each source on its own: a header line of the file is still its first.
                ids = actions.parse_user_ids(text) + actions.parse_user_ids(
                    upload.read().decode("utf-8-sig", errors="replace")
                )
            else:
                ids = actions.parse_user_ids(text)
            self.draft = actions.check_broadcast(
                kind=data["kind"],
                subject=data["subject"],
                body=data["body"],
                send_at=data["send_at"],
                expires_at=data.get("expires_at"),
                audience=data["audience"],
                country=data.get("country") or "",
                user_ids=ids,
            )
        except InvalidInput as error:
            field = FIELD_OF_ERROR.get(error.code)
            if field is None:
                raise forms.ValidationError(error.message, code=error.code) from error
            self.add_error(field, forms.ValidationError(error.message, code=error.code))
        return data


# Where each refusal of check_broadcast is shown on the form.
FIELD_OF_ERROR = {
    "invalid_user_id": "user_ids",
    "unknown_user_ids": "user_ids",
    "empty_list": "user_ids",
    "list_too_long": "user_ids",
    "list_too_large": "user_ids_file",
    "invalid_list": "user_ids",
    "invalid_country": "country",
    "invalid_expires_at": "expires_at",
    "invalid_send_at": "send_at",
    "empty_subject": "subject",
    "subject_too_long": "subject",
    "empty_body": "body",
    "body_too_long": "body",
    "invalid_characters": "body",
}


@admin.register(Broadcast)
class BroadcastAdmin(admin.ModelAdmin[Broadcast]):
    form = BroadcastForm
    list_display = ("subject", "kind", "audience_label", "send_at", "expires_at", "status")
    list_filter = ("kind", "audience")
    search_fields = ("subject",)
    date_hierarchy = "send_at"
    actions = ("cancel_selected",)
    readonly_fields = (
        "kind",
        "subject",
        "body",
        "send_at",
        "expires_at",
        "audience",
        "country",
        "created_by",
        "created_at",
        "cancelled_at",
        "announced_at",
        "audience_size",
    )

    def get_queryset(self, request: HttpRequest) -> QuerySet[Broadcast]:
        return queries.scheduled_broadcasts()

    def get_form(
        self,
        request: HttpRequest,
        obj: Broadcast | None = None,
        change: bool = False,
        **kwargs: Any,
    ) -> type[forms.ModelForm[Broadcast]]:
        if obj is None:
            kwargs["fields"] = (*BroadcastForm.Meta.fields, "user_ids", "user_ids_file")
        return super().get_form(request, obj, change, **kwargs)

    def get_readonly_fields(self, request: HttpRequest, obj: Broadcast | None = None) -> Any:
        return self.readonly_fields if obj is not None else ()

    def get_fields(self, request: HttpRequest, obj: Broadcast | None = None) -> Any:
        if obj is None:
            return (*BroadcastForm.Meta.fields, "user_ids", "user_ids_file")
        return self.readonly_fields

    def has_change_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        # The change page shows the broadcast; the only change is cancelling it.
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Any = None) -> bool:
        return False

    @admin.display(description="Status")
    def status(self, broadcast: Broadcast) -> str:
        if broadcast.cancelled_at is not None:
            return "Cancelled"
        now = timezone.now()
        if broadcast.expires_at is not None and broadcast.expires_at <= now:
            return "Expired"
        return "Sent" if broadcast.send_at <= now else "Scheduled"

    @admin.display(description="People in the audience now")
    def audience_size(self, broadcast: Broadcast) -> str:
        return f"{queries.broadcast_audience(broadcast).count():,}"

    @admin.action(description="Cancel the selected broadcasts")
    def cancel_selected(self, request: HttpRequest, chosen: QuerySet[Broadcast]) -> None:
        cancelled = sum(
            actions.cancel_broadcast(request.user, broadcast.pk)  # type: ignore[arg-type]
            for broadcast in chosen
        )
        self.message_user(request, f"{cancelled} broadcast(s) cancelled.", messages.SUCCESS)

    def changeform_view(
        self,
        request: HttpRequest,
        object_id: str | None = None,
        form_url: str = "",
        extra_context: dict[str, Any] | None = None,
    ) -> HttpResponse:
        """ "Preview" on the compose form shows the broadcast as people will see it, and
        how many people the audience holds, before anything is saved."""
        if object_id is None and request.method == "POST" and "_preview" in request.POST:
            form = self.get_form(request)(request.POST, request.FILES)
            if form.is_valid():
                return self._preview(request, form)
        return super().changeform_view(request, object_id, form_url, extra_context)

    def _preview(self, request: HttpRequest, form: forms.ModelForm[Broadcast]) -> HttpResponse:
        draft: actions.BroadcastDraft = form.draft  # type: ignore[attr-defined]
        unsaved = Broadcast(audience=draft.audience, country=draft.country)
        # Who it would reach, by the fan-out's own rule: a list's erased or suspended
        # accounts are on it but reached by nothing.
        if draft.audience == Audience.LIST:
            # In batches, as the list was checked: a million ids are no one statement.
            ids = draft.user_ids
            size = sum(
                queries.broadcast_audience(
                    unsaved, listed=ids[start : start + actions.RECIPIENT_BATCH]
                ).count()
                for start in range(0, len(ids), actions.RECIPIENT_BATCH)
            )
        else:
            size = queries.broadcast_audience(unsaved).count()
        return TemplateResponse(
            request,
            "admin/notifications/broadcast/preview.html",
            {
                **self.admin_site.each_context(request),
                "opts": self.opts,
                "title": "Preview the broadcast",
                "draft": draft,
                "kind_label": BroadcastKind(draft.kind).label,
                "audience_label": unsaved.audience_label,
                "audience_size": size,
                "form": form,
                "user_ids_text": ",".join(str(user_id) for user_id in draft.user_ids),
            },
        )

    def save_model(
        self, request: HttpRequest, obj: Broadcast, form: forms.ModelForm[Broadcast], change: bool
    ) -> None:
        draft: actions.BroadcastDraft = form.draft  # type: ignore[attr-defined]
        saved = actions.schedule_broadcast(
            request.user,  # type: ignore[arg-type]
            kind=draft.kind,
            subject=draft.subject,
            body=draft.body,
            send_at=draft.send_at,
            expires_at=draft.expires_at,
            audience=draft.audience,
            country=draft.country,
            user_ids=draft.user_ids,
        )
        # The admin continues with the saved object (its messages and redirect).
        obj.pk = saved.pk
        obj.__dict__.update(
            {field: getattr(saved, field) for field in ("created_at", "created_by_id")}
        )

    def save_related(self, request: HttpRequest, form: Any, formsets: Any, change: bool) -> None:
        # Nothing: schedule_broadcast wrote the list with the broadcast.
        pass
