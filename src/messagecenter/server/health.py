"""Liveness for operators and load balancers: GET /healthz answers from the process alone.

It touches no database, cache or session, so it says "this process serves HTTP" and
nothing more; it is also the benchmarks' no-work endpoint, the floor every other figure is
compared with (docs/benchmarks.md)."""

from django.http import HttpRequest, HttpResponse
from django.views.decorators.http import require_safe


@require_safe
def healthz(request: HttpRequest) -> HttpResponse:
    return HttpResponse(b"ok\n", content_type="text/plain")
