"""One mapping from the errors actions and access_* getters raise to the pages people see:
a view lets NotFound and NotAllowed through, and this answers with the site's 404 or 403
page (Django's own handlers, as for Http404 and PermissionDenied). The JSON API maps the
same errors to its one error shape in messagecenter/api.py."""

from collections.abc import Callable

from django.core.exceptions import PermissionDenied
from django.core.handlers.exception import response_for_exception
from django.http import Http404, HttpRequest, HttpResponse

from messagecenter.errors import NotAllowed, NotFound


class ErrorPagesMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, NotFound):
            return response_for_exception(request, Http404(exception.message))
        if isinstance(exception, NotAllowed):
            return response_for_exception(request, PermissionDenied(exception.message))
        return None
