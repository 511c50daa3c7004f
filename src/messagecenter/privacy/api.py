"""The JSON API's privacy routes (docs/api.md, docs/privacy.md): transcripts of a
conversation, for its people, and of a case's conversation, for the agents working it; a
person's data exports."""

from datetime import datetime
from typing import Any

from django.http import FileResponse, HttpResponse
from ninja import Router, Schema, Status

from messagecenter.accounts import recent_sign_in
from messagecenter.api_support import ApiRequest, Id
from messagecenter.errors import NotAllowed
from messagecenter.privacy import actions, queries, transcripts
from messagecenter.privacy.models import DataExport, ExportStatus
from messagecenter.privacy.retention import retention_rules
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


# --- data exports ---------------------------------------------------------------------------


class DataExportOut(Schema):
    id: int
    status: ExportStatus
    # 0–100 while it is prepared, and what the worker is doing.
    progress: int
    step: str
    created_at: datetime
    finished_at: datetime | None
    # Until then GET /data-exports/{id}/download gives the zip.
    expires_at: datetime | None
    size: int
    download_url: str | None


def data_export_out(found: DataExport) -> DataExportOut:
    return DataExportOut(
        id=found.pk,
        status=ExportStatus(found.status),
        progress=found.progress,
        step=found.step,
        created_at=found.created_at,
        finished_at=found.finished_at,
        expires_at=found.expires_at,
        size=found.size,
        download_url=f"/api/v1/data-exports/{found.pk}/download"
        if found.status == ExportStatus.READY
        else None,
    )


@router.post(
    "/data-exports",
    response={201: DataExportOut},
    summary="Export my data",
)
def request_data_export(request: ApiRequest) -> Status[DataExportOut]:
    """Prepares a zip of the person's data in the background; follow it with GET
    /data-exports/{id}. `409 data_export_in_progress` while one is being prepared; from a
    browser's session, `403 recent_sign_in_required` unless it signed in recently."""
    recent_sign_in.require_recent_sign_in(request)
    return Status(201, data_export_out(actions.request_data_export(request.auth)))


@router.get("/data-exports", response=list[DataExportOut], summary="Your data exports")
def list_data_exports(request: ApiRequest) -> list[DataExportOut]:
    """The latest five, newest first."""
    return [data_export_out(found) for found in queries.data_exports(request.auth)]


@router.get("/data-exports/{export_id}", response=DataExportOut, summary="One of your data exports")
def get_data_export(request: ApiRequest, export_id: Id) -> DataExportOut:
    return data_export_out(queries.access_data_export(request.auth, export_id))


@router.get(
    "/data-exports/{export_id}/download",
    response={200: None},
    summary="Download a data export",
    openapi_extra={
        "responses": {
            200: {
                "description": "The zip",
                "content": {"application/zip": {"schema": {"type": "string", "format": "binary"}}},
            }
        }
    },
)
def download_data_export(request: ApiRequest, export_id: Id) -> FileResponse:
    """While it is ready; `404 data_export_not_available` before, or once expired."""
    return queries.download(request.auth, export_id)


# --- retention -------------------------------------------------------------------------------


class RetentionRuleOut(Schema):
    # promotions, notices, buyer_seller, customer_service
    kind: str
    label: str
    # None: kept until the person deletes it.
    days: int | None
    counted_from: str


@router.get(
    "/retention-rules", response=list[RetentionRuleOut], summary="How long messages are kept"
)
def list_retention_rules(request: ApiRequest) -> list[RetentionRuleOut]:
    """The operator's rules (docs/privacy.md#how-long-we-keep-messages): a conversation of
    a kind is deleted for everyone `days` after its last message, a notice or promotion
    after it was sent or ended."""
    return [
        RetentionRuleOut(
            kind=rule.kind, label=rule.label, days=rule.days, counted_from=rule.counted_from
        )
        for rule in retention_rules()
    ]
