"""Pages for what reaches people by e-mail (docs/email.md): preferences (signed in, or
through the signed link in every e-mail), one-click unsubscribe, the reference checker,
and the development mailbox."""

import ipaddress
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_http_methods, require_safe

from messagecenter.delivery import actions, queries, references
from messagecenter.delivery.forms import parse_choices
from messagecenter.delivery.links import holder_of
from messagecenter.delivery.models import Category, Channel, MailboxEmail
from messagecenter.delivery.preferences import choices_for, is_enabled
from messagecenter.errors import NotFound
from messagecenter.web.shortcuts import AuthenticatedHttpRequest


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def preferences(request: AuthenticatedHttpRequest) -> HttpResponse:
    if request.method == "POST":
        actions.set_preferences(request.user, parse_choices(request.POST))
        messages.success(request, "Your preferences are saved.")
        return HttpResponseRedirect(reverse("email-preferences"))
    return render(
        request,
        "delivery/preferences.html",
        {"table": choices_for(request.user), "token": None, **_digest_timing()},
    )


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def preferences_from_link(request: HttpRequest, preferences_token: str) -> HttpResponse:
    """The same page from an e-mail's link, without signing in. The link itself is the
    credential, so the form posts back to it (no session, no CSRF cookie needed)."""
    token = preferences_token
    try:
        holder = holder_of(token)
    except NotFound as refused:
        return link_not_valid(request, refused)
    saved = False
    if request.method == "POST":
        actions.set_preferences(holder.user, parse_choices(request.POST))
        saved = True
    return render(
        request,
        "delivery/preferences.html",
        {
            "table": choices_for(holder.user),
            "token": token,
            "saved": saved,
            "person": holder.user,
            **_digest_timing(),
        },
    )


def _digest_timing() -> dict[str, str]:
    """The digest's quiet period and longest wait as configured: the page said "10
    minutes" whatever EMAIL_DIGEST_QUIET_MINUTES was (its template's default)."""
    return {
        "digest_minutes": f"{settings.EMAIL_DIGEST_QUIET_MINUTES:g}",
        "digest_max_minutes": f"{settings.EMAIL_DIGEST_MAX_WAIT_MINUTES:g}",
    }


@csrf_exempt
@require_http_methods(["GET", "HEAD", "POST"])
def unsubscribe(request: HttpRequest, unsubscribe_token: str) -> HttpResponse:
    """RFC 8058: a POST (the mail client's one click, or the button here) unsubscribes at
    once and answers 200 without a redirect; it needs no cookie or session. A GET only
    asks — link scanners follow links, and must not unsubscribe anyone."""
    token = unsubscribe_token
    try:
        holder = holder_of(token, category_required=True)
    except NotFound as refused:
        return link_not_valid(request, refused)
    assert holder.category is not None  # category_required
    category = Category(holder.category)
    if request.method == "POST":
        actions.unsubscribe(holder.user, category)
        return render(request, "delivery/unsubscribed.html", {"category": category, "token": token})
    # Unsubscribed already (the mail client's one click, then this link at the e-mail's
    # foot; or the Message Center's copy off, which e-mail follows): asking again read as
    # if the first time had done nothing.
    if not is_enabled(holder.user, category, Channel.EMAIL):
        return render(
            request,
            "delivery/unsubscribed.html",
            {"category": category, "token": token, "already": True},
        )
    return render(
        request, "delivery/unsubscribe_confirm.html", {"category": category, "token": token}
    )


@login_required
@require_safe
def check_email(request: AuthenticatedHttpRequest) -> HttpResponse:
    """ "Is this e-mail from us?": what a reference from an e-mail says about where the
    e-mail came from (docs/email.md#the-reference)."""
    text = request.GET.get("reference", "").strip()
    checked = queries.find_reference(request.user, text) if text else None
    return render(
        request,
        "delivery/check_email.html",
        {
            "reference": text[:40],
            "checked": checked,
            "example": references.example(),
            # Where an account e-mail's links go (they are kept in no Message Center).
            "site_host": urlsplit(settings.SITE_URL).hostname,
            # Where to forward a suspicious e-mail (docs/safety.md#forwarded-e-mails).
            "report_address": settings.PHISHING_REPORT_ADDRESS,
        },
    )


@login_required
@require_safe
def email_replies(request: AuthenticatedHttpRequest) -> HttpResponse:
    """Replies by e-mail: what became of each (docs/email.md#reply-by-e-mail)."""
    return render(
        request,
        "delivery/email_replies.html",
        {
            "replies": queries.email_replies(request.user),
            "reply_domain": settings.EMAIL_REPLY_DOMAIN,
        },
    )


def link_not_valid(request: HttpRequest, refused: NotFound) -> HttpResponse:
    """A broken (cut short, altered) or expired link from an e-mail: the site's generic 404
    ("…belongs to another account") told someone arriving signed out from their mailbox
    nothing. This page says the link does not work, and how to change e-mail preferences
    without it: sign in, then E-mail preferences. Still a 404, and nothing changes."""
    return render(
        request,
        "delivery/link_not_valid.html",
        {
            "expired": refused.code == "link_expired",
            "max_age_days": settings.EMAIL_LINK_MAX_AGE_DAYS,
        },
        status=404,
    )


# --- development mailbox -------------------------------------------------------------------


def _mailbox_allowed(request: HttpRequest) -> bool:
    if not settings.MAILBOX_ENABLED:
        return False
    if request.user.is_authenticated and request.user.is_staff:
        return True
    # A loopback peer asking for a loopback host: the developer's own browser. Behind a
    # reverse proxy the peer is loopback too, but the Host is the public name.
    host = request.get_host().rsplit(":", 1)[0].strip("[]")
    return _is_loopback(request.META.get("REMOTE_ADDR", "")) and (
        host == "localhost" or _is_loopback(host)
    )


def _is_loopback(address: str) -> bool:
    try:
        return ipaddress.ip_address(address).is_loopback
    except ValueError:
        return False


@require_safe
def mailbox(request: HttpRequest) -> HttpResponse:
    if not _mailbox_allowed(request):
        raise Http404("No mailbox here.")
    return render(
        request,
        "delivery/mailbox.html",
        {"emails": queries.mailbox_page(), **_inbound_listener()},
    )


def _inbound_listener() -> dict[str, object]:
    """Where `make run`'s SMTP listener takes replies (docs/email.md#reply-by-e-mail)."""
    return {
        "inbound_host": settings.INBOUND_SMTP_HOST,
        "inbound_port": settings.INBOUND_SMTP_PORT,
        "reply_domain": settings.EMAIL_REPLY_DOMAIN,
    }


@require_safe
def mailbox_email(request: HttpRequest, email_id: int) -> HttpResponse:
    if not _mailbox_allowed(request):
        raise Http404("No mailbox here.")
    stored = MailboxEmail.objects.filter(pk=email_id).first()
    if stored is None:
        raise Http404("No such e-mail.")
    parsed = _parse(stored)
    text = parsed.get_body(preferencelist=("plain",))
    reply_to = str(parsed.get("Reply-To") or "")
    return render(
        request,
        "delivery/mailbox_email.html",
        {
            **_inbound_listener(),
            "reply_to": reply_to,
            "reply_from": stored.to_addresses.split(",")[0].strip(),
            "reply_subject": f"Re: {stored.subject}",
            "stored": stored,
            "headers": _shown_headers(parsed),
            "text": text.get_content() if text is not None else "",
            "has_html": parsed.get_body(preferencelist=("html",)) is not None,
        },
    )


@require_safe
def mailbox_email_html(request: HttpRequest, email_id: int) -> HttpResponse:
    """The HTML part on its own, for the mailbox page's sandboxed frame: links work (they
    open in a new tab), scripts never run."""
    if not _mailbox_allowed(request):
        raise Http404("No mailbox here.")
    stored = MailboxEmail.objects.filter(pk=email_id).first()
    html = _parse(stored).get_body(preferencelist=("html",)) if stored is not None else None
    if html is None:
        raise Http404("No HTML part.")
    # Links open in a new tab: the site's own pages refuse to be framed.
    content = str(html.get_content()).replace("<head>", '<head><base target="_blank">', 1)
    response = HttpResponse(content, content_type="text/html; charset=utf-8")
    # Same origin (still no scripts, forms or plugins) so the mailbox page can size the
    # frame to the whole e-mail, footer and unsubscribe links included.
    response["Content-Security-Policy"] = (
        "sandbox allow-same-origin allow-popups allow-popups-to-escape-sandbox"
    )
    response["X-Frame-Options"] = "SAMEORIGIN"
    return response


# The headers whose value is a list of addresses, each with the name people chose.
_ADDRESS_HEADERS = {"from", "sender", "reply-to", "to", "cc"}


def _shown_headers(parsed: EmailMessage) -> list[tuple[str, str, list[tuple[str, str]] | None]]:
    """The e-mail's headers as the page lists them: each with its value, and an address
    header with its addresses, (display name, address) each — "متجر الهدايا via Message
    Center" is a name people chose, shown as an isolate of its own so that it does not
    pull "<no-reply@…>" into its right-to-left run (the template)."""
    shown: list[tuple[str, str, list[tuple[str, str]] | None]] = []
    for name, value in parsed.items():
        addresses = getattr(value, "addresses", None)
        if name.lower() in _ADDRESS_HEADERS and addresses:
            shown.append(
                (name, value, [(address.display_name, address.addr_spec) for address in addresses])
            )
        else:
            shown.append((name, value, None))
    return shown


def _parse(stored: MailboxEmail) -> EmailMessage:
    parsed = message_from_bytes(bytes(stored.raw), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed
