from django.conf import settings
from django.contrib import admin
from django.urls import include, path, re_path

from messagecenter import api
from messagecenter.realtime import views as realtime_views
from messagecenter.server import health

urlpatterns = [
    path("admin/", admin.site.urls),
    # Liveness: no database work, also the benchmarks' floor (docs/operations.md).
    path("healthz", health.healthz, name="healthz"),
    # The JSON API (docs/api.md); anything else under it answers in the API's error shape.
    path("api/v1/", api.index, name="api-index"),
    # Not a ninja operation: under ASGI messagecenter/asgi.py streams it before Django;
    # this view answers under WSGI (docs/realtime.md).
    path("api/v1/sync/stream", realtime_views.event_stream, name="sync-stream"),
    path("api/v1/", api.api.urls),
    re_path(r"^api/v1/(?P<path>.*)$", api.unknown_endpoint),
    path("", include("messagecenter.web.urls")),
]

if settings.EMAIL_URL.startswith("anymail:"):
    # The provider's bounce and complaint webhooks (docs/email.md, "Suppression"),
    # protected by anymail's WEBHOOK_SECRET.
    urlpatterns.insert(0, path("anymail/", include("anymail.urls")))
