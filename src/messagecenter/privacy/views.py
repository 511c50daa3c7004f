"""Transcript downloads: a person's own conversation from its page, a case's conversation
from the agent console (docs/privacy.md#transcripts). No format given: the page that offers
the three; an unknown one: the same page, 400, saying which formats there are."""

from django.contrib.auth.decorators import login_required
from django.http import HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.http import require_safe

from messagecenter.errors import InvalidInput
from messagecenter.privacy import transcripts
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
