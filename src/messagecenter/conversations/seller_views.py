"""A seller's tools beside the Message Center: response-time figures, saved replies and
the away message (docs/conversations.md, "Seller tools"). The "Response needed" list and
"No response needed" live with the Message Center in views.py.

These pages exist only for sellers: a buyer, an agent or an admin gets the same 404 as for
a page that does not exist.
"""

from datetime import datetime
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from messagecenter.accounts.models import User
from messagecenter.accounts.roles import require_seller_page
from messagecenter.conversations import actions, queries
from messagecenter.errors import FORM_ERRORS, InvalidInput, MessageCenterError
from messagecenter.web.shortcuts import AuthenticatedHttpRequest

# Which field of the saved-reply form an action's error is about.
TITLE_ERRORS = frozenset({"invalid_title", "title_taken"})
BODY_ERRORS = frozenset({"empty_message", "message_too_long"})


def _seller(request: AuthenticatedHttpRequest) -> User:
    require_seller_page(request.user)
    return request.user


@login_required
@require_safe
def response_times(request: AuthenticatedHttpRequest) -> HttpResponse:
    seller = _seller(request)
    return render(
        request,
        "conversations/response_times.html",
        {
            "figures": queries.response_figures(seller),
            "target_hours": int(queries.RESPONSE_TARGET.total_seconds()) // 3600,
            "late_responses": queries.late_responses(seller),
            "business_days": settings.SELLER_RESPONSE_BUSINESS_DAYS,
        },
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def saved_replies(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The seller's saved replies, and the form for a new one."""
    seller = _seller(request)
    if request.method != "POST":
        return _saved_replies_page(request, seller)
    return _save(request, seller, saved_reply_id=None)


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def saved_reply(request: AuthenticatedHttpRequest, saved_reply_id: int) -> HttpResponse:
    """One saved reply in the form, to change it."""
    seller = _seller(request)
    if request.method != "POST":
        return _saved_replies_page(request, seller, editing_id=saved_reply_id)
    return _save(request, seller, saved_reply_id=saved_reply_id)


@login_required
@require_POST
def delete_saved_reply(request: AuthenticatedHttpRequest, saved_reply_id: int) -> HttpResponse:
    seller = _seller(request)
    actions.delete_saved_reply(seller, saved_reply_id)
    messages.success(request, "Saved reply deleted.")
    return redirect("saved-replies")


def _save(
    request: AuthenticatedHttpRequest, seller: User, *, saved_reply_id: int | None
) -> HttpResponse:
    title = request.POST.get("title", "")
    body = request.POST.get("body", "")
    try:
        reply = actions.save_reply(seller, title, body, saved_reply_id=saved_reply_id)
    except FORM_ERRORS as error:
        return _saved_replies_page(
            request,
            seller,
            editing_id=saved_reply_id,
            title=title,
            body=body,
            error=error,
            status=error.status,
        )
    done = "saved" if saved_reply_id is None else "changed"
    messages.success(request, f"Saved reply “{reply.title}” {done}.")
    return redirect("saved-replies")


def _saved_replies_page(
    request: AuthenticatedHttpRequest,
    seller: User,
    *,
    editing_id: int | None = None,
    error: MessageCenterError | None = None,
    status: int = 200,
    **form: Any,
) -> HttpResponse:
    replies = list(queries.saved_replies(seller))
    editing = None
    if editing_id is not None:
        # Found in the seller's own list: someone else's id is a 404 like a missing one.
        editing = next((reply for reply in replies if reply.pk == editing_id), None)
        if editing is None:
            raise Http404("No such saved reply.")
        form = {"title": editing.title, "body": editing.body, **form}
    return render(
        request,
        "conversations/saved_replies.html",
        {
            "saved_replies": replies,
            "editing": editing,
            "title": form.get("title", ""),
            "body": form.get("body", ""),
            "error": error,
            "error_field": _error_field(error),
            "max_saved_replies": actions.MAX_SAVED_REPLIES,
        },
        status=status,
    )


def _error_field(error: MessageCenterError | None) -> str:
    if error is None:
        return ""
    if error.code in TITLE_ERRORS:
        return "title"
    if error.code in BODY_ERRORS:
        return "body"
    return ""


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def away_message(request: AuthenticatedHttpRequest) -> HttpResponse:
    """The seller's away message: on, scheduled or off, and the form to set it. Dates and
    times are the seller's, in their time zone (the request's, accounts' middleware)."""
    seller = _seller(request)
    if request.method != "POST":
        return _away_page(request, seller)
    body = request.POST.get("body", "")
    starts_text = request.POST.get("away_from", "")
    until_text = request.POST.get("away_until", "")
    try:
        actions.set_away_message(
            seller,
            body,
            until=_local_moment(until_text, "the day you are back", "away_until"),
            starts=_local_moment(starts_text, "the day you leave", "away_from"),
        )
    except FORM_ERRORS as error:
        return _away_page(
            request,
            seller,
            form={"body": body, "away_from": starts_text, "away_until": until_text},
            error=error,
            status=error.status,
        )
    messages.success(request, "Your away message is on.")
    return redirect("away-message")


@login_required
@require_POST
def switch_off_away_message(request: AuthenticatedHttpRequest) -> HttpResponse:
    seller = _seller(request)
    actions.switch_off_away_message(seller)
    messages.success(request, "Your away message is off: buyers get no automatic reply.")
    return redirect("away-message")


def _local_moment(text: str, what: str, field: str) -> datetime | None:
    """A date and time from the form's datetime-local `field`, in the seller's zone; None
    when left empty."""
    text = text.strip()
    if not text:
        return None
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise InvalidInput(
            f"Write {what} as a date and time.", code="invalid_away_dates", field=field
        ) from None
    if moment.tzinfo is not None:
        return moment
    return timezone.make_aware(moment)


def _local_field(moment: datetime | None) -> str:
    """A moment as the form's datetime-local field shows it, in the seller's zone."""
    if moment is None:
        return ""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def _away_page(
    request: AuthenticatedHttpRequest,
    seller: User,
    *,
    form: dict[str, str] | None = None,
    error: MessageCenterError | None = None,
    status: int = 200,
) -> HttpResponse:
    status_now = actions.away_status(seller)
    if form is None:
        form = {
            "body": status_now.body,
            "away_from": _local_field(status_now.away_from),
            "away_until": _local_field(status_now.away_until),
        }
    return render(
        request,
        "conversations/away_message.html",
        {
            "away": status_now,
            "form": form,
            "error": error,
            "error_field": _away_error_field(error),
            "max_days": actions.AWAY_MAX_DAYS,
        },
        status=status,
    )


# Errors about the away message's text: a message's own, which name no field.
AWAY_BODY_ERRORS = frozenset({"empty_message", "message_too_long", "text_refused"})


def _away_error_field(error: MessageCenterError | None) -> str:
    """The form's field an error is about: its text, or the date the error names."""
    if error is None:
        return ""
    if error.code in AWAY_BODY_ERRORS:
        return "body"
    return error.field or ""
