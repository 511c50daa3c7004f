"""The privacy pages (docs/privacy.md): transcript downloads — a person's own conversation
from its page, a case's conversation from the agent console (no format given: the page that
offers the three; an unknown one: the same page, 400, saying which formats there are) — and
"Your data": asking for an export, following it, downloading it; how long messages are
kept (for everyone, signed in or not: the rules are the operator's, not a person's)."""

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_http_methods, require_safe

from messagecenter.accounts import recent_sign_in
from messagecenter.errors import Conflict, InvalidInput
from messagecenter.privacy import actions, queries, transcripts
from messagecenter.privacy.models import IN_PROGRESS
from messagecenter.privacy.retention import retention_rules
from messagecenter.web.shortcuts import AuthenticatedHttpRequest


@login_required
@require_safe
def conversation_transcript(
    request: AuthenticatedHttpRequest, conversation_id: int
) -> HttpResponse:
    transcript = transcripts.conversation_transcript(request.user, conversation_id)
    back = reverse("conversation", args=[conversation_id])
    return _download(request, transcript, back)


@login_required
@require_safe
def case_transcript(request: AuthenticatedHttpRequest, case_id: int) -> HttpResponse:
    transcript = transcripts.case_transcript(request.user, case_id)
    return _download(request, transcript, reverse("console-case", args=[case_id]))


def _download(
    request: AuthenticatedHttpRequest, transcript: transcripts.Transcript, back: str
) -> HttpResponse:
    chosen = request.GET.get("format")
    error: InvalidInput | None = None
    if chosen is not None:
        try:
            return transcripts.response(transcript, transcripts.parse_format(chosen))
        except InvalidInput as invalid:
            error = invalid
    return render(
        request,
        "privacy/transcript_formats.html",
        {"transcript": transcript, "back": back, "error": error},
        status=error.status if error else 200,
    )


# --- your data ---------------------------------------------------------------------------------


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def data_export(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "Export my data": the button, and the latest exports with their progress. While
    one is prepared the page reloads itself every few seconds (a meta refresh: no script)."""
    error: Conflict | None = None
    if request.method == "POST" and not recent_sign_in.is_recent(request):
        return redirect(recent_sign_in.confirm_url(request))
    if request.method == "POST":
        try:
            actions.request_data_export(request.user)
        except Conflict as refused:
            error = refused
        else:
            messages.success(
                request, "We are preparing your data. This page shows how far it has got."
            )
            return redirect("data-export")
    exports = queries.data_exports(request.user)
    return render(
        request,
        "privacy/data_export.html",
        {
            "exports": exports,
            "is_preparing": any(found.status in IN_PROGRESS for found in exports),
            "download_hours": settings.DATA_EXPORT_DOWNLOAD_HOURS,
            "error": error,
        },
        status=error.status if error else 200,
    )


@login_required
@require_safe
def data_export_download(request: AuthenticatedHttpRequest, export_id: int) -> FileResponse:
    return queries.download(request.user, export_id)


@require_safe
def retention(request: HttpRequest) -> HttpResponse:
    return render(
        request,
        "privacy/retention.html",
        {
            "rules": retention_rules(),
            "trash_days": settings.TRASH_RETENTION_DAYS,
        },
    )
