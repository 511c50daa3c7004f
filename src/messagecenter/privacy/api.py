"""The JSON API's privacy routes (docs/api.md, docs/privacy.md): transcripts of a
conversation, for its people, and of a case's conversation, for the agents working it."""

from typing import Any

from django.http import HttpResponse
from ninja import Router

from messagecenter.api_support import ApiRequest, Id
from messagecenter.errors import NotAllowed
from messagecenter.privacy import transcripts
from messagecenter.support import queries as support_queries

router = Router(tags=["privacy"])

TRANSCRIPT_RESPONSES: dict[str, Any] = {
    "responses": {
        200: {
            "description": "The transcript, as a download",
            "content": {
                "application/pdf": {"schema": {"type": "string", "format": "binary"}},
                "text/plain": {"schema": {"type": "string"}},
                "message/rfc822": {"schema": {"type": "string", "format": "binary"}},
            },
        }
    }
}


@router.get(
    "/conversations/{conversation_id}/transcript",
    response={200: None},
    summary="Download a conversation's transcript",
    openapi_extra=TRANSCRIPT_RESPONSES,
)
def conversation_transcript(
    request: ApiRequest, conversation_id: Id, format: transcripts.Format = transcripts.Format.PDF
) -> HttpResponse:
    """The messages the person can see in their conversation, oldest first, as `pdf`,
    `txt` or `eml` (an e-mail file with the attachments)."""
    return transcripts.response(
        transcripts.conversation_transcript(request.auth, conversation_id), format
    )


@router.get(
    "/agent/cases/{case_id}/transcript",
    response={200: None},
    summary="Download a case's transcript (agents)",
    openapi_extra=TRANSCRIPT_RESPONSES,
)
def case_transcript(
    request: ApiRequest, case_id: Id, format: transcripts.Format = transcripts.Format.PDF
) -> HttpResponse:
    """The case's conversation as its team's agents see it in the console (no internal
    notes), as `pdf`, `txt` or `eml`. 403 `agents_only` for customers, like every agents'
    operation; 404 for another team's case."""
    if not support_queries.is_staff(request.auth):
        raise NotAllowed("This is for customer-service agents.", code="agents_only")
    return transcripts.response(transcripts.case_transcript(request.auth, case_id), format)
