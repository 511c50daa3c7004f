"""One mapping from the errors actions and access_* getters raise to the pages people see:
a view lets NotFound and NotAllowed through, and this answers with the site's 404 or 403
page (Django's own handlers, as for Http404 and PermissionDenied). The JSON API maps the
same errors to its one error shape in messagecenter/api.py.

Two refusals Django answers itself get a page of the site's too: a page that takes only
POSTs opened as an address (405, which Django leaves blank), and a form whose CSRF token is
missing or stale (settings.CSRF_FAILURE_VIEW; Django's own says "More information is
available with DEBUG=True"). The API keeps its own answers to both.

And one refusal of its own: files sent to a page whose form takes none (web/uploads.py)."""

from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed
from django.shortcuts import render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views import csrf

from messagecenter.errors import NotAllowed, NotFound
from messagecenter.web.uploads import refuses_files


class ErrorPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if isinstance(response, HttpResponseNotAllowed) and not _is_api(request):
            return method_not_allowed(request, response)
        return response

    def process_view(
        self,
        request: HttpRequest,
        view: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> HttpResponse | None:
        """Files sent to a page whose form takes none: refused before the view runs, rather
        than dropped unsaid while the rest of the form is done (web/uploads.py)."""
        if not _is_api(request) and refuses_files(request, view):
            back = _way_back(request)
            return render(request, "400_no_files.html", {"back": back}, status=400)
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            return response_for_exception(request, Http404(exception.message))
        if isinstance(exception, NotAllowed):
            return response_for_exception(request, PermissionDenied(exception.message))
        return None


def method_not_allowed(request: HttpRequest, refused: HttpResponseNotAllowed) -> HttpResponse:
    """A page that only a form's button sends to (signing out, revoking a token, the
    Message Center's actions), opened as an address — a bookmark, a link, a reload after
    the form: what it is for and a way back, still a 405 with its Allow header — its
    methods in alphabetical order, whichever view refused (a class-based view lists them
    in Django's own order, "GET, POST, HEAD, OPTIONS"; the API sorts its own, api.py)."""
    # Not back to this address itself (opened again after a refusal): it would come here.
    back = _way_back(request, besides=request.path)
    response = render(request, "405.html", {"back": back}, status=405)
    response["Allow"] = ", ".join(sorted(method.strip() for method in refused["Allow"].split(",")))
    return response


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """settings.CSRF_FAILURE_VIEW: a form sent with a missing or stale CSRF token — the page
    was open for long, or the person signed in or out in another tab since. Nothing was
    done; going back and reloading gives the form a fresh token. Under /api/ Django's own
    answer, as before: the API's session calls check the token themselves and answer in
    the API's error shape (accounts/authentication.py), this one never reaches them."""
    if _is_api(request):
        return csrf.csrf_failure(request, reason)
    # Often the form's own address (a conversation's reply): opened, it is the form again.
    back = _way_back(request)
    return render(request, "403_form_expired.html", {"back": back}, status=403)


def _is_api(request: HttpRequest) -> bool:
    return request.path_info.startswith("/api/")


def _way_back(request: HttpRequest, *, besides: str = "") -> str:
    """The page the person came from — for a refused form, the page with the form — when it
    is one of this site's (the Referer, sent within the site: SECURE_REFERRER_POLICY) and not
    the address `besides`, else the Message Center."""
    referer = request.headers.get("Referer", "")
    if (
        referer
        and url_has_allowed_host_and_scheme(
            referer, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        )
        and urlsplit(referer).path != besides
    ):
        return referer
    return reverse("home")
