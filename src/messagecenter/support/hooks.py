"""What the support app attaches to conversations (conversations/hooks.py)."""

from django.urls import reverse
from django.utils import formats, timezone

from messagecenter.accounts.models import User
from messagecenter.conversations import hooks
from messagecenter.conversations.models import Kind
from messagecenter.support import actions, queries
from messagecenter.support.models import CaseStatus

CASE_KINDS = (Kind.CUSTOMER_SERVICE, Kind.CLAIM)


def status_line(user: User, conversation_id: int) -> hooks.StatusLine | None:
    case = queries.case_for_conversation(user, conversation_id)
    if case is None:
        return None
    detail = ""
    if case.status == CaseStatus.OPEN and case.respond_by is not None:
        when = formats.date_format(timezone.localtime(case.respond_by), "D, M j, g:i A T")
        detail = f"We expect to answer by {when}."
    elif case.status == CaseStatus.SOLVED:
        detail = "Reply to open it again."
    return hooks.StatusLine(
        label=queries.customer_status_label(case),
        reference=case.number,
        transcript_url=reverse("case-transcript", args=[case.pk]),
        detail=detail,
        state=case.status,
    )


def register() -> None:
    hooks.on_message_posted(CASE_KINDS, actions.case_message_posted)
    hooks.on_status_line(CASE_KINDS, status_line)
